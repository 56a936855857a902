//! The command line's commands, each a function from its arguments to an exit code; `main.rs`
//! parses the arguments and dispatches. Exit codes: 0 done, 1 something to fix or not
//! uploaded, 2 a command line or config that cannot be used.

pub mod check;
pub mod commands;
pub mod init;
pub mod logging;
pub mod paths;
pub mod status;
pub mod transfer;

use std::path::{Component, Path, PathBuf};

/// A path for people: its last two parts after `…`, enough to recognise a replay.
pub fn shown(path: &Path) -> String {
    let parts: Vec<Component> = path.components().collect();
    if parts.len() <= 3 {
        return path.display().to_string();
    }
    let tail: PathBuf = parts[parts.len() - 2..].iter().collect();
    format!("…{}{}", std::path::MAIN_SEPARATOR, tail.display())
}
