//! The engine: the one task that owns the queue and the state. The watcher and scanner
//! send it file hints, validation runs on blocking threads, one upload is in flight at a
//! time, and every decision comes from `core`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use crate::api::{Client, Error as ApiError, NewGroup, ReplayPatch, Upload, UploadOutcome};
use crate::config::Config;
use crate::core::{self, Check, Verdict};
use crate::groups::{self, GroupEntry, Placement};
use crate::inbox;
use crate::replay::{self, Invalid, ReplayInfo};
use crate::state::{
    self, InvalidFile, Journal, Outcome, Pause, PauseCause, Record, State, StateError, Status,
};
use crate::watch::FileEvent;

/// What reading and validating a file found.
#[derive(Debug)]
pub enum Validation {
    /// Complete: here are its bytes and what they say.
    Valid {
        /// Header properties.
        info: ReplayInfo,
        /// The validated bytes.
        bytes: Bytes,
        /// Modification time (ns).
        mtime_ns: u64,
        /// SHA-256 of the bytes, hex.
        sha256: String,
    },
    /// Not a complete replay (yet).
    Invalid {
        /// Why.
        invalid: Invalid,
        /// Size read.
        size: u64,
        /// Modification time (ns).
        mtime_ns: u64,
    },
    /// Cannot be a replay for a reason that will not pass by waiting.
    Refused {
        /// Why.
        reason: String,
        /// Size.
        size: u64,
        /// Modification time (ns).
        mtime_ns: u64,
    },
    /// The file is gone.
    Gone,
    /// Could not be read (permissions, a symlink loop, a disk error).
    Unreadable(String),
    /// Another program holds it open exclusively (the game, still writing, on Windows).
    Busy(String),
}

/// Reads the whole file and applies the completeness rule; blocking.
pub fn check_file(path: &Path, max_size: u64) -> Validation {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Validation::Gone,
        Err(e) => return unreadable(e),
    };
    let mtime_ns = state::mtime_ns(&meta);
    if !meta.is_file() {
        return Validation::Refused {
            reason: "not a regular file".into(),
            size: meta.len(),
            mtime_ns,
        };
    }
    if meta.len() > max_size {
        return Validation::Refused {
            reason: format!(
                "{} MB is larger than any replay (limit {} MB, max_replay_size_mb)",
                meta.len() / (1024 * 1024),
                max_size / (1024 * 1024)
            ),
            size: meta.len(),
            mtime_ns,
        };
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Validation::Gone,
        Err(e) => return unreadable(e),
    };
    match replay::validate(&bytes) {
        Ok(info) => Validation::Valid {
            info,
            sha256: hex(&Sha256::digest(&bytes)),
            bytes: Bytes::from(bytes),
            mtime_ns,
        },
        Err(invalid) => Validation::Invalid {
            invalid,
            size: bytes.len() as u64,
            mtime_ns,
        },
    }
}

/// Size and mtime, to tell whether a file changed since it was judged; for a path that
/// cannot be followed (a symlink loop) the link's own.
fn stamp(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path)
        .or_else(|_| std::fs::symlink_metadata(path))
        .ok()
        .map(|meta| (meta.len(), state::mtime_ns(&meta)))
}

fn unreadable(error: std::io::Error) -> Validation {
    if held_by_another_program(error.raw_os_error(), cfg!(windows)) {
        Validation::Busy(error.to_string())
    } else {
        Validation::Unreadable(error.to_string())
    }
}

/// Windows' sharing and lock violations (ERROR_SHARING_VIOLATION 32, ERROR_LOCK_VIOLATION 33):
/// the file is open elsewhere without sharing. The same numbers mean other things on unix.
pub fn held_by_another_program(os_error: Option<i32>, windows: bool) -> bool {
    windows && matches!(os_error, Some(32 | 33))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How the engine runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The daemon: runs until cancelled.
    Daemon,
    /// `autochase upload`: the given files only, each judged at once, then stop.
    OneShot,
}

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
    /// Config reloads applied since start.
    pub reloads: u64,
    /// Why uploads are paused, when they are.
    pub paused: Option<String>,
}

/// A file's final word, sent to whoever asked (the one-shot command).
#[derive(Debug, Clone)]
pub struct Report {
    /// The file.
    pub path: PathBuf,
    /// Replay id, when known.
    pub id: Option<String>,
    /// Final status (`Pending` when left parked or waiting).
    pub status: Status,
    /// Outcome when uploaded.
    pub outcome: Option<Outcome>,
    /// ballchasing page when uploaded.
    pub location: Option<String>,
    /// Why, when not uploaded.
    pub reason: Option<String>,
}

/// What a complete replay's validation established.
struct Complete {
    id: String,
    size: u64,
    mtime_ns: u64,
    sha256: String,
    info: ReplayInfo,
}

struct Track {
    last_change: Instant,
    checks: u32,
    next_check: Option<Instant>,
    /// Events came in while a check ran: check again when it finishes.
    dirty: bool,
    baseline: bool,
}

impl Track {
    /// A file just seen (or seen again), not checked yet.
    fn new(baseline: bool) -> Track {
        Track {
            last_change: Instant::now(),
            checks: 0,
            next_check: None,
            dirty: false,
            baseline,
        }
    }
}

struct Queued {
    id: String,
    path: PathBuf,
    mtime_ns: u64,
    not_before: Option<Instant>,
}

