//! `autochase status`: what was uploaded, what waits, what failed and what was skipped, as
//! text for people or JSON for scripts. It reads the state without taking the lock, so it
//! works while the daemon runs.

use std::path::Path;
use std::process::ExitCode;

use super::shown;
use crate::daemon;
use crate::dates;
use crate::platform::printable;
use crate::state::{Outcome, Pause, PauseCause, Record, STATE_FILE, State, Status};

/// Prints the status of the state in `state_dir`; exit code 0 unless the state cannot be
/// read. A reader that stops early (`autochase status | head -1`) ends it quietly.
/// `token_advice`: set when the config (if it could be read) gives no API token, saying how
/// to add one.
pub fn run(state_dir: &Path, json: bool, token_advice: Option<String>) -> ExitCode {
    let path = state_dir.join(STATE_FILE);
    let state = match State::read(&path) {
        Ok(Some((state, _))) => state,
        Ok(None) => State::default(),
        Err(e) if e.is_damage() => {
            eprintln!(
                "error: {e}\nthe state file is damaged: the next start of autochase keeps it aside (state.jsonl.damaged-…) and records the replays already in each folder as skipped again, so nothing old is uploaded; `autochase backfill` uploads any you want"
            );
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let running = daemon::is_running(state_dir);
    let text = match json {
        true => {
            serde_json::to_string_pretty(&as_json(&state, running, &path)).expect("json") + "\n"
        }
        false => {
            let mut text = as_text(&state, running, &path);
            let pending = state.replays.values().any(|r| r.status == Status::Pending);
            if let Some(advice) = token_advice.filter(|_| pending) {
                text += &format!("\npending replays wait for an API token: {advice}\n");
            }
            text
        }
    };
    super::print(&text)
}

/// The status for scripts: every entry, times in UTC as the state keeps them.
pub fn as_json(state: &State, running: bool, path: &Path) -> serde_json::Value {
    let of = |status: Status| {
        state
            .replays
            .values()
            .filter(move |r| r.status == status && !r.forgotten)
    };
    let entry = |r: &Record| serde_json::json!({"replay_id": r.id, "path": r.path.to_string_lossy(), "reason": r.last_error, "updated": r.updated});
    let uploaded: Vec<_> = of(Status::Uploaded)
        .map(|r| {
            serde_json::json!({"replay_id": r.id, "path": r.path.to_string_lossy(), "id": r.ballchasing_id,
            "location": r.location, "title": r.title, "title_error": r.title_error,
            "group": r.group, "note": r.note, "outcome": r.outcome, "uploaded_at": r.uploaded_at, "updated": r.updated})
        })
        .collect();
    let pending: Vec<_> = of(Status::Pending)
        .map(|r| serde_json::json!({"replay_id": r.id, "path": r.path.to_string_lossy(), "attempts": r.attempts, "last_error": r.last_error, "updated": r.updated}))
        .collect();
    let mut failed: Vec<_> = of(Status::Refused).map(entry).collect();
    failed.extend(state.invalid_in_sight().map(|f| {
        serde_json::json!({"replay_id": null, "path": f.path.to_string_lossy(), "reason": f.reason, "updated": f.at})
    }));
    serde_json::json!({
        "daemon_running": running,
        "paused": state.pause,
        "state_file": path.to_string_lossy(),
        "uploaded": uploaded,
        "pending": pending,
        "failed": failed,
        "missing": of(Status::Missing).map(entry).collect::<Vec<_>>(),
        "skipped": of(Status::Skipped).map(entry).collect::<Vec<_>>(),
        "forgotten": state.replays.values().filter(|r| r.forgotten).count()
            + state.invalid.values().filter(|f| f.forgotten).count(),
    })
}

/// The status for people: counts, what holds uploads back, recent uploads, and every entry
/// that needs a look, with local times and short paths.
pub fn as_text(state: &State, running: bool, path: &Path) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let of = |status: Status| {
        state
            .replays
            .values()
            .filter(move |r| r.status == status && !r.forgotten)
    };
    let failed = of(Status::Refused).count() + state.invalid_in_sight().count();
    let missing = of(Status::Missing).count();
    let skipped = of(Status::Skipped).count();
    let before = state.replays.values().filter(|r| r.backfillable()).count();
    let filtered = of(Status::Skipped)
        .filter(|r| {
            r.last_error
                .as_deref()
                .is_some_and(|why| why.starts_with(crate::filter::FILTERED))
        })
        .count();
    let _ = writeln!(
        out,
        "daemon {}; state {}",
        if running { "running" } else { "not running" },
        path.display()
    );
    let _ = write!(
        out,
        "uploaded {}, pending {}, failed {failed}",
        of(Status::Uploaded).count(),
        of(Status::Pending).count(),
    );
    if missing > 0 {
        let _ = write!(out, ", missing {missing}");
    }
    let _ = write!(out, ", skipped {skipped}");
    let mut kinds = Vec::new();
    if before > 0 {
        kinds.push(format!(
            "{before} there before autochase first saw their folder, or dated before then: `autochase backfill` uploads them"
        ));
    }
    if filtered > 0 {
        kinds.push(format!(
            "{filtered} by your filters: `autochase upload --force FILE` uploads one"
        ));
    }
    if !kinds.is_empty() {
        let _ = write!(out, " ({})", kinds.join("; "));
    }
    out.push('\n');
    if let Some(pause) = &state.pause {
        out.push_str(&pause_text(pause, running));
    }
    let mut recent: Vec<&Record> = of(Status::Uploaded).collect();
    let uploaded_at = |r: &Record| r.uploaded_at.clone().unwrap_or_else(|| r.updated.clone());
    recent.sort_by_key(|r| std::cmp::Reverse(uploaded_at(r)));
    if !recent.is_empty() {
        out.push_str("\nrecent uploads:\n");
        for r in recent.iter().take(10) {
            let dup = match r.outcome {
                Some(Outcome::Duplicate) => " (duplicate)",
                _ => "",
            };
            let mut title = match (&r.title, &r.title_error) {
                (Some(title), _) => format!("  \"{}\"", printable(title)),
                (None, Some(e)) => format!("  (title not set: {})", printable(e)),
                (None, None) => String::new(),
            };
            if let Some(note) = &r.note {
                let _ = write!(title, "  ({})", printable(note));
            }
            let _ = writeln!(
                out,
                "  {}  {}{dup}{title}",
                dates::local(&uploaded_at(r)),
                printable(r.location.as_deref().unwrap_or("?"))
            );
        }
    }
    let section = |out: &mut String, heading: &str, rows: Vec<(&Path, &str)>| {
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(out, "\n{heading}:");
        for (path, why) in rows {
            let _ = writeln!(out, "  {}  {}", shown(path), printable(why));
        }
    };
    fn reason(r: &Record) -> (&Path, &str) {
        (
            r.path.as_path(),
            r.last_error.as_deref().unwrap_or("waiting"),
        )
    }
    section(
        &mut out,
        "pending",
        of(Status::Pending).map(reason).collect(),
    );
    section(
        &mut out,
        "missing (their files were deleted or replaced before the upload; `autochase forget --gone` clears them)",
        of(Status::Missing).map(reason).collect(),
    );
    let mut failures: Vec<(&Path, &str)> = of(Status::Refused).map(reason).collect();
    failures.extend(
        state
            .invalid_in_sight()
            .map(|f| (f.path.as_path(), f.reason.as_str())),
    );
    section(
        &mut out,
        "failed (`autochase retry --all-failed` looks at them again; `autochase forget` clears one)",
        failures,
    );
    out
}

/// What holds every upload back, until when, and what to do.
fn pause_text(pause: &Pause, running: bool) -> String {
    // With no daemon, nothing goes by itself: it goes when autochase runs.
    let again = match running {
        true => "they go again by themselves",
        false => "they go when autochase runs again (`autochase run` or the service)",
    };
    let (what, then) = match pause.cause {
        PauseCause::Quota => (
            "parked on the upload quota",
            format!("{again} once it frees"),
        ),
        PauseCause::RateLimit => ("paused: ballchasing asked to wait", again.to_owned()),
        PauseCause::Trouble => ("held back: ballchasing keeps failing", again.to_owned()),
        PauseCause::Token => (
            "paused: ballchasing refused the token",
            "put a working token in the config (picked up at once)".to_owned(),
        ),
        PauseCause::Endpoint => (
            "paused: the upload address looks wrong",
            "check `api_url` in the config (picked up at once)".to_owned(),
        ),
    };
    // A wait autochase guessed (ballchasing named no end) can be tested at once.
    let then = match (pause.told, pause.cause) {
        (false, PauseCause::Quota | PauseCause::Trouble) => {
            format!("{then}; `autochase retry --all-failed` tries once now")
        }
        _ => then,
    };
    let until = dates::local(&pause.until);
    // A refused token or a wrong address has no end: it is tried again at that time.
    let when = match pause.cause {
        PauseCause::Token | PauseCause::Endpoint => "; next try",
        _ => " until",
    };
    match pause.remaining() {
        Some(left) => format!(
            "uploads {what}{when} {until} (in {}); {then}\n  last answer: {}\n",
            dates::wait(left),
            printable(&pause.reason)
        ),
        None => format!(
            "uploads were {what}{when} {until}; {}\n  last answer: {}\n",
            match running {
                true => "the daemon tries again when a replay waits",
                false => "start autochase to try again",
            },
            printable(&pause.reason)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_uploads_show_when_they_were_uploaded_not_when_last_touched() {
        let mut state = State::default();
        let mut r = Record::pending("A".into(), "/d/Demos/A.replay".into());
        r.uploaded(Outcome::Created, "x", "https://ballchasing.com/replay/x");
        r.uploaded_at = Some("2026-01-02T03:04:05Z".into());
        // Renamed in the game a week later: the record changes, the upload does not.
        r.updated = "2026-01-09T03:04:05Z".into();
        state.replays.insert(r.id.clone(), r);
        let text = as_text(&state, false, Path::new("/s/state.jsonl"));
        let shown = dates::local("2026-01-02T03:04:05Z");
        assert!(text.contains(&format!("  {shown}  https://")), "{text}");
        let json = as_json(&state, false, Path::new("/s/state.jsonl"));
        assert_eq!(json["uploaded"][0]["uploaded_at"], "2026-01-02T03:04:05Z");
    }

    #[test]
    fn a_refused_token_has_a_next_try_and_a_quota_an_end() {
        let wait = std::time::Duration::from_secs(60);
        let token = pause_text(
            &Pause::new(PauseCause::Token, "401".into(), wait, false),
            true,
        );
        assert!(
            token.contains("; next try ") && !token.contains(" until "),
            "{token}"
        );
        let quota = pause_text(
            &Pause::new(PauseCause::Quota, "429".into(), wait, false),
            true,
        );
        assert!(quota.contains("quota until "), "{quota}");
        assert!(
            quota.contains("`autochase retry --all-failed` tries once now"),
            "{quota}"
        );
        let told = pause_text(
            &Pause::new(PauseCause::Quota, "429".into(), wait, true),
            true,
        );
        assert!(!told.contains("tries once now"), "{told}");
        let alone = pause_text(
            &Pause::new(PauseCause::RateLimit, "429".into(), wait, true),
            false,
        );
        assert!(
            alone.contains("they go when autochase runs again") && !alone.contains("by themselves"),
            "{alone}"
        );
    }

    #[test]
    fn the_skipped_count_says_what_each_kind_of_skip_needs() {
        use crate::state::{BASELINE_REASON, OLDER_REASON};
        let mut state = State::default();
        for (id, why) in [
            ("A", BASELINE_REASON.to_string()),
            ("B", OLDER_REASON.to_string()),
            (
                "C",
                "skipped by filter: match type Private is in skip_match_types; `autochase upload --force FILE` uploads it".into(),
            ),
        ] {
            let mut r = Record::pending(id.into(), format!("/d/Demos/{id}.replay").into());
            r.skipped(why);
            state.replays.insert(r.id.clone(), r);
        }
        let text = as_text(&state, false, Path::new("/s/state.jsonl"));
        assert!(
            text.contains(
                "skipped 3 (2 there before autochase first saw their folder, or dated before then: `autochase backfill` uploads them; 1 by your filters: `autochase upload --force FILE` uploads one)"
            ),
            "{text}"
        );
    }
}
