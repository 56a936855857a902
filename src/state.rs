//! The crash-safe state file: an append-only journal of JSON lines (`state.jsonl`), one
//! line per change, fsynced; compacted on start by temp file + fsync + rename. A kill at any
//! instant leaves a file that loads: at worst the last, torn line is dropped.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::groups::GroupEntry;

/// The journal's file name inside `state_dir`.
pub const STATE_FILE: &str = "state.jsonl";
/// The format's name in the header line.
pub const FORMAT: &str = "autochase-state";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;

/// Where a replay stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting to be uploaded (or parked).
    Pending,
    /// On ballchasing.
    Uploaded,
    /// Given up on; `retry` puts it back.
    Failed,
    /// Deliberately not uploaded (present before first start).
    Skipped,
}

/// How an uploaded replay got there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 201: we created it.
    Created,
    /// 409: ballchasing already had it.
    Duplicate,
}

/// One replay, keyed by its header `Id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Header `Id` (or the file stem when the header has none).
    pub id: String,
    /// Last path it was seen at.
    #[serde(with = "path_repr")]
    pub path: PathBuf,
    /// Size of the validated file.
    pub size: u64,
    /// Modification time of the validated file (ns since the epoch), to skip unchanged files.
    #[serde(default)]
    pub mtime_ns: u64,
    /// SHA-256 of the validated bytes.
    pub sha256: String,
    /// Where it stands.
    pub status: Status,
    /// Created or duplicate, once uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// ballchasing's replay id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ballchasing_id: Option<String>,
    /// ballchasing's page for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The title autochase gave it on ballchasing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Why the title could not be set (the upload itself succeeded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_error: Option<String>,
    /// The group autochase put it in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Something worth knowing, e.g. "duplicate, owned by another uploader".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Upload attempts so far.
    #[serde(default)]
    pub attempts: u32,
    /// The last error or the reason it is failed/skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When first seen (RFC 3339).
    pub first_seen: String,
    /// When last changed (RFC 3339).
    pub updated: String,
}

impl Record {
    /// A new pending record for the replay `id` found at `path`.
    pub fn pending(id: String, path: PathBuf) -> Record {
        let now = now_rfc3339();
        Record {
            id,
            path,
            size: 0,
            mtime_ns: 0,
            sha256: String::new(),
            status: Status::Pending,
            outcome: None,
            ballchasing_id: None,
            location: None,
            title: None,
            title_error: None,
            group: None,
            note: None,
            attempts: 0,
            last_error: None,
            first_seen: now.clone(),
            updated: now,
        }
    }
}

/// A file that never became a valid replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvalidFile {
    /// The file.
    #[serde(with = "path_repr")]
    pub path: PathBuf,
    /// Its size when judged.
    pub size: u64,
    /// Its mtime when judged (ns since the epoch).
    #[serde(default)]
    pub mtime_ns: u64,
    /// Why it is not uploaded.
    pub reason: String,
    /// When judged (RFC 3339).
    pub at: String,
}

/// Why every upload stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseCause {
    /// The upload quota is used up.
    Quota,
    /// ballchasing refused the token.
    Token,
}

/// Uploads parked until a moment, recorded so that `status` can say so and a restart does
/// not probe ballchasing again before then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pause {
    /// Why.
    pub cause: PauseCause,
    /// The answer that caused it.
    pub reason: String,
    /// Until when (RFC 3339).
    pub until: String,
}

impl Pause {
    /// A pause of `wait` from now.
    pub fn new(cause: PauseCause, reason: String, wait: std::time::Duration) -> Pause {
        Pause {
            cause,
            reason,
            until: humantime::format_rfc3339_seconds(SystemTime::now() + wait).to_string(),
        }
    }

    /// Time left, or `None` when it is over (or the time does not parse).
    pub fn remaining(&self) -> Option<std::time::Duration> {
        let until = humantime::parse_rfc3339(&self.until).ok()?;
        until
            .duration_since(SystemTime::now())
            .ok()
            .filter(|d| !d.is_zero())
    }
}

/// One journal line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Entry {
    Header {
        format: String,
        version: u32,
    },
    Replay(Box<Record>),
    Invalid(InvalidFile),
    /// The file at `path` is no longer known invalid (it became valid or was retried).
    Cleared {
        #[serde(with = "path_repr")]
        path: PathBuf,
    },
    /// A group autochase created (or its time span, grown).
    Group(GroupEntry),
    /// The first start's record of replays already there: begun (`false`) or complete.
    Baseline {
        done: bool,
    },
    /// Every upload parked.
    Paused(Pause),
    /// Uploads going again.
    Resumed,
}

