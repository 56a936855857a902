//! The one Windows call std lacks, for the launcher: a job object that ends every process in
//! it when its last handle closes, so `autochase.exe` never outlives `autochasew.exe` (ended
//! by `schtasks /End`, `taskkill /F` or Task Manager) holding the state folder's lock.
#![allow(unsafe_code)]

use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};

use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
    SetInformationJobObject,
};
use windows_sys::Win32::System::Threading::GetCurrentProcess;

/// A job object whose processes are ended when it is dropped or this process ends.
#[derive(Debug)]
pub struct KillOnClose {
    /// Closed when dropped: the job's processes end then.
    _handle: OwnedHandle,
}

impl KillOnClose {
    /// Creates the job and puts this process in it; every child started afterwards is in it
    /// too (no window between a child's start and its joining).
    pub fn enter() -> io::Result<KillOnClose> {
        // SAFETY: both arguments may be null (default security, no name); the result is
        // checked before use.
        let raw = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
        if raw.is_null() {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh handle that nothing else owns; `OwnedHandle` closes it once.
        let handle = unsafe { OwnedHandle::from_raw_handle(raw) };
        let mut limits = JOBOBJECT_EXTENDED_LIMIT_INFORMATION::default();
        limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
        // SAFETY: the pointer and size describe `limits`, alive for the call, of the type the
        // information class names.
        let set = unsafe {
            SetInformationJobObject(
                handle.as_raw_handle(),
                JobObjectExtendedLimitInformation,
                (&raw const limits).cast(),
                size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
            )
        };
        if set == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the job handle is valid; GetCurrentProcess returns a pseudo-handle that
        // needs no closing.
        let assigned =
            unsafe { AssignProcessToJobObject(handle.as_raw_handle(), GetCurrentProcess()) };
        if assigned == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(KillOnClose { _handle: handle })
    }
}
