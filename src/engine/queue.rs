//! The engine's pure queue: where each file it works on stands (waiting for a check, being
//! checked, waiting to be checked again, queued for upload, being uploaded), which checks and
//! which upload start next, and when to wake up. No I/O and no clock: `now` is passed in.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use tokio::time::Instant;

/// Where a file stands. A file the engine is done with has no stage at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Wants a check; it starts when a check slot is free.
    Due,
    /// A check runs; `again` when the file changed meanwhile (its result is stale).
    Checking {
        /// The file changed while it was read.
        again: bool,
    },
    /// Not ready: checked again at this time, or at its next change.
    Later(Instant),
    /// Complete, waiting for the uploader.
    Queued {
        /// The replay's Id.
        id: String,
        /// Newest first: the file's mtime.
        newest: u64,
    },
    /// Its upload runs.
    Uploading {
        /// The replay's Id.
        id: String,
        /// The file's mtime.
        newest: u64,
        /// The file changed meanwhile: check it again once the upload is over.
        again: bool,
    },
}

/// One file the engine works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    /// Where it stands.
    pub stage: Stage,
    /// When it last changed, for the quiet period before a broken file is judged.
    pub changed: Instant,
    /// Checks finished so far, for the recheck backoff.
    pub checks: u32,
    /// Found by a scan before the replays already there were recorded: skipped, not uploaded.
    pub baseline: bool,
    /// No upload before then (a retry's backoff). Kept across re-checks, so that a change of
    /// the file cannot cut the wait short.
    pub hold: Option<Instant>,
    /// The next check reads the whole file (its header said it is one to upload); checks
    /// read only the header otherwise.
    pub whole: bool,
    /// Someone asked for it (`upload`, `retry`): its next upload goes before the others.
    pub asked: bool,
}

/// What becomes of a file after a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterCheck {
    /// Settled: recorded, judged or gone.
    Done,
    /// Check again at this time (or at its next change).
    Later(Instant),
    /// Check it again at once, reading the whole file: its header says it is to be uploaded.
    Whole,
    /// Upload it.
    Upload {
        /// The replay's Id.
        id: String,
        /// The file's mtime, newest first.
        newest: u64,
    },
}

/// What becomes of a file after its upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterUpload {
    /// Settled (uploaded, refused, or left to wait for the uploader as a whole).
    Done,
    /// Upload it again, not before then.
    Retry(Instant),
    /// The file no longer holds what was queued: check it again.
    Recheck,
}

/// Every file in the works, keyed by path, with indexes so that each step costs little at
/// thousands of files: due checks by age, later checks by time, and counts per stage.
#[derive(Debug, Default)]
pub struct Queue {
    tracks: HashMap<PathBuf, Track>,
    /// Due checks, oldest change first (so a busy folder cannot starve a file).
    due: BTreeSet<(Instant, PathBuf)>,
    /// Later checks, by the time they are due.
    later: BTreeSet<(Instant, PathBuf)>,
    checking: usize,
    queued: usize,
    uploading: usize,
    baselines: usize,
    max_checks: usize,
}

impl Queue {
    /// A queue that runs at most `max_checks` file checks at once.
    pub fn new(max_checks: usize) -> Queue {
        Queue {
            max_checks: max_checks.max(1),
            ..Queue::default()
        }
    }

    /// The file's track, if it is in the works.
    pub fn get(&self, path: &Path) -> Option<&Track> {
        self.tracks.get(path)
    }

    /// True when the file is in the works.
    pub fn contains(&self, path: &Path) -> bool {
        self.tracks.contains_key(path)
    }

    /// Takes a track out of its stage's index.
    fn unindex(&mut self, path: &Path, track: &Track) {
        match &track.stage {
            Stage::Due => {
                self.due.remove(&(track.changed, path.to_path_buf()));
            }
            Stage::Later(at) => {
                self.later.remove(&(*at, path.to_path_buf()));
            }
            Stage::Checking { .. } => self.checking -= 1,
            Stage::Queued { .. } => self.queued -= 1,
            Stage::Uploading { .. } => self.uploading -= 1,
        }
        if track.baseline {
            self.baselines -= 1;
        }
    }

    /// Puts a track in its stage's index.
    fn index(&mut self, path: &Path, track: &Track) {
        match &track.stage {
            Stage::Due => {
                self.due.insert((track.changed, path.to_path_buf()));
            }
            Stage::Later(at) => {
                self.later.insert((*at, path.to_path_buf()));
            }
            Stage::Checking { .. } => self.checking += 1,
            Stage::Queued { .. } => self.queued += 1,
            Stage::Uploading { .. } => self.uploading += 1,
        }
        if track.baseline {
            self.baselines += 1;
        }
    }

    /// Changes the track of `path` with `f`, keeping the indexes right; `None` removes it.
    fn update(&mut self, path: &Path, f: impl FnOnce(Track) -> Option<Track>) {
        let Some(old) = self.tracks.remove(path) else {
            return;
        };
        self.unindex(path, &old);
        if let Some(new) = f(old) {
            self.index(path, &new);
            self.tracks.insert(path.to_path_buf(), new);
        }
    }

