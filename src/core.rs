//! The daemon's pure decisions: what a validation result means for a file, and what an
//! upload answer means for a replay. No I/O, no clock: the caller passes durations in.

use std::time::Duration;

use crate::api::{Error, UploadOutcome};
use crate::replay::Invalid;

/// First wait before re-checking a file that is not complete yet.
pub const RECHECK_BASE: Duration = Duration::from_millis(250);
/// Longest wait between re-checks of an incomplete file.
pub const RECHECK_MAX: Duration = Duration::from_secs(8);
/// Longest wait between upload retries after server or network trouble.
pub const RETRY_MAX: Duration = Duration::from_secs(300);
/// Pause after a refused token before trying again.
pub const AUTH_PAUSE: Duration = Duration::from_secs(60);
/// Pause after a quota 429 without `Retry-After`.
pub const QUOTA_PAUSE: Duration = Duration::from_secs(30 * 60);
/// Shortest quota park, whatever `Retry-After` says: at most one probe a minute.
pub const QUOTA_PAUSE_MIN: Duration = Duration::from_secs(60);
/// Plain 429s (no quota text, no `Retry-After`) in a row, each after the client's own
/// retries, before the uploader takes them for an exhausted quota. ballchasing documents no
/// per-second limit on uploads, and its quota answer's text is not documented.
pub const QUOTA_AFTER_429S: u32 = 2;

/// Shortest wait after any refused upload, whatever `Retry-After` says (it may say 0).
pub const WAIT_MIN: Duration = Duration::from_secs(1);
/// Longest a `Retry-After` is honoured: ballchasing's longest window is a day.
pub const WAIT_MAX: Duration = Duration::from_secs(24 * 3600);

/// How long uploads stop after a refused token or an exhausted quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pauses {
    /// After 401/403.
    pub token_refused: Duration,
    /// After a quota 429 without `Retry-After`.
    pub quota: Duration,
    /// Floor for a quota park.
    pub quota_min: Duration,
}

impl Default for Pauses {
    fn default() -> Pauses {
        Pauses {
            token_refused: AUTH_PAUSE,
            quota: QUOTA_PAUSE,
            quota_min: QUOTA_PAUSE_MIN,
        }
    }
}

/// Which complete replays to upload; the rest are recorded as skipped, with the rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Upload only these match types (lower case); empty: all.
    pub only_match_types: Vec<String>,
    /// Never upload these match types (lower case).
    pub skip_match_types: Vec<String>,
    /// Skip replays shorter than this (replays whose length is unknown are kept).
    pub min_duration: Option<Duration>,
}

impl Filter {
    /// Why this replay is not uploaded, or `None` to upload it.
    pub fn skip_reason(&self, info: &crate::replay::ReplayInfo) -> Option<String> {
        let kind = info
            .match_type
            .as_deref()
            .unwrap_or("")
            .to_ascii_lowercase();
        let shown = info.match_type.as_deref().unwrap_or("(none)");
        if !self.only_match_types.is_empty() && !self.only_match_types.contains(&kind) {
            return Some(format!(
                "skipped by filter: match type {shown} is not in only_match_types"
            ));
        }
        if self.skip_match_types.contains(&kind) {
            return Some(format!(
                "skipped by filter: match type {shown} is in skip_match_types"
            ));
        }
        if let (Some(min), Some(length)) = (self.min_duration, info.duration)
            && length < min.as_secs_f64()
        {
            return Some(format!(
                "skipped by filter: {length:.0} s long, shorter than min_duration ({} s)",
                min.as_secs()
            ));
        }
        None
    }
}

/// What to do with a file after a validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Complete: queue it.
    Ready,
    /// Not complete yet: look again after this long, or at its next event.
    Recheck(Duration),
    /// Invalid and quiet long enough: record it failed with this reason.
    Failed(String),
}

/// Judges a file that did not validate. `quiet_for` is how long the file has gone without a
/// change; `checks` counts the checks so far.
pub fn judge_invalid(
    invalid: &Invalid,
    quiet_for: Duration,
    checks: u32,
    invalid_after: Duration,
) -> Check {
    if quiet_for >= invalid_after {
        return Check::Failed(format!("corrupt replay: {invalid}"));
    }
    let backoff = RECHECK_BASE
        .saturating_mul(2u32.saturating_pow(checks.min(16)))
        .min(RECHECK_MAX);
    // Never sleep past the moment the file would be judged failed.
    Check::Recheck(
        backoff
            .min(invalid_after - quiet_for)
            .max(Duration::from_millis(10)),
    )
}

