//! The command line's commands, each a function from its arguments to an exit code; `main.rs`
//! parses the arguments and dispatches. Exit codes: 0 done, 1 something to fix or not
//! uploaded, 2 a command line or config that cannot be used.

pub mod check;
pub mod commands;
pub mod init;
pub mod logfile;
pub mod logging;
pub mod paths;
pub mod status;
pub mod transfer;

use std::io::Write;

use std::process::ExitCode;

/// Writes `text` to stdout; a reader that went away (`| head -1`) ends the command quietly.
pub fn print(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write the output: {e}");
            ExitCode::FAILURE
        }
    }
}

pub use crate::platform::shown;
