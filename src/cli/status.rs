//! `autochase status`: what was uploaded, what waits, what failed and what was skipped, as
//! text for people or JSON for scripts. It reads the state without taking the lock, so it
//! works while the daemon runs.

use std::process::ExitCode;

use crate::config::Config;
use crate::daemon;
use crate::state::{Outcome, PauseCause, STATE_FILE, State, Status};

/// Prints the status; exit code 0 unless the state cannot be read.
pub fn run(config: &Config, json: bool) -> ExitCode {
    let path = config.state_dir.join(STATE_FILE);
    let state = match State::read(&path) {
        Ok(Some((state, _))) => state,
        Ok(None) => State::default(),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let running = daemon::is_running(&config.state_dir);
    let of = |status: Status| state.replays.values().filter(move |r| r.status == status);
    if json {
        let uploaded: Vec<_> = of(Status::Uploaded)
            .map(|r| {
                serde_json::json!({"replay_id": r.id, "path": r.path.to_string_lossy(), "id": r.ballchasing_id,
                "location": r.location, "title": r.title, "title_error": r.title_error,
                "group": r.group, "note": r.note,
                "outcome": r.outcome, "updated": r.updated})
            })
            .collect();
        let pending: Vec<_> = of(Status::Pending)
            .map(|r| serde_json::json!({"replay_id": r.id, "path": r.path.to_string_lossy(), "attempts": r.attempts, "last_error": r.last_error}))
            .collect();
        let mut failed: Vec<_> = of(Status::Refused)
            .map(|r| serde_json::json!({"replay_id": r.id, "path": r.path.to_string_lossy(), "reason": r.last_error}))
            .collect();
        failed.extend(
            state.invalid.values().map(
                |f| serde_json::json!({"replay_id": null, "path": f.path.to_string_lossy(), "reason": f.reason}),
            ),
        );
        let skipped: Vec<_> = of(Status::Skipped)
            .map(|r| serde_json::json!({"replay_id": r.id, "path": r.path.to_string_lossy(), "reason": r.last_error}))
            .collect();
        let out = serde_json::json!({
            "daemon_running": running,
            "paused": state.pause,
            "state_file": path.to_string_lossy(),
            "uploaded": uploaded, "pending": pending, "failed": failed, "skipped": skipped,
        });
        println!("{}", serde_json::to_string_pretty(&out).expect("json"));
        return ExitCode::SUCCESS;
    }
    let failed = of(Status::Refused).count() + state.invalid.len();
    println!(
        "daemon {}; state {}",
        if running { "running" } else { "not running" },
        path.display()
    );
    println!(
        "uploaded {}, pending {}, failed {}, skipped {}",
        of(Status::Uploaded).count(),
        of(Status::Pending).count(),
        failed,
        of(Status::Skipped).count()
    );
    if let Some(pause) = &state.pause {
        let (what, then) = match pause.cause {
            PauseCause::Quota => (
                "parked on the upload quota",
                "they go again by themselves when it frees",
            ),
            PauseCause::RateLimit => (
                "paused: ballchasing asked to wait",
                "they go again by themselves",
            ),
            PauseCause::Trouble => (
                "held back: ballchasing keeps failing",
                "they go again by themselves",
            ),
            PauseCause::Token => (
                "paused: ballchasing refused the token",
                "put a working token in the config (picked up at once)",
            ),
            PauseCause::Endpoint => (
                "paused: the upload address looks wrong",
                "check `api_url` in the config (picked up at once)",
            ),
        };
        match pause.remaining() {
            Some(left) => {
                let left =
                    humantime::format_duration(std::time::Duration::from_secs(left.as_secs()));
                println!(
                    "uploads {what} until {} (in {left}); {then}\n  last answer: {}",
                    pause.until, pause.reason
                );
            }
            None => println!(
                "uploads were {what} until {}; {}\n  last answer: {}",
                pause.until,
                if running {
                    "the daemon tries again when a replay waits"
                } else {
                    "start autochase to try again"
                },
                pause.reason
            ),
        }
    }
    let mut recent: Vec<_> = of(Status::Uploaded).collect();
    recent.sort_by(|a, b| b.updated.cmp(&a.updated));
    if !recent.is_empty() {
        println!("\nrecent uploads:");
        for r in recent.iter().take(10) {
            let dup = if r.outcome == Some(Outcome::Duplicate) {
                " (duplicate)"
            } else {
                ""
            };
            let mut title = match (&r.title, &r.title_error) {
                (Some(title), _) => format!("  \"{title}\""),
                (None, Some(e)) => format!("  (title not set: {e})"),
                (None, None) => String::new(),
            };
            if let Some(note) = &r.note {
                title.push_str(&format!("  ({note})"));
            }
            println!(
                "  {}  {}{dup}{title}",
                r.updated,
                r.location.as_deref().unwrap_or("?")
            );
        }
    }
    let pending: Vec<_> = of(Status::Pending).collect();
    if !pending.is_empty() {
        println!("\npending:");
        for r in pending {
            println!(
                "  {}  {}",
                r.path.display(),
                r.last_error.as_deref().unwrap_or("waiting")
            );
        }
    }
    if failed > 0 {
        println!("\nfailed (`autochase retry --all-failed` tries them again):");
        for r in of(Status::Refused) {
            println!(
                "  {}  {}",
                r.path.display(),
                r.last_error.as_deref().unwrap_or("?")
            );
        }
        for f in state.invalid.values() {
            println!("  {}  {}", f.path.display(), f.reason);
        }
    }
    ExitCode::SUCCESS
}
