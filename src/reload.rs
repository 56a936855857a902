//! Config reload without a restart: on SIGHUP and whenever the config file changes, the file
//! is read again; a good config is handed over, a bad one is reported and the running one kept.

use std::path::Path;
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
    // Keeps the watch alive for as long as this task runs.
    let _watcher = watch_file(&path, tx.clone());
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
        if !path.exists() {
            warn!(config = %path.display(), "config file is gone; keeping the running config");
            continue;
        }
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
    }
}

/// Watches the folder holding `path` (editors replace the file, so the file itself cannot
/// be watched) and reports changes to that file name.
fn watch_file(path: &Path, tx: mpsc::Sender<()>) -> Option<notify::RecommendedWatcher> {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = path.file_name()?.to_owned();
    crate::watcher::watch_folder(&dir, "config", move |event| {
        if !matches!(event.kind, EventKind::Access(_))
            && event.paths.iter().any(|p| p.file_name() == Some(&name))
        {
            let _ = tx.try_send(());
        }
    })
}
