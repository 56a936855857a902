//! The engine: the one task that owns the queue and the state. The watcher and the scanner
//! send it hints, file checks run on blocking threads (a few at a time), one upload runs at
//! a time on a task of its own, and every decision comes from `rules` and `queue`. This file
//! is the loop and the effects: the journal, the log, notifications and the status.

mod book;
pub mod check;
mod control;
mod files;
pub mod queue;
mod report;
pub mod rules;
mod send;
mod uploader;
pub mod verdict;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::api::Client;
use crate::config::Config;
use crate::state::{PauseCause, State, StateError};
use crate::watcher::Hint;
use book::Book;
use check::FileCheck;
use queue::Queue;
use send::UploadEnd;

pub use report::{EngineStatus, Fate, Report};
pub use rules::Mode;
use uploader::Uploader;

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
    /// One-shot `upload --force`: filters do not apply.
    force: bool,
    reports: Option<mpsc::UnboundedSender<Report>>,
    /// One-shot: files still waiting for their final word.
    outstanding: HashSet<PathBuf>,
    first_start: bool,
    /// The first start's baseline is under way (marked in the state until done).
    baseline_open: bool,
    initial_scan_done: bool,
    scans: u64,
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
            first_start = loaded.first_start,
            state = %config.state_dir.display(),
            "state loaded"
        );
        // A quota park outlives a restart, so a crash loop or a reboot never probes early. A
        // token pause does not: a restart is how a fixed token gets picked up. A one-shot
        // `upload` is an explicit request and probes once either way.
        let mut pause = None;
        if mode == Mode::Daemon
            && let Some(saved) = book.state().pause.clone()
        {
            match saved.remaining() {
                Some(left) if saved.cause == PauseCause::Quota => {
                    warn!(until = %saved.until, reason = %saved.reason, "uploads still parked on the upload quota");
                    pause = Some((Instant::now() + left, saved.reason));
                }
                _ => book.resumed()?,
            }
        }
        // The first start records the replays already there as skipped. It is marked begun
        // first, so a start stopped halfway goes on with it instead of uploading the rest.
        let baseline_open = mode == Mode::Daemon && loaded.first_start && !config.backfill;
        if baseline_open && book.state().baseline != Some(false) {
            book.baseline(false)?;
        }
        Ok(Engine {
            config,
            mode,
            book,
            queue: Queue::new(MAX_CHECKS),
            checks: JoinSet::new(),
            uploader: Uploader {
                client,
                flight: None,
                pause,
                plain_429s: 0,
                account: None,
                said_no_token: false,
            },
            force: false,
            reports: None,
            outstanding: HashSet::new(),
            first_start: loaded.first_start,
            baseline_open,
            initial_scan_done: mode == Mode::OneShot,
            scans: 0,
            reloads: 0,
            status: watch::Sender::new(EngineStatus::default()),
        })
    }

    /// Follows the engine's status.
    pub fn watch_status(&self) -> watch::Receiver<EngineStatus> {
        self.status.subscribe()
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
                "no API token configured: replays are validated and queued, and uploads wait for a token (set `token` in the config or BALLCHASING_TOKEN)"
            );
            self.uploader.said_no_token = true;
        }
        loop {
            self.close_baseline()?;
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
                    Some(hint) => self.on_hint(hint),
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

    fn publish(&self) {
        let paused = self.uploader.pause.as_ref().map(|(_, why)| why.clone());
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
            reloads: self.reloads,
            paused,
        };
        self.status.send_if_modified(|current| {
            let changed = *current != next;
            *current = next;
            changed
        });
    }

    fn one_shot_finished(&self) -> bool {
        let waiting = self.uploader.client.is_none() || self.uploader.pause.is_some();
        self.outstanding.is_empty()
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

    fn on_hint(&mut self, hint: Hint) {
        match hint {
            Hint::ScanDone => {
                self.scans += 1;
                if !self.initial_scan_done {
                    self.initial_scan_done = true;
                    info!(queued = self.queue.queued(), "ready: initial scan done");
                }
            }
            Hint::Seen { path, from_scan } => {
                if self.mode == Mode::OneShot {
                    self.outstanding.insert(path.clone());
                }
                let now = Instant::now();
                if !from_scan {
                    self.queue.changed(&path, now);
                } else if !self.queue.contains(&path)
                    && !self.book.settled(&path, check::stamp(&path))
                {
                    let baseline =
                        self.first_start && !self.initial_scan_done && !self.config.backfill;
                    self.queue.found(&path, baseline, now);
                }
            }
        }
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
        if self.mode == Mode::OneShot {
            for path in std::mem::take(&mut self.outstanding) {
                let id = self.book.record_at(&path).map(|r| r.id.clone());
                let reason = match &self.uploader.pause {
                    Some((_, why)) => format!("left pending: {why}"),
                    None if self.uploader.client.is_none() => "left pending: no API token".into(),
                    None => "left pending: not uploaded yet".into(),
                };
                self.send(Report {
                    path,
                    id,
                    fate: Fate::Pending,
                    location: None,
                    reason: Some(reason),
                });
            }
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
        if self.outstanding.remove(&report.path) {
            self.send(report);
        }
    }

    fn send(&self, report: Report) {
        if let Some(tx) = &self.reports {
            let _ = tx.send(report);
        }
    }
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
