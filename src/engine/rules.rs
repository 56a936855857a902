//! The rules that decide what happens to a file, as pure functions of what is known with the
//! durations passed in: what a check's finding means, and whether a complete replay goes to
//! the uploader. What an upload's answer means is in `verdict`.

use std::time::{Duration, SystemTime};

use crate::replay::Invalid;
use crate::state::{Record, Status};

/// First wait before re-checking a file that is not complete yet.
pub const RECHECK_BASE: Duration = Duration::from_millis(250);
/// Longest wait between re-checks of an incomplete file.
pub const RECHECK_MAX: Duration = Duration::from_secs(8);

/// How long ago a file's mtime (ns since the epoch) was, by the wall clock; zero for a time
/// in the future or unknown.
pub fn since(mtime_ns: u64) -> Duration {
    let then = std::time::UNIX_EPOCH + Duration::from_nanos(mtime_ns);
    std::time::SystemTime::now()
        .duration_since(then)
        .unwrap_or_default()
}

/// The one backoff: `base · 2^n`, at most `cap`.
pub fn backoff(base: Duration, cap: Duration, n: u32) -> Duration {
    base.saturating_mul(2u32.saturating_pow(n.min(30))).min(cap)
}

/// What to do with a file that is not a complete replay (yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Look again after this long, or at its next change.
    Recheck(Duration),
    /// Give up on it: record it with this reason.
    GiveUp(String),
}

/// A person's request lifts a park autochase chose at most this often.
pub const LIFT_EVERY: Duration = Duration::from_secs(60);

/// True when a command running alone keeps a recorded park instead of trying once through
/// it: ballchasing named the wait (`told`), or a command tried less than `LIFT_EVERY` ago.
pub fn kept_by_a_command(told: bool, tried: Option<SystemTime>, now: SystemTime) -> bool {
    told || tried.is_some_and(|at| now.duration_since(at).unwrap_or_default() < LIFT_EVERY)
}

/// A file someone asked about (`upload`, `retry`) is judged once nothing has written it for
/// this long, or `invalid_after` if shorter: long enough for the game to finish a save, short
/// enough for a person at the command line.
pub const ASKED_QUIET: Duration = Duration::from_secs(10);

/// Judges a file that did not validate. `quiet_for` is how long the file has gone without a
/// change; `checks` counts the checks so far.
pub fn judge_invalid(
    invalid: &Invalid,
    quiet_for: Duration,
    checks: u32,
    invalid_after: Duration,
) -> Check {
    if quiet_for >= invalid_after {
        return Check::GiveUp(invalid.reason());
    }
    // Never sleep past the moment the file would be judged failed.
    Check::Recheck(
        backoff(RECHECK_BASE, RECHECK_MAX, checks)
            .min(invalid_after - quiet_for)
            .max(Duration::from_millis(10)),
    )
}

/// How often a file another program holds is looked at: the game holds a replay while it
/// writes it, and gives no event when it lets go on Windows, so this is the pickup delay.
/// A failed open costs next to nothing.
pub const BUSY_RECHECK: Duration = Duration::from_millis(500);
/// Held through this many checks (about a minute), it is not the game saving (an editor, a
/// backup tool): looked at every `RECHECK_MAX` from then on.
const BUSY_QUICK_CHECKS: u32 = 120;

/// Judges a file another program holds open (the game, still writing, on Windows): never
/// given up on, looked at again soon.
pub fn judge_busy(checks: u32) -> Duration {
    if checks < BUSY_QUICK_CHECKS {
        backoff(RECHECK_BASE, BUSY_RECHECK, checks)
    } else {
        RECHECK_MAX
    }
}

/// Judges a file that cannot be read: perhaps passing (a network folder, an antivirus scan),
/// so looked at again until it has been unreadable and quiet for `invalid_after`.
pub fn judge_unreadable(reason: &str, quiet_for: Duration, invalid_after: Duration) -> Check {
    if quiet_for >= invalid_after {
        Check::GiveUp(format!("cannot read: {reason}"))
    } else {
        Check::Recheck(RECHECK_MAX.min(invalid_after / 4))
    }
}

/// What a complete replay's Id and the record of it mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accept {
    /// Already on ballchasing (or skipped, for the daemon): never uploaded again, whatever
    /// its bytes now (an in-game rename, a Steam Cloud restore).
    Known,
    /// Refused by ballchasing before with these very bytes: `retry` puts it back.
    StillRefused,
    /// One of the replays already there at the first start: recorded as skipped.
    Baseline,
    /// New to the state but dated from before its folder was first seen (a restored backup,
    /// a copy that kept its dates): recorded as skipped, as the baseline's are.
    Older,
    /// Left out by a filter, with its rule.
    Filtered(String),
    /// Upload it.
    Upload,
}

