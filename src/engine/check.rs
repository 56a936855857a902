//! Looking at a file on disk, on a blocking thread: is it a complete replay (the length rule
//! and both CRCs), what does its header say, and if not, why not. The upload reads the file
//! once more and keeps exactly the bytes it validated.

use std::path::Path;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::replay::{self, Invalid, ReplayInfo};
use crate::state;

/// A complete replay as found on disk.
#[derive(Debug, Clone)]
pub struct Complete {
    /// Header properties.
    pub info: ReplayInfo,
    /// Size in bytes.
    pub size: u64,
    /// Modification time (ns since the epoch).
    pub mtime_ns: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
}

impl Complete {
    /// The replay's Id: the header's, else the file stem.
    pub fn id(&self, path: &Path) -> String {
        self.info.id.clone().unwrap_or_else(|| stem(path))
    }
}

/// What looking at a file found.
#[derive(Debug)]
pub enum FileCheck {
    /// A complete replay.
    Complete(Box<Complete>),
    /// Not a complete replay (yet): still being written, or broken.
    Incomplete {
        /// Why.
        invalid: Invalid,
        /// Size read.
        size: u64,
        /// Modification time (ns).
        mtime_ns: u64,
    },
    /// Cannot be a replay for a reason that will not pass by waiting.
    Refused {
        /// Why.
        reason: String,
        /// Size.
        size: u64,
        /// Modification time (ns).
        mtime_ns: u64,
    },
    /// The file is gone.
    Gone,
    /// Could not be read (permissions, a symlink loop, a disk error).
    Unreadable(String),
    /// Another program holds it open exclusively (the game, still writing, on Windows).
    Busy(String),
}

/// Reads the file and applies the completeness rule; blocking.
pub fn check_file(path: &Path, max_size: u64) -> FileCheck {
    match read_validated(path, max_size) {
        Ok((complete, _)) => FileCheck::Complete(Box::new(complete)),
        Err(check) => check,
    }
}

/// Reads the file for an upload: its complete content and what it is, or why it is not a
/// complete replay now. The bytes returned are exactly the ones validated.
pub fn read_for_upload(path: &Path, max_size: u64) -> Result<(Complete, Bytes), Box<FileCheck>> {
    read_validated(path, max_size).map_err(Box::new)
}

fn read_validated(path: &Path, max_size: u64) -> Result<(Complete, Bytes), FileCheck> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(FileCheck::Gone),
        Err(e) => return Err(unreadable(e)),
    };
    let mtime_ns = state::mtime_ns(&meta);
    if !meta.is_file() {
        return Err(FileCheck::Refused {
            reason: "not a regular file".into(),
            size: meta.len(),
            mtime_ns,
        });
    }
    if meta.len() > max_size {
        return Err(FileCheck::Refused {
            reason: format!(
                "{} MB is larger than any replay (limit {} MB, max_replay_size_mb)",
                meta.len() / (1024 * 1024),
                max_size / (1024 * 1024)
            ),
            size: meta.len(),
            mtime_ns,
        });
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(FileCheck::Gone),
        Err(e) => return Err(unreadable(e)),
    };
    match replay::validate(&bytes) {
        Ok(info) => Ok((
            Complete {
                info,
                size: bytes.len() as u64,
                mtime_ns,
                sha256: hex(&Sha256::digest(&bytes)),
            },
            Bytes::from(bytes),
        )),
        Err(invalid) => Err(FileCheck::Incomplete {
            invalid,
            size: bytes.len() as u64,
            mtime_ns,
        }),
    }
}

/// Size and mtime, to tell whether a file changed since it was judged; for a path that
/// cannot be followed (a symlink loop) the link's own.
pub fn stamp(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path)
        .or_else(|_| std::fs::symlink_metadata(path))
        .ok()
        .map(|meta| (meta.len(), state::mtime_ns(&meta)))
}

fn unreadable(error: std::io::Error) -> FileCheck {
    if held_by_another_program(error.raw_os_error(), cfg!(windows)) {
        FileCheck::Busy(error.to_string())
    } else {
        FileCheck::Unreadable(error.to_string())
    }
}

/// Windows' sharing and lock violations (ERROR_SHARING_VIOLATION 32, ERROR_LOCK_VIOLATION 33):
/// the file is open elsewhere without sharing. The same numbers mean other things on unix.
pub fn held_by_another_program(os_error: Option<i32>, windows: bool) -> bool {
    windows && matches!(os_error, Some(32 | 33))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The file stem, the Id of a replay whose header has none.
pub fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "unnamed".into())
}

/// The file name, for ballchasing and for people.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "replay.replay".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_windows_sharing_and_lock_violations_mean_busy() {
        assert!(held_by_another_program(Some(32), true));
        assert!(held_by_another_program(Some(33), true));
        assert!(
            !held_by_another_program(Some(5), true),
            "access denied is not busy"
        );
        assert!(!held_by_another_program(Some(32), false), "EPIPE on unix");
        assert!(!held_by_another_program(None, true));
    }
}
