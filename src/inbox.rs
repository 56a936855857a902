//! Requests from other autochase commands to the running daemon: one file per request in
//! `state_dir/inbox`, applied by the engine (the state's only writer), answered with a
//! `.done` file. Files rather than a socket: the same on every OS, and nothing listens.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tracing::warn;

use crate::fsutil;

/// The inbox folder's name inside `state_dir`.
pub const INBOX: &str = "inbox";

/// What a command asks of the daemon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    /// Put failed replays and invalid files back: all of them, or the one whose Id or path
    /// this is.
    Retry {
        /// Replay Id or path; `None` for all.
        which: Option<String>,
    },
}

/// The daemon's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// How many replays or files the request changed.
    pub changed: usize,
}

fn inbox(state_dir: &Path) -> PathBuf {
    state_dir.join(INBOX)
}

/// Leaves `request` for the daemon; returns the request file's path.
pub fn send(state_dir: &Path, request: &Request) -> std::io::Result<PathBuf> {
    let dir = inbox(state_dir);
    fsutil::create_private_dir(&dir)?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let path = dir.join(format!("{nanos}-{}.json", std::process::id()));
    let bytes = serde_json::to_vec(request).map_err(std::io::Error::other)?;
    // Renamed into place whole, so the daemon never reads half a request.
    fsutil::write_atomic(&path, true, |out| out.write_all(&bytes))?;
    Ok(path)
}

/// Waits up to `timeout` for the daemon's answer to the request at `path`.
pub async fn answer(path: &Path, timeout: Duration) -> Option<Answer> {
    let done = path.with_extension("done");
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if let Ok(bytes) = std::fs::read(&done)
            && let Ok(answer) = serde_json::from_slice(&bytes)
        {
            let _ = std::fs::remove_file(&done);
            return Some(answer);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// The requests waiting, oldest first; unreadable ones are removed with a warning.
pub fn take(state_dir: &Path) -> Vec<(PathBuf, Request)> {
    let Ok(entries) = std::fs::read_dir(inbox(state_dir)) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        match std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
        {
            Some(request) => out.push((path, request)),
            None => {
                warn!(path = %path.display(), "unreadable request in the inbox; removed");
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    out
}

/// Answers the request at `path` and removes it.
pub fn reply(path: &Path, answer: &Answer) {
    let done = path.with_extension("done");
    let written = serde_json::to_vec(answer)
        .map_err(std::io::Error::other)
        .and_then(|bytes| fsutil::write_atomic(&done, true, |out| out.write_all(&bytes)));
    if let Err(e) = written {
        warn!(path = %done.display(), error = %e, "cannot answer a request");
    }
    let _ = std::fs::remove_file(path);
}

/// Watches the inbox and tells the engine when a request arrives (and once at start, for
/// requests left while no daemon ran). Keep the returned watcher alive.
pub fn watch(state_dir: &Path, arrived: mpsc::Sender<()>) -> Option<notify::RecommendedWatcher> {
    use notify::EventKind;
    let dir = inbox(state_dir);
    let _ = fsutil::create_private_dir(&dir);
    let _ = arrived.try_send(());
    crate::watcher::watch_folder(&dir, "request inbox", move |event| {
        let request = event
            .paths
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "json"));
        if request && !matches!(event.kind, EventKind::Access(_) | EventKind::Remove(_)) {
            // Full means a wake-up is already due; it reads every waiting request.
            let _ = arrived.try_send(());
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_go_in_whole_and_come_out_in_order_with_answers() {
        let dir = tempfile::tempdir().unwrap();
        let first = send(dir.path(), &Request::Retry { which: None }).unwrap();
        let second = send(
            dir.path(),
            &Request::Retry {
                which: Some("ABC".into()),
            },
        )
        .unwrap();
        std::fs::write(dir.path().join(INBOX).join("0-junk.json"), b"{").unwrap();
        let taken = take(dir.path());
        assert_eq!(
            taken,
            vec![
                (first.clone(), Request::Retry { which: None }),
                (
                    second,
                    Request::Retry {
                        which: Some("ABC".into())
                    }
                )
            ]
        );
        assert!(!dir.path().join(INBOX).join("0-junk.json").exists());
        reply(&first, &Answer { changed: 2 });
        assert!(!first.exists());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let got = rt.block_on(answer(&first, Duration::from_secs(1)));
        assert_eq!(got, Some(Answer { changed: 2 }));
    }
}
