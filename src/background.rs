//! Reading replays at background priority, so checking them never stutters the game: the
//! threads that read files run at the lowest CPU priority, and on Linux that also gives their
//! reads the lowest best-effort I/O priority (the kernel derives it from the nice value);
//! on Windows they enter background mode, which lowers CPU, I/O and memory priority.
#![allow(unsafe_code)]

use std::cell::Cell;

thread_local! {
    static LOWERED: Cell<bool> = const { Cell::new(false) };
}

/// Puts the calling thread in the background, once per thread.
pub fn enter() {
    if LOWERED.with(|done| done.replace(true)) {
        return;
    }
    lower_this_thread();
}

#[cfg(target_os = "linux")]
fn lower_this_thread() {
    // On Linux, PRIO_PROCESS with no pid is the calling thread only.
    let _ = rustix::process::setpriority_process(None, 19);
}

#[cfg(windows)]
fn lower_this_thread() {
    use windows_sys::Win32::System::Threading::{
        GetCurrentThread, SetThreadPriority, THREAD_MODE_BACKGROUND_BEGIN,
    };
    // SAFETY: GetCurrentThread returns a pseudo-handle valid in this thread; setting its own
    // priority has no memory effect. A failure leaves the priority as it was.
    unsafe {
        SetThreadPriority(GetCurrentThread(), THREAD_MODE_BACKGROUND_BEGIN);
    }
}

/// macOS: setpriority would lower the whole process; the game does not run there anyway.
#[cfg(not(any(target_os = "linux", windows)))]
fn lower_this_thread() {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn a_reading_thread_runs_at_the_lowest_priority_and_others_do_not() {
        let lowered = std::thread::spawn(|| {
            super::enter();
            super::enter();
            rustix::process::getpriority_process(None).unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(lowered, 19);
        let other = std::thread::spawn(|| rustix::process::getpriority_process(None).unwrap())
            .join()
            .unwrap();
        assert!(other < 19, "only the reading thread is lowered ({other})");
    }
}
