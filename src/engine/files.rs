//! The engine's file side: starting checks, and what a check's finding means for the file
//! and its replay (recorded, judged, queued for upload, or looked at again later).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::Engine;
use super::check::{self, Complete, FileCheck};
use super::queue::AfterCheck;
use super::rules::{self, Accept, Check, Mode};
use crate::fate::Report;
use crate::replay::Depth;
use crate::state::{BASELINE_REASON, InvalidFile, OLDER_REASON, Record, StateError, Status};

impl Engine {
    /// Starts the checks the queue says are due, each on a blocking thread.
    pub(super) fn start_checks(&mut self) {
        let max = self.config.max_replay_size;
        for (path, whole) in self.queue.start_checks(Instant::now()) {
            self.checks_started += 1;
            let depth = match whole {
                true => Depth::Full,
                false => Depth::Header,
            };
            self.checks.spawn_blocking(move || {
                let result = check::check_file(&path, max, depth);
                (path, result)
            });
        }
    }

    /// What a check of `path` found, and what follows from it.
    pub(super) fn checked(&mut self, path: PathBuf, check: FileCheck) -> Result<(), StateError> {
        let Some(track) = self.queue.checked(&path) else {
            return Ok(()); // stale: the file changed while it was read, and is due again
        };
        let now = Instant::now();
        let asked = self.mode == Mode::OneShot || self.asks.asked(&path);
        // Quiet since its last event and since its last write: a broken file that nothing
        // writes any more (one copied in with its old date) is judged at once. One someone
        // asked about has no events to wait for (a one-shot upload watches nothing), so its
        // last write alone says whether it is still being written, for `ASKED_QUIET` at most.
        let since_event = now - track.changed;
        let quiet_since_write = |mtime_ns: u64| match asked {
            true => match rules::since(mtime_ns) {
                // A date in the future: the time since it was asked for is all there is.
                Duration::ZERO => since_event,
                written => written,
            },
            false => since_event.max(rules::since(mtime_ns)),
        };
        let invalid_after = match asked {
            true => self.config.invalid_after.min(rules::ASKED_QUIET),
            false => self.config.invalid_after,
        };
        let next = match check {
            FileCheck::Complete(file) => {
                self.book.clear_invalid(&path)?;
                self.accept(&path, *file, track.baseline, asked)?
            }
            FileCheck::Incomplete {
                invalid,
                size,
                mtime_ns,
            } => match rules::judge_invalid(
                &invalid,
                quiet_since_write(mtime_ns),
                track.checks,
                invalid_after,
            ) {
                Check::Recheck(after) => {
                    debug!(path = %path.display(), reason = %invalid, after_ms = after.as_millis() as u64, "not complete yet");
                    // Still being written when its folder was first seen: a new replay.
                    self.queue.not_baseline(&path);
                    AfterCheck::Later(now + after)
                }
                Check::GiveUp(reason) => {
                    self.fail_file(&path, size, mtime_ns, reason)?;
                    AfterCheck::Done
                }
            },
            FileCheck::Refused {
                reason,
                size,
                mtime_ns,
            } => {
                self.fail_file(&path, size, mtime_ns, reason)?;
                AfterCheck::Done
            }
            FileCheck::Gone => {
                debug!(path = %path.display(), "file gone before it could be read");
                self.lost(&path, "its file was deleted")?;
                self.report(Report::invalid(&path, "file not found".into()));
                AfterCheck::Done
            }
            FileCheck::Busy(reason) => {
                // Still being written: never judged, looked at again soon; a new replay.
                self.queue.touched(&path, now);
                self.queue.not_baseline(&path);
                debug!(path = %path.display(), %reason, "held by another program; not ready yet");
                AfterCheck::Later(now + rules::judge_busy(track.checks))
            }
            FileCheck::Unreadable(reason) => {
                let quiet = if asked { Duration::MAX } else { since_event };
                match rules::judge_unreadable(&reason, quiet, self.config.invalid_after) {
                    Check::GiveUp(why) => {
                        let why = if self.mode == Mode::OneShot {
                            why
                        } else {
                            format!("{why}; fix it, then `autochase retry {}`", path.display())
                        };
                        let (size, mtime_ns) = check::stamp(&path).unwrap_or_default();
                        self.fail_file(&path, size, mtime_ns, why)?;
                        AfterCheck::Done
                    }
                    Check::Recheck(after) => {
                        debug!(path = %path.display(), %reason, "cannot read yet");
                        AfterCheck::Later(now + after)
                    }
                }
            }
        };
        self.queue.settle(&path, next);
        Ok(())
    }

    /// The pending replay recorded at `path`, if any, can no longer be uploaded from it: its
    /// file is gone or holds something else now. Recorded missing (never left pending
    /// forever); if the replay shows up again, it is queued again.
    fn lost(&mut self, path: &Path, why: &str) -> Result<(), StateError> {
        let Some(mut record) = self
            .book
            .record_at(path)
            .filter(|r| r.status == Status::Pending)
            .cloned()
        else {
            return Ok(());
        };
        warn!(replay = %record.id, path = %path.display(), %why, "a replay waiting for its upload is no longer in its file");
        record.missing(format!("{why} before it could be uploaded"));
        self.book.save(record)
    }