struct InFlight {
    id: String,
    path: PathBuf,
    task: JoinHandle<UploadResult>,
}

/// The engine; see the module docs.
pub struct Engine {
    config: Arc<Config>,
    mode: Mode,
    client: Option<Client>,
    journal: Journal,
    state: State,
    first_start: bool,
    /// The first start's baseline is under way (marked in the state until done).
    baseline_open: bool,
    initial_scan_done: bool,
    tracks: HashMap<PathBuf, Track>,
    validating: HashSet<PathBuf>,
    validations: JoinSet<(PathBuf, Validation)>,
    queue: Vec<Queued>,
    in_flight: Option<InFlight>,
    /// Every upload waits until then (quota or refused token); mirrored in the state.
    pause: Option<(Instant, String)>,
    /// Plain 429 answers to uploads in a row (see `core::QUOTA_AFTER_429S`).
    plain_429s: u32,
    said_no_token: bool,
    /// The token's account (SteamID64), learned when a duplicate's owner must be checked.
    account: Option<String>,
    /// One-shot `upload --force`: filters do not apply.
    force: bool,
    scans: u64,
    reloads: u64,
    reports: Option<mpsc::UnboundedSender<Report>>,
    /// One-shot: files still waiting for their final word.
    outstanding: HashSet<PathBuf>,
    status: tokio::sync::watch::Sender<EngineStatus>,
    /// Path → replay Id, so a rescan of thousands of files needs no scan of the records.
    by_path: state::PathIndex,
}

impl Engine {
    /// Opens the state and builds an engine. `client` is `None` when there is no token.
    pub fn new(
        config: Arc<Config>,
        mode: Mode,
        client: Option<Client>,
    ) -> Result<Engine, StateError> {
        let (mut journal, mut loaded) = Journal::open(&config.state_dir)?;
        info!(
            replays = loaded.state.replays.len(),
            first_start = loaded.first_start,
            state = %config.state_dir.display(),
            "state loaded"
        );
        // A quota park outlives a restart, so a crash loop or a reboot never probes early. A
        // token pause does not: a restart is how a fixed token gets picked up. A one-shot
        // `upload` is an explicit request and probes once either way.
        let mut pause = None;
        if mode == Mode::Daemon
            && let Some(saved) = loaded.state.pause.clone()
        {
            match saved.remaining() {
                Some(left) if saved.cause == PauseCause::Quota => {
                    warn!(until = %saved.until, reason = %saved.reason, "uploads still parked on the upload quota");
                    pause = Some((Instant::now() + left, saved.reason));
                }
                _ => {
                    journal.resumed()?;
                    loaded.state.pause = None;
                }
            }
        }
        // The first start records the replays already there as skipped. It is marked begun
        // first, so a start stopped halfway goes on with it instead of uploading the rest.
        let baseline_open = mode == Mode::Daemon && loaded.first_start && !config.backfill;
        if baseline_open && loaded.state.baseline != Some(false) {
            journal.baseline(false)?;
            loaded.state.baseline = Some(false);
        }
        Ok(Engine {
            config,
            mode,
            client,
            journal,
            first_start: loaded.first_start,
            baseline_open,
            initial_scan_done: mode == Mode::OneShot,
            tracks: HashMap::new(),
            validating: HashSet::new(),
            validations: JoinSet::new(),
            queue: Vec::new(),
            in_flight: None,
            pause,
            plain_429s: 0,
            said_no_token: false,
            account: None,
            force: false,
            scans: 0,
            reloads: 0,
            reports: None,
            outstanding: HashSet::new(),
            status: tokio::sync::watch::Sender::new(EngineStatus::default()),
            by_path: loaded.state.by_path(),
            state: loaded.state,
        })
    }

    /// Follows the engine's status.
    pub fn watch_status(&self) -> tokio::sync::watch::Receiver<EngineStatus> {
        self.status.subscribe()
    }

    fn publish(&self) {
        let paused = self.pause.as_ref().map(|(_, why)| why.clone());
        let waiting = self.client.is_none() || paused.is_some();
        let settled = self.validations.is_empty()
            && self.in_flight.is_none()
            && self.tracks.is_empty()
            && (self.queue.is_empty() || waiting);
        let next = EngineStatus {
            initial_scan_done: self.initial_scan_done,
            settled,
            queued: self.queue.len(),
            checking: self.tracks.len().max(self.validating.len()),
            scans: self.scans,
            reloads: self.reloads,
            paused,
        };
        self.status.send_if_modified(|current| {
            let changed = *current != next;
            *current = next;
            changed
        });
    }

    /// Uploads even replays the filters would skip (`upload --force`).
    pub fn force(&mut self, on: bool) {
        self.force = on;
    }

    /// Sends each file's final word to `tx` (one-shot mode).
    pub fn report_to(&mut self, tx: mpsc::UnboundedSender<Report>) {
        self.reports = Some(tx);
    }

