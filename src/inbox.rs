//! Requests from other autochase commands to the running daemon, as files in
//! `state_dir/inbox`: `<name>.json` holds the request; the daemon (the state's only writer)
//! appends one line per file to `<name>.progress` as each is decided and writes `<name>.done`
//! at the end. Files rather than a socket: the same on every OS, and nothing listens. The
//! daemon reads only small regular files there and never follows a link.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tracing::warn;

use crate::fate::Report;
use crate::fsutil;

/// The inbox folder's name inside `state_dir`.
pub const INBOX: &str = "inbox";
/// The largest request the daemon reads (a request for thousands of files fits).
const MAX_REQUEST: u64 = 4 * 1024 * 1024;

/// What a command asks of the daemon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    /// Upload these files now (`upload`, `retry`, `backfill`); each gets a progress line.
    Upload {
        /// Absolute paths.
        paths: Vec<PathBuf>,
        /// Upload replays the filters would skip.
        force: bool,
    },
    /// Forget these replays (by Id) and invalid files (by path).
    Forget {
        /// Replay Ids.
        ids: Vec<String>,
        /// Paths of invalid files.
        paths: Vec<PathBuf>,
    },
}

/// The daemon's last word on a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// How many files or entries the request concerned.
    pub changed: usize,
    /// Why it could not be carried out, if it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
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

/// What following a request found.
#[derive(Debug)]
pub enum Followed {
    /// The daemon answered.
    Done(Answer),
    /// The daemon did not take the request within the time allowed: it was withdrawn.
    NotTaken,
}

