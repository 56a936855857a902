//! The engine's upload side: the uploader (client, upload in flight, pause), starting the
//! next upload, and what ballchasing's answer means for the replay and for every upload.

use std::path::Path;
use std::time::Duration;

use tokio::time::Instant;
use tracing::{debug, error, info, warn};

use super::check;
use super::queue::AfterUpload;
use super::report::Paused;
use super::rules;
use super::send::{self, Answered, InFlight, PostUpload, UploadEnd};
use super::verdict::{self, Verdict};
use super::{Engine, Mode};
use crate::api::{Client, Error as ApiError};
use crate::fate::Report;
use crate::state::{Outcome, Pause, PauseCause, Record, StateError, Status};

/// The uploader: the client, the upload in flight, and what holds every upload back.
pub(super) struct Uploader {
    pub(super) client: Option<Client>,
    pub(super) flight: Option<InFlight>,
    /// Every upload waits until then (quota or refused token); mirrored in the state.
    pub(super) pause: Option<(Instant, Paused)>,
    /// Plain 429 answers to uploads in a row (see `verdict::QUOTA_AFTER_429S`).
    pub(super) plain_429s: u32,
    /// Uploads in a row that met trouble that passes (server errors, no answer).
    pub(super) trouble: u32,
    /// ballchasing's map names, for titles.
    pub(super) maps: send::MapNames,
    /// The token's account (SteamID64), learned when a duplicate's owner must be checked.
    pub(super) account: Option<String>,
    pub(super) said_no_token: bool,
    /// When a person's request last lifted a park (see `asked_while_parked`).
    pub(super) lifted: Option<Instant>,
}

impl Uploader {
    /// From when the uploader can start an upload: `None` without a client or while one runs.
    pub(super) fn free_from(&self, now: Instant) -> Option<Instant> {
        if self.client.is_none() || self.flight.is_some() {
            return None;
        }
        Some(
            self.pause
                .as_ref()
                .map_or(now, |(until, _)| (*until).max(now)),
        )
    }
}

impl Engine {
    /// Starts the next upload when the uploader is free, has a token and nothing is paused.
    pub(super) fn dispatch(&mut self) {
        let now = Instant::now();
        if self.uploader.free_from(now).is_none_or(|from| from > now) {
            return;
        }
        let Some(client) = self.uploader.client.clone() else {
            return;
        };
        while let Some((path, id)) = self.queue.next_upload(now) {
            // Settled since it was queued (another copy of it was uploaded): nothing to do.
            if self
                .book
                .record(&id)
                .is_some_and(|r| r.status != Status::Pending)
            {
                self.queue.uploaded(&path, AfterUpload::Done);
                continue;
            }
            debug!(replay = %id, "uploading");
            let cx = send::Context {
                client,
                maps: self.uploader.maps.clone(),
                config: self.config.clone(),
                groups: self.book.state().groups.values().cloned().collect(),
                account: self.uploader.account.clone(),
            };
            self.uploader.flight = Some(send::start(cx, path, id));
            return;
        }
    }

    pub(super) fn upload_ended(
        &mut self,
        done: Result<UploadEnd, tokio::task::JoinError>,
    ) -> Result<(), StateError> {
        let flight = self
            .uploader
            .flight
            .take()
            .expect("an upload was in flight");
        match done {
            Err(e) => {
                error!(error = %e, "upload task failed; the replay stays pending");
                let at = Instant::now() + verdict::upload_backoff(1);
                self.queue.uploaded(&flight.path, AfterUpload::Retry(at));
            }
            Ok(UploadEnd::Changed(found)) => {
                // The file changed or broke since it was queued: look at it again.
                debug!(replay = %flight.id, ?found, "file changed before upload; checking it again");
                self.queue.uploaded(&flight.path, AfterUpload::Recheck);
            }
            Ok(UploadEnd::Answered(answer)) => {
                let next = self.answered(&flight.path, *answer)?;
                self.queue.uploaded(&flight.path, next);
            }
        }
        Ok(())
    }