    /// The state as it is now.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Runs until `cancel` fires (daemon) or every file has its final word (one-shot), then
    /// lets the upload in flight finish within `grace`.
    pub async fn run(
        mut self,
        mut events: mpsc::Receiver<FileEvent>,
        mut configs: tokio::sync::watch::Receiver<Arc<Config>>,
        cancel: CancellationToken,
        grace: Duration,
    ) -> Result<State, StateError> {
        let mut configs_open = true;
        if self.client.is_none() {
            warn!(
                "no API token configured: replays are validated and queued, and uploads wait for a token (set `token` in the config or BALLCHASING_TOKEN)"
            );
            self.said_no_token = true;
        }
        let mut events_open = true;
        loop {
            self.close_baseline()?;
            self.dispatch()?;
            self.publish();
            if self.mode == Mode::OneShot && !events_open && self.one_shot_finished() {
                break;
            }
            let wake = self.next_wake();
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                done = flight_done(&mut self.in_flight), if self.in_flight.is_some() => {
                    let flight = self.in_flight.take().expect("in flight");
                    match done {
                        Ok((validation, result, after)) => self.finish_upload(flight.id, flight.path, validation, result, after)?,
                        Err(e) => {
                            error!(error = %e, "upload task failed; the replay stays pending");
                            self.requeue(flight.id, flight.path, Some(Instant::now() + core::backoff(1)));
                        }
                    }
                }
                Some(joined) = self.validations.join_next(), if !self.validations.is_empty() => {
                    match joined {
                        Ok((path, validation)) => self.validated(path, validation)?,
                        Err(e) => error!(error = %e, "validation task failed"),
                    }
                }
                event = events.recv(), if events_open => match event {
                    Some(event) => self.on_event(event)?,
                    None => events_open = false,
                },
                changed = configs.changed(), if configs_open => match changed {
                    Ok(()) => {
                        let config = configs.borrow_and_update().clone();
                        self.apply_config(config)?;
                    }
                    Err(_) => configs_open = false,
                },
                _ = sleep_until(wake) => self.on_timers()?,
            }
        }
        self.shutdown(grace).await?;
        Ok(self.state)
    }

    fn one_shot_finished(&self) -> bool {
        self.outstanding.is_empty()
            || (self.validations.is_empty()
                && self.in_flight.is_none()
                && self.tracks.values().all(|t| t.next_check.is_none())
                && (self.client.is_none() || self.pause.is_some() || self.queue.is_empty()))
    }

    async fn shutdown(&mut self, grace: Duration) -> Result<(), StateError> {
        if let Some(mut flight) = self.in_flight.take() {
            info!(replay = %flight.id, grace_s = grace.as_secs(), "waiting for the upload in flight");
            match tokio::time::timeout(grace, &mut flight.task).await {
                Ok(Ok((validation, result, after))) => {
                    self.finish_upload(flight.id, flight.path, validation, result, after)?
                }
                _ => {
                    flight.task.abort();
                    warn!(replay = %flight.id, "upload still running at shutdown; it stays pending and is redone on the next start (ballchasing answers a repeat with a duplicate)");
                }
            }
        }
        if self.mode == Mode::OneShot {
            for path in std::mem::take(&mut self.outstanding) {
                let id = self.id_for_path(&path);
                let reason = match &self.pause {
                    Some((_, why)) => format!("left pending: {why}"),
                    None if self.client.is_none() => "left pending: no API token".into(),
                    None => "left pending: not uploaded yet".into(),
                };
                self.report(&path, id, Status::Pending, None, None, Some(reason));
            }
        }
        self.validations.abort_all();
        Ok(())
    }

    fn id_for_path(&self, path: &Path) -> Option<String> {
        let id = self.by_path.get(path)?;
        self.state
            .replays
            .get(id)
            .filter(|r| r.path == path)
            .map(|r| r.id.clone())
    }

    fn next_wake(&self) -> Option<Instant> {
        let checks = self.tracks.values().filter_map(|t| t.next_check);
        let retry = if self.in_flight.is_none() && self.client.is_some() {
            match &self.pause {
                Some((until, _)) => Some(*until),
                None => self.queue.iter().filter_map(|q| q.not_before).min(),
            }
        } else {
            None
        };
        checks.chain(retry).min()
    }

    fn on_timers(&mut self) -> Result<(), StateError> {
        let now = Instant::now();
        if self.pause.as_ref().is_some_and(|(until, _)| *until <= now) {
            info!("pause over; trying uploads again");
            self.resume()?;
        }
        let due: Vec<PathBuf> = self
            .tracks
            .iter()
            .filter(|(_, t)| t.next_check.is_some_and(|at| at <= now))
            .map(|(p, _)| p.clone())
            .collect();
        for path in due {
            if let Some(track) = self.tracks.get_mut(&path) {
                track.next_check = None;
            }
            self.start_check(path);
        }
        Ok(())
    }

    /// Takes a reloaded config: token, visibility, group, pacing and timeouts apply from the
    /// next upload; the upload in flight finishes with the old ones.
    fn apply_config(&mut self, config: Arc<Config>) -> Result<(), StateError> {
        if config.state_dir != self.config.state_dir {
            warn!(
                running = %self.config.state_dir.display(),
                "state_dir changed in the config; it takes effect at the next start"
            );
        }
        let client_changed = config.token != self.config.token
            || config.api_url != self.config.api_url
            || config.upload_rate != self.config.upload_rate
            || config.request_timeout != self.config.request_timeout;
        if client_changed {
            match crate::daemon::client(&config) {
                Ok(client) => {
                    if config.token != self.config.token
                        && self
                            .state
                            .pause
                            .as_ref()
                            .is_some_and(|p| p.cause == PauseCause::Token)
                    {
                        info!("new token: trying uploads again");
                        self.resume()?;
                    }
                    if client.is_none() && !self.said_no_token {
                        warn!("the reloaded config has no API token: uploads wait for one");
                    }
                    self.said_no_token = client.is_none();
                    self.client = client;
                }
                Err(e) => {
                    error!(error = %e, "config not applied: cannot build the ballchasing client; keeping the running config");
                    return Ok(());
                }
            }
        }
        let mut state_dir_kept = (*config).clone();
        state_dir_kept.state_dir = self.config.state_dir.clone();
        self.config = Arc::new(state_dir_kept);
        self.reloads += 1;
        info!(token = %self.client.as_ref().map_or("none".into(), |c| c.token_fingerprint()), visibility = %self.config.visibility, "config reloaded");
        Ok(())
    }

    /// Marks the baseline done once the first scan is over and every file it found has been
    /// judged.
    fn close_baseline(&mut self) -> Result<(), StateError> {
        if self.baseline_open
            && self.initial_scan_done
            && self.validating.is_empty()
            && self.tracks.values().all(|t| !t.baseline)
        {
            self.journal.baseline(true)?;
            self.state.baseline = Some(true);
            self.baseline_open = false;
            let skipped = self
                .state
                .replays
                .values()
                .filter(|r| r.status == Status::Skipped)
                .count();
            info!(
                skipped,
                "replays present before the first start are recorded as skipped (backfill = true, or `autochase upload FOLDER`, uploads them)"
            );
        }
        Ok(())
    }

    /// Carries out the requests other commands left in the inbox, and answers them.
    fn take_requests(&mut self) -> Result<(), StateError> {
        for (path, request) in inbox::take(&self.config.state_dir) {
            let changed = match request {
                inbox::Request::Retry { which } => self.retry(which.as_deref())?,
            };
            inbox::reply(&path, &inbox::Answer { changed });
        }
        Ok(())
    }

    /// `autochase retry` while the daemon runs: failed replays go back in the queue and
    /// invalid files are checked again, now.
    fn retry(&mut self, which: Option<&str>) -> Result<usize, StateError> {
        let (records, invalid) = self.state.retry_targets(which);
        let changed = records.len() + invalid.len();
        for record in records {
            let (id, path) = (record.id.clone(), record.path.clone());
            self.save(record)?;
            self.requeue(id, path, None);
        }
        for path in invalid {
            self.state.invalid.remove(&path);
            self.journal.cleared(&path)?;
            self.tracks
                .entry(path.clone())
                .or_insert_with(|| Track::new(false));
            self.start_check(path);
        }
        info!(changed, "retry requested");
        Ok(changed)
    }

    /// Stops every upload for `wait`, and records it for `status` and the next start.
    fn park(
        &mut self,
        cause: PauseCause,
        wait: Duration,
        reason: String,
    ) -> Result<(), StateError> {
        let pause = Pause::new(cause, reason.clone(), wait);
        error!(%reason, until = %pause.until, "uploads paused; they resume by themselves");
        self.journal.paused(&pause)?;
        self.state.pause = Some(pause);
        self.pause = Some((Instant::now() + wait, reason));
        Ok(())
    }

    fn resume(&mut self) -> Result<(), StateError> {
        self.pause = None;
        if self.state.pause.take().is_some() {
            self.journal.resumed()?;
        }
        Ok(())
    }

    fn on_event(&mut self, event: FileEvent) -> Result<(), StateError> {
        match event {
            FileEvent::Inbox => self.take_requests()?,
            FileEvent::ScanDone => {
                self.scans += 1;
                if !self.initial_scan_done {
                    self.initial_scan_done = true;
                    info!(queued = self.queue.len(), "ready: initial scan done");
                }
            }
            FileEvent::Seen { path, from_scan } => {
                if self.mode == Mode::OneShot {
                    self.outstanding.insert(path.clone());
                } else if from_scan && self.unchanged_and_settled(&path) {
                    return Ok(());
                }
                let baseline = from_scan
                    && self.first_start
                    && !self.initial_scan_done
                    && !self.config.backfill;
                let now = Instant::now();
                let track = self
                    .tracks
                    .entry(path.clone())
                    .or_insert_with(|| Track::new(baseline));
                if !from_scan {
                    track.last_change = now;
                    track.baseline = false;
                }
                track.next_check = None;
                self.start_check(path);
            }
        }
        Ok(())
    }

    /// A file a rescan finds again needs no reading when its size and mtime match a replay
    /// already settled (or a file already judged invalid).
    fn unchanged_and_settled(&self, path: &Path) -> bool {
        if self.tracks.contains_key(path) {
            return true; // already being watched closely
        }
        let Some((size, mtime)) = stamp(path) else {
            return false;
        };
        if let Some(bad) = self.state.invalid.get(path) {
            return bad.size == size && bad.mtime_ns == mtime;
        }
        let record = self
            .by_path
            .get(path)
            .and_then(|id| self.state.replays.get(id));
        record.is_some_and(|r| {
            r.path == path
                && r.size == size
                && r.mtime_ns == mtime
                && matches!(
                    r.status,
                    Status::Uploaded | Status::Skipped | Status::Failed
                )
        })
    }

    fn start_check(&mut self, path: PathBuf) {
        if !self.validating.insert(path.clone()) {
            if let Some(track) = self.tracks.get_mut(&path) {
                track.dirty = true;
            }
            return;
        }
        let max = self.config.max_replay_size;
        self.validations.spawn_blocking(move || {
            let result = check_file(&path, max);
            (path, result)
        });
    }

    fn validated(&mut self, path: PathBuf, validation: Validation) -> Result<(), StateError> {
        self.validating.remove(&path);
        let Some(track) = self.tracks.get_mut(&path) else {
            return Ok(());
        };
        track.checks += 1;
        if std::mem::take(&mut track.dirty) {
            // Newer events arrived while reading: this result may be stale already.
            self.start_check(path);
            return Ok(());
        }
        let baseline = track.baseline;
        match validation {
            Validation::Valid {
                info,
                bytes,
                mtime_ns,
                sha256,
            } => {
                self.tracks.remove(&path);
                if self.state.invalid.contains_key(&path) {
                    self.state.invalid.remove(&path);
                    self.journal.cleared(&path)?;
                }
                let id = info.id.clone().unwrap_or_else(|| stem(&path));
                let file = Complete {
                    id,
                    size: bytes.len() as u64,
                    mtime_ns,
                    sha256,
                    info,
                };
                self.accept(path, file, baseline)?;
            }
            Validation::Invalid {
                invalid,
                size,
                mtime_ns,
            } => {
                let quiet_for = if self.mode == Mode::OneShot {
                    Duration::MAX
                } else {
                    Instant::now() - track.last_change
                };
                match core::judge_invalid(
                    &invalid,
                    quiet_for,
                    track.checks,
                    self.config.invalid_after,
                ) {
                    Check::Ready => unreachable!("invalid files are never ready"),
                    Check::Recheck(after) => {
                        debug!(path = %path.display(), reason = %invalid, after_ms = after.as_millis() as u64, "not complete yet");
                        track.next_check = Some(Instant::now() + after);
                    }
                    Check::Failed(reason) => {
                        self.tracks.remove(&path);
                        self.fail_file(path, size, mtime_ns, reason)?;
                    }
                }
            }
            Validation::Refused {
                reason,
                size,
                mtime_ns,
            } => {
                self.tracks.remove(&path);
                self.fail_file(path, size, mtime_ns, reason)?;
            }
            Validation::Gone => {
                self.tracks.remove(&path);
                debug!(path = %path.display(), "file gone before it could be read");
                if self.outstanding.remove(&path) {
                    self.report(
                        &path,
                        None,
                        Status::Failed,
                        None,
                        None,
                        Some("file not found".into()),
                    );
                }
            }
            Validation::Busy(reason) => {
                // Still being written: never judged, looked at again soon.
                track.last_change = Instant::now();
                let after = core::RECHECK_BASE
                    .saturating_mul(2u32.saturating_pow(track.checks.min(5)))
                    .min(core::RECHECK_MAX);
                debug!(path = %path.display(), %reason, "held by another program; not ready yet");
                track.next_check = Some(Instant::now() + after);
            }
            Validation::Unreadable(reason) => {
                if self.mode == Mode::OneShot {
                    self.tracks.remove(&path);
                    self.fail_file(path, 0, 0, format!("cannot read: {reason}"))?;
                } else if Instant::now() - track.last_change >= self.config.invalid_after {
                    // Not a passing lock: permissions, a symlink loop, a broken disk.
                    self.tracks.remove(&path);
                    let reason = format!(
                        "cannot read: {reason}; fix it, then `autochase retry {}`",
                        path.display()
                    );
                    let (size, mtime_ns) = stamp(&path).unwrap_or_default();
                    self.fail_file(path, size, mtime_ns, reason)?;
                } else {
                    // Perhaps passing (a network folder, an antivirus scan): look again.
                    let after = core::RECHECK_MAX.min(self.config.invalid_after / 4);
                    debug!(path = %path.display(), %reason, "cannot read yet");
                    track.next_check = Some(Instant::now() + after);
                }
            }
        }
        Ok(())
    }

    fn fail_file(
        &mut self,
        path: PathBuf,
        size: u64,
        mtime_ns: u64,
        reason: String,
    ) -> Result<(), StateError> {
        warn!(path = %path.display(), %reason, "not uploading");
        self.notify(format!("Not uploaded: {}", file_name(&path)), &reason);
        let record = InvalidFile {
            path: path.clone(),
            size,
            mtime_ns,
            reason: reason.clone(),
            at: state::now_rfc3339(),
        };
        self.journal.invalid(&record)?;
        self.state.invalid.insert(path.clone(), record);
        if self.outstanding.remove(&path) {
            self.report(&path, None, Status::Failed, None, None, Some(reason));
        }
        Ok(())
    }

    /// A complete replay: decide by its Id whether it goes in the queue.
    fn accept(&mut self, path: PathBuf, file: Complete, baseline: bool) -> Result<(), StateError> {
        let Complete {
            id,
            size,
            mtime_ns,
            sha256,
            info,
        } = file;
        let info = &info;
        let now = state::now_rfc3339();
        let existing = self.state.replays.get(&id).cloned();
        let mut record = existing
            .clone()
            .unwrap_or_else(|| Record::pending(id.clone(), path.clone()));
        let changed = record.path != path
            || record.size != size
            || record.mtime_ns != mtime_ns
            || record.sha256 != sha256;
        record.path = path.clone();
        record.size = size;
        record.mtime_ns = mtime_ns;
        let new_bytes = record.sha256 != sha256;
        record.sha256 = sha256;
        match existing.as_ref().map(|r| r.status) {
            // Uploaded is final. Skipped is final for the daemon; a one-shot `upload` of a
            // skipped replay is an explicit request, judged below.
            Some(Status::Uploaded) | Some(Status::Skipped)
                if existing_final(record.status, self.mode) =>
            {
                // Same Id: an in-game rename or a Steam Cloud restore. Never upload again.
                if changed {
                    record.updated = now;
                    self.save(record.clone())?;
                }
                debug!(replay = %id, status = ?record.status, "already handled");
                if self.outstanding.remove(&path) {
                    self.report(
                        &path,
                        Some(id),
                        record.status,
                        record.outcome,
                        record.location.clone(),
                        record.last_error.clone(),
                    );
                }
                return Ok(());
            }
            Some(Status::Failed) if !new_bytes && self.mode == Mode::Daemon => {
                // Refused before with these very bytes; `retry` puts it back.
                if changed {
                    self.save(record)?;
                }
                return Ok(());
            }
            _ => {}
        }
        if baseline {
            record.status = Status::Skipped;
            record.last_error =
                Some("present before first start (set backfill = true to upload these)".into());
            record.updated = now;
            debug!(replay = %id, path = %path.display(), "skipped: present before first start");
            // Not fsynced one by one: until the baseline is marked done (after a sync), a
            // restart redoes it, so a lost line costs nothing.
            self.journal.record_unsynced(&record)?;
            self.by_path.insert(&record.path, &record.id);
            self.state.replays.insert(record.id.clone(), record);
            return Ok(());
        }
        if !self.force
            && let Some(reason) = self.config.filter.skip_reason(info)
        {
            if record.status != Status::Skipped || record.last_error.as_ref() != Some(&reason) {
                record.status = Status::Skipped;
                record.last_error = Some(reason.clone());
                record.updated = now;
                self.save(record)?;
            }
            info!(replay = %id, path = %path.display(), %reason, "not uploading");
            if self.outstanding.remove(&path) {
                self.report(&path, Some(id), Status::Skipped, None, None, Some(reason));
            }
            return Ok(());
        }
        if record.status != Status::Pending || existing.is_none() || changed {
            record.status = Status::Pending;
            record.updated = now;
            self.save(record)?;
        }
        info!(replay = %id, path = %path.display(), "queued");
        self.requeue(id, path, None);
        Ok(())
    }

    fn save(&mut self, record: Record) -> Result<(), StateError> {
        self.journal.record(&record)?;
        self.by_path.insert(&record.path, &record.id);
        self.state.replays.insert(record.id.clone(), record);
        self.journal.maybe_compact(&self.state)
    }

    fn requeue(&mut self, id: String, path: PathBuf, not_before: Option<Instant>) {
        if self.in_flight.as_ref().is_some_and(|f| f.id == id) {
            // Its upload is under way; the answer decides what happens next.
            return;
        }
        let mtime_ns = std::fs::metadata(&path)
            .map(|m| state::mtime_ns(&m))
            .unwrap_or(0);
        // A new event for a replay waiting out a backoff must not cut the wait short.
        let earlier = self
            .queue
            .iter()
            .find(|q| q.id == id)
            .and_then(|q| q.not_before);
        let not_before = not_before.max(earlier);
        self.queue.retain(|q| q.id != id);
        self.queue.push(Queued {
            id,
            path,
            mtime_ns,
            not_before,
        });
    }

    /// Starts the next upload when the uploader is idle, there is a token, and nothing is
    /// paused. Newest replay first.
    fn dispatch(&mut self) -> Result<(), StateError> {
        if self.in_flight.is_some() || self.queue.is_empty() {
            return Ok(());
        }
        let Some(client) = self.client.clone() else {
            return Ok(());
        };
        let now = Instant::now();
        if self.pause.as_ref().is_some_and(|(until, _)| *until > now) {
            return Ok(());
        }
        let Some(pick) = self
            .queue
            .iter()
            .enumerate()
            .filter(|(_, q)| q.not_before.is_none_or(|t| t <= now))
            .max_by_key(|(_, q)| q.mtime_ns)
            .map(|(i, _)| i)
        else {
            return Ok(());
        };
        let job = self.queue.swap_remove(pick);
        // Several checks of one file can queue it more than once; once it is settled (or
        // while it is being uploaded) the extra entries are dropped here.
        let settled = self
            .state
            .replays
            .get(&job.id)
            .is_some_and(|r| r.status != Status::Pending);
        if settled {
            return self.dispatch();
        }
        let config = self.config.clone();
        let path = job.path.clone();
        let groups: Vec<GroupEntry> = self.state.groups.values().cloned().collect();
        let account = self.account.clone();
        let task = tokio::spawn(async move {
            // Upload exactly the bytes validated here, read once, right before sending.
            let check_path = path.clone();
            let max = config.max_replay_size;
            let validation = tokio::task::spawn_blocking(move || check_file(&check_path, max))
                .await
                .unwrap_or_else(|e| Validation::Unreadable(e.to_string()));
            let Validation::Valid {
                bytes,
                info,
                mtime_ns,
                ..
            } = &validation
            else {
                return (validation, None, AfterUpload::default());
            };
            let mut upload =
                Upload::new(file_name(&path), bytes.clone()).visibility(config.visibility.clone());
            // A fixed group goes with the upload; automatic groups are chosen after it.
            if config.group_rule.is_none()
                && let Some(group) = &config.group
            {
                upload = upload.group(group.clone());
            }
            let result = client.upload(&upload).await.map(|r| r.value);
            let after = match &result {
                Ok(outcome) => {
                    let fallback = i64::try_from(*mtime_ns / 1_000_000_000).unwrap_or(0);
                    after_upload(&client, &config, info, outcome, &groups, account, fallback).await
                }
                Err(_) => AfterUpload::default(),
            };
            (validation, Some(result), after)
        });
        debug!(replay = %job.id, "uploading");
        self.in_flight = Some(InFlight {
            id: job.id,
            path: job.path,
            task,
        });
        Ok(())
    }

    fn finish_upload(
        &mut self,
        id: String,
        path: PathBuf,
        validation: Validation,
        result: Option<Result<UploadOutcome, ApiError>>,
        after: AfterUpload,
    ) -> Result<(), StateError> {
        let Some(result) = result else {
            // The file changed or broke since it was queued: watch it again.
            debug!(replay = %id, "file changed before upload; checking it again");
            self.tracks
                .entry(path.clone())
                .or_insert_with(|| Track::new(false));
            self.validated(path, validation)?;
            return Ok(());
        };
        let Validation::Valid {
            info,
            bytes,
            mtime_ns,
            sha256,
        } = validation
        else {
            unreachable!("an upload only happens for valid bytes");
        };
        let uploaded_id = info.id.unwrap_or_else(|| stem(&path));
        let mut record = self
            .state
            .replays
            .get(&uploaded_id)
            .cloned()
            .unwrap_or_else(|| Record::pending(uploaded_id.clone(), path.clone()));
        record.path = path.clone();
        record.size = bytes.len() as u64;
        record.mtime_ns = mtime_ns;
        record.sha256 = sha256;
        record.attempts += 1;
        record.updated = state::now_rfc3339();
        match &result {
            Err(ApiError::RateLimited {
                retry_after: None, ..
            }) => self.plain_429s += 1,
            Err(ApiError::RateLimited { .. }) => {}
            _ => self.plain_429s = 0,
        }
        let verdict = core::judge_upload(
            &result,
            record.attempts,
            self.plain_429s,
            &self.config.pauses,
        );
        let cause = if matches!(verdict, Verdict::Park { .. }) {
            PauseCause::Quota
        } else {
            PauseCause::Token
        };
        match verdict {
            Verdict::Uploaded(outcome) => {
                record.status = Status::Uploaded;
                record.outcome = Some(if outcome.is_duplicate() {
                    Outcome::Duplicate
                } else {
                    Outcome::Created
                });
                record.ballchasing_id = Some(outcome.id().to_owned());
                record.location = Some(outcome.location().to_owned());
                record.last_error = None;
                // A title or group that could not be set never makes the upload a failure.
                match after.title {
                    Some(Ok(title)) => {
                        record.title = Some(title);
                        record.title_error = None;
                    }
                    Some(Err(e)) => {
                        warn!(replay = %record.id, error = %e, "uploaded, but the title was not set");
                        record.title_error = Some(e);
                    }
                    None => {}
                }
                match after.group {
                    Some(Ok(group)) => record.group = Some(group),
                    Some(Err(e)) => {
                        warn!(replay = %record.id, error = %e, "uploaded, but not put in its group");
                        record.note = Some(format!("not in its group: {e}"));
                    }
                    None => {}
                }
                if let Some(note) = after.note {
                    info!(replay = %record.id, %note, "duplicate");
                    record.note = Some(note);
                }
                if let Some(account) = after.account {
                    self.account = Some(account);
                }
                if let Some(entry) = after.remember {
                    self.journal.group(&entry)?;
                    self.state.groups.insert(entry.key.clone(), entry);
                }
                self.notify(
                    format!(
                        "Uploaded: {}",
                        record.title.clone().unwrap_or_else(|| file_name(&path))
                    ),
                    record.location.as_deref().unwrap_or_default(),
                );
                info!(replay = %record.id, location = %outcome.location(), duplicate = outcome.is_duplicate(), "uploaded");
                self.save(record.clone())?;
                self.resume()?;
                if self.outstanding.remove(&path) {
                    self.report(
                        &path,
                        Some(record.id),
                        Status::Uploaded,
                        record.outcome,
                        record.location,
                        None,
                    );
                }
            }
            Verdict::Failed(reason) => {
                record.status = Status::Failed;
                record.last_error = Some(reason.clone());
                warn!(replay = %record.id, %reason, "upload failed for good; `autochase retry` puts it back");
                self.notify(format!("Upload refused: {}", file_name(&path)), &reason);
                self.save(record.clone())?;
                if self.outstanding.remove(&path) {
                    self.report(
                        &path,
                        Some(record.id),
                        Status::Failed,
                        None,
                        None,
                        Some(reason),
                    );
                }
            }
            Verdict::PauseAll { wait, reason } | Verdict::Park { wait, reason } => {
                record.status = Status::Pending;
                record.last_error = Some(reason.clone());
                self.save(record.clone())?;
                self.park(cause, wait, reason)?;
                self.requeue(record.id, path, None);
            }
            Verdict::Retry { wait, reason } => {
                record.status = Status::Pending;
                record.last_error = Some(reason.clone());
                warn!(replay = %record.id, %reason, retry_in_s = wait.as_secs(), "upload will be retried");
                self.save(record.clone())?;
                if self.mode == Mode::OneShot && record.attempts >= 3 {
                    if self.outstanding.remove(&path) {
                        self.report(
                            &path,
                            Some(record.id),
                            Status::Pending,
                            None,
                            None,
                            Some(reason),
                        );
                    }
                } else {
                    self.requeue(record.id, path, Some(Instant::now() + wait));
                }
            }
        }
        if id != uploaded_id {
            debug!(queued = %id, uploaded = %uploaded_id, "file now holds a different replay");
        }
        Ok(())
    }

    /// A desktop notification, when the config asks for them.
    fn notify(&self, summary: String, body: &str) {
        if self.config.notifications {
            crate::notify::send(&crate::notify::Note {
                summary,
                body: body.to_owned(),
            });
        }
    }

    fn report(
        &self,
        path: &Path,
        id: Option<String>,
        status: Status,
        outcome: Option<Outcome>,
        location: Option<String>,
        reason: Option<String>,
    ) {
        if let Some(tx) = &self.reports {
            let _ = tx.send(Report {
                path: path.to_path_buf(),
                id,
                status,
                outcome,
                location,
                reason,
            });
        }
    }
}