/// What an upload answer means for the replay and for the uploader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// On ballchasing (created or duplicate).
    Uploaded(UploadOutcome),
    /// Refused for good (400 and the like): record failed with this reason.
    Failed(String),
    /// The token was refused: pause every upload this long; the replay stays pending.
    PauseAll {
        /// How long.
        wait: Duration,
        /// Why, for the log and `status`.
        reason: String,
    },
    /// Quota used up: park every upload this long; the replay stays pending.
    Park {
        /// How long.
        wait: Duration,
        /// Why.
        reason: String,
    },
    /// Trouble that passes: try this replay again after the wait, never give up.
    Retry {
        /// How long.
        wait: Duration,
        /// Why.
        reason: String,
    },
}

/// Judges one upload answer. `attempts` counts this replay's tries including this one;
/// `plain_429s` counts the uploader's plain 429 answers in a row including this one.
pub fn judge_upload(
    result: &Result<UploadOutcome, Error>,
    attempts: u32,
    plain_429s: u32,
    pauses: &Pauses,
) -> Verdict {
    let error = match result {
        Ok(outcome) => return Verdict::Uploaded(outcome.clone()),
        Err(error) => error,
    };
    let reason = error.to_string();
    match error {
        Error::BadRequest { message, .. } => {
            Verdict::Failed(format!("rejected by ballchasing: {message}"))
        }
        Error::Unauthorized { .. } | Error::Forbidden { .. } => Verdict::PauseAll {
            wait: pauses.token_refused,
            reason,
        },
        Error::QuotaExceeded { retry_after, .. } => Verdict::Park {
            wait: retry_after
                .unwrap_or(pauses.quota)
                .max(pauses.quota_min)
                .clamp(WAIT_MIN, WAIT_MAX),
            reason,
        },
        Error::RateLimited {
            retry_after: None, ..
        } if plain_429s >= QUOTA_AFTER_429S => Verdict::Park {
            wait: pauses.quota,
            reason: format!("{reason} (repeatedly: taken for an exhausted upload quota)"),
        },
        Error::RateLimited { retry_after, .. } => Verdict::Retry {
            wait: retry_after
                .unwrap_or_else(|| backoff(attempts))
                .clamp(WAIT_MIN, WAIT_MAX),
            reason,
        },
        Error::Server { .. }
        | Error::Timeout { .. }
        | Error::Transport { .. }
        | Error::Decode { .. }
        | Error::UnexpectedStatus { .. } => Verdict::Retry {
            wait: backoff(attempts),
            reason,
        },
        _ => Verdict::Failed(reason),
    }
}