/// How the engine runs, for the decisions that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The daemon: runs until cancelled.
    Daemon,
    /// `autochase upload`: the given files only, each judged at once, then stop.
    OneShot,
}

/// A replay saved in the last this-long is never taken for an old one, whatever the dates
/// say (a clock that was ahead when its folder was first seen).
pub const NEVER_OLD_WITHIN: Duration = Duration::from_secs(600);
/// Dates this close to the folder's first sighting are not told apart (clock steps, file
/// systems with coarse times).
pub const OLDER_MARGIN: Duration = Duration::from_secs(60);

/// True when a replay file dated `mtime` was written well before its folder was first seen
/// (`folder_since`) and not in the last few minutes (`now`): a copy, not a save.
pub fn older_than_folder(mtime: SystemTime, folder_since: SystemTime, now: SystemTime) -> bool {
    let saved_lately = now
        .duration_since(mtime)
        .map_or(true, |age| age < NEVER_OLD_WITHIN);
    !saved_lately && mtime + OLDER_MARGIN < folder_since
}

/// True when a replay file dated `mtime` was saved after a command (`upload` before the first
/// `run`) saw its folder at `noticed`: a new save, not one of the replays already there.
pub fn saved_after_notice(mtime: SystemTime, noticed: SystemTime) -> bool {
    mtime > noticed
}

