//! Finding replay files: the notify watcher (events are hints, never proof), the folder
//! scan, and the scanner task that rescans periodically and re-arms watches on folders that
//! appear, vanish or come back.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher as _};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// A hint that a replay file may have changed (never proof: the engine looks for itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// Look at this file.
    Seen {
        /// The file.
        path: PathBuf,
        /// Found by a folder scan rather than a watcher event.
        from_scan: bool,
    },
    /// A full scan of every folder finished; these folders existed and were scanned.
    ScanDone {
        /// The folders scanned.
        folders: Vec<PathBuf>,
    },
}

/// True for `*.replay` in any case.
pub fn is_replay(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("replay"))
}

/// Lists the `*.replay` entries of each folder that exists (not recursive). Entries that are
/// not files (a folder named `x.replay`) are listed too; validation reports them.
pub fn scan(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if is_replay(&path) {
                found.push(path);
            }
        }
    }
    found
}

/// Which events say a replay file may have new content, or may be gone (a replay waiting
/// for its upload must not wait for a file that was deleted or moved away).
fn is_file_event(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Create(_)
            | EventKind::Remove(_)
            | EventKind::Modify(ModifyKind::Data(_))
            | EventKind::Modify(ModifyKind::Any)
            | EventKind::Modify(ModifyKind::Other)
            | EventKind::Modify(ModifyKind::Name(_))
            | EventKind::Access(AccessKind::Close(AccessMode::Write))
            | EventKind::Any
    )
}

/// Which events on a folder say it may have appeared, vanished or moved. Opening or reading
/// a folder (our own scan does) reports an access event on it: that one must never trigger
/// a rescan, or the scan feeds itself in a busy loop.
fn is_structural_event(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Create(_)
            | EventKind::Remove(_)
            | EventKind::Modify(ModifyKind::Name(_))
            | EventKind::Any
            | EventKind::Other
    )
}

/// Where the folders to watch come from; asked again before every scan, so discovered
/// folders that appear later (a first launch, an SD card) and a reloaded config take effect.
pub type Folders = Arc<dyn Fn() -> Vec<PathBuf> + Send + Sync>;

/// Runs until cancelled: arms watches, scans every folder at start and every `interval`,
/// and again whenever the watcher reports lost events, a watched folder's parent changes, or
/// `changed` fires (a reloaded config).
pub async fn scanner(
    folders: tokio::sync::watch::Receiver<(Folders, Duration)>,
    events: mpsc::Sender<Hint>,
    cancel: CancellationToken,
) {
    let mut folders = folders;
    let rescan = Arc::new(Notify::new());
    let current: Arc<Mutex<Vec<PathBuf>>> = Arc::default();
    let mut watcher = match make_watcher(events.clone(), rescan.clone(), current.clone()) {
        Ok(w) => Some(w),
        Err(e) => {
            warn!(error = %e, "file watching unavailable; relying on periodic rescans");
            None
        }
    };
    let mut armed: HashSet<PathBuf> = HashSet::new();
    let mut shown: Vec<PathBuf> = Vec::new();
    let mut said_none = false;
    loop {
        let (source, interval) = folders.borrow_and_update().clone();
        let dirs = tokio::task::spawn_blocking(move || source())
            .await
            .unwrap_or_default();
        if dirs != shown {
            debug!(folders = ?dirs, "folders to watch");
            shown = dirs.clone();
        }
        *current.lock().expect("folder list lock") = dirs.clone();
        if let Some(w) = watcher.as_mut() {
            arm(w, &dirs, &mut armed);
        }
        let (found, scanned) = tokio::task::spawn_blocking(move || {
            let scanned: Vec<PathBuf> = dirs.iter().filter(|d| d.is_dir()).cloned().collect();
            (scan(&scanned), scanned)
        })
        .await
        .unwrap_or_default();
        for path in found {
            if events
                .send(Hint::Seen {
                    path,
                    from_scan: true,
                })
                .await
                .is_err()
            {
                return;
            }
        }
        if scanned.is_empty() && !said_none {
            warn!(
                watched_for = shown.len(),
                "no Rocket League replay folder found yet; watching for one to appear (save a replay in the game, or set `replay_dirs` in the config; `autochase check` shows where autochase looks)"
            );
        }
        said_none = scanned.is_empty();
        if events
            .send(Hint::ScanDone { folders: scanned })
            .await
            .is_err()
        {
            return;
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
            _ = rescan.notified() => debug!("rescan requested by the watcher"),
            changed = folders.changed() => {
                if changed.is_err() {
                    return;
                }
                debug!("folders changed by a config reload");
            }
        }
    }
}

