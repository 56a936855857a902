//! The engine's book: the state in memory and its journal on disk, changed together so they
//! never disagree, with the index from file paths to the replays they hold.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::groups::GroupEntry;
use crate::state::{
    Folder, InvalidFile, Journal, Loaded, PathIndex, Pause, Record, State, StateError, Status,
};

/// The state and its journal; the engine owns the only one.
pub struct Book {
    journal: Journal,
    state: State,
    by_path: PathIndex,
    /// Other files holding a replay already recorded (copies under another name), with the
    /// size and mtime they had: a rescan passes them over while they stay the same. Not
    /// kept in the journal: after a restart each is read once more (its header only).
    aliases: HashMap<PathBuf, (String, u64, u64)>,
}

impl Book {
    /// Opens the journal in `state_dir`; what loading found comes with it (its `state` is
    /// moved into the book and left empty).
    pub fn open(state_dir: &Path) -> Result<(Book, Loaded), StateError> {
        let (journal, mut loaded) = Journal::open(state_dir)?;
        let state = std::mem::take(&mut loaded.state);
        let by_path = state.by_path();
        Ok((
            Book {
                journal,
                state,
                by_path,
                aliases: HashMap::new(),
            },
            loaded,
        ))
    }

    /// The state as it is now.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Gives the state up.
    pub fn into_state(self) -> State {
        self.state
    }

    /// The record of replay `id`.
    pub fn record(&self, id: &str) -> Option<&Record> {
        self.state.replays.get(id)
    }

    /// The replay recorded at `path`, if that is still where its record says it is.
    pub fn record_at(&self, path: &Path) -> Option<&Record> {
        let id = self.by_path.get(path)?;
        self.state.replays.get(id).filter(|r| r.path == path)
    }

    /// Records a replay's new state, synced to disk.
    pub fn save(&mut self, record: Record) -> Result<(), StateError> {
        self.journal.keep_intact(&self.state)?;
        self.journal.record(&record)?;
        self.insert(record);
        self.journal.maybe_compact(&self.state)
    }

    /// Records a replay without waiting for the disk: only for changes that are redone after
    /// a crash anyway (a folder's baseline). The next synced write makes it durable.
    pub fn save_unsynced(&mut self, record: Record) -> Result<(), StateError> {
        self.journal.keep_intact(&self.state)?;
        self.journal.record_unsynced(&record)?;
        self.insert(record);
        Ok(())
    }

    fn insert(&mut self, record: Record) {
        self.by_path.insert(&record.path, &record.id);
        self.state.replays.insert(record.id.clone(), record);
    }

    /// Records a file that is not (and will not become) a replay.
    pub fn invalid(&mut self, file: InvalidFile) -> Result<(), StateError> {
        self.journal.keep_intact(&self.state)?;
        self.journal.invalid(&file)?;
        self.state.invalid.insert(file.path.clone(), file);
        Ok(())
    }

    /// Forgets that the file at `path` was invalid, if it was.
    pub fn clear_invalid(&mut self, path: &Path) -> Result<(), StateError> {
        if self.state.invalid.contains_key(path) {
            self.journal.keep_intact(&self.state)?;
            self.state.invalid.remove(path);
            self.journal.cleared(path)?;
        }
        Ok(())
    }

    /// Remembers a group autochase created or grew.
    pub fn remember_group(&mut self, entry: GroupEntry) -> Result<(), StateError> {
        self.journal.keep_intact(&self.state)?;
        self.journal.group(&entry)?;
        self.state.groups.insert(entry.key.clone(), entry);
        Ok(())
    }

    /// Records that every upload is parked.
    pub fn paused(&mut self, pause: Pause) -> Result<(), StateError> {
        self.journal.keep_intact(&self.state)?;
        self.journal.paused(&pause)?;
        self.state.pause = Some(pause);
        Ok(())
    }

