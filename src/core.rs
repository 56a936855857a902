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
            wait: retry_after.unwrap_or(pauses.quota).max(pauses.quota_min),
            reason,
        },
        Error::RateLimited {
            retry_after: None, ..
        } if plain_429s >= QUOTA_AFTER_429S => Verdict::Park {
            wait: pauses.quota,
            reason: format!("{reason} (repeatedly: taken for an exhausted upload quota)"),
        },
        Error::RateLimited { retry_after, .. } => Verdict::Retry {
            wait: retry_after.unwrap_or_else(|| backoff(attempts)),
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
