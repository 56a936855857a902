//! The journal file: opening (set aside when damaged, compacted when grown), one fsynced
//! line per change, and atomic compaction. The engine owns the only writable one.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::warn;

use super::{
    Entry, Folder, InvalidFile, LoadError, Parsed, Pause, Record, STATE_FILE, State, VERSION,
};
use crate::fsutil;
use crate::groups::GroupEntry;

/// Reads and parses the journal at `path`; `Ok(None)` when there is none.
fn read_parsed(path: &Path) -> Result<Option<Parsed>, StateError> {
    match File::open(path) {
        Ok(file) => State::parse_counted(BufReader::new(file)).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
    .map_err(io_err("reading state", path))
}

/// What loading found.
#[derive(Debug)]
pub struct Loaded {
    /// The state.
    pub state: State,
    /// The file was damaged and kept aside under this name.
    pub kept_aside: Option<PathBuf>,
    /// Lines that could not be read (a torn last line is normal after a crash).
    pub skipped_lines: usize,
}

/// A state problem that stops the daemon.
#[derive(Debug, thiserror::Error)]
#[error("{action} {path}: {source}{hint}", hint = hint(source))]
pub struct StateError {
    /// What was being done.
    pub action: &'static str,
    /// The file or folder.
    pub path: PathBuf,
    /// What went wrong.
    #[source]
    pub source: LoadError,
}

/// What to do about a state error the user can fix.
fn hint(error: &LoadError) -> &'static str {
    use std::io::ErrorKind;
    let LoadError::Io(error) = error else {
        return "";
    };
    match error.kind() {
        ErrorKind::ReadOnlyFilesystem | ErrorKind::PermissionDenied => {
            "; autochase needs a writable state folder: fix its permissions or set `state_dir` in the config"
        }
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => {
            "; the disk is full: free some space, then start autochase again (replays already uploaded but not recorded are recognised as duplicates)"
        }
        _ => "",
    }
}

fn io_err<'a, E: Into<LoadError>>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(E) -> StateError + 'a {
    move |source| StateError {
        action,
        path: path.to_path_buf(),
        source: source.into(),
    }
}

impl StateError {
    /// An I/O failure while doing `action` on `path`.
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> StateError {
        io_err(action, path)(source)
    }

    /// True when the file is not an autochase state at all (damage): it may be set aside.
    pub fn is_damage(&self) -> bool {
        matches!(self.source, LoadError::NotAState)
    }
}

impl State {
    /// Reads a journal without changing anything (for `status` while the daemon runs).
    /// `Ok(None)` when there is no file.
    pub fn read(path: &Path) -> Result<Option<(State, usize)>, StateError> {
        Ok(read_parsed(path)?.map(|p| (p.state, p.skipped)))
    }
}

/// The writable journal, owned by the engine.
pub struct Journal {
    path: PathBuf,
    file: File,
    lines: usize,
    /// Bytes the file holds as far as this journal wrote them.
    len: u64,
}

