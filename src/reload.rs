//! Config reload without a restart: on SIGHUP and whenever the config file changes (or
//! appears: a daemon started before `autochase init` picks up the config it writes), the file
//! is read again; a good config is handed over, a bad one is reported and the running one kept.

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
    // Keeps the watch alive for as long as this task runs; re-armed closer to the file as
    // the folders on the way to it appear.
    let mut watching = nearest_folder(&path);
    let mut _watcher = watch_file(&path, &watching, tx.clone());
    // Started without a config file: one written before the watch was armed is read now.
    if initial.path.is_none() {
        let _ = tx.try_send(());
    }
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
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
        let nearest = nearest_folder(&path);
        if nearest != watching {
            watching = nearest;
            _watcher = watch_file(&path, &watching, tx.clone());
        }
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