    /// What ballchasing's answer means for the replay, the uploader and the state.
    pub(super) fn answered(
        &mut self,
        path: &Path,
        answer: Answered,
    ) -> Result<AfterUpload, StateError> {
        let Answered { file, result, post } = answer;
        let id = file.id(path);
        let mut record = self
            .book
            .record(&id)
            .cloned()
            .unwrap_or_else(|| Record::pending(id.clone(), path.to_path_buf()));
        record.seen_as(path, file.size, file.mtime_ns, &file.digest);
        record.attempts += 1;
        match &result {
            Err(ApiError::RateLimited {
                retry_after: None, ..
            }) => self.uploader.plain_429s += 1,
            Err(ApiError::RateLimited { .. }) => {}
            _ => self.uploader.plain_429s = 0,
        }
        let verdict = match verdict::judge_upload(
            &result,
            record.attempts,
            self.uploader.plain_429s,
            &self.config.pauses,
        ) {
            // Which limit ran out, and the way out for a slow connection.
            Verdict::Retry { wait, reason } if matches!(result, Err(ApiError::Timeout { .. })) => {
                Verdict::Retry {
                    wait,
                    reason: format!(
                        "{reason}: `request_timeout` is {} s; raise it in the config on a slow connection",
                        self.config.request_timeout.as_secs_f64()
                    ),
                }
            }
            verdict => verdict,
        };
        Ok(match verdict {
            Verdict::Uploaded(outcome) => {
                self.uploader.trouble = 0;
                let how = match outcome.is_duplicate() {
                    true => Outcome::Duplicate,
                    false => Outcome::Created,
                };
                record.uploaded(how, outcome.id(), outcome.location());
                self.apply_post(&mut record, post)?;
                self.notify(
                    format!(
                        "Uploaded: {}",
                        record
                            .title
                            .clone()
                            .unwrap_or_else(|| check::file_name(path))
                    ),
                    record.location.as_deref().unwrap_or_default(),
                );
                let title = record.title.clone().unwrap_or_default();
                info!(
                    file = %crate::platform::shown(path),
                    %title,
                    link = %outcome.location(),
                    duplicate = outcome.is_duplicate(),
                    replay = %record.id,
                    "uploaded"
                );
                self.book.save(record.clone())?;
                self.resume()?;
                self.report(Report::of(path, &record, true));
                AfterUpload::Done
            }
            Verdict::Refused(reason) => {
                // ballchasing answered, and meant it: it is working.
                self.uploader.trouble = 0;
                record.refused(reason.clone());
                warn!(replay = %record.id, %reason, "ballchasing refused the replay; `autochase retry` puts it back");
                self.notify(
                    format!("Upload refused: {}", check::file_name(path)),
                    &reason,
                );
                self.book.save(record.clone())?;
                self.report(Report::of(path, &record, true));
                AfterUpload::Done
            }
            Verdict::Pause {
                cause,
                wait,
                told,
                reason,
            } => {
                record.wait(Some(reason.clone()));
                self.book.save(record)?;
                self.park(cause, wait, told, reason)?;
                let report = self.pending_report(path, "waiting");
                self.report(report);
                AfterUpload::Retry(Instant::now())
            }
            Verdict::Retry { wait, reason } => {
                self.uploader.trouble += 1;
                record.wait(Some(reason.clone()));
                warn!(replay = %record.id, %reason, retry_in_s = wait.as_secs(), "upload will be retried");
                self.book.save(record.clone())?;
                if let Some(all) = verdict::trouble_pause(self.uploader.trouble) {
                    let why = format!(
                        "{} uploads in a row failed, the last with: {reason}",
                        self.uploader.trouble
                    );
                    self.park(PauseCause::Trouble, all, false, why)?;
                } else if self.mode == Mode::OneShot {
                    // Recorded for the commands after this one (a script running `upload` in
                    // a loop tries at most once a minute); this run goes on with its files.
                    let pause =
                        self.recorded_pause(PauseCause::Trouble, reason.clone(), wait, false);
                    self.book.paused(pause)?;
                }
                // Whoever asked hears it now; the daemon keeps trying (a one-shot run leaves it
                // pending for the daemon).
                let mut report = Report::of(path, &record, true);
                report.reason = Some(match self.mode {
                    Mode::Daemon => {
                        format!("waiting: tried again in {} s ({reason})", wait.as_secs())
                    }
                    Mode::OneShot => format!(
                        "waiting: stays pending until autochase runs (`autochase run` or the service) ({reason})"
                    ),
                });
                self.report(report);
                AfterUpload::Retry(Instant::now() + wait)
            }
        })
    }