/// Paths in the journal: a JSON string when the path is Unicode (always, in practice), else
/// its raw OS form, so a file named in another encoding still round-trips exactly.
mod path_repr {
    use std::ffi::OsString;
    use std::path::{Path, PathBuf};

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Text(String),
        Unix { unix_bytes: Vec<u8> },
        Windows { windows_wide: Vec<u16> },
    }

    pub fn serialize<S: Serializer>(path: &Path, s: S) -> Result<S::Ok, S::Error> {
        if let Some(text) = path.to_str() {
            return s.serialize_str(text);
        }
        #[cfg(unix)]
        let repr = {
            use std::os::unix::ffi::OsStrExt;
            Repr::Unix {
                unix_bytes: path.as_os_str().as_bytes().to_vec(),
            }
        };
        #[cfg(windows)]
        let repr = {
            use std::os::windows::ffi::OsStrExt;
            Repr::Windows {
                windows_wide: path.as_os_str().encode_wide().collect(),
            }
        };
        #[cfg(not(any(unix, windows)))]
        let repr = Repr::Text(path.to_string_lossy().into_owned());
        repr.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
        Ok(match Repr::deserialize(d)? {
            Repr::Text(text) => PathBuf::from(text),
            Repr::Unix { unix_bytes } => from_unix(unix_bytes),
            Repr::Windows { windows_wide } => from_windows(windows_wide),
        })
    }

    #[cfg(unix)]
    fn from_unix(bytes: Vec<u8>) -> PathBuf {
        use std::os::unix::ffi::OsStringExt;
        PathBuf::from(OsString::from_vec(bytes))
    }

    #[cfg(not(unix))]
    fn from_unix(bytes: Vec<u8>) -> PathBuf {
        PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
    }

    #[cfg(windows)]
    fn from_windows(wide: Vec<u16>) -> PathBuf {
        use std::os::windows::ffi::OsStringExt;
        PathBuf::from(OsString::from_wide(&wide))
    }

    #[cfg(not(windows))]
    fn from_windows(wide: Vec<u16>) -> PathBuf {
        PathBuf::from(String::from_utf16_lossy(&wide))
    }
}

/// Reads and parses the journal at `path`; `Ok(None)` when there is none.
fn read_parsed(path: &Path) -> Result<Option<Parsed>, StateError> {
    match File::open(path) {
        Ok(file) => State::parse_counted(BufReader::new(file)).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
    .map_err(io_err("reading state", path))
}

/// A parsed journal and what compaction needs to know of the file.
struct Parsed {
    state: State,
    skipped: usize,
    lines: usize,
    /// The last line ended with a newline (appending after it is safe).
    clean_end: bool,
}

/// The state in memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    /// Replays by header Id.
    pub replays: BTreeMap<String, Record>,
    /// Invalid files by path.
    pub invalid: BTreeMap<PathBuf, InvalidFile>,
    /// Uploads parked, when they are.
    pub pause: Option<Pause>,
    /// Automatic groups by key (`day:…`, `session:…`).
    pub groups: BTreeMap<String, GroupEntry>,
    /// Whether the first start finished recording the replays already there: `Some(false)`
    /// while it is under way (a restart goes on with it), `None` in files older than this.
    pub baseline: Option<bool>,
}

/// What loading found.
#[derive(Debug)]
pub struct Loaded {
    /// The state.
    pub state: State,
    /// No state file existed, or the first start was stopped before it had recorded every
    /// replay already there: replays found by the first scan are not uploaded.
    pub first_start: bool,
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
    /// The I/O error.
    #[source]
    pub source: std::io::Error,
}

/// What to do about a state error the user can fix.
fn hint(error: &std::io::Error) -> &'static str {
    use std::io::ErrorKind;
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

