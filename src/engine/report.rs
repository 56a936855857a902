//! What the engine tells the outside after every step: `EngineStatus`.

use std::time::SystemTime;

use crate::state::PauseCause;

/// What the engine is doing, published after every step (for tests, `status` and hooks).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineStatus {
    /// The first scan of every folder is done.
    pub initial_scan_done: bool,
    /// Nothing left to do right now: no check running or scheduled, no upload in flight, and
    /// the queue empty (or waiting on a pause or a token).
    pub settled: bool,
    /// Replays waiting in the queue.
    pub queued: usize,
    /// Files being checked or waiting to be checked again.
    pub checking: usize,
    /// Full folder scans finished since start.
    pub scans: u64,
    /// File checks started since start (each reads at least a header).
    pub checks: u64,
    /// Config reloads applied since start.
    pub reloads: u64,
    /// Why uploads are paused, when they are.
    pub paused: Option<Paused>,
    /// There is an API token, so uploads can go.
    pub token: bool,
    /// An upload is on its way (not counted in `queued`).
    pub uploading: bool,
}

/// Uploads stopped for a while.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paused {
    /// The kind of trouble.
    pub cause: PauseCause,
    /// The answer that caused it, in words.
    pub reason: String,
    /// When uploads go again by themselves.
    pub until: SystemTime,
    /// ballchasing said how long; otherwise a person's request may cut it short.
    pub told: bool,
}

impl Paused {
    /// A pause of `wait` from now, `told` when ballchasing named its length.
    pub fn new(cause: PauseCause, reason: String, wait: std::time::Duration, told: bool) -> Paused {
        Paused {
            cause,
            reason,
            until: SystemTime::now() + wait,
            told,
        }
    }
}
