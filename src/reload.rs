//! Config reload without a restart: on SIGHUP and whenever the config file changes (or
//! appears: a daemon started before `autochase init` picks up the config it writes), as well
//! as the file a linked config points to and the `token_file`, the config is read again; a
//! good config is handed over, a bad one is reported and the running one kept.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::EventKind;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use crate::config::{Config, TOKEN_ENV, default_config_path};

/// Editors save in several steps (temp file, rename); wait this long for them to finish.
const SETTLE: Duration = Duration::from_millis(200);

/// Runs until cancelled, calling `apply` with every good new config.
pub async fn run(
    initial: Arc<Config>,
    apply: impl Fn(Config) + Send + 'static,
    cancel: CancellationToken,
) {
    let Some(path) = initial.path.clone().or_else(default_config_path) else {
        return;
    };
    // A relative path has no folder to watch ("config.toml" → "").
    let path = std::path::absolute(&path).unwrap_or(path);
    let (tx, mut changed) = mpsc::channel::<()>(1);
    // Every file the config is read from, each watched through its folder (or the nearest
    // one that exists yet); re-armed as folders appear and as the files change.
    let mut watches = Watches::default();
    watches.arm(files_of(&path, initial.token_source.as_deref()), &tx);
    // Started without a config file: one written before the watch was armed is read now.
    if initial.path.is_none() {
        let _ = tx.try_send(());
    }
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut token_source = initial.token_source.clone();
    loop {
        #[cfg(unix)]
        let hup = async {
            match hangup.as_mut() {
                Some(h) => {
                    h.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let hup = std::future::pending::<()>();
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = changed.recv() => debug!(config = %path.display(), "config file changed"),
            _ = hup => info!("SIGHUP: reloading the config"),
        }
        tokio::time::sleep(SETTLE).await;
        while changed.try_recv().is_ok() {}
        watches.arm(files_of(&path, token_source.as_deref()), &tx);
        if !path.exists() {
            if initial.path.is_some() {
                warn!(config = %path.display(), "config file is gone; keeping the running config");
            }
            continue;
        }
        crate::readiness::reloading();
        match Config::load(Some(&path), std::env::var(TOKEN_ENV).ok()) {
            Ok(config) => {
                for warning in &config.warnings {
                    warn!("{warning}");
                }
                token_source = config.token_source.clone();
                watches.arm(files_of(&path, token_source.as_deref()), &tx);
                apply(config);
            }
            Err(e) => {
                error!("{e}; keeping the running config until the file is fixed");
            }
        }
        // Either way the daemon runs on: a config it could not read changes nothing.
        crate::readiness::reloaded();
    }
}

/// The files a config is read from: the file, what it links to (a dotfile kept elsewhere),
/// and the token file with its own target.
fn files_of(path: &Path, token_source: Option<&Path>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for file in std::iter::once(path).chain(token_source) {
        files.push(file.to_path_buf());
        if let Ok(real) = std::fs::canonicalize(file) {
            files.push(real);
        }
    }
    files.sort();
    files.dedup();
    files
}

/// The watches kept, one per file, with the folder each watches through.
#[derive(Default)]
struct Watches(Vec<(PathBuf, PathBuf, Option<notify::RecommendedWatcher>)>);

impl Watches {
    /// Watches exactly `files`, re-arming a watch only where its file or folder changed.
    fn arm(&mut self, files: Vec<PathBuf>, tx: &mpsc::Sender<()>) {
        let mut kept = Vec::with_capacity(files.len());
        for file in files {
            let folder = nearest_folder(&file);
            let old = self
                .0
                .iter()
                .position(|(f, d, _)| *f == file && *d == folder);
            match old {
                Some(i) => kept.push(self.0.swap_remove(i)),
                None => {
                    let watcher = watch_file(&file, &folder, tx.clone());
                    kept.push((file, folder, watcher));
                }
            }
        }
        self.0 = kept;
    }
}

/// The folder holding `path`, or its nearest ancestor that exists yet.
fn nearest_folder(path: &Path) -> PathBuf {
    path.ancestors()
        .skip(1)
        .find(|a| a.is_dir())
        .unwrap_or_else(|| Path::new("/"))
        .to_path_buf()
}

/// Watches `folder` (the one holding `path`, or the nearest ancestor while it does not exist;
/// editors replace the file, so the file itself cannot be watched) and reports changes to
/// that file name, or anything appearing on the way to it.
fn watch_file(
    path: &Path,
    folder: &Path,
    tx: mpsc::Sender<()>,
) -> Option<notify::RecommendedWatcher> {
    let name = path.file_name()?.to_owned();
    let on_the_way = path.parent() != Some(folder);
    crate::watcher::watch_folder(folder, "config", move |event| {
        let relevant = match on_the_way {
            true => matches!(event.kind, EventKind::Create(_) | EventKind::Modify(_)),
            false => event.paths.iter().any(|p| p.file_name() == Some(&name)),
        };
        if relevant && !matches!(event.kind, EventKind::Access(_)) {
            let _ = tx.try_send(());
        }
    })
}