fn io_err<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> StateError + 'a {
    move |source| StateError {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Now, as RFC 3339 UTC with seconds.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// A file's mtime in ns since the epoch (0 when unknown).
pub fn mtime_ns(meta: &std::fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl State {
    fn apply(&mut self, entry: Entry) {
        match entry {
            Entry::Header { .. } => {}
            Entry::Replay(record) => {
                self.replays.insert(record.id.clone(), *record);
            }
            Entry::Invalid(file) => {
                self.invalid.insert(file.path.clone(), file);
            }
            Entry::Cleared { path } => {
                self.invalid.remove(&path);
            }
            Entry::Group(group) => {
                self.groups.insert(group.key.clone(), group);
            }
            Entry::Baseline { done } => self.baseline = Some(done),
            Entry::Paused(pause) => self.pause = Some(pause),
            Entry::Resumed => self.pause = None,
        }
    }

    /// Reads a journal without changing anything (for `status` while the daemon runs).
    /// `Ok(None)` when there is no file.
    pub fn read(path: &Path) -> Result<Option<(State, usize)>, StateError> {
        Ok(read_parsed(path)?.map(|p| (p.state, p.skipped)))
    }

    /// Parses journal lines: the state and how many lines were skipped as unreadable.
    /// An error of kind `Other` means the content is not an autochase state at all.
    pub fn parse(input: impl BufRead) -> std::io::Result<(State, usize)> {
        State::parse_counted(input).map(|p| (p.state, p.skipped))
    }

    fn parse_counted(mut input: impl BufRead) -> std::io::Result<Parsed> {
        let mut state = State::default();
        let mut skipped = 0;
        let mut header_ok = false;
        let mut lines = 0;
        let mut clean_end = true;
        let mut line = Vec::new();
        for n in 0.. {
            line.clear();
            if input.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            lines += 1;
            clean_end = line.last() == Some(&b'\n');
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Entry>(&line) {
                Ok(Entry::Header { format, version }) if n == 0 => {
                    if format != FORMAT || version > VERSION {
                        // Not damage: a newer autochase wrote it. Never set it aside.
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::Unsupported,
                            format!(
                                "format {format} v{version} is not one this build reads (v{VERSION}); upgrade autochase"
                            ),
                        ));
                    }
                    header_ok = true;
                }
                Ok(entry) if header_ok => state.apply(entry),
                _ => skipped += 1,
            }
        }
        if !header_ok {
            return Err(std::io::Error::other(
                "no valid header line: not an autochase state file",
            ));
        }
        Ok(Parsed {
            state,
            skipped,
            lines,
            clean_end,
        })
    }

    /// The compact journal holding exactly this state, and its line count.
    pub fn encode(&self) -> (Vec<u8>, usize) {
        let mut out = Vec::with_capacity(256 * (self.replays.len() + 1));
        let lines = self.encode_into(&mut out).expect("writing to memory");
        (out, lines)
    }

    /// Writes the compact journal to `out` (streamed: 20,000 records need no 8 MB buffer).
    fn encode_into(&self, mut out: impl Write) -> std::io::Result<usize> {
        let mut lines = 0;
        let mut push = |entry: &Entry| -> std::io::Result<()> {
            serde_json::to_writer(&mut out, entry).map_err(std::io::Error::other)?;
            out.write_all(b"\n")?;
            lines += 1;
            Ok(())
        };
        push(&Entry::Header {
            format: FORMAT.into(),
            version: VERSION,
        })?;
        for record in self.replays.values() {
            push(&Entry::Replay(Box::new(record.clone())))?;
        }
        for file in self.invalid.values() {
            push(&Entry::Invalid(file.clone()))?;
        }
        if let Some(done) = self.baseline {
            push(&Entry::Baseline { done })?;
        }
        for group in self.groups.values() {
            push(&Entry::Group(group.clone()))?;
        }
        if let Some(pause) = &self.pause {
            push(&Entry::Paused(pause.clone()))?;
        }
        out.flush()?;
        Ok(lines)
    }

    /// What `retry` puts back, all of it or what matches `which` (a replay Id or a path): the
    /// failed replays, already set pending, and the invalid files to forget.
    pub fn retry_targets(&self, which: Option<&str>) -> (Vec<Record>, Vec<PathBuf>) {
        let matches = |id: &str, path: &Path| which.is_none_or(|w| w == id || Path::new(w) == path);
        let records = self
            .replays
            .values()
            .filter(|r| r.status == Status::Failed && matches(&r.id, &r.path))
            .map(|r| {
                let mut r = r.clone();
                r.status = Status::Pending;
                r.last_error = None;
                r.updated = now_rfc3339();
                r
            })
            .collect();
        let invalid = self
            .invalid
            .keys()
            .filter(|p| matches("", p))
            .cloned()
            .collect();
        (records, invalid)
    }

    /// Lines a compact journal of this state has.
    fn live_lines(&self) -> usize {
        1 + usize::from(self.baseline.is_some())
            + self.replays.len()
            + self.invalid.len()
            + self.groups.len()
            + usize::from(self.pause.is_some())
    }

    /// Path → record, for skipping unchanged files without reading them.
    pub fn by_path(&self) -> PathIndex {
        let mut index = PathIndex::default();
        for r in self.replays.values() {
            index.insert(&r.path, &r.id);
        }
        index
    }
}

