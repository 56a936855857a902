//! The crash-safe state: what autochase knows of every replay and file, kept as an
//! append-only journal of JSON lines (`state.jsonl`, see `journal`), one line per change.
//! A kill at any instant leaves a file that loads: at worst the last, torn line is dropped.

mod journal;
pub(crate) mod path_repr;
mod record;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use crate::groups::GroupEntry;

pub use journal::{Journal, Loaded, StateError};
pub use record::{
    BASELINE_REASON, FORGOTTEN_REASON, Folder, InvalidFile, OLDER_REASON, Outcome, Pause,
    PauseCause, Record, Status,
};

/// The journal's file name inside `state_dir`.
pub const STATE_FILE: &str = "state.jsonl";
/// The format's name in the header line.
pub const FORMAT: &str = "autochase-state";
/// The format version this build writes; it reads every version up to it. Version 2 adds
/// replay folders (`folder`), forgotten replays (`forgot`) and the `missing` status; a
/// version-1 journal is rewritten as version 2 when opened.
pub const VERSION: u32 = 2;

/// Why journal content could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Reading failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The content is not an autochase state at all (damage, or another file).
    #[error("no valid header line: not an autochase state file")]
    NotAState,
    /// A newer autochase wrote it: not damage, never to be set aside.
    #[error(
        "format {format} v{version} is not one this build reads (v{VERSION}); upgrade autochase"
    )]
    Newer {
        /// The format named in its header.
        format: String,
        /// Its version.
        version: u32,
    },
}

/// A parsed journal and what compaction needs to know of the file.
struct Parsed {
    state: State,
    /// The version in the header.
    version: u32,
    skipped: usize,
    lines: usize,
    /// The last line ended with a newline (appending after it is safe).
    clean_end: bool,
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
    /// Version 1: the first start's record of replays already there, begun or complete.
    Baseline {
        done: bool,
    },
    /// A replay folder whose replays already there are recorded (its baseline is done).
    Folder(Folder),
    /// A replay folder a command (`upload`) saw before any baseline: replays saved after
    /// `since` are new ones when the daemon first looks at it.
    Noticed(Folder),
    /// A replay forgotten on request (`autochase forget`): out of sight, kept as a marker.
    Forgot {
        id: String,
    },
    /// Every upload parked.
    Paused(Pause),
    /// Uploads going again.
    Resumed,
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
    /// Version 1 only: whether the first start finished recording the replays already
    /// there. A version-1 state that says so adopts the folders it finds as done.
    pub baseline: Option<bool>,
    /// Replay folders whose replays already there are recorded, by `platform::path_key`. A
    /// folder not listed gets a baseline when seen: its replays already there are skipped.
    pub folders: BTreeMap<String, Folder>,
    /// Replay folders a command saw before their baseline, by key, with when (to the
    /// nanosecond): at the baseline, replays saved since then are not taken for old ones.
    pub noticed: BTreeMap<String, Folder>,
}

/// Now, as RFC 3339 UTC with seconds.
pub fn now_rfc3339() -> String {
    crate::dates::now_utc()
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
            Entry::Folder(folder) => {
                self.noticed.remove(&folder.key);
                self.folders.insert(folder.key.clone(), folder);
            }
            Entry::Noticed(folder) => {
                if !self.folders.contains_key(&folder.key) {
                    self.noticed.insert(folder.key.clone(), folder);
                }
            }
            Entry::Forgot { id } => {
                if let Some(record) = self.replays.get_mut(&id) {
                    record.forget();
                }
            }
            Entry::Paused(pause) => self.pause = Some(pause),
            Entry::Resumed => self.pause = None,
        }
    }

    /// Parses journal lines: the state and how many lines were skipped as unreadable.
    pub fn parse(input: impl BufRead) -> Result<(State, usize), LoadError> {
        State::parse_counted(input).map(|p| (p.state, p.skipped))
    }

    fn parse_counted(mut input: impl BufRead) -> Result<Parsed, LoadError> {
        let mut state = State::default();
        let mut skipped = 0;
        let mut header_ok = false;
        let mut found_version = 0;
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
                        return Err(LoadError::Newer { format, version });
                    }
                    header_ok = true;
                    found_version = version;
                }
                Ok(entry) if header_ok => state.apply(entry),
                _ => skipped += 1,
            }
        }
        if !header_ok {
            return Err(LoadError::NotAState);
        }
        Ok(Parsed {
            state,
            version: found_version,
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
        for folder in self.folders.values() {
            push(&Entry::Folder(folder.clone()))?;
        }
        for folder in self.noticed.values() {
            push(&Entry::Noticed(folder.clone()))?;
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

    /// Invalid files not forgotten: the ones `status` lists and `retry` and `forget` name.
    pub fn invalid_in_sight(&self) -> impl Iterator<Item = &InvalidFile> {
        self.invalid.values().filter(|f| !f.forgotten)
    }

    /// Files `retry` asks for again: replays refused, missing or still pending, and files
    /// judged invalid; all of them, or those whose Id or path `matches`.
    pub fn retry_paths(&self, matches: impl Fn(Option<&str>, &Path) -> bool) -> Vec<PathBuf> {
        let records = self
            .replays
            .values()
            .filter(|r| {
                matches!(
                    r.status,
                    Status::Refused | Status::Missing | Status::Pending
                )
            })
            .filter(|r| matches(Some(&r.id), &r.path))
            .map(|r| r.path.clone());
        let invalid = self
            .invalid_in_sight()
            .filter(|f| matches(None, &f.path))
            .map(|f| f.path.clone());
        let mut all: Vec<PathBuf> = records.chain(invalid).collect();
        all.sort();
        all.dedup();
        all
    }

    /// Lines a compact journal of this state has.
    fn live_lines(&self) -> usize {
        1 + usize::from(self.baseline.is_some())
            + self.folders.len()
            + self.noticed.len()
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
        Noticed(u8),
        Folder(u8),
        Paused,
        Resumed,
    }

    fn op() -> impl Strategy<Value = Op> {
        let status = prop_oneof![
            Just(Status::Pending),
            Just(Status::Uploaded),
            Just(Status::Refused),
            Just(Status::Skipped)
        ];
        prop_oneof![
            (0u8..6, status).prop_map(|(i, s)| Op::Record(i, s)),
            (0u8..6).prop_map(Op::Invalid),
            (0u8..6).prop_map(Op::Cleared),
            (0u8..3).prop_map(Op::Noticed),
            (0u8..3).prop_map(Op::Folder),
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
                forgotten: i % 2 == 0,
            }),
            Op::Cleared(i) => Entry::Cleared { path: path(*i) },
            Op::Noticed(i) | Op::Folder(i) => {
                let folder = Folder {
                    key: format!("/demos{i}"),
                    path: format!("/demos{i}").into(),
                    since: "2026-12-05T08:00:00.123456789Z".into(),
                };
                match op {
                    Op::Noticed(_) => Entry::Noticed(folder),
                    _ => Entry::Folder(folder),
                }
            }
            Op::Paused => Entry::Paused(Pause::new(
                PauseCause::Quota,
                "quota".into(),
                std::time::Duration::from_secs(60),
                false,
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