    /// True when the file at `path`, dated `mtime_ns`, was written before autochase first saw
    /// its folder (and not just now): a copy or a restored backup, not a save.
    fn older_than_folder(&mut self, path: &Path, mtime_ns: u64) -> bool {
        let Some(folder) = path.parent() else {
            return false;
        };
        let key = self.folder_key(folder);
        let Some(since) = self
            .book
            .state()
            .folders
            .get(&key)
            .and_then(|f| crate::dates::parse_utc(&f.since))
        else {
            return false;
        };
        let mtime = std::time::UNIX_EPOCH + Duration::from_nanos(mtime_ns);
        rules::older_than_folder(mtime, since, std::time::SystemTime::now())
    }

    /// Records a file that will not be uploaded, and why.
    fn fail_file(
        &mut self,
        path: &Path,
        size: u64,
        mtime_ns: u64,
        reason: String,
    ) -> Result<(), StateError> {
        self.lost(path, "its file is no longer a complete replay")?;
        // A command's own line per file says it already.
        match self.mode {
            Mode::Daemon => warn!(path = %path.display(), %reason, "not uploading"),
            Mode::OneShot => info!(path = %path.display(), %reason, "not uploading"),
        }
        self.notify(format!("Not uploaded: {}", check::file_name(path)), &reason);
        self.book.invalid(InvalidFile {
            path: path.to_path_buf(),
            size,
            mtime_ns,
            reason: reason.clone(),
            at: crate::state::now_rfc3339(),
            forgotten: false,
        })?;
        self.report(Report::invalid(path, reason));
        Ok(())
    }

    /// A complete replay: its Id and its record decide whether it goes to the uploader.
    fn accept(
        &mut self,
        path: &Path,
        file: Complete,
        baseline: bool,
        asked: bool,
    ) -> Result<AfterCheck, StateError> {
        let id = file.id(path);
        if self.book.record_at(path).is_some_and(|old| old.id != id) {
            self.lost(path, &format!("its file now holds another replay ({id})"))?;
        }
        let existing = self.book.record(&id).cloned();
        let mut record = existing
            .clone()
            .unwrap_or_else(|| Record::pending(id.clone(), path.to_path_buf()));
        let new_bytes = record.digest != file.digest;
        // A copy of a replay under another name leaves the record where it is while the first
        // file still exists, so the record does not flip between copies at every scan.
        let copy = record.path != path && existing.is_some() && record.path.exists();
        let changed = match copy {
            true => false,
            false => record.seen_as(path, file.size, file.mtime_ns, &file.digest),
        };
        let filtered = match self.asks.forced(path) {
            true => None,
            false => self.config.filter.skip_reason(&file.info),
        };
        let older = existing.is_none()
            && !asked
            && self.mode == Mode::Daemon
            && !self.config.backfill
            && self.older_than_folder(path, file.mtime_ns);
        match rules::accept(
            existing.as_ref(),
            new_bytes,
            asked,
            baseline,
            older,
            filtered,
        ) {
            Accept::Known => {
                // Same Id: an in-game rename or a Steam Cloud restore. Never upload again.
                // Named by someone, a forgotten replay is in sight again.
                let shown_again = asked && record.forgotten;
                record.forgotten &= !asked;
                if changed || shown_again {
                    self.book.save(record.clone())?;
                }
                if copy {
                    self.book.alias(path, &id, file.size, file.mtime_ns);
                }
                debug!(replay = %id, status = ?record.status, "already handled");
                self.report(Report::of(path, &record, false));
            }
            Accept::StillRefused => {
                if changed {
                    self.book.save(record)?;
                }
            }
            Accept::Baseline => {
                record.skipped(BASELINE_REASON.into());
                debug!(replay = %id, path = %path.display(), "skipped: already there when its folder was first seen");
                // The key is looked up afresh: a scan ending meanwhile forgets the keys.
                let key = path.parent().map(|f| self.folder_key(f));
                if let Some(baseline) = key.and_then(|key| self.baselines.get_mut(&key)) {
                    baseline.skipped += 1;
                }
                // Not fsynced one by one: until the folder is marked done (after a sync), a
                // restart redoes its baseline, so a lost line costs nothing.
                self.book.save_unsynced(record)?;
            }
            Accept::Older => {
                record.skipped(OLDER_REASON.into());
                debug!(replay = %id, path = %path.display(), "skipped: dated before its folder was first seen");
                self.older_skipped += 1;
                self.book.save(record)?;
            }
            Accept::Filtered(reason) => {
                if record.status != Status::Skipped || record.last_error.as_ref() != Some(&reason) {
                    record.skipped(reason.clone());
                    self.book.save(record.clone())?;
                }
                info!(replay = %id, path = %path.display(), %reason, "not uploading");
                self.report(Report::of(path, &record, false));
            }
            // The header says upload: read the whole file before it is recorded and queued.
            Accept::Upload if !file.whole => return Ok(AfterCheck::Whole),
            Accept::Upload => {
                if record.status != Status::Pending || existing.is_none() || changed {
                    record.queued();
                    self.book.save(record)?;
                }
                info!(replay = %id, path = %path.display(), "queued");
                if asked
                    && self.uploader.free_from(Instant::now()).is_none()
                    && self.uploader.flight.is_none()
                {
                    // No token: nothing will be sent while the asker waits.
                    let report = self.pending_report(path, "queued");
                    self.report(report);
                } else if asked && self.uploader.pause.is_some() && !self.asked_while_parked()? {
                    // Parked on a wait ballchasing named, or tried a moment ago: said at once.
                    let report = self.pending_report(path, "queued");
                    self.report(report);
                }
                return Ok(AfterCheck::Upload {
                    id,
                    newest: file.mtime_ns,
                });
            }
        }
        Ok(AfterCheck::Done)
    }
}
