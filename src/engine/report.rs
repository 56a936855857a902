//! What the engine tells the outside: its status after every step, and each asked-about
//! file's final word (for `autochase upload`).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::state::{Outcome, PauseCause, Record, Status};

/// What the engine is doing, published after every step (for tests, `status` and hooks).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineStatus {
    /// The first scan of every folder is done.
    pub initial_scan_done: bool,
    /// Nothing left to do right now: no check running or scheduled, no upload in flight, and
    /// the queue empty (or waiting on a pause or a token).
    pub settled: bool,
    /// Replays waiting in the queue.
    pub queued: usize,
    /// Files being checked or waiting to be checked again.
    pub checking: usize,
    /// Full folder scans finished since start.
    pub scans: u64,
    /// File checks started since start (each reads at least a header).
    pub checks: u64,
    /// Config reloads applied since start.
    pub reloads: u64,
    /// Why uploads are paused, when they are.
    pub paused: Option<Paused>,
    /// There is an API token, so uploads can go.
    pub token: bool,
    /// An upload is on its way (not counted in `queued`).
    pub uploading: bool,
}

/// Uploads stopped for a while.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paused {
    /// The kind of trouble.
    pub cause: PauseCause,
    /// The answer that caused it, in words.
    pub reason: String,
    /// When uploads go again by themselves.
    pub until: SystemTime,
}

impl Paused {
    /// A pause of `wait` from now.
    pub fn new(cause: PauseCause, reason: String, wait: std::time::Duration) -> Paused {
        Paused {
            cause,
            reason,
            until: SystemTime::now() + wait,
        }
    }
}

/// What became of a file someone asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// Uploaded now: ballchasing created it.
    Created,
    /// Uploaded now: ballchasing already had it (409).
    Duplicate,
    /// Uploaded before; nothing was sent now.
    UploadedBefore,
    /// Not uploaded, on purpose (a filter, or present before the first start).
    Skipped,
    /// ballchasing refused it (a 400).
    Refused,
    /// Not a complete replay, or it could not be read.
    Invalid,
    /// Still waiting (no token, a pause, a server that keeps failing).
    Pending,
    /// Its file no longer holds it (deleted or overwritten before the upload).
    Missing,
}

impl Fate {
    /// On ballchasing, now or before.
    pub fn is_uploaded(self) -> bool {
        matches!(self, Fate::Created | Fate::Duplicate | Fate::UploadedBefore)
    }
}

/// A file's final word, sent to whoever asked (`upload`, `retry`, `backfill`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// The file.
    #[serde(with = "crate::state::path_repr")]
    pub path: PathBuf,
    /// Replay id, when known.
    pub id: Option<String>,
    /// What became of it.
    pub fate: Fate,
    /// ballchasing page when uploaded.
    pub location: Option<String>,
    /// Why, when not uploaded.
    pub reason: Option<String>,
}

impl Report {
    /// Where the replay recorded in `record` stands, for the file at `path`; `now` when this
    /// very run uploaded it.
    pub(super) fn of(path: &Path, record: &Record, now: bool) -> Report {
        let fate = match (record.status, record.outcome, now) {
            (Status::Uploaded, Some(Outcome::Duplicate), true) => Fate::Duplicate,
            (Status::Uploaded, _, true) => Fate::Created,
            (Status::Uploaded, _, false) => Fate::UploadedBefore,
            (Status::Skipped, _, _) => Fate::Skipped,
            (Status::Refused, _, _) => Fate::Refused,
            (Status::Pending, _, _) => Fate::Pending,
            (Status::Missing, _, _) => Fate::Missing,
        };
        Report {
            path: path.to_path_buf(),
            id: Some(record.id.clone()),
            fate,
            location: record.location.clone(),
            reason: record.last_error.clone(),
        }
    }

    /// A file that is not a replay to upload, and why.
    pub(super) fn invalid(path: &Path, reason: String) -> Report {
        Report {
            path: path.to_path_buf(),
            id: None,
            fate: Fate::Invalid,
            location: None,
            reason: Some(reason),
        }
    }
}
