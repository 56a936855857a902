//! What an upload's answer means, as a pure function: for the replay (uploaded, refused, to
//! be tried again) and for every upload (paused: the token refused, the quota used up, the
//! API address wrong, ballchasing asking to wait).

use std::time::Duration;

use super::rules::backoff;
use crate::api::{Error, UploadOutcome};
use crate::config::Pauses;
use crate::state::PauseCause;

/// First wait before an upload is tried again after server or network trouble.
pub const RETRY_BASE: Duration = Duration::from_secs(5);
/// Longest wait between upload retries after server or network trouble.
pub const RETRY_MAX: Duration = Duration::from_secs(300);
/// Plain 429s (no quota text, no `Retry-After`) in a row, each after the client's own
/// retries, before the uploader takes them for an exhausted quota. ballchasing documents no
/// per-second limit on uploads, and its quota answer's text is not documented.
pub const QUOTA_AFTER_429S: u32 = 2;
/// A `Retry-After` longer than this stops every upload (recorded, shown by `status`) rather
/// than one replay.
pub const LONG_WAIT: Duration = Duration::from_secs(10 * 60);

/// Shortest wait after any refused upload, whatever `Retry-After` says (it may say 0).
pub const WAIT_MIN: Duration = Duration::from_secs(1);
/// Longest a `Retry-After` is honoured: ballchasing's longest window is a day.
pub const WAIT_MAX: Duration = Duration::from_secs(24 * 3600);

/// What an upload answer means for the replay and for the uploader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// On ballchasing (created or duplicate).
    Uploaded(UploadOutcome),
    /// ballchasing refused this replay for good (a 400): recorded with this reason.
    Refused(String),
    /// Every upload stops this long; the replay stays pending.
    Pause {
        /// Why, as the state records it.
        cause: PauseCause,
        /// How long.
        wait: Duration,
        /// ballchasing said how long (`Retry-After`); otherwise it is autochase's guess.
        told: bool,
        /// What happened and what to do, for the log and `status`.
        reason: String,
    },
    /// Trouble that passes: try this replay again after the wait, never give up. Trouble
    /// several times in a row also holds back every upload (see `trouble_pause`).
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
    let pause = |cause, wait: Duration, told: bool, reason: String| Verdict::Pause {
        cause,
        wait: wait.clamp(WAIT_MIN, WAIT_MAX),
        told,
        reason,
    };
    match error {
        Error::BadRequest { message, .. } => {
            Verdict::Refused(format!("rejected by ballchasing: {message}"))
        }
        Error::Unauthorized { .. } | Error::Forbidden { .. } => {
            pause(PauseCause::Token, pauses.token_refused, false, reason)
        }
        // The upload address itself is wrong (a wrong `api_url`, a proxy): no replay is at
        // fault, so none is given up on.
        Error::NotFound { .. } | Error::Redirect { .. } => {
            pause(PauseCause::Endpoint, pauses.endpoint, false, reason)
        }
        Error::QuotaExceeded { retry_after, .. } => pause(
            PauseCause::Quota,
            retry_after.unwrap_or(pauses.quota).max(pauses.quota_min),
            retry_after.is_some(),
            reason,
        ),
        Error::RateLimited {
            retry_after: None, ..
        } if plain_429s >= QUOTA_AFTER_429S => pause(
            PauseCause::Quota,
            pauses.quota,
            false,
            format!("{reason} (repeatedly: taken for an exhausted upload quota)"),
        ),
        Error::RateLimited {
            retry_after: Some(wait),
            ..
        } if *wait > LONG_WAIT => pause(PauseCause::RateLimit, *wait, true, reason),
        Error::RateLimited { retry_after, .. } => Verdict::Retry {
            wait: retry_after
                .unwrap_or_else(|| upload_backoff(attempts))
                .clamp(WAIT_MIN, WAIT_MAX),
            reason,
        },
        Error::Server { .. }
        | Error::Timeout { .. }
        | Error::Transport { .. }
        | Error::Decode { .. }
        | Error::TooLarge { .. }
        | Error::UnexpectedStatus { .. } => Verdict::Retry {
            wait: upload_backoff(attempts),
            reason,
        },
        _ => Verdict::Refused(reason),
    }
}