    fn insert(&mut self, path: &Path, track: Track) {
        self.update(path, |_| None);
        self.index(path, &track);
        self.tracks.insert(path.to_path_buf(), track);
    }

    /// The file changed (a watcher event) or was asked about (`retry`, a one-shot upload):
    /// check it again, whatever it was waiting for. A baseline file that changes is new.
    pub fn changed(&mut self, path: &Path, now: Instant) {
        if !self.tracks.contains_key(path) {
            self.insert(
                path,
                Track {
                    stage: Stage::Due,
                    changed: now,
                    checks: 0,
                    baseline: false,
                    hold: None,
                    whole: false,
                    asked: false,
                },
            );
            return;
        }
        self.update(path, |mut track| {
            track.changed = now;
            track.baseline = false;
            track.whole = false;
            track.stage = match track.stage {
                Stage::Checking { .. } => Stage::Checking { again: true },
                Stage::Uploading { id, newest, .. } => Stage::Uploading {
                    id,
                    newest,
                    again: true,
                },
                Stage::Due | Stage::Later(_) | Stage::Queued { .. } => Stage::Due,
            };
            Some(track)
        });
    }

    /// The rules changed (a reload's filters): every file queued for upload is looked at
    /// again, its hold kept; one being uploaded goes on.
    pub fn recheck_queued(&mut self, now: Instant) {
        let queued: Vec<PathBuf> = self
            .tracks
            .iter()
            .filter(|(_, t)| matches!(t.stage, Stage::Queued { .. }))
            .map(|(path, _)| path.clone())
            .collect();
        for path in queued {
            self.changed(&path, now);
        }
    }

    /// Someone asks for the file now: it is checked at once, and no wait left from an earlier
    /// try holds its upload back.
    pub fn asked(&mut self, path: &Path, now: Instant) {
        self.changed(path, now);
        self.update(path, |mut track| {
            track.hold = None;
            track.asked = true;
            Some(track)
        });
    }

    /// The file changed without needing another look yet (still held open by the game): its
    /// quiet period starts again.
    pub fn touched(&mut self, path: &Path, now: Instant) {
        self.update(path, |mut track| {
            track.changed = now;
            Some(track)
        });
    }

    /// The file is being written right now, so it is new whatever scan found it: it is no
    /// longer one of the replays already there when its folder was first seen.
    pub fn not_baseline(&mut self, path: &Path) {
        self.update(path, |mut track| {
            track.baseline = false;
            Some(track)
        });
    }

    /// A scan found the file: it is checked unless it is already in the works. `baseline`
    /// marks it as one of the replays already there when its folder was first seen.
    pub fn found(&mut self, path: &Path, baseline: bool, now: Instant) {
        if !self.tracks.contains_key(path) {
            self.insert(
                path,
                Track {
                    stage: Stage::Due,
                    changed: now,
                    checks: 0,
                    baseline,
                    hold: None,
                    whole: false,
                    asked: false,
                },
            );
        }
    }

    /// Makes checks that are due, or whose wait is over, start: as many as slots allow. The
    /// caller runs a check of each path returned, of the whole file when its flag says so.
    pub fn start_checks(&mut self, now: Instant) -> Vec<(PathBuf, bool)> {
        while let Some((at, path)) = self.later.first().cloned() {
            if at > now {
                break;
            }
            self.update(&path, |mut track| {
                track.stage = Stage::Due;
                Some(track)
            });
        }
        let mut started = Vec::new();
        while self.checking < self.max_checks {
            let Some((_, path)) = self.due.first().cloned() else {
                break;
            };
            let mut whole = false;
            self.update(&path, |mut track| {
                track.stage = Stage::Checking { again: false };
                whole = track.whole;
                Some(track)
            });
            started.push((path, whole));
        }
        started
    }

    /// A check of `path` finished: the file's track as the decision needs it, or `None` when
    /// the result is stale (the file changed while it was read; it is due again) or the file
    /// is no longer in the works. Call `settle` with the decision.
    pub fn checked(&mut self, path: &Path) -> Option<Track> {
        let track = self.tracks.get(path)?;
        let Stage::Checking { again } = track.stage else {
            return None;
        };
        let mut result = None;
        self.update(path, |mut track| {
            track.checks += 1;
            if again {
                track.stage = Stage::Due;
            } else {
                result = Some(track.clone());
            }
            Some(track)
        });
        result
    }

    /// Applies the decision taken after a check of `path`.
    pub fn settle(&mut self, path: &Path, next: AfterCheck) {
        match next {
            AfterCheck::Done => self.update(path, |_| None),
            AfterCheck::Later(at) => self.update(path, |mut track| {
                track.stage = Stage::Later(at);
                Some(track)
            }),
            AfterCheck::Whole => self.update(path, |mut track| {
                track.stage = Stage::Due;
                track.whole = true;
                Some(track)
            }),
            AfterCheck::Upload { id, newest } => self.enqueue(path, id, newest),
        }
    }