/// Path → replay Id, keyed by a hash of the path so that 20,000 paths are not held twice in
/// memory. A hit may be a collision: callers confirm it against the record's own path.
#[derive(Debug, Default)]
pub struct PathIndex(HashMap<u64, String>);

impl PathIndex {
    fn key(path: &Path) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        path.hash(&mut hasher);
        hasher.finish()
    }

    /// Remembers that `path` holds replay `id`.
    pub fn insert(&mut self, path: &Path, id: &str) {
        self.0.insert(PathIndex::key(path), id.to_owned());
    }

    /// The Id recorded for `path` (or for a path with the same hash).
    pub fn get(&self, path: &Path) -> Option<&str> {
        self.0.get(&PathIndex::key(path)).map(String::as_str)
    }
}

/// The writable journal, owned by the engine.
pub struct Journal {
    path: PathBuf,
    file: File,
    lines: usize,
}

impl Journal {
    /// Opens `state_dir/state.jsonl`, creating the folder, keeping a damaged file aside, and
    /// compacting it. Fails (so the daemon stops) when the folder is not writable.
    pub fn open(state_dir: &Path) -> Result<(Journal, Loaded), StateError> {
        std::fs::create_dir_all(state_dir).map_err(io_err("creating state folder", state_dir))?;
        let path = state_dir.join(STATE_FILE);
        let read = read_parsed(&path);
        // Compact only when it pays: a new, damaged or torn file, or one grown well past the
        // state it holds. Rewriting 20,000 records at every start would cost time and writes.
        let mut compact = true;
        let mut lines = 0;
        let (state, first_start, kept_aside, skipped_lines) = match read {
            Ok(None) => (State::default(), true, None, 0),
            Ok(Some(parsed)) => {
                let live = parsed.state.live_lines();
                compact = parsed.skipped > 0 || !parsed.clean_end || parsed.lines > 2 * live + 64;
                lines = parsed.lines;
                let unfinished = parsed.state.baseline == Some(false);
                (parsed.state, unfinished, None, parsed.skipped)
            }
            Err(e) if e.source.kind() == std::io::ErrorKind::Other => {
                let aside = path.with_extension(format!(
                    "jsonl.damaged-{}",
                    SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs())
                ));
                std::fs::rename(&path, &aside)
                    .map_err(io_err("keeping damaged state aside", &path))?;
                warn!(path = %path.display(), kept = %aside.display(), error = %e.source, "state file damaged; kept aside, starting a new one (ballchasing's duplicate answers prevent double uploads)");
                (State::default(), false, Some(aside), 0)
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
            Journal { path, file, lines }
        };
        Ok((
            journal,
            Loaded {
                state,
                first_start,
                kept_aside,
                skipped_lines,
            },
        ))
    }

    /// Writes a compact journal of `state` atomically and opens it for appending.
    fn rewrite(path: &Path, state: &State) -> Result<Journal, StateError> {
        let tmp = path.with_extension("jsonl.tmp");
        let lines = {
            let f = File::create(&tmp).map_err(io_err("writing state", &tmp))?;
            let mut out = std::io::BufWriter::with_capacity(64 * 1024, f);
            let lines = state
                .encode_into(&mut out)
                .map_err(io_err("writing state", &tmp))?;
            out.into_inner()
                .map_err(|e| e.into_error())
                .and_then(|f| f.sync_all())
                .map_err(io_err("syncing state", &tmp))?;
            lines
        };
        std::fs::rename(&tmp, path).map_err(io_err("replacing state", path))?;
        sync_dir(path.parent().unwrap_or(Path::new(".")));
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(io_err("opening state", path))?;
        Ok(Journal {
            path: path.to_path_buf(),
            file,
            lines,
        })
    }

