//! Whether `autochase.exe` was double-clicked (Windows): its console window is its own, so it
//! closes the moment the program ends, before anyone can read a word.
#![allow(unsafe_code)]

use windows_sys::Win32::System::Console::GetConsoleProcessList;

/// True when no other process shares this console: Explorer opened it for this process alone
/// (a Command Prompt or PowerShell window counts itself too).
pub fn is_own_window() -> bool {
    let mut ids = [0u32; 4];
    // SAFETY: the pointer and length describe `ids`, alive for the call; the function writes
    // at most that many process ids and returns how many share the console (0 on failure).
    let count = unsafe { GetConsoleProcessList(ids.as_mut_ptr(), ids.len() as u32) };
    count == 1
}