/// Capped exponential backoff for upload retries: 5 s, 10 s, 20 s … 5 min.
pub fn backoff(attempts: u32) -> Duration {
    Duration::from_secs(5)
        .saturating_mul(2u32.saturating_pow(attempts.saturating_sub(1).min(16)))
        .min(RETRY_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Operation;
    use reqwest::StatusCode;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn incomplete_files_are_rechecked_then_failed_when_quiet() {
        let truncated = Invalid::Truncated {
            expected: 100,
            actual: 50,
        };
        let table = [
            (
                Duration::ZERO,
                0,
                Check::Recheck(Duration::from_millis(250)),
            ),
            (
                Duration::from_secs(1),
                2,
                Check::Recheck(Duration::from_secs(1)),
            ),
            (Duration::from_secs(5), 10, Check::Recheck(RECHECK_MAX)),
            (
                Duration::from_secs(58),
                10,
                Check::Recheck(Duration::from_secs(2)),
            ),
            (
                MIN,
                3,
                Check::Failed("corrupt replay: truncated: 50 of 100 bytes".into()),
            ),
        ];
        for (quiet, checks, expected) in table {
            assert_eq!(
                judge_invalid(&truncated, quiet, checks, MIN),
                expected,
                "{quiet:?} {checks}"
            );
        }
        assert_eq!(
            judge_invalid(&Invalid::BodyCrc, MIN * 2, 0, MIN),
            Check::Failed("corrupt replay: body crc mismatch".into())
        );
    }

    fn judge(result: &Result<UploadOutcome, Error>, attempts: u32) -> Verdict {
        judge_upload(result, attempts, 0, &Pauses::default())
    }

    #[test]
    fn retry_after_zero_or_huge_is_clamped() {
        let limited = |secs| {
            Err(Error::RateLimited {
                operation: Operation::Upload,
                retry_after: Some(Duration::from_secs(secs)),
            })
        };
        let wait = |r| match judge(&r, 1) {
            Verdict::Retry { wait, .. } => wait,
            other => panic!("{other:?}"),
        };
        assert_eq!(wait(limited(0)), WAIT_MIN, "0 would be a tight loop");
        assert_eq!(wait(limited(10 * 24 * 3600)), WAIT_MAX);
    }

    #[test]
    fn filters_name_the_rule_that_skipped() {
        use crate::replay::ReplayInfo;
        let info = |kind: &str, secs: Option<f64>| ReplayInfo {
            match_type: Some(kind.into()),
            duration: secs,
            ..ReplayInfo::default()
        };
        let only = Filter {
            only_match_types: vec!["online".into(), "tournament".into()],
            ..Filter::default()
        };
        assert_eq!(only.skip_reason(&info("Online", None)), None);
        assert_eq!(
            only.skip_reason(&info("Private", None)).unwrap(),
            "skipped by filter: match type Private is not in only_match_types"
        );
        let skip = Filter {
            skip_match_types: vec!["lan".into()],
            min_duration: Some(Duration::from_secs(60)),
            ..Filter::default()
        };
        assert!(
            skip.skip_reason(&info("LAN", Some(300.0)))
                .unwrap()
                .contains("skip_match_types")
        );
        assert!(
            skip.skip_reason(&info("Online", Some(20.0)))
                .unwrap()
                .contains("20 s long")
        );
        assert_eq!(
            skip.skip_reason(&info("Online", None)),
            None,
            "unknown length is kept"
        );
        assert_eq!(Filter::default().skip_reason(&info("", None)), None);
    }

    #[test]
    fn repeated_plain_429s_park_like_a_quota() {
        let plain = Err(Error::RateLimited {
            operation: Operation::Upload,
            retry_after: None,
        });
        let pauses = Pauses::default();
        assert!(matches!(
            judge_upload(&plain, 1, 1, &pauses),
            Verdict::Retry { .. }
        ));
        assert!(
            matches!(judge_upload(&plain, 2, QUOTA_AFTER_429S, &pauses), Verdict::Park { wait, ref reason } if wait == QUOTA_PAUSE && reason.contains("quota"))
        );
        let told = Err(Error::RateLimited {
            operation: Operation::Upload,
            retry_after: Some(Duration::from_secs(2)),
        });
        assert!(
            matches!(judge_upload(&told, 9, 9, &pauses), Verdict::Retry { wait, .. } if wait == Duration::from_secs(2)),
            "a 429 that says when to come back is a rate limit, not a quota"
        );
    }

    #[test]
    fn upload_answers_map_to_verdicts() {
        let op = Operation::Upload;
        let created = UploadOutcome::Created {
            id: "i".into(),
            location: "l".into(),
        };
        let dup = UploadOutcome::Duplicate {
            id: "i".into(),
            location: "l".into(),
        };
        assert_eq!(judge(&Ok(created.clone()), 1), Verdict::Uploaded(created));
        assert_eq!(judge(&Ok(dup.clone()), 1), Verdict::Uploaded(dup));
        let bad = Error::BadRequest {
            operation: op,
            message: "\"file\" not a .replay file".into(),
        };
        assert_eq!(
            judge(&Err(bad), 1),
            Verdict::Failed("rejected by ballchasing: \"file\" not a .replay file".into())
        );
        let auth = Error::Unauthorized {
            operation: op,
            message: "missing API key".into(),
        };
        assert!(
            matches!(judge(&Err(auth), 1), Verdict::PauseAll { wait, .. } if wait == AUTH_PAUSE)
        );
        let quota = Error::QuotaExceeded {
            operation: op,
            message: "quota".into(),
            retry_after: None,
        };
        assert!(matches!(judge(&Err(quota), 1), Verdict::Park { wait, .. } if wait == QUOTA_PAUSE));
        let quota_soon = Error::QuotaExceeded {
            operation: op,
            message: "quota".into(),
            retry_after: Some(Duration::from_secs(5)),
        };
        assert!(
            matches!(judge(&Err(quota_soon), 1), Verdict::Park { wait, .. } if wait == MIN),
            "at most one probe a minute"
        );
        let limited = Error::RateLimited {
            operation: op,
            retry_after: Some(Duration::from_secs(7)),
        };
        assert!(
            matches!(judge(&Err(limited), 1), Verdict::Retry { wait, .. } if wait == Duration::from_secs(7))
        );
        let server = Error::Server {
            operation: op,
            status: StatusCode::BAD_GATEWAY,
            message: "x".into(),
        };
        assert!(
            matches!(judge(&Err(server), 3), Verdict::Retry { wait, .. } if wait == Duration::from_secs(20))
        );
        assert!(
            matches!(judge(&Err(Error::Timeout { operation: op }), 40), Verdict::Retry { wait, .. } if wait == RETRY_MAX)
        );
    }
}

/// Properties over every order of answers and file states: a replay is only ever uploaded,
/// waiting, or refused for a reason that does not pass; waits are never zero and never
/// unbounded; a file still changing is never given up on.
#[cfg(test)]
mod properties {
    use super::*;
    use crate::api::Operation;
    use proptest::prelude::*;
    use reqwest::StatusCode;

    /// An upload answer, as data (`api::Error` is not `Clone`).
    #[derive(Debug, Clone)]
    enum Answer {
        Created,
        Duplicate,
        BadRequest,
        Unauthorized,
        Forbidden,
        RateLimited(Option<Duration>),
        Quota(Option<Duration>),
        Server(u16),
        Timeout,
    }

    impl Answer {
        fn result(&self) -> Result<UploadOutcome, Error> {
            let operation = Operation::Upload;
            let (id, location) = ("i".to_string(), "l".to_string());
            match self.clone() {
                Answer::Created => Ok(UploadOutcome::Created { id, location }),
                Answer::Duplicate => Ok(UploadOutcome::Duplicate { id, location }),
                Answer::BadRequest => Err(Error::BadRequest {
                    operation,
                    message: "bad".into(),
                }),
                Answer::Unauthorized => Err(Error::Unauthorized {
                    operation,
                    message: "no".into(),
                }),
                Answer::Forbidden => Err(Error::Forbidden {
                    operation,
                    message: "no".into(),
                }),
                Answer::RateLimited(retry_after) => Err(Error::RateLimited {
                    operation,
                    retry_after,
                }),
                Answer::Quota(retry_after) => Err(Error::QuotaExceeded {
                    operation,
                    message: "quota".into(),
                    retry_after,
                }),
                Answer::Server(status) => Err(Error::Server {
                    operation,
                    status: StatusCode::from_u16(status).unwrap(),
                    message: "<html>".into(),
                }),
                Answer::Timeout => Err(Error::Timeout { operation }),
            }
        }
    }

    fn answer() -> impl Strategy<Value = Answer> {
        // Short Retry-After values are where hammering would hide: draw them often.
        let retry_after = || {
            proptest::option::of(
                prop_oneof![0u64..2_000, 0u64..100_000_000].prop_map(Duration::from_millis),
            )
        };
        prop_oneof![
            Just(Answer::Created),
            Just(Answer::Duplicate),
            Just(Answer::BadRequest),
            Just(Answer::Unauthorized),
            Just(Answer::Forbidden),
            retry_after().prop_map(Answer::RateLimited),
            retry_after().prop_map(Answer::Quota),
            prop_oneof![Just(500u16), Just(502), Just(503), Just(504)].prop_map(Answer::Server),
            Just(Answer::Timeout),
        ]
    }

    proptest! {
        #[test]
        fn no_order_of_answers_loses_a_replay(answers in proptest::collection::vec(answer(), 1..40)) {
            let pauses = Pauses::default();
            let mut plain_429s = 0;
            for (i, answer) in answers.iter().enumerate() {
                match answer {
                    Answer::RateLimited(None) => plain_429s += 1,
                    Answer::RateLimited(Some(_)) => {}
                    _ => plain_429s = 0,
                }
                let result = answer.result();
                match judge_upload(&result, i as u32 + 1, plain_429s, &pauses) {
                    Verdict::Uploaded(_) => {
                        prop_assert!(result.is_ok());
                        return Ok(()); // on ballchasing: done
                    }
                    Verdict::Failed(reason) => {
                        prop_assert!(
                            matches!(answer, Answer::BadRequest),
                            "gave up on a passing problem: {reason}"
                        );
                        return Ok(());
                    }
                    Verdict::Retry { wait, .. }
                    | Verdict::Park { wait, .. }
                    | Verdict::PauseAll { wait, .. } => {
                        prop_assert!(result.is_err());
                        // Still pending: never dropped, never hammering, never forever.
                        prop_assert!(wait >= WAIT_MIN, "waits only {wait:?} after {answer:?}");
                        prop_assert!(wait <= WAIT_MAX, "{wait:?}");
                    }
                }
            }
        }

        #[test]
        fn a_file_that_keeps_changing_is_never_given_up(
            steps in proptest::collection::vec((0u64..120_000, 0u32..40), 1..50),
            after_s in 1u64..300,
        ) {
            let invalid_after = Duration::from_secs(after_s);
            for (quiet_ms, checks) in steps {
                let quiet = Duration::from_millis(quiet_ms);
                match judge_invalid(&Invalid::BodyCrc, quiet, checks, invalid_after) {
                    Check::Failed(_) => prop_assert!(quiet >= invalid_after),
                    Check::Recheck(wait) => {
                        prop_assert!(quiet < invalid_after);
                        prop_assert!(wait >= Duration::from_millis(10) && wait <= RECHECK_MAX);
                    }
                    Check::Ready => prop_assert!(false, "an invalid file is never ready"),
                }
            }
        }
    }
}