    /// Queues `path` for the upload of replay `id`. One Id is queued once: a copy of it under
    /// another name takes the older entry's place (and its hold); while it is being uploaded,
    /// the upload's answer decides, so the copy is settled.
    fn enqueue(&mut self, path: &Path, id: String, newest: u64) {
        let copies: Vec<PathBuf> = self
            .tracks
            .iter()
            .filter(|(other, track)| {
                *other != path
                    && matches!(&track.stage,
                        Stage::Queued { id: i, .. } | Stage::Uploading { id: i, .. } if *i == id)
            })
            .map(|(other, _)| other.clone())
            .collect();
        if copies
            .iter()
            .any(|c| matches!(self.tracks[c].stage, Stage::Uploading { .. }))
        {
            self.update(path, |_| None);
            return;
        }
        let mut hold = self.tracks.get(path).and_then(|t| t.hold);
        for copy in copies {
            hold = hold.max(self.tracks.get(&copy).and_then(|t| t.hold));
            self.update(&copy, |_| None);
        }
        self.update(path, |mut track| {
            track.stage = Stage::Queued { id, newest };
            track.hold = hold;
            track.baseline = false;
            Some(track)
        });
    }

    /// The next upload to start, among those whose hold is over: one someone asked for
    /// first, then the newest replay; the caller checks first that the uploader may start one.
    pub fn next_upload(&mut self, now: Instant) -> Option<(PathBuf, String)> {
        if self.queued == 0 {
            return None;
        }
        let (path, id, newest) = self
            .tracks
            .iter()
            .filter_map(|(path, t)| match &t.stage {
                Stage::Queued { id, newest } if t.hold.is_none_or(|h| h <= now) => {
                    Some((path, id, (t.asked, *newest)))
                }
                _ => None,
            })
            .max_by(|a, b| a.2.cmp(&b.2).then_with(|| b.0.cmp(a.0)))
            .map(|(path, id, (_, newest))| (path.clone(), id.clone(), newest))?;
        let started = id.clone();
        self.update(&path, |mut track| {
            track.asked = false;
            track.stage = Stage::Uploading {
                id: started,
                newest,
                again: false,
            };
            Some(track)
        });
        Some((path, id))
    }

    /// True when `path` waits in the queue for its upload.
    pub fn is_queued(&self, path: &Path) -> bool {
        self.tracks
            .get(path)
            .is_some_and(|t| matches!(t.stage, Stage::Queued { .. }))
    }

    /// Applies what an upload of `path` led to.
    pub fn uploaded(&mut self, path: &Path, next: AfterUpload) {
        self.update(path, |mut track| {
            let Stage::Uploading { id, newest, again } = track.stage.clone() else {
                return Some(track);
            };
            track.stage = match (next, again) {
                (AfterUpload::Done, false) => return None,
                (AfterUpload::Retry(at), false) => {
                    track.hold = Some(at);
                    Stage::Queued { id, newest }
                }
                (AfterUpload::Retry(at), true) => {
                    track.hold = Some(at);
                    Stage::Due
                }
                (AfterUpload::Done | AfterUpload::Recheck, _) => Stage::Due,
            };
            Some(track)
        });
    }

    /// The next moment something is due: a re-check, or (when the uploader can take one from
    /// `uploader_from` on) a queued upload whose hold ends.
    pub fn next_wake(&self, uploader_from: Option<Instant>) -> Option<Instant> {
        let check = self.later.first().map(|(at, _)| *at);
        let upload = match uploader_from {
            Some(from) if self.queued > 0 => self
                .tracks
                .values()
                .filter(|t| matches!(t.stage, Stage::Queued { .. }))
                .map(|t| t.hold.map_or(from, |h| h.max(from)))
                .min(),
            _ => None,
        };
        check.into_iter().chain(upload).min()
    }

    /// No check is due, running or waiting, and no upload runs (uploads may be queued).
    pub fn idle(&self) -> bool {
        self.tracks.len() == self.queued
    }

    /// Nothing checks or waits to be checked: every file in the works is queued or uploading.
    pub fn checks_done(&self) -> bool {
        self.tracks.len() == self.queued + self.uploading
    }

    /// A replay found while its folder's baseline runs is still being checked.
    pub fn baseline_open(&self) -> bool {
        self.baselines > 0
    }

    /// Replays waiting for the uploader.
    pub fn queued(&self) -> usize {
        self.queued
    }

    /// Files being checked or waiting to be.
    pub fn checking(&self) -> usize {
        self.due.len() + self.checking + self.later.len()
    }

    /// An upload runs.
    pub fn uploading(&self) -> bool {
        self.uploading > 0
    }

    /// The replay whose upload runs, if one does.
    pub fn in_flight(&self) -> Option<(&Path, &str)> {
        if self.uploading == 0 {
            return None;
        }
        self.tracks.iter().find_map(|(p, t)| match &t.stage {
            Stage::Uploading { id, .. } => Some((p.as_path(), id.as_str())),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests;
