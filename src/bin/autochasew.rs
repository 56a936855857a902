//! `autochasew.exe`: the console-less launcher the Windows logon task starts. It is built for
//! the GUI subsystem, so logging on opens no window, and it runs `autochase.exe` beside it
//! without one. It ties the daemon's life to its own (a kill-on-close job object: ending the
//! task, `taskkill /F` or Task Manager ends both) and restarts the daemon when it crashes,
//! which the Task Scheduler's own restart-on-failure does not do (it only covers a start that
//! failed).
#![cfg_attr(windows, windows_subsystem = "windows")]
// The restart rule is used on Windows only, and tested everywhere.
#![cfg_attr(not(windows), allow(dead_code))]

use std::process::ExitCode;
use std::time::Duration;

/// The first wait before restarting a daemon that failed; it doubles up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_secs(10);
/// The longest wait between restarts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// A daemon that ran this long before failing starts the backoff afresh.
const HEALTHY_RUN: Duration = Duration::from_secs(600);

fn main() -> ExitCode {
    run()
}

/// What to do after the daemon exited with `code` having run for `ran`: stop (with this exit
/// code), or start it again after a pause.
fn next(code: Option<i32>, ran: Duration, backoff: Duration) -> Result<Duration, u8> {
    match code {
        // Stopped on purpose (Ctrl-C, Ctrl-Break, logoff, shutdown): so does the launcher.
        Some(0) => Err(0),
        // Anything else is a failure: a crash, a lost lock, a config that did not load (a
        // fixed config is picked up at the next start).
        _ if ran >= HEALTHY_RUN => Ok(FIRST_BACKOFF),
        _ => Ok(backoff),
    }
}

#[cfg(windows)]
fn run() -> ExitCode {
    use std::os::windows::process::CommandExt;
    /// CREATE_NO_WINDOW: the child gets a console (so it still receives console events such as
    /// logoff and shutdown), but no window for it.
    const CREATE_NO_WINDOW: u32 = 0x0800_0000;
    let Ok(me) = std::env::current_exe() else {
        return ExitCode::FAILURE;
    };
    // Entered before the first child starts: every child is in the job from its first
    // instant, and dies with this launcher however the launcher ends.
    let _job = autochase::job::KillOnClose::enter();
    let daemon = me.with_file_name("autochase.exe");
    let mut backoff = FIRST_BACKOFF;
    loop {
        let started = std::time::Instant::now();
        let status = std::process::Command::new(&daemon)
            .args(std::env::args_os().skip(1))
            .creation_flags(CREATE_NO_WINDOW)
            .status();
        let code = match status {
            Ok(status) => status.code(),
            // autochase.exe is missing or cannot start: nothing to restart.
            Err(_) => return ExitCode::from(127),
        };
        match next(code, started.elapsed(), backoff) {
            Err(code) => return ExitCode::from(code),
            Ok(wait) => {
                std::thread::sleep(wait);
                backoff = (wait * 2).min(MAX_BACKOFF);
            }
        }
    }
}

#[cfg(not(windows))]
fn run() -> ExitCode {
    eprintln!("autochasew is the Windows launcher without a console window; run `autochase` here");
    ExitCode::from(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_stop_ends_the_launcher_and_failures_restart_with_a_growing_wait() {
        let s = Duration::from_secs;
        assert_eq!(next(Some(0), s(5), FIRST_BACKOFF), Err(0));
        assert_eq!(next(Some(1), s(5), s(40)), Ok(s(40)));
        assert_eq!(next(None, s(5), s(20)), Ok(s(20)), "killed: restarted");
        assert_eq!(
            next(Some(101), HEALTHY_RUN, MAX_BACKOFF),
            Ok(FIRST_BACKOFF),
            "a long healthy run starts the backoff afresh"
        );
    }
}
