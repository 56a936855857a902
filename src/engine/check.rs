//! Looking at a file on disk, on a blocking thread: is it a complete replay (the length rule
//! and both CRCs), what does its header say, and if not, why not. The upload reads the file
//! once more and keeps exactly the bytes it validated.

use std::path::Path;

use std::fs::File;
use std::io::Read;

use bytes::Bytes;

use crate::replay::{self, CheckError, Depth, Invalid, ReplayInfo};
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
    /// A fingerprint of the content (its CRCs and length).
    pub digest: String,
    /// Both CRCs were checked (else only the length rule and the header's).
    pub whole: bool,
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

/// Reads the file (its header only at `Depth::Header`, all of it in 64 KiB pieces at
/// `Depth::Full`) and applies the completeness rule; blocking. Nothing is kept in memory.
pub fn check_file(path: &Path, max_size: u64, depth: Depth) -> FileCheck {
    crate::background::enter();
    let (file, len, mtime_ns) = match open_checked(path, max_size) {
        Ok(opened) => opened,
        Err(check) => return check,
    };
    finish(replay::check(file, len, depth), len, mtime_ns, depth)
}

/// Reads the file for an upload: its complete content and what it is, or why it is not a
/// complete replay now. The bytes returned are exactly the ones validated, read once.
pub fn read_for_upload(path: &Path, max_size: u64) -> Result<(Complete, Bytes), Box<FileCheck>> {
    crate::background::enter();
    let (mut file, len, mtime_ns) = open_checked(path, max_size).map_err(Box::new)?;
    let mut bytes = Vec::with_capacity(len as usize);
    if let Err(e) = file.read_to_end(&mut bytes) {
        return Err(Box::new(unreadable(e)));
    }
    let len = bytes.len() as u64;
    match finish(
        replay::check(&bytes[..], len, Depth::Full),
        len,
        mtime_ns,
        Depth::Full,
    ) {
        FileCheck::Complete(complete) => Ok((*complete, Bytes::from(bytes))),
        other => Err(Box::new(other)),
    }
}

/// Opens a file that may be a replay: a regular file no larger than any replay.
fn open_checked(path: &Path, max_size: u64) -> Result<(File, u64, u64), FileCheck> {
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
    match File::open(path) {
        Ok(file) => Ok((file, meta.len(), mtime_ns)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(FileCheck::Gone),
        Err(e) => Err(unreadable(e)),
    }
}

fn finish(
    checked: Result<replay::Checked, CheckError>,
    len: u64,
    mtime_ns: u64,
    depth: Depth,
) -> FileCheck {
    match checked {
        Ok(checked) => FileCheck::Complete(Box::new(Complete {
            info: checked.info,
            size: len,
            mtime_ns,
            digest: checked.layout.digest(),
            whole: depth == Depth::Full,
        })),
        Err(CheckError::Invalid(invalid)) => FileCheck::Incomplete {
            invalid,
            size: len,
            mtime_ns,
        },
        Err(CheckError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => FileCheck::Gone,
        Err(CheckError::Io(e)) => unreadable(e),
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