fn existing_final(status: Status, mode: Mode) -> bool {
    status == Status::Uploaded || (status == Status::Skipped && mode == Mode::Daemon)
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "unnamed".into())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "replay.replay".into())
}

/// What the upload task found: the validation, the upload's answer (none when the file
/// changed), and what happened after a successful upload.
type UploadResult = (
    Validation,
    Option<Result<UploadOutcome, ApiError>>,
    AfterUpload,
);

/// Title and group, set after an upload; none of it can make the upload a failure.
#[derive(Debug, Default)]
struct AfterUpload {
    /// The title set, or why not.
    title: Option<Result<String, String>>,
    /// The group the replay was put in, or why not.
    group: Option<Result<String, String>>,
    /// A group created or grown, to remember.
    remember: Option<GroupEntry>,
    /// Something the user should know, e.g. whose duplicate it is.
    note: Option<String>,
    /// The token's account (SteamID64), once learned.
    account: Option<String>,
}

/// After an upload: for a replay we created, its title and its group; for a duplicate, its
/// group only when it is ours (ballchasing does not apply `group` to a duplicate, and a
/// teammate's replay is not ours to move). One PATCH carries both.
async fn after_upload(
    client: &Client,
    config: &Config,
    info: &ReplayInfo,
    outcome: &UploadOutcome,
    groups: &[GroupEntry],
    account: Option<String>,
    fallback_time: i64,
) -> AfterUpload {
    let mut out = AfterUpload::default();
    let created = !outcome.is_duplicate();
    let wants_group = config.group_rule.is_some() || config.group.is_some();
    let mut ours = created;
    if !created && wants_group {
        let account = match account {
            Some(a) => Some(a),
            None => client.ping().await.ok().and_then(|p| p.value.steam_id),
        };
        out.account = account.clone();
        match client.get_replay(outcome.id()).await {
            Ok(replay) => {
                let uploader = replay.value.uploader().cloned();
                let theirs = uploader.as_ref().and_then(|u| u.steam_id.clone());
                ours = account.is_some() && theirs == account;
                if !ours {
                    let who = uploader
                        .and_then(|u| u.name)
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default();
                    out.note = Some(format!("duplicate, owned by another uploader{who}"));
                }
            }
            Err(e) => out.note = Some(format!("duplicate; its uploader could not be checked: {e}")),
        }
    }
    let mut patch = ReplayPatch::new();
    let mut title = None;
    if created
        && let Some(template) = &config.title
        && let Some(t) = template.render(info)
    {
        patch = patch.title(t.clone());
        title = Some(t);
    }
    let mut group = None;
    if ours {
        match (&config.group_rule, &config.group) {
            (Some(rule), _) => match rule.place(groups, groups::match_time(info, fallback_time)) {
                Placement::Existing(entry) => {
                    group = Some(entry.id.clone());
                    out.remember = Some(entry);
                }
                Placement::New { key, name, at } => {
                    let mut new = NewGroup::new(name.clone());
                    new.parent = rule.parent.clone();
                    match client.create_group(&new).await {
                        Ok(made) => {
                            group = Some(made.value.id.clone());
                            out.remember = Some(GroupEntry {
                                key,
                                id: made.value.id,
                                name,
                                first: at,
                                last: at,
                            });
                        }
                        Err(e) => out.group = Some(Err(format!("cannot create group {name}: {e}"))),
                    }
                }
            },
            // A created replay got the fixed group with the upload.
            (None, Some(fixed)) if !created => group = Some(fixed.clone()),
            (None, Some(fixed)) => out.group = Some(Ok(fixed.clone())),
            (None, None) => {}
        }
        if let Some(g) = &group {
            patch = patch.group(g.clone());
        }
    }
    if !patch.is_empty() {
        let patched = client
            .patch_replay(outcome.id(), &patch)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string());
        out.title = title.map(|t| patched.clone().map(|()| t));
        if let Some(g) = group {
            out.group = Some(patched.map(|()| g));
        }
    }
    out
}

async fn flight_done(
    flight: &mut Option<InFlight>,
) -> Result<UploadResult, tokio::task::JoinError> {
    match flight {
        Some(flight) => (&mut flight.task).await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_windows_sharing_and_lock_violations_mean_busy() {
        assert!(held_by_another_program(Some(32), true));
        assert!(held_by_another_program(Some(33), true));
        assert!(
            !held_by_another_program(Some(5), true),
            "access denied is not busy"
        );
        assert!(!held_by_another_program(Some(32), false), "EPIPE on unix");
        assert!(!held_by_another_program(None, true));
    }
}