    /// Records that uploads go again, if they were parked.
    pub fn resumed(&mut self) -> Result<(), StateError> {
        if self.state.pause.is_some() {
            self.journal.keep_intact(&self.state)?;
            self.state.pause = None;
            self.journal.resumed()?;
        }
        Ok(())
    }

    /// True when the folder with this key has had its baseline.
    pub fn folder_done(&self, key: &str) -> bool {
        self.state.folders.contains_key(key)
    }

    /// When a command first saw this folder, if one did before its baseline.
    pub fn folder_noticed(&self, key: &str) -> Option<std::time::SystemTime> {
        let folder = self.state.noticed.get(key)?;
        crate::dates::parse_utc(&folder.since)
    }

    /// Records that a command saw this folder now, unless it has a baseline or was seen
    /// before.
    pub fn notice_folder(&mut self, key: &str, path: &Path) -> Result<(), StateError> {
        if self.folder_done(key) || self.state.noticed.contains_key(key) {
            return Ok(());
        }
        let folder = Folder {
            key: key.to_owned(),
            path: path.to_path_buf(),
            since: crate::dates::utc_precise(std::time::SystemTime::now()),
        };
        self.journal.keep_intact(&self.state)?;
        self.journal.noticed(&folder)?;
        self.state.noticed.insert(folder.key.clone(), folder);
        Ok(())
    }

    /// Records that a folder's baseline is done (synced, with every line before it).
    pub fn folder_done_now(&mut self, key: &str, path: &Path) -> Result<(), StateError> {
        let folder = Folder {
            key: key.to_owned(),
            path: path.to_path_buf(),
            since: crate::state::now_rfc3339(),
        };
        self.journal.keep_intact(&self.state)?;
        self.journal.folder(&folder)?;
        self.state.noticed.remove(&folder.key);
        self.state.folders.insert(folder.key.clone(), folder);
        Ok(())
    }

    /// Remembers that `path` is a copy of replay `id`, as it is now.
    pub fn alias(&mut self, path: &Path, id: &str, size: u64, mtime_ns: u64) {
        self.aliases
            .insert(path.to_path_buf(), (id.to_owned(), size, mtime_ns));
    }

    /// A file a rescan finds again needs no reading when its size and mtime match a replay
    /// already settled, a copy of one, or a file already judged invalid.
    pub fn settled(&self, path: &Path, stamp: Option<(u64, u64)>) -> bool {
        let Some((size, mtime)) = stamp else {
            return false;
        };
        if let Some(bad) = self.state.invalid.get(path) {
            return bad.size == size && bad.mtime_ns == mtime;
        }
        if let Some((id, s, m)) = self.aliases.get(path)
            && (*s, *m) == (size, mtime)
            && self
                .record(id)
                .is_some_and(|r| r.status == Status::Uploaded)
        {
            return true;
        }
        self.record_at(path).is_some_and(|r| {
            r.size == size
                && r.mtime_ns == mtime
                && matches!(
                    r.status,
                    Status::Uploaded | Status::Skipped | Status::Refused
                )
        })
    }

    /// Forgets these replays (kept out of sight as markers) and invalid files (`autochase
    /// forget`); how many were known.
    pub fn forget(&mut self, ids: &[String], paths: &[PathBuf]) -> Result<usize, StateError> {
        let mut forgotten = 0;
        for id in ids {
            if self.record(id).is_some_and(|r| !r.forgotten) {
                self.journal.keep_intact(&self.state)?;
                self.journal.forgot(id)?;
                if let Some(record) = self.state.replays.get_mut(id) {
                    record.forget();
                }
                forgotten += 1;
            }
        }
        for path in paths {
            let Some(file) = self.state.invalid.get(path).filter(|f| !f.forgotten) else {
                continue;
            };
            self.journal.keep_intact(&self.state)?;
            match self.journal.forget_invalid(file)? {
                Some(marker) => self.state.invalid.insert(path.clone(), marker),
                None => self.state.invalid.remove(path),
            };
            forgotten += 1;
        }
        Ok(forgotten)
    }
}