impl Journal {
    /// Opens `state_dir/state.jsonl`, creating the folder, keeping a damaged file aside, and
    /// compacting it. Fails (so the daemon stops) when the folder is not writable.
    pub fn open(state_dir: &Path) -> Result<(Journal, Loaded), StateError> {
        fsutil::create_private_dir(state_dir)
            .map_err(io_err("creating state folder", state_dir))?;
        let path = state_dir.join(STATE_FILE);
        let read = read_parsed(&path);
        // Compact only when it pays: a new, damaged or torn file, or one grown well past the
        // state it holds. Rewriting 20,000 records at every start would cost time and writes.
        let mut compact = true;
        let mut lines = 0;
        let (state, kept_aside, skipped_lines) = match read {
            Ok(None) => (State::default(), None, 0),
            Ok(Some(parsed)) => {
                let live = parsed.state.live_lines();
                // An older format is rewritten in this one, so an older autochase started
                // later stops instead of mangling lines it does not know.
                compact = parsed.skipped > 0
                    || !parsed.clean_end
                    || parsed.lines > 2 * live + 64
                    || parsed.version < VERSION;
                lines = parsed.lines;
                (parsed.state, None, parsed.skipped)
            }
            Err(e) if e.is_damage() => {
                let aside = path.with_extension(format!(
                    "jsonl.damaged-{}",
                    SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs())
                ));
                std::fs::rename(&path, &aside)
                    .map_err(io_err("keeping damaged state aside", &path))?;
                warn!(path = %path.display(), kept = %aside.display(), error = %e.source, "state file damaged; kept aside, starting a new one: the replays already in each folder are recorded as skipped again (`autochase backfill` uploads any you want)");
                (State::default(), Some(aside), 0)
            }
            Err(e) => return Err(e),
        };
        if skipped_lines > 0 {
            warn!(path = %path.display(), lines = skipped_lines, "skipped unreadable state lines (a torn last line after a crash is normal)");
        }
        let journal = if compact {
            Journal::rewrite(&path, &state)?
        } else {
            let file = OpenOptions::new()
                .append(true)
                .open(&path)
                .map_err(io_err("opening state", &path))?;
            fsutil::make_private(&file).map_err(io_err("opening state", &path))?;
            let len = file
                .metadata()
                .map_err(io_err("opening state", &path))?
                .len();
            Journal {
                path,
                file,
                lines,
                len,
            }
        };
        Ok((
            journal,
            Loaded {
                state,
                kept_aside,
                skipped_lines,
            },
        ))
    }

    /// Writes a compact journal of `state` atomically and opens it for appending.
    fn rewrite(path: &Path, state: &State) -> Result<Journal, StateError> {
        let mut lines = 0;
        fsutil::write_atomic(path, true, |out| {
            lines = state.encode_into(out)?;
            Ok(())
        })
        .map_err(io_err("writing state", path))?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(io_err("opening state", path))?;
        let len = file
            .metadata()
            .map_err(io_err("opening state", path))?
            .len();
        Ok(Journal {
            path: path.to_path_buf(),
            file,
            lines,
            len,
        })
    }

    pub(super) fn append(&mut self, entry: &Entry) -> Result<(), StateError> {
        self.write_line(entry)?;
        // Then fsync: a crash leaves at most one torn last line.
        self.file
            .sync_data()
            .map_err(io_err("syncing state", &self.path))
    }

    /// One write per line, so a crash can only tear the last one.
    fn write_line(&mut self, entry: &Entry) -> Result<(), StateError> {
        let mut line = serde_json::to_vec(entry).expect("state serializes");
        line.push(b'\n');
        self.file
            .write_all(&line)
            .map_err(io_err("writing state", &self.path))?;
        self.lines += 1;
        self.len += line.len() as u64;
        Ok(())
    }

    /// True when the file on disk is still the one this journal writes, with exactly what it
    /// wrote: not truncated, emptied, or replaced by another program.
    fn intact(&self) -> bool {
        let Ok(on_disk) = std::fs::metadata(&self.path) else {
            return false;
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let ours = self.file.metadata().map(|m| (m.dev(), m.ino()));
            if ours.ok() != Some((on_disk.dev(), on_disk.ino())) {
                return false;
            }
        }
        on_disk.len() == self.len
    }

    /// Writes the whole of `state` again when the file was changed under this journal (an
    /// appended line would otherwise land in a file with no header, or in a deleted one).
    pub fn keep_intact(&mut self, state: &State) -> Result<(), StateError> {
        if !self.intact() {
            warn!(path = %self.path.display(), "the state file was changed by something else while autochase ran; writing it again from memory");
            *self = Journal::rewrite(&self.path, state)?;
        }
        Ok(())
    }

    /// Records a replay without waiting for the disk: only for changes that are redone after
    /// a crash anyway (the first start's baseline). The next synced write makes it durable.
    pub fn record_unsynced(&mut self, record: &Record) -> Result<(), StateError> {
        self.write_line(&Entry::Replay(Box::new(record.clone())))
    }

    /// Records a replay's new state.
    pub fn record(&mut self, record: &Record) -> Result<(), StateError> {
        self.append(&Entry::Replay(Box::new(record.clone())))
    }

    /// Records an invalid file.
    pub fn invalid(&mut self, file: &InvalidFile) -> Result<(), StateError> {
        self.append(&Entry::Invalid(file.clone()))
    }

    /// Takes an invalid file out of sight (`autochase forget`): while its file is there, a
    /// marker, so the same file is not judged again and shown again; once it is gone, nothing.
    /// The entry it leaves, if any.
    pub fn forget_invalid(
        &mut self,
        file: &InvalidFile,
    ) -> Result<Option<InvalidFile>, StateError> {
        if std::fs::symlink_metadata(&file.path).is_err() {
            self.cleared(&file.path)?;
            return Ok(None);
        }
        let marker = InvalidFile {
            forgotten: true,
            ..file.clone()
        };
        self.invalid(&marker)?;
        Ok(Some(marker))
    }

    /// Forgets that a file was invalid.
    pub fn cleared(&mut self, path: &Path) -> Result<(), StateError> {
        self.append(&Entry::Cleared {
            path: path.to_path_buf(),
        })
    }

    /// Records that the first start's baseline has begun (`false`) or is complete.
    pub fn baseline(&mut self, done: bool) -> Result<(), StateError> {
        self.append(&Entry::Baseline { done })
    }

    /// Records that a command saw a replay folder before its baseline.
    pub fn noticed(&mut self, folder: &Folder) -> Result<(), StateError> {
        self.append(&Entry::Noticed(folder.clone()))
    }

    /// Records that a replay folder's baseline is done.
    pub fn folder(&mut self, folder: &Folder) -> Result<(), StateError> {
        self.append(&Entry::Folder(folder.clone()))
    }

    /// Records that a replay is forgotten.
    pub fn forgot(&mut self, id: &str) -> Result<(), StateError> {
        self.append(&Entry::Forgot { id: id.to_owned() })
    }

    /// Records a group autochase created or grew.
    pub fn group(&mut self, group: &GroupEntry) -> Result<(), StateError> {
        self.append(&Entry::Group(group.clone()))
    }

    /// Records that every upload is parked.
    pub fn paused(&mut self, pause: &Pause) -> Result<(), StateError> {
        self.append(&Entry::Paused(pause.clone()))
    }

    /// Records that uploads go again.
    pub fn resumed(&mut self) -> Result<(), StateError> {
        self.append(&Entry::Resumed)
    }

    /// Rewrites the journal when it has grown well past the state it holds.
    pub fn maybe_compact(&mut self, state: &State) -> Result<(), StateError> {
        let live = state.live_lines();
        if self.lines > 1024 && self.lines > 4 * live {
            *self = Journal::rewrite(&self.path, state)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Outcome, PauseCause, Status};

    fn record(id: &str, status: Status) -> Record {
        let mut r = Record::pending(id.into(), PathBuf::from(format!("/demos/{id}.replay")));
        r.size = 10;
        r.mtime_ns = 1;
        r.digest = "00".into();
        r.status = status;
        r
    }

    #[test]
    fn changes_survive_a_reopen_and_the_last_write_wins() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, loaded) = Journal::open(dir.path()).unwrap();
        assert!(loaded.state.replays.is_empty());
        journal.record(&record("A", Status::Pending)).unwrap();
        let mut done = record("A", Status::Uploaded);
        done.outcome = Some(Outcome::Duplicate);
        journal.record(&done).unwrap();
        journal.record(&record("B", Status::Skipped)).unwrap();
        drop(journal);
        let (_, loaded) = Journal::open(dir.path()).unwrap();
        assert_eq!(loaded.state.replays.len(), 2);
        assert_eq!(loaded.state.replays["A"], done);
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_every_prefix_loads() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, _) = Journal::open(dir.path()).unwrap();
        for i in 0..5 {
            journal
                .record(&record(&format!("R{i}"), Status::Uploaded))
                .unwrap();
        }
        drop(journal);
        let full = std::fs::read(dir.path().join(STATE_FILE)).unwrap();
        let header_len = full.iter().position(|&b| b == b'\n').unwrap() + 1;
        // A crash can cut the file anywhere after the header (the header comes with the
        // atomic rewrite); every such prefix must load with the complete lines it holds.
        for cut in header_len..=full.len() {
            let path = dir.path().join(format!("cut-{cut}.jsonl"));
            std::fs::write(&path, &full[..cut]).unwrap();
            let (state, _) = State::read(&path).unwrap().unwrap();
            let mut complete_lines = full[..cut].iter().filter(|&&b| b == b'\n').count() - 1;
            if full.get(cut) == Some(&b'\n') {
                complete_lines += 1; // whole line written, only its newline missing
            }
            assert_eq!(state.replays.len(), complete_lines, "cut at {cut}");
        }
    }

    #[test]
    fn a_clean_journal_is_appended_to_and_a_torn_one_compacted_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STATE_FILE);
        let (mut journal, _) = Journal::open(dir.path()).unwrap();
        journal.record(&record("A", Status::Uploaded)).unwrap();
        journal
            .noticed(&crate::state::Folder {
                key: "/demos".into(),
                path: "/demos".into(),
                since: "2026-12-05T08:00:00.5Z".into(),
            })
            .unwrap();
        drop(journal);
        let before = std::fs::read(&path).unwrap();
        // Clean: opened for appending as it is, not rewritten.
        let (mut journal, _) = Journal::open(dir.path()).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), before);
        journal.record(&record("B", Status::Uploaded)).unwrap();
        drop(journal);
        assert!(std::fs::read(&path).unwrap().starts_with(&before));
        // Its last newline lost: appending would glue two lines; it is compacted first.
        let mut cut = std::fs::read(&path).unwrap();
        cut.pop();
        std::fs::write(&path, &cut).unwrap();
        let (mut journal, loaded) = Journal::open(dir.path()).unwrap();
        assert_eq!(loaded.state.replays.len(), 2);
        journal.record(&record("C", Status::Uploaded)).unwrap();
        drop(journal);
        let (state, skipped) = State::read(&path).unwrap().unwrap();
        assert_eq!((state.replays.len(), skipped), (3, 0));
        assert_eq!(state.noticed["/demos"].since, "2026-12-05T08:00:00.5Z");
    }

    #[test]
    fn garbage_is_kept_aside_and_a_new_state_starts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(STATE_FILE), b"\x00\x01garbage\n{}").unwrap();
        let (_, loaded) = Journal::open(dir.path()).unwrap();
        assert!(
            loaded.state.folders.is_empty(),
            "a damaged state proves no folder's baseline: every folder gets one again"
        );
        let aside = loaded.kept_aside.unwrap();
        assert_eq!(std::fs::read(aside).unwrap(), b"\x00\x01garbage\n{}");
        assert!(State::read(&dir.path().join(STATE_FILE)).unwrap().is_some());
    }

    #[test]
    fn a_pause_survives_a_reopen_until_resumed() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, _) = Journal::open(dir.path()).unwrap();
        let pause = Pause::new(
            PauseCause::Quota,
            "quota".into(),
            std::time::Duration::from_secs(600),
            true,
        );
        journal.paused(&pause).unwrap();
        drop(journal);
        let (mut journal, loaded) = Journal::open(dir.path()).unwrap();
        assert_eq!(loaded.state.pause.as_ref(), Some(&pause));
        let left = pause.remaining().unwrap();
        assert!(
            left > std::time::Duration::from_secs(590)
                && left <= std::time::Duration::from_secs(600)
        );
        journal.resumed().unwrap();
        drop(journal);
        let (_, loaded) = Journal::open(dir.path()).unwrap();
        assert_eq!(loaded.state.pause, None);
    }

    #[cfg(unix)]
    #[test]
    fn a_path_that_is_not_unicode_round_trips() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, _) = Journal::open(dir.path()).unwrap();
        let odd = PathBuf::from(std::ffi::OsStr::from_bytes(b"/demos/\xff\xfe.replay"));
        let mut rec = record("A", Status::Uploaded);
        rec.path = odd.clone();
        journal.record(&rec).unwrap();
        journal
            .invalid(&InvalidFile {
                path: odd.clone(),
                size: 1,
                mtime_ns: 2,
                reason: "r".into(),
                at: crate::state::now_rfc3339(),
                forgotten: false,
            })
            .unwrap();
        drop(journal);
        let (_, loaded) = Journal::open(dir.path()).unwrap();
        assert_eq!(loaded.state.replays["A"].path, odd);
        assert!(loaded.state.invalid.contains_key(&odd));
        assert_eq!(loaded.skipped_lines, 0);
    }

    #[test]
    fn a_newer_format_stops_instead_of_being_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let newer = b"{\"kind\":\"header\",\"format\":\"autochase-state\",\"version\":99}\n";
        std::fs::write(dir.path().join(STATE_FILE), newer).unwrap();
        let err = Journal::open(dir.path()).err().expect("refused");
        assert!(err.to_string().contains("upgrade autochase"), "{err}");
        assert_eq!(std::fs::read(dir.path().join(STATE_FILE)).unwrap(), newer);
    }

    #[test]
    fn a_checked_in_version_1_file_still_loads() {
        let (state, skipped) = State::read(Path::new("tests/fixtures/state-v1.jsonl"))
            .unwrap()
            .unwrap();
        assert_eq!(skipped, 0);
        let rec = &state.replays["A377345411F1648257A50AB0C1621AB2"];
        assert_eq!(rec.status, Status::Uploaded);
        assert_eq!(rec.outcome, Some(Outcome::Created));
        assert_eq!(state.invalid.len(), 1);
    }
}
