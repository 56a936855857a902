//! Giving memory back: glibc keeps freed memory for reuse, so after uploading 26 replays an
//! idle daemon held 32 MiB (whole-file buffers kept by the allocator). On glibc, allocations of
//! 64 KiB and more are mapped on their own and returned when freed (no adaptive threshold that
//! grows to the size of a replay), one arena serves every thread (a daemon does little at
//! once), and what is free is trimmed when the engine settles after work. musl (the static
//! Linux build) and Windows return large blocks by themselves.
#![allow(unsafe_code)]

/// Tunes the allocator; call once, first thing in `main`, before other threads exist.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before any other thread
    // runs, as glibc asks. A parameter it does not take is reported by a 0 return, ignored.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Returns free heap memory to the system; call when the work is done.
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes the allocator's own locks; it is safe from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}