/// Decides what to do with a complete replay: `record` is what the state knows of its Id,
/// `new_bytes` whether its content differs from the recorded one, `asked` whether someone
/// asked for it (`upload`, `retry`, `backfill`), `baseline` whether its folder's baseline is
/// being taken, `older` whether the file is dated before its folder was first seen,
/// `filtered` the reason a filter gives (already `None` under `--force`).
pub fn accept(
    record: Option<&Record>,
    new_bytes: bool,
    asked: bool,
    baseline: bool,
    older: bool,
    filtered: Option<String>,
) -> Accept {
    match record.map(|r| r.status) {
        Some(Status::Uploaded) => return Accept::Known,
        // Skipped and refused are final unless someone asks for the replay.
        Some(Status::Skipped) if !asked => return Accept::Known,
        Some(Status::Refused) if !new_bytes && !asked => return Accept::StillRefused,
        _ => {}
    }
    // Only a replay the state has never heard of can be one of those already there: a
    // pending or missing one was meant to be uploaded.
    if baseline && record.is_none() {
        return Accept::Baseline;
    }
    if older && record.is_none() && !asked {
        return Accept::Older;
    }
    match filtered {
        Some(reason) => Accept::Filtered(reason),
        None => Accept::Upload,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                Check::GiveUp("corrupt replay: truncated: 50 of 100 bytes".into()),
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
            Check::GiveUp("corrupt replay: body crc mismatch".into())
        );
    }

    #[test]
    fn one_backoff_doubles_and_caps() {
        let table = [
            (0, 250),
            (1, 500),
            (4, 4000),
            (5, 8000),
            (9, 8000),
            (u32::MAX, 8000),
        ];
        for (n, ms) in table {
            assert_eq!(
                backoff(RECHECK_BASE, RECHECK_MAX, n),
                Duration::from_millis(ms),
                "{n}"
            );
        }
        // A held file is picked up within half a second of its release, and costs little
        // when something holds it for good.
        assert_eq!(judge_busy(0), RECHECK_BASE);
        assert_eq!(judge_busy(1), BUSY_RECHECK);
        assert_eq!(judge_busy(119), BUSY_RECHECK);
        assert_eq!(judge_busy(120), RECHECK_MAX);
    }

    #[test]
    fn accept_decides_by_the_record_the_mode_and_the_baseline() {
        use crate::state::Record;
        use Accept::*;
        use Mode::*;
        let rec = |status| {
            let mut r = Record::pending("A".into(), "/demos/A.replay".into());
            r.status = status;
            r
        };
        let filter = || Some("skipped by filter: x".to_string());
        // (record, new bytes, mode, baseline, filter says, expected)
        let table = [
            (None, true, Daemon, false, None, Upload),
            (None, true, Daemon, true, None, Baseline),
            (
                None,
                true,
                Daemon,
                false,
                filter(),
                Filtered("skipped by filter: x".into()),
            ),
            (None, true, Daemon, true, filter(), Baseline),
            (Some(Status::Uploaded), true, Daemon, false, None, Known),
            (Some(Status::Uploaded), true, OneShot, false, None, Known),
            (Some(Status::Skipped), false, Daemon, false, None, Known),
            (Some(Status::Skipped), false, OneShot, false, None, Upload),
            (
                Some(Status::Skipped),
                false,
                OneShot,
                false,
                filter(),
                Filtered("skipped by filter: x".into()),
            ),
            (
                Some(Status::Refused),
                false,
                Daemon,
                false,
                None,
                StillRefused,
            ),
            (Some(Status::Refused), true, Daemon, false, None, Upload),
            (Some(Status::Refused), false, OneShot, false, None, Upload),
            (Some(Status::Pending), false, Daemon, false, None, Upload),
            (Some(Status::Pending), false, Daemon, true, None, Upload),
            (Some(Status::Missing), false, Daemon, true, None, Upload),
            (Some(Status::Missing), true, Daemon, false, None, Upload),
        ];
        for (status, new_bytes, mode, baseline, filtered, expected) in table {
            let record = status.map(rec);
            let asked = mode == OneShot;
            assert_eq!(
                accept(
                    record.as_ref(),
                    new_bytes,
                    asked,
                    baseline,
                    false,
                    filtered.clone()
                ),
                expected,
                "{status:?} new_bytes={new_bytes} {mode:?} baseline={baseline} {filtered:?}"
            );
        }
    }

    #[test]
    fn an_old_file_new_to_the_state_is_skipped_unless_asked_for() {
        use Accept::*;
        let rec = |status| {
            let mut r = Record::pending("A".into(), "/demos/A.replay".into());
            r.status = status;
            r
        };
        let pending = rec(Status::Pending);
        let uploaded = rec(Status::Uploaded);
        // (record, asked, baseline, older, expected)
        let table = [
            (None, false, false, true, Older),
            (None, true, false, true, Upload),
            (None, false, true, true, Baseline),
            (None, false, false, false, Upload),
            (Some(&pending), false, false, true, Upload),
            (Some(&uploaded), false, false, true, Known),
        ];
        for (record, asked, baseline, older, expected) in table {
            assert_eq!(
                accept(record, true, asked, baseline, older, None),
                expected,
                "{:?} asked={asked} baseline={baseline} older={older}",
                record.map(|r| r.status)
            );
        }
    }

    #[test]
    fn older_than_its_folder_needs_a_clear_margin_and_never_a_recent_save() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let day = Duration::from_secs(86_400);
        let since = now - day;
        // (file dated, expected)
        let table = [
            (now - 90 * day, true),
            (since - OLDER_MARGIN - Duration::from_secs(1), true),
            (since - OLDER_MARGIN + Duration::from_secs(1), false),
            (since + Duration::from_secs(5), false),
            (now - Duration::from_secs(60), false),
            (now + day, false),
        ];
        for (mtime, expected) in table {
            assert_eq!(older_than_folder(mtime, since, now), expected, "{mtime:?}");
        }
        // A folder first seen with the clock a day ahead: a save of the last ten minutes is
        // still a save; an older one is taken for a copy (the rule's limit: `backfill`).
        let ahead = now + day;
        assert!(!older_than_folder(
            now - Duration::from_secs(30),
            ahead,
            now
        ));
        assert!(older_than_folder(now - 2 * NEVER_OLD_WITHIN, ahead, now));
    }

    #[test]
    fn unreadable_files_get_the_quiet_period_too() {
        let minute = Duration::from_secs(60);
        assert_eq!(
            judge_unreadable("denied", Duration::ZERO, minute),
            Check::Recheck(Duration::from_secs(8))
        );
        assert_eq!(
            judge_unreadable("denied", Duration::ZERO, Duration::from_secs(4)),
            Check::Recheck(Duration::from_secs(1))
        );
        assert_eq!(
            judge_unreadable("denied", minute, minute),
            Check::GiveUp("cannot read: denied".into())
        );
    }
}

/// Properties over every file state: a file still changing is never given up on, and the
/// wait before its next look is bounded.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_file_that_keeps_changing_is_never_given_up(
            steps in proptest::collection::vec((0u64..120_000, 0u32..40), 1..50),
            after_s in 1u64..300,
        ) {
            let invalid_after = Duration::from_secs(after_s);
            for (quiet_ms, checks) in steps {
                let quiet = Duration::from_millis(quiet_ms);
                match judge_invalid(&Invalid::BodyCrc, quiet, checks, invalid_after) {
                    Check::GiveUp(_) => prop_assert!(quiet >= invalid_after),
                    Check::Recheck(wait) => {
                        prop_assert!(quiet < invalid_after);
                        prop_assert!(wait >= Duration::from_millis(10) && wait <= RECHECK_MAX);
                    }
                }
            }
        }
    }
}
