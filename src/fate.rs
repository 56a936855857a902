//! A file's final word: what became of a file someone asked about (`upload`, `retry`,
//! `backfill`), as the engine says it, the inbox carries it and the commands print it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::state::{Outcome, Record, Status};

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
    pub fn of(path: &Path, record: &Record, now: bool) -> Report {
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
    pub fn invalid(path: &Path, reason: String) -> Report {
        Report {
            path: path.to_path_buf(),
            id: None,
            fate: Fate::Invalid,
            location: None,
            reason: Some(reason),
        }
    }
}