/// Watches each folder that exists; for one that does not, its nearest existing ancestor,
/// so that its creation triggers a rescan at once instead of at the next interval.
fn arm(watcher: &mut notify::RecommendedWatcher, dirs: &[PathBuf], armed: &mut HashSet<PathBuf>) {
    let mut wanted = HashSet::new();
    for dir in dirs {
        if dir.is_dir() {
            wanted.insert(dir.clone());
        } else if let Some(ancestor) = dir.ancestors().skip(1).find(|a| a.is_dir()) {
            wanted.insert(ancestor.to_path_buf());
        }
    }
    for gone in armed.difference(&wanted).cloned().collect::<Vec<_>>() {
        let _ = watcher.unwatch(&gone);
        armed.remove(&gone);
    }
    // Re-arming every time costs little and recovers watches the OS dropped silently
    // (a folder deleted and recreated, a Windows watch that errored out).
    for dir in wanted {
        let _ = watcher.unwatch(&dir);
        match watcher.watch(&dir, RecursiveMode::NonRecursive) {
            Ok(()) => {
                if armed.insert(dir.clone()) && dirs.contains(&dir) {
                    info!(folder = %dir.display(), "watching");
                }
            }
            Err(e) => {
                armed.remove(&dir);
                warn!(folder = %dir.display(), error = %watch_error_hint(&e), "cannot watch folder; it is still rescanned");
            }
        }
    }
}

fn watch_error_hint(error: &notify::Error) -> String {
    let text = error.to_string();
    if matches!(&error.kind, notify::ErrorKind::MaxFilesWatch)
        || text.contains("No space left on device")
    {
        format!(
            "{text} (raise fs.inotify.max_user_watches, e.g. `sudo sysctl fs.inotify.max_user_watches=524288`)"
        )
    } else {
        text
    }
}

fn make_watcher(
    events: mpsc::Sender<Hint>,
    rescan: Arc<Notify>,
    dirs: Arc<Mutex<Vec<PathBuf>>>,
) -> notify::Result<notify::RecommendedWatcher> {
    notify::recommended_watcher(move |result: notify::Result<notify::Event>| match result {
        Ok(event) => {
            if event.need_rescan() {
                rescan.notify_one();
            }
            for path in &event.paths {
                if is_replay(path) {
                    if is_file_event(&event.kind) {
                        // A blocking send on notify's own thread: an event is never dropped.
                        let _ = events.blocking_send(Hint::Seen {
                            path: path.clone(),
                            from_scan: false,
                        });
                    }
                } else if is_structural_event(&event.kind)
                    && dirs
                        .lock()
                        .expect("folder list lock")
                        .iter()
                        .any(|d| d.starts_with(path))
                {
                    // A watched folder (or one on the way to it) appeared or vanished.
                    rescan.notify_one();
                }
            }
        }
        Err(e) => {
            warn!(error = %e, "watcher error; rescanning");
            rescan.notify_one();
        }
    })
}

/// Watches one folder (not recursively) and calls `on_event` with each event; `None`, with a
/// warning naming `what` the folder is for, when it cannot be watched. Keep the watcher alive.
pub fn watch_folder(
    dir: &Path,
    what: &str,
    on_event: impl Fn(&notify::Event) + Send + 'static,
) -> Option<notify::RecommendedWatcher> {
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            on_event(&event);
        }
    });
    let armed = watcher.and_then(|mut w| w.watch(dir, RecursiveMode::NonRecursive).map(|()| w));
    match armed {
        Ok(watcher) => Some(watcher),
        Err(e) => {
            warn!(folder = %dir.display(), error = %e, "cannot watch the {what} folder");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_names_match_in_any_case() {
        assert!(is_replay(Path::new("/a/B.replay")));
        assert!(is_replay(Path::new("/a/B.REPLAY")));
        assert!(!is_replay(Path::new("/a/B.replay.tmp")));
        assert!(!is_replay(Path::new("/a/replay")));
    }

    #[test]
    fn file_events_are_the_documented_ones_and_removals() {
        use notify::event::{CreateKind, DataChange, RemoveKind, RenameMode};
        assert!(is_file_event(&EventKind::Create(CreateKind::File)));
        assert!(is_file_event(&EventKind::Modify(ModifyKind::Data(
            DataChange::Any
        ))));
        assert!(is_file_event(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(is_file_event(&EventKind::Modify(ModifyKind::Name(
            RenameMode::To
        ))));
        assert!(is_file_event(&EventKind::Remove(RemoveKind::File)));
        assert!(is_file_event(&EventKind::Modify(ModifyKind::Name(
            RenameMode::From
        ))));
        assert!(!is_file_event(&EventKind::Access(AccessKind::Open(
            AccessMode::Read
        ))));
    }

    #[test]
    fn reading_a_folder_is_not_a_structural_change() {
        use notify::event::{CreateKind, RemoveKind, RenameMode};
        assert!(is_structural_event(&EventKind::Create(CreateKind::Folder)));
        assert!(is_structural_event(&EventKind::Remove(RemoveKind::Folder)));
        assert!(is_structural_event(&EventKind::Modify(ModifyKind::Name(
            RenameMode::Both
        ))));
        assert!(!is_structural_event(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(!is_structural_event(&EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
    }
}
