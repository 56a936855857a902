//! The engine: the one task that owns the queue and the state. The watcher and the scanner
//! send it hints, file checks run on blocking threads (a few at a time), one upload runs at
//! a time on a task of its own, and every decision comes from `rules` and `queue`. This file
//! is the loop and the effects: the journal, the log, notifications and the status.

mod asks;
mod book;
pub mod check;
mod control;
pub mod files;
pub mod queue;
mod report;
pub mod rules;
mod send;
mod uploader;
pub mod verdict;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::api::Client;
use crate::config::Config;
use crate::state::{PauseCause, Record, State, StateError, Status};
use crate::watcher::Hint;
use asks::Asks;
use book::Book;
use check::FileCheck;
use queue::Queue;
use send::UploadEnd;

pub use crate::fate::{Fate, Report};
pub use asks::Sink;
pub use report::{EngineStatus, Paused};
pub use rules::Mode;
use uploader::Uploader;

/// A folder seen for the first time, whose replays already there are being recorded.
struct Baseline {
    /// The folder.
    path: PathBuf,
    /// A scan of it is complete: once every file found is judged, its baseline is done.
    scanned: bool,
    /// Replays recorded as skipped in it.
    skipped: usize,
}

/// How many files are read and checked at once.
const MAX_CHECKS: usize = 2;

/// The engine; see the module docs.
pub struct Engine {
    config: Arc<Config>,
    mode: Mode,
    book: Book,
    queue: Queue,
    checks: JoinSet<(PathBuf, FileCheck)>,
    uploader: Uploader,
    /// Who waits for which file's final word.
    asks: Asks,
    /// Folders whose baseline runs: the replays found in them are recorded as skipped.
    baselines: HashMap<String, Baseline>,
    /// Folder keys by path, learned at each scan (folders can be replaced by links).
    folder_keys: HashMap<PathBuf, String>,
    /// A version-1 state whose first start was complete: the folders found by the first scan
    /// are taken as done, as they were then.
    adopt_folders: bool,
    /// Replays skipped for being dated before their folder was first seen, not yet logged.
    older_skipped: usize,
    initial_scan_done: bool,
    scans: u64,
    checks_started: u64,
    reloads: u64,
    status: watch::Sender<EngineStatus>,
}

impl Engine {
    /// Opens the state and builds an engine. `client` is `None` when there is no token.
    pub fn new(
        config: Arc<Config>,
        mode: Mode,
        client: Option<Client>,
    ) -> Result<Engine, StateError> {
        let (mut book, loaded) = Book::open(&config.state_dir)?;
        info!(
            replays = book.state().replays.len(),
            folders = book.state().folders.len(),
            state = %config.state_dir.display(),
            "state loaded"
        );
        if let Some(aside) = &loaded.kept_aside {
            warn!(kept = %aside.display(), "the state was damaged: every folder's replays already there are recorded as skipped again");
        }
        // A quota park outlives a restart, so a crash loop or a reboot never probes early. A
        // token pause does not: a restart is how a fixed token gets picked up. A one-shot
        // `upload` is an explicit request and probes once, unless ballchasing named the wait.
        let mut pause = None;
        if let Some(saved) = book.state().pause.clone() {
            let kept = match mode {
                Mode::Daemon => matches!(saved.cause, PauseCause::Quota | PauseCause::RateLimit),
                Mode::OneShot => rules::kept_by_a_command(
                    saved.told,
                    saved.tried.as_deref().and_then(crate::dates::parse_utc),
                    std::time::SystemTime::now(),
                ),
            };
            match saved.remaining() {
                Some(left) if kept => {
                    // A park recorded far in the future (a clock set wrong, a bogus answer)
                    // never holds uploads back longer than ballchasing's longest window.
                    let left = left.min(verdict::WAIT_MAX);
                    warn!(until = %saved.until, reason = %saved.reason, "uploads still parked");
                    pause = Some((
                        Instant::now() + left,
                        Paused::new(saved.cause, saved.reason, left, saved.told),
                    ));
                }
                // A one-shot run leaves the daemon's record of a park alone (its own try
                // clears it if the upload goes).
                _ if mode == Mode::Daemon => book.resumed()?,
                _ => {}
            }
        }
        let adopt_folders = book.state().baseline == Some(true) && book.state().folders.is_empty();
        let mut queue = Queue::new(MAX_CHECKS);
        if mode == Mode::Daemon {
            requeue_pending(&mut book, &mut queue)?;
        }
        Ok(Engine {
            config,
            mode,
            book,
            queue,
            checks: JoinSet::new(),
            uploader: Uploader {
                client,
                flight: None,
                pause,
                plain_429s: 0,
                trouble: 0,
                maps: Default::default(),
                account: None,
                said_no_token: false,
                lifted: None,
            },
            asks: Asks::default(),
            baselines: HashMap::new(),
            folder_keys: HashMap::new(),
            adopt_folders,
            older_skipped: 0,
            initial_scan_done: mode == Mode::OneShot,
            scans: 0,
            checks_started: 0,
            reloads: 0,
            status: watch::Sender::new(EngineStatus::default()),
        })
    }