/// Follows the request at `path`: calls `on_report` with each progress line as the daemon
/// writes it, until its answer. Gives up when the daemon has not taken the request within
/// `take_within`, and withdraws it: a request nobody waits for is never carried out later.
pub async fn follow(
    path: &Path,
    take_within: Duration,
    mut on_report: impl FnMut(Report),
) -> Followed {
    let progress = path.with_extension("progress");
    let done = path.with_extension("done");
    let taken_by = tokio::time::Instant::now() + take_within;
    let mut read = 0usize;
    let mut partial = Vec::new();
    loop {
        let finished = std::fs::read(&done)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Answer>(&bytes).ok());
        if let Ok(bytes) = std::fs::read(&progress)
            && bytes.len() > read
        {
            partial.extend_from_slice(&bytes[read..]);
            read = bytes.len();
            while let Some(end) = partial.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = partial.drain(..=end).collect();
                if let Ok(report) = serde_json::from_slice(&line) {
                    on_report(report);
                }
            }
        }
        if let Some(answer) = finished {
            let _ = std::fs::remove_file(&done);
            let _ = std::fs::remove_file(&progress);
            return Followed::Done(answer);
        }
        if tokio::time::Instant::now() > taken_by && path.exists() {
            // Withdrawn, unless the daemon takes it at this very moment (then it answers).
            match std::fs::remove_file(path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                _ => return Followed::NotTaken,
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The daemon's side of one request: its progress lines and its answer.
#[derive(Debug)]
pub struct Conversation {
    request: PathBuf,
    progress: File,
}

impl Conversation {
    /// Starts answering the request at `request`: takes it out of the inbox and creates its
    /// progress file (refusing anything already there, a planted link included).
    fn start(request: &Path) -> std::io::Result<Conversation> {
        let progress = fsutil::private_file()
            .write(true)
            .create_new(true)
            .open(request.with_extension("progress"))?;
        std::fs::remove_file(request)?;
        Ok(Conversation {
            request: request.to_path_buf(),
            progress,
        })
    }

    /// One file's final word.
    pub fn progress(&mut self, report: &Report) {
        let mut line = serde_json::to_vec(report).unwrap_or_default();
        line.push(b'\n');
        if let Err(e) = self.progress.write_all(&line) {
            warn!(error = %e, "cannot write a request's progress");
        }
    }

    /// The last word; the command waiting for it reads it and cleans up.
    pub fn finish(self, answer: &Answer) {
        let done = self.request.with_extension("done");
        let written = serde_json::to_vec(answer)
            .map_err(std::io::Error::other)
            .and_then(|bytes| fsutil::write_atomic(&done, true, |out| out.write_all(&bytes)));
        if let Err(e) = written {
            warn!(path = %done.display(), error = %e, "cannot answer a request");
        }
    }
}

/// The requests waiting, oldest first, each with its conversation. What is not a small
/// regular file holding a request (a link, a pipe, a device, junk) is removed, unread.
pub fn take(state_dir: &Path) -> Vec<(Request, Conversation)> {
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
        let request = read_request(&path);
        let request = match request {
            Ok(request) => request,
            Err(why) => {
                warn!(path = %path.display(), %why, "not a request; removed from the inbox");
                let _ = std::fs::remove_file(&path);
                continue;
            }
        };
        match Conversation::start(&path) {
            Ok(conversation) => out.push((request, conversation)),
            Err(e) => {
                warn!(path = %path.display(), error = %e, "cannot answer a request; removed");
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    out
}

/// Reads a request: only a regular file (never through a link, never a pipe that would
/// block), at most `MAX_REQUEST` bytes.
fn read_request(path: &Path) -> Result<Request, String> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    if !meta.file_type().is_file() {
        return Err("not a regular file".into());
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
        options.custom_flags(flags.bits() as i32);
    }
    let file = options.open(path).map_err(|e| e.to_string())?;
    // Checked again on what was opened: the entry may have been swapped meanwhile.
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() || meta.len() > MAX_REQUEST {
        return Err(format!("not a request ({} bytes)", meta.len()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_REQUEST + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
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
    use crate::fate::Fate;

    fn report(name: &str) -> Report {
        Report {
            path: PathBuf::from(name),
            id: None,
            fate: Fate::Skipped,
            location: None,
            reason: None,
        }
    }

    #[test]
    fn requests_go_in_whole_come_out_in_order_and_are_answered_line_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let upload = Request::Upload {
            paths: vec!["/a.replay".into()],
            force: true,
        };
        let forget = Request::Forget {
            ids: vec!["ABC".into()],
            paths: vec![],
        };
        let first = send(dir.path(), &upload).unwrap();
        std::thread::sleep(Duration::from_millis(2));
        let second = send(dir.path(), &forget).unwrap();
        std::fs::write(dir.path().join(INBOX).join("0-junk.json"), b"{").unwrap();
        let mut taken = take(dir.path());
        assert_eq!(taken.len(), 2);
        assert_eq!(taken[0].0, upload);
        assert_eq!(taken[1].0, forget);
        assert!(!dir.path().join(INBOX).join("0-junk.json").exists());
        assert!(
            !first.exists() && !second.exists(),
            "taken out of the inbox"
        );
        let (_, mut conversation) = taken.remove(0);
        conversation.progress(&report("/a.replay"));
        conversation.finish(&Answer {
            changed: 1,
            error: None,
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut seen = Vec::new();
        let followed = rt.block_on(follow(&first, Duration::from_secs(1), |r| seen.push(r)));
        assert!(matches!(
            followed,
            Followed::Done(Answer { changed: 1, .. })
        ));
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].path, PathBuf::from("/a.replay"));
    }

    #[cfg(unix)]
    #[test]
    fn links_pipes_and_huge_files_are_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().join(INBOX);
        std::fs::create_dir_all(&inbox).unwrap();
        let fifo = inbox.join("1-fifo.json");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        std::os::unix::fs::symlink("/dev/zero", inbox.join("2-zero.json")).unwrap();
        let huge = inbox.join("3-huge.json");
        std::fs::File::create(&huge)
            .unwrap()
            .set_len(MAX_REQUEST + 1)
            .unwrap();
        // A link planted where the answer will go is refused, not written through.
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let request = send(
            dir.path(),
            &Request::Forget {
                ids: vec![],
                paths: vec![],
            },
        )
        .unwrap();
        std::os::unix::fs::symlink(&victim, request.with_extension("progress")).unwrap();
        // Returns at once (a pipe would block a read; /dev/zero would never end).
        let taken = take(dir.path());
        assert!(taken.is_empty());
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        for gone in [&fifo, &huge, &inbox.join("2-zero.json"), &request] {
            assert!(
                std::fs::symlink_metadata(gone).is_err(),
                "{}",
                gone.display()
            );
        }
    }
}