/// The wait before the next try of a replay after `attempts` tries: 5 s, 10 s, 20 s … 5 min.
pub fn upload_backoff(attempts: u32) -> Duration {
    backoff(RETRY_BASE, RETRY_MAX, attempts.saturating_sub(1))
}

/// After `trouble` uploads in a row failed with trouble that passes (whatever replays they
/// were), every upload waits: nothing after the first, then 10 s, 20 s … 5 min, so a failing
/// server sees one upload per wait however long the backlog.
pub fn trouble_pause(trouble: u32) -> Option<Duration> {
    (trouble >= 2).then(|| upload_backoff(trouble))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Operation;
    use reqwest::StatusCode;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn upload_retries_back_off_from_5_s_to_5_min() {
        assert_eq!(upload_backoff(1), RETRY_BASE);
        assert_eq!(upload_backoff(3), Duration::from_secs(20));
        assert_eq!(upload_backoff(40), RETRY_MAX);
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
        assert_eq!(wait(limited(600)), Duration::from_secs(600));
        // A long wait stops every upload, recorded, and is never longer than a day.
        for secs in [601, 999_999, u64::MAX] {
            assert!(
                matches!(judge(&limited(secs), 1), Verdict::Pause { cause: PauseCause::RateLimit, wait, told: true, .. } if wait == WAIT_MAX.min(Duration::from_secs(secs))),
                "{secs}"
            );
        }
    }

    #[test]
    fn a_wrong_upload_address_pauses_every_upload_instead_of_failing_replays() {
        let not_found = Err(Error::NotFound {
            operation: Operation::Upload,
            message: "not found".into(),
        });
        assert!(matches!(
            judge(&not_found, 1),
            Verdict::Pause {
                cause: PauseCause::Endpoint,
                ..
            }
        ));
    }

    #[test]
    fn trouble_in_a_row_holds_every_upload_back_more_and_more() {
        let table = [
            (0, None),
            (1, None),
            (2, Some(10)),
            (3, Some(20)),
            (7, Some(300)),
            (50, Some(300)),
        ];
        for (trouble, secs) in table {
            assert_eq!(
                trouble_pause(trouble),
                secs.map(Duration::from_secs),
                "{trouble}"
            );
        }
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
            matches!(judge_upload(&plain, 2, QUOTA_AFTER_429S, &pauses), Verdict::Pause { cause: PauseCause::Quota, wait, ref reason, told: false } if wait == Pauses::default().quota && reason.contains("quota"))
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
            Verdict::Refused("rejected by ballchasing: \"file\" not a .replay file".into())
        );
        let auth = Error::Unauthorized {
            operation: op,
            message: "missing API key".into(),
        };
        assert!(
            matches!(judge(&Err(auth), 1), Verdict::Pause { cause: PauseCause::Token, wait, .. } if wait == Pauses::default().token_refused)
        );
        let quota = Error::QuotaExceeded {
            operation: op,
            message: "quota".into(),
            retry_after: None,
        };
        assert!(
            matches!(judge(&Err(quota), 1), Verdict::Pause { cause: PauseCause::Quota, wait, told: false, .. } if wait == Pauses::default().quota),
            "the end of a quota ballchasing did not name is a guess"
        );
        let quota_soon = Error::QuotaExceeded {
            operation: op,
            message: "quota".into(),
            retry_after: Some(Duration::from_secs(5)),
        };
        assert!(
            matches!(judge(&Err(quota_soon), 1), Verdict::Pause { cause: PauseCause::Quota, wait, told: true, .. } if wait == MIN),
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

/// Properties over every order of answers: a replay is only ever uploaded, waiting, or
/// refused for a reason that does not pass; waits are never zero and never unbounded.
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
                    Verdict::Refused(reason) => {
                        prop_assert!(
                            matches!(answer, Answer::BadRequest),
                            "gave up on a passing problem: {reason}"
                        );
                        return Ok(());
                    }
                    Verdict::Retry { wait, .. } | Verdict::Pause { wait, .. } => {
                        prop_assert!(result.is_err());
                        // Still pending: never dropped, never hammering, never forever.
                        prop_assert!(wait >= WAIT_MIN, "waits only {wait:?} after {answer:?}");
                        prop_assert!(wait <= WAIT_MAX, "{wait:?}");
                    }
                }
            }
        }
    }
}
