//! The engine's control side: a reloaded config, the end of a folder's baseline, and the
//! requests other commands leave in the inbox.

use std::sync::Arc;

use tracing::{error, info, warn};

use super::Engine;
use super::asks::Sink;
use crate::config::Config;
use crate::inbox::{self, Answer, Request};
use crate::state::{PauseCause, StateError};

impl Engine {
    /// Takes a reloaded config: token, visibility, group, pacing and timeouts apply from the
    /// next upload; the upload in flight finishes with the old ones.
    pub(super) fn apply_config(&mut self, config: Arc<Config>) -> Result<(), StateError> {
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
            match config.client() {
                Ok(client) => {
                    if client.is_none() && !self.uploader.said_no_token {
                        warn!("the reloaded config has no API token: uploads wait for one");
                    }
                    self.uploader.said_no_token = client.is_none();
                    self.uploader.client = client;
                }
                Err(e) => {
                    error!(error = %e, "config not applied: cannot build the ballchasing client; keeping the running config");
                    return Ok(());
                }
            }
        }
        // New filters apply to the replays already waiting, as they would after a restart.
        if config.filter != self.config.filter && self.queue.queued() > 0 {
            info!(
                queued = self.queue.queued(),
                "filters changed: looking at the queued replays again"
            );
            self.queue.recheck_queued(tokio::time::Instant::now());
        }
        // A reload is the user acting on what held uploads back (a token, the address, a
        // server that asked to wait): try again now. Only a used-up quota stays parked.
        let paused = self.book.state().pause.as_ref().map(|p| p.cause);
        if paused.is_some_and(|cause| cause != PauseCause::Quota) {
            info!("config reloaded: trying uploads again");
            self.uploader.trouble = 0;
            self.resume()?;
        }
        let mut state_dir_kept = (*config).clone();
        state_dir_kept.state_dir = self.config.state_dir.clone();
        self.config = Arc::new(state_dir_kept);
        self.reloads += 1;
        let token = self
            .uploader
            .client
            .as_ref()
            .map_or("none".into(), |c| c.token_fingerprint());
        info!(%token, visibility = %self.config.visibility, "config reloaded");
        Ok(())
    }

    /// Marks each scanned folder's baseline done once every file found in it is judged. Its
    /// skipped lines were written without a sync each; the folder line syncs them all.
    pub(super) fn close_baselines(&mut self) -> Result<(), StateError> {
        if self.baselines.is_empty() || self.queue.baseline_open() {
            return Ok(());
        }
        let done: Vec<String> = self
            .baselines
            .iter()
            .filter(|(_, b)| b.scanned)
            .map(|(key, _)| key.clone())
            .collect();
        for key in done {
            let Some(baseline) = self.baselines.remove(&key) else {
                continue;
            };
            self.book.folder_done_now(&key, &baseline.path)?;
            if baseline.skipped > 0 {
                info!(
                    folder = %baseline.path.display(),
                    skipped = baseline.skipped,
                    "replays already in this folder when autochase first saw it are recorded as skipped; `autochase backfill` uploads them"
                );
            } else {
                info!(folder = %baseline.path.display(), "watching a new replay folder");
            }
        }
        Ok(())
    }

    /// Carries out the requests other commands left in the inbox: an upload is answered
    /// file by file as each is decided; a forget at once.
    pub(super) fn take_requests(&mut self) -> Result<(), StateError> {
        for (request, conversation) in inbox::take(&self.config.state_dir) {
            match request {
                Request::Upload { paths, force } => {
                    info!(files = paths.len(), force, "upload requested");
                    self.ask(paths, force, Sink::Inbox(conversation));
                }
                Request::Forget { ids, paths } => {
                    let changed = self.book.forget(&ids, &paths)?;
                    info!(changed, "forget requested");
                    conversation.finish(&Answer {
                        changed,
                        error: None,
                    });
                }
            }
        }
        Ok(())
    }
}