    /// Applies the title and group set after an upload to its record.
    fn apply_post(&mut self, record: &mut Record, post: PostUpload) -> Result<(), StateError> {
        match post.title {
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
        match post.group {
            Some(Ok(group)) => record.group = Some(group),
            Some(Err(e)) => {
                warn!(replay = %record.id, error = %e, "uploaded, but not put in its group");
                record.note = Some(format!("not in its group: {e}"));
            }
            None => {}
        }
        if let Some(note) = post.note {
            info!(replay = %record.id, %note, "duplicate");
            record.note = Some(note);
        }
        if let Some(account) = post.account {
            self.uploader.account = Some(account);
        }
        if let Some(entry) = post.remember {
            self.book.remember_group(entry)?;
        }
        Ok(())
    }

    /// Stops every upload for `wait`, and records it for `status` and the next start.
    pub(super) fn park(
        &mut self,
        cause: PauseCause,
        wait: Duration,
        told: bool,
        reason: String,
    ) -> Result<(), StateError> {
        let pause = self.recorded_pause(cause, reason.clone(), wait, told);
        let until = pause.until.clone();
        match cause {
            PauseCause::Token => {
                error!(%reason, "uploads paused: ballchasing refused the API token; put a working token in the config (or BALLCHASING_TOKEN): a changed config is picked up at once, and the token is tried again every minute")
            }
            PauseCause::Endpoint => {
                error!(%reason, api = %self.config.api_url, "uploads paused: the upload address answered as if it were wrong; check `api_url` in the config (a changed config is picked up at once; tried again every 10 minutes)")
            }
            PauseCause::Quota => {
                warn!(%reason, %until, "uploads parked on the upload quota; they go again by themselves when it frees")
            }
            PauseCause::RateLimit => {
                warn!(%reason, %until, "ballchasing asked to wait; uploads go again by themselves then")
            }
            PauseCause::Trouble => {
                warn!(%reason, %until, "ballchasing keeps failing; every upload waits, then goes again by itself")
            }
        }
        self.book.paused(pause)?;
        let paused = Paused::new(cause, reason, wait, told);
        self.uploader.pause = Some((Instant::now() + wait, paused));
        // Whoever waits for a queued file hears it now, not when the park ends.
        for path in self.asks.waiting() {
            if self.queue.is_queued(&path) {
                let report = self.pending_report(&path, "waiting");
                self.report(report);
            }
        }
        Ok(())
    }

    /// A park as the state records it; a command alone also notes that it tried now, so the
    /// commands after it keep the park a while (`rules::kept_by_a_command`).
    fn recorded_pause(
        &self,
        cause: PauseCause,
        reason: String,
        wait: Duration,
        told: bool,
    ) -> Pause {
        let mut pause = Pause::new(cause, reason, wait, told);
        if self.mode == Mode::OneShot {
            pause.tried = Some(crate::state::now_rfc3339());
        }
        pause
    }

    pub(super) fn resume(&mut self) -> Result<(), StateError> {
        self.uploader.pause = None;
        self.book.resumed()
    }

    /// A person's file (`upload`, `retry`, `backfill`) is queued while every upload waits on
    /// a guess of autochase's own (a quota whose end was not said, trouble, the token, the
    /// address): the park is lifted, and that file goes first, so one try tells whether it is
    /// over. At most once a minute; a wait ballchasing named is kept. True when lifted.
    pub(super) fn asked_while_parked(&mut self) -> Result<bool, StateError> {
        let now = Instant::now();
        let Some((_, paused)) = &self.uploader.pause else {
            return Ok(true);
        };
        let tried_lately = self
            .uploader
            .lifted
            .is_some_and(|at| now.duration_since(at) < rules::LIFT_EVERY);
        // A command alone kept this park on purpose (`rules::kept_by_a_command`).
        if paused.told || tried_lately || self.mode == Mode::OneShot {
            return Ok(false);
        }
        info!(reason = %paused.reason, "asked for an upload while uploads wait: trying it once now");
        self.uploader.lifted = Some(now);
        self.resume()?;
        Ok(true)
    }
}