    /// Follows the engine's status.
    pub fn watch_status(&self) -> watch::Receiver<EngineStatus> {
        self.status.subscribe()
    }

    /// Asks for these files to be uploaded now (`upload`, `retry`, `backfill`): each is
    /// looked at at once, with no wait left from an earlier try, and its final word goes to
    /// `sink`. `force` uploads replays the filters would skip.
    pub fn ask(&mut self, paths: Vec<PathBuf>, force: bool, sink: Sink) {
        let now = Instant::now();
        for path in &paths {
            self.queue.asked(path, now);
        }
        self.asks.add(paths, force, sink);
    }

    /// The state as it is now.
    pub fn state(&self) -> &State {
        self.book.state()
    }

    /// Runs until `cancel` fires (daemon) or every file has its final word (one-shot), then
    /// lets the upload in flight finish within `grace`. `requests` wakes it when another
    /// command left a request in the inbox.
    pub async fn run(
        mut self,
        mut hints: mpsc::Receiver<Hint>,
        mut requests: Option<mpsc::Receiver<()>>,
        mut configs: watch::Receiver<Arc<Config>>,
        cancel: CancellationToken,
        grace: Duration,
    ) -> Result<State, StateError> {
        let mut configs_open = true;
        let mut hints_open = true;
        if self.uploader.client.is_none() {
            warn!(
                "no API token configured: replays are validated and queued, and uploads wait for a token; {}",
                self.config.token_advice()
            );
            self.uploader.said_no_token = true;
        }
        loop {
            self.close_baselines()?;
            self.start_checks();
            self.dispatch();
            self.publish();
            if self.mode == Mode::OneShot && !hints_open && self.one_shot_finished() {
                break;
            }
            let wake = self.next_wake();
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                done = send::finished(&mut self.uploader.flight) => self.upload_ended(done)?,
                Some(joined) = self.checks.join_next(), if !self.checks.is_empty() => {
                    match joined {
                        Ok((path, check)) => self.checked(path, check)?,
                        Err(e) => error!(error = %e, "file check failed"),
                    }
                }
                hint = hints.recv(), if hints_open => match hint {
                    Some(hint) => self.on_hint(hint)?,
                    None => hints_open = false,
                },
                request = recv(&mut requests) => match request {
                    Some(()) => self.take_requests()?,
                    None => requests = None,
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
        Ok(self.book.into_state())
    }

    fn publish(&mut self) {
        let paused = self
            .uploader
            .pause
            .as_ref()
            .map(|(_, paused)| paused.clone());
        let waiting = self.uploader.client.is_none() || paused.is_some();
        let settled = self.checks.is_empty()
            && self.uploader.flight.is_none()
            && self.queue.idle()
            && (self.queue.queued() == 0 || waiting);
        let next = EngineStatus {
            initial_scan_done: self.initial_scan_done,
            settled,
            queued: self.queue.queued(),
            checking: self.queue.checking(),
            scans: self.scans,
            checks: self.checks_started,
            reloads: self.reloads,
            paused,
            token: self.uploader.client.is_some(),
            uploading: self.uploader.flight.is_some(),
        };
        let settled_now = next.settled && !self.status.borrow().settled;
        self.status.send_if_modified(|current| {
            let changed = *current != next;
            *current = next;
            changed
        });
        if settled_now {
            // A restored backup is said once, not file by file.
            if self.older_skipped > 0 {
                info!(
                    skipped = self.older_skipped,
                    "replays dated before autochase first saw their folder (a copy, a restored backup) are recorded as skipped; `autochase backfill` uploads them"
                );
                self.older_skipped = 0;
            }
            // The work is done: what it freed goes back to the system.
            crate::memory::give_back();
        }
    }

    fn one_shot_finished(&self) -> bool {
        let waiting = self.uploader.client.is_none() || self.uploader.pause.is_some();
        self.asks.is_empty()
            || (self.checks.is_empty()
                && self.uploader.flight.is_none()
                && self.queue.idle()
                && (waiting || self.queue.queued() == 0))
    }

    fn next_wake(&self) -> Option<Instant> {
        let now = Instant::now();
        let pause_end = self
            .uploader
            .pause
            .as_ref()
            .filter(|_| self.uploader.client.is_some() && self.uploader.flight.is_none())
            .map(|(until, _)| *until);
        self.queue
            .next_wake(self.uploader.free_from(now))
            .into_iter()
            .chain(pause_end)
            .min()
    }

    fn on_timers(&mut self) -> Result<(), StateError> {
        let now = Instant::now();
        if self
            .uploader
            .pause
            .as_ref()
            .is_some_and(|(until, _)| *until <= now)
        {
            info!("pause over; trying uploads again");
            self.resume()?;
        }
        Ok(())
    }

    fn on_hint(&mut self, hint: Hint) -> Result<(), StateError> {
        match hint {
            Hint::ScanDone { folders } => {
                self.scans += 1;
                self.scanned(&folders)?;
                if !self.initial_scan_done {
                    self.initial_scan_done = true;
                    info!(queued = self.queue.queued(), "ready: initial scan done");
                }
            }
            Hint::Seen { path, from_scan } => {
                let now = Instant::now();
                if !from_scan {
                    self.queue.changed(&path, now);
                } else if !self.queue.contains(&path) {
                    let stamp = check::stamp(&path);
                    if !self.book.settled(&path, stamp) {
                        let baseline = self.in_baseline(&path, stamp.map(|(_, mtime)| mtime));
                        self.queue.found(&path, baseline, now);
                    }
                }
            }
        }
        Ok(())
    }

    /// True when a file a scan found is one of the replays already in a folder seen for the
    /// first time: recorded as skipped rather than uploaded (unless `backfill`). `mtime_ns`:
    /// its mtime, as the scan's stat found it.
    fn in_baseline(&mut self, path: &Path, mtime_ns: Option<u64>) -> bool {
        if self.mode == Mode::OneShot || self.config.backfill || self.adopt_folders {
            return false;
        }
        let Some(folder) = path.parent() else {
            return false;
        };
        let key = self.folder_key(folder);
        if self.book.folder_done(&key) {
            return false;
        }
        // Saved after a command first saw the folder: new, though the baseline is not done.
        if let Some(noticed) = self.book.folder_noticed(&key)
            && let Some(mtime) = mtime_ns
            && rules::saved_after_notice(UNIX_EPOCH + Duration::from_nanos(mtime), noticed)
        {
            return false;
        }
        self.baselines.entry(key).or_insert_with(|| Baseline {
            path: folder.to_path_buf(),
            scanned: false,
            skipped: 0,
        });
        true
    }

    /// A command (`upload`, `retry`, `backfill` with no daemon) saw these folders: the ones
    /// with no baseline yet remember when, so that the replays saved from now on are not
    /// taken for old ones at the daemon's first look.
    pub fn notice_folders(&mut self, folders: &[PathBuf]) -> Result<(), StateError> {
        for folder in folders.iter().filter(|d| d.is_dir()) {
            let key = crate::platform::path_key(folder);
            self.book.notice_folder(&key, folder)?;
        }
        Ok(())
    }

    /// The identity of a replay folder (learned once per scan: a syscall or two).
    fn folder_key(&mut self, folder: &Path) -> String {
        self.folder_keys
            .entry(folder.to_path_buf())
            .or_insert_with(|| crate::platform::path_key(folder))
            .clone()
    }

    /// A scan covered these folders: a folder seen for the first time has its baseline closed
    /// once every file found in it is judged (at once when it is empty, or under `backfill`).
    fn scanned(&mut self, folders: &[PathBuf]) -> Result<(), StateError> {
        // Keys are learned again at the next scan: a folder may be replaced by a link.
        self.folder_keys.clear();
        for folder in folders {
            let key = crate::platform::path_key(folder);
            if self.book.folder_done(&key) {
                continue;
            }
            if self.config.backfill || self.adopt_folders {
                self.book.folder_done_now(&key, folder)?;
                continue;
            }
            self.baselines
                .entry(key)
                .or_insert_with(|| Baseline {
                    path: folder.clone(),
                    scanned: false,
                    skipped: 0,
                })
                .scanned = true;
        }
        self.adopt_folders = false;
        Ok(())
    }

    async fn shutdown(&mut self, grace: Duration) -> Result<(), StateError> {
        if let Some(mut flight) = self.uploader.flight.take() {
            info!(replay = %flight.id, grace_s = grace.as_secs(), "waiting for the upload in flight");
            match tokio::time::timeout(grace, &mut flight.task).await {
                Ok(Ok(UploadEnd::Answered(answer))) => {
                    self.answered(&flight.path, *answer)?;
                }
                Ok(_) => {}
                Err(_) => {
                    flight.task.abort();
                    warn!(replay = %flight.id, "upload still running at shutdown; it stays pending and is redone on the next start (ballchasing answers a repeat with a duplicate)");
                }
            }
        }
        for path in self.asks.waiting() {
            let report = self.pending_report(&path, "not uploaded yet");
            self.asks.answer(&report);
        }
        self.checks.abort_all();
        Ok(())
    }

    /// A desktop notification, when the config asks for them.
    fn notify(&self, summary: String, body: &str) {
        if self.config.notifications {
            crate::desktop::send(&crate::desktop::Note {
                summary,
                body: body.to_owned(),
            });
        }
    }

    /// Sends a file's final word to whoever asked for it, once.
    fn report(&mut self, report: Report) {
        self.asks.answer(&report);
    }

    /// The word for a file left waiting: why uploads do not go now, or `otherwise`.
    fn pending_report(&self, path: &Path, otherwise: &str) -> Report {
        let reason = match &self.uploader.pause {
            Some((_, paused)) => format!("waiting: uploads are paused ({})", paused.reason),
            None if self.uploader.client.is_none() => {
                format!(
                    "waiting: there is no API token; {}",
                    self.config.token_advice()
                )
            }
            None => otherwise.to_owned(),
        };
        Report {
            path: path.to_path_buf(),
            id: self.book.record_at(path).map(|r| r.id.clone()),
            fate: Fate::Pending,
            location: None,
            reason: Some(reason),
        }
    }
}

/// Every replay left pending (by an earlier run, by `upload`, in any folder) is finished by
/// the daemon: checked again now, or recorded missing when its file is gone.
fn requeue_pending(book: &mut Book, queue: &mut Queue) -> Result<(), StateError> {
    let now = Instant::now();
    let pending: Vec<Record> = book
        .state()
        .replays
        .values()
        .filter(|r| r.status == Status::Pending)
        .cloned()
        .collect();
    for mut record in pending {
        if record.path.exists() {
            queue.changed(&record.path, now);
        } else {
            warn!(replay = %record.id, path = %record.path.display(), "a replay waiting for its upload is gone from its file");
            record.missing(
                "its file was gone at start (deleted or moved) before it could be uploaded".into(),
            );
            book.save(record)?;
        }
    }
    Ok(())
}

/// The next request wake-up, or never when there is no inbox (a one-shot run).
async fn recv(requests: &mut Option<mpsc::Receiver<()>>) -> Option<()> {
    match requests {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