    fn append(&mut self, entry: &Entry) -> Result<(), StateError> {
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

/// Puts failed replays (and invalid files) back: all of them, or the one whose Id or path is
/// `which`. The caller holds the lock. Returns how many changed.
pub fn retry_failed(state_dir: &Path, which: Option<&str>) -> Result<usize, StateError> {
    let (mut journal, loaded) = Journal::open(state_dir)?;
    let (records, invalid) = loaded.state.retry_targets(which);
    for record in &records {
        journal.record(record)?;
    }
    for path in &invalid {
        journal.cleared(path)?;
    }
    Ok(records.len() + invalid.len())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) {
    // Makes the rename durable; failing here loses nothing that the next write won't redo.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, status: Status) -> Record {
        let mut r = Record::pending(id.into(), PathBuf::from(format!("/demos/{id}.replay")));
        r.size = 10;
        r.mtime_ns = 1;
        r.sha256 = "00".into();
        r.status = status;
        r
    }

    #[test]
    fn changes_survive_a_reopen_and_the_last_write_wins() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, loaded) = Journal::open(dir.path()).unwrap();
        assert!(loaded.first_start);
        journal.record(&record("A", Status::Pending)).unwrap();
        let mut done = record("A", Status::Uploaded);
        done.outcome = Some(Outcome::Duplicate);
        journal.record(&done).unwrap();
        journal.record(&record("B", Status::Skipped)).unwrap();
        drop(journal);
        let (_, loaded) = Journal::open(dir.path()).unwrap();
        assert!(!loaded.first_start);
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
    }

    #[test]
    fn garbage_is_kept_aside_and_a_new_state_starts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(STATE_FILE), b"\x00\x01garbage\n{}").unwrap();
        let (_, loaded) = Journal::open(dir.path()).unwrap();
        assert!(
            !loaded.first_start,
            "damage is not a first start: nothing is skipped"
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
                at: now_rfc3339(),
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

/// Properties: whatever the order of changes and wherever a crash cuts the file, a reload
/// gives exactly the changes whose lines were complete: nothing recorded is lost or altered.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Record(u8, Status),
        Invalid(u8),
        Cleared(u8),
        Paused,
        Resumed,
    }

    fn op() -> impl Strategy<Value = Op> {
        let status = prop_oneof![
            Just(Status::Pending),
            Just(Status::Uploaded),
            Just(Status::Failed),
            Just(Status::Skipped)
        ];
        prop_oneof![
            (0u8..6, status).prop_map(|(i, s)| Op::Record(i, s)),
            (0u8..6).prop_map(Op::Invalid),
            (0u8..6).prop_map(Op::Cleared),
            Just(Op::Paused),
            Just(Op::Resumed),
        ]
    }

    fn entry(op: &Op) -> Entry {
        let path = |i: u8| PathBuf::from(format!("/demos/\u{e9}{i}.replay"));
        match op {
            Op::Record(i, status) => {
                let mut r = Record::pending(format!("ID{i}"), path(*i));
                r.status = *status;
                r.attempts = u32::from(*i);
                Entry::Replay(Box::new(r))
            }
            Op::Invalid(i) => Entry::Invalid(InvalidFile {
                path: path(*i),
                size: u64::from(*i),
                mtime_ns: 7,
                reason: "corrupt replay: \"quoted\"\nnewline".into(),
                at: now_rfc3339(),
            }),
            Op::Cleared(i) => Entry::Cleared { path: path(*i) },
            Op::Paused => Entry::Paused(Pause::new(
                PauseCause::Quota,
                "quota".into(),
                std::time::Duration::from_secs(60),
            )),
            Op::Resumed => Entry::Resumed,
        }
    }

    proptest! {
        #[test]
        fn a_crash_anywhere_keeps_every_complete_change(
            ops in proptest::collection::vec(op(), 0..30),
            cut in 0.0f64..=1.0,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let (mut journal, _) = Journal::open(dir.path()).unwrap();
            // The state after each prefix of the changes.
            let mut expected = vec![State::default()];
            for op in &ops {
                let entry = entry(op);
                journal.append(&entry).unwrap();
                let mut next = expected.last().unwrap().clone();
                next.apply(entry);
                expected.push(next);
            }
            drop(journal);
            let full = std::fs::read(dir.path().join(STATE_FILE)).unwrap();
            let header = full.iter().position(|&b| b == b'\n').unwrap() + 1;
            let at = header + ((full.len() - header) as f64 * cut) as usize;
            let kept = &full[..at];
            let (state, skipped) = State::parse(kept).unwrap();
            let mut complete = kept.iter().filter(|&&b| b == b'\n').count() - 1;
            if full.get(at) == Some(&b'\n') && kept.last() != Some(&b'\n') && at > header {
                complete += 1; // a whole line, only its newline missing
            }
            prop_assert_eq!(&state, &expected[complete]);
            prop_assert!(skipped <= 1, "only a torn last line is skipped");
        }
    }
}
