//! Resilience: a server that fails, drops connections and runs out of quota; a daemon killed
//! over and over; broken, huge, odd and unreadable files; a damaged, read-only or full state
//! folder; and a token that must never show. Every wait is bounded.

#[path = "resilience/local.rs"]
mod local;
#[path = "resilience/server.rs"]
mod server;
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use autochase::config::Pauses;
use autochase::state::{Outcome, PauseCause, STATE_FILE, State, Status};
use support::ballchasing::{Answer, Faults, TOKEN};
#[cfg(unix)]
use support::bin::{Daemon, command};
use support::bin::{autochase, text, write_config};
use support::harness::{Setup, real_timeout, until, uploaded};
#[cfg(unix)]
use support::replays::{LAN, SMALL};
use support::replays::{TINY, distinct};

/// `n` distinct small replays written into the demos folder as `R00.replay`….
fn write_replays(demos: &Path, n: u32) -> Vec<PathBuf> {
    (0..n)
        .map(|i| {
            let path = demos.join(format!("R{i:02}.replay"));
            std::fs::write(&path, distinct(TINY, i)).unwrap();
            path
        })
        .collect()
}

/// Every replay the server holds is complete and distinct, and the state agrees with it.
fn assert_server_matches_state(setup: &Setup, state: &State, n: usize) {
    assert_eq!(setup.fake.created(), n, "each replay created once");
    assert_eq!(setup.fake.created_twice(), 0);
    let books = setup.fake.books.lock().unwrap();
    for bytes in &books.created {
        assert!(
            autochase::replay::validate(bytes).is_ok(),
            "only complete replays reach the server"
        );
    }
    assert_eq!(state.replays.len(), n, "the state holds every replay");
    for record in state.replays.values() {
        assert_eq!(record.status, Status::Uploaded, "{record:?}");
        let server_id = books.by_key.get(&record.id).expect("on the server");
        assert_eq!(record.ballchasing_id.as_ref(), Some(server_id));
    }
}

fn parked(state: &State) -> bool {
    state
        .pause
        .as_ref()
        .is_some_and(|p| p.cause == PauseCause::Quota)
}

/// Where on this machine a file can be made that even root cannot read.
#[cfg(unix)]
fn make_unreadable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if std::fs::read_to_string("/proc/self/status")
            .is_ok_and(|s| s.lines().any(|l| l.starts_with("Uid:\t0\t")))
        {
            // Root reads anything with mode 000; reading another process's memory from
            // offset 0 fails with EIO for everyone.
            std::os::unix::fs::symlink("/proc/self/mem", path).unwrap();
        } else {
            std::fs::write(path, TINY).unwrap();
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).unwrap();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Runs `script` in a new user and mount namespace, where it may mount (`$1`… are `args`).
/// `None` when this machine does not allow it; CI sets AUTOCHASE_REQUIRE_NAMESPACES so a
/// missing capability fails there instead of skipping.
#[cfg(target_os = "linux")]
fn in_namespace(script: &str, args: &[&std::ffi::OsStr]) -> Option<std::process::Command> {
    let works = std::process::Command::new("unshare")
        .args(["-Urm", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        assert!(
            std::env::var_os("AUTOCHASE_REQUIRE_NAMESPACES").is_none(),
            "unshare -Urm is not available"
        );
        eprintln!("SKIPPED: this machine cannot create user namespaces (unshare -Urm)");
        return None;
    }
    let mut command = std::process::Command::new("unshare");
    command
        .args(["-Urm", "sh", "-c", script, "sh"])
        .args(args)
        .env_remove("BALLCHASING_TOKEN")
        .env_remove("RUST_LOG");
    Some(command)
}

/// Every file in `dir` with its bytes and mtime.
#[cfg(target_os = "linux")]
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> {
    let mut all: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let meta = std::fs::metadata(&p).unwrap();
            (
                p.clone(),
                std::fs::read(&p).unwrap(),
                meta.modified().unwrap(),
            )
        })
        .collect();
    all.sort();
    all
}
