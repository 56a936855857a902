//! `autochasew.exe`: the console-less launcher the Windows logon task starts. A Windows
//! program built for the console opens a window when started at logon; this one is built for
//! the GUI subsystem, so it has none, and it starts `autochase.exe` beside it without one.
#![cfg_attr(windows, windows_subsystem = "windows")]

use std::process::ExitCode;

fn main() -> ExitCode {
    run()
}

#[cfg(windows)]
fn run() -> ExitCode {
    use std::os::windows::process::CommandExt;
    /// CREATE_NO_WINDOW: the child gets a console, but no window for it.
    const CREATE_NO_WINDOW: u32 = 0x0800_0000;
    let Ok(me) = std::env::current_exe() else {
        return ExitCode::FAILURE;
    };
    let status = std::process::Command::new(me.with_file_name("autochase.exe"))
        .args(std::env::args_os().skip(1))
        .creation_flags(CREATE_NO_WINDOW)
        .status();
    match status {
        Ok(status) => ExitCode::from(status.code().map_or(1, |c| u8::try_from(c).unwrap_or(1))),
        Err(_) => ExitCode::FAILURE,
    }
}

#[cfg(not(windows))]
fn run() -> ExitCode {
    eprintln!("autochasew is the Windows launcher without a console window; run `autochase` here");
    ExitCode::from(2)
}
