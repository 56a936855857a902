//! The command line's commands, each a function from its arguments to an exit code; `main.rs`
//! parses the arguments and dispatches.

pub mod check;
pub mod commands;
pub mod init;
pub mod logging;
pub mod status;
