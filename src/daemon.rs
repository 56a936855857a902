//! Wiring: the single-instance lock, the daemon's tasks (scanner, reload, inbox, engine),
//! the one-shot upload (readiness is in `readiness`, the stop signals in `signals`).

use std::fs::{File, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::api;
use crate::config::Config;
use crate::engine::{Engine, EngineStatus, Mode, Report, Sink};
use crate::reload;
use crate::state::StateError;
use crate::watcher;

/// The stop signals live in `signals`; re-exported for the commands that wait for one.
pub use crate::signals::shutdown_signal;

/// How long shutdown waits for the upload in flight (the service units allow more).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// The lock file's name inside `state_dir`.
pub const LOCK_FILE: &str = "autochase.lock";

/// Why the daemon or a one-shot command stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The state could not be read or written.
    #[error(transparent)]
    State(#[from] StateError),
    /// Another autochase owns the state folder.
    #[error(
        "another autochase is already running with state folder {0}; stop it first (or use its `status`)"
    )]
    AlreadyRunning(PathBuf),
    /// The API client could not be built from the config.
    #[error("cannot set up the ballchasing client: {0}")]
    Client(#[from] api::Error),
}

/// The file beside the lock that says who holds it (the lock file itself cannot be read by
/// others on Windows while it is locked).
pub const HOLDER_FILE: &str = "autochase.holder";

/// Holds the state folder's lock for as long as it lives.
#[derive(Debug)]
pub struct Lock {
    _file: File,
    holder: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Before the lock goes with the file: nobody reads a role that is no longer true.
        let _ = std::fs::remove_file(&self.holder);
    }
}

/// Who holds the state folder's lock: what another command may expect of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// `autochase run`: it reads requests from the inbox.
    Daemon,
    /// A command working alone (`upload`, `retry`, `forget` with no daemon): it reads no
    /// requests, and lets go when it is done.
    Command,
}

impl Holder {
    fn word(self) -> &'static str {
        match self {
            Holder::Daemon => "daemon",
            Holder::Command => "command",
        }
    }
}

/// Takes the state folder's lock without waiting, as `role`.
pub fn try_lock(state_dir: &Path, role: Holder) -> Result<Lock, DaemonError> {
    crate::fsutil::create_private_dir(state_dir)
        .map_err(|e| StateError::io("creating state folder", state_dir, e))?;
    let path = state_dir.join(LOCK_FILE);
    let mut file = crate::fsutil::private_file()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| StateError::io("opening lock file", &path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(DaemonError::AlreadyRunning(state_dir.to_path_buf()));
        }
        Err(TryLockError::Error(source)) => {
            return Err(StateError::io("locking", &path, source).into());
        }
    }
    // The OS lock is what counts and dies with the process; the holder file says who.
    let _ = file.set_len(0);
    let _ = writeln!(file, "{}", std::process::id());
    let holder = state_dir.join(HOLDER_FILE);
    let said = crate::fsutil::private_file()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&holder)
        .and_then(|mut f| writeln!(f, "{} {}", std::process::id(), role.word()));
    if let Err(e) = said {
        tracing::debug!(path = %holder.display(), error = %e, "cannot say who holds the lock");
    }
    Ok(Lock {
        _file: file,
        holder,
    })
}

/// Takes the lock as `role`, waiting while a command holds it (`say` is told once); fails
/// at once when a daemon holds it.
pub async fn lock_after_commands(
    state_dir: &Path,
    role: Holder,
    say: impl FnOnce(),
) -> Result<Lock, DaemonError> {
    let mut say = Some(say);
    loop {
        match try_lock(state_dir, role) {
            Err(DaemonError::AlreadyRunning(dir)) => match holder(state_dir) {
                Some(Holder::Daemon) => return Err(DaemonError::AlreadyRunning(dir)),
                _ => {
                    if let Some(say) = say.take() {
                        say();
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            other => return other,
        }
    }
}

/// Who holds the state folder's lock right now, if anyone. Read-only: creates nothing and
/// writes nothing, so `status` never disturbs a daemon that is starting (it only holds the
/// lock for the instant of the test).
pub fn holder(state_dir: &Path) -> Option<Holder> {
    let file = File::open(state_dir.join(LOCK_FILE)).ok()?;
    if !matches!(file.try_lock(), Err(TryLockError::WouldBlock)) {
        return None;
    }
    // The holder writes its role just after it takes the lock: give it a moment. An older
    // autochase wrote none, and only its daemon held the lock for long.
    for _ in 0..20 {
        let text = std::fs::read_to_string(state_dir.join(HOLDER_FILE)).unwrap_or_default();
        match text.split_whitespace().nth(1) {
            Some("command") => return Some(Holder::Command),
            Some(_) => return Some(Holder::Daemon),
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    Some(Holder::Daemon)
}

/// True when a daemon holds the state folder's lock right now.
pub fn is_running(state_dir: &Path) -> bool {
    holder(state_dir) == Some(Holder::Daemon)
}

/// Runs the daemon until `cancel` fires: watch, validate, queue, upload, record. A command
/// holding the state folder (an `upload` when the service starts at login) is waited for.
pub async fn run(config: Config, cancel: CancellationToken) -> Result<(), DaemonError> {
    let lock = tokio::select! {
        lock = lock_after_commands(&config.state_dir, Holder::Daemon, || {
            info!("another autochase command is working in the state folder; starting when it is done");
        }) => lock?,
        _ = cancel.cancelled() => return Ok(()),
    };
    Daemon::with_lock(config, lock)?.run(cancel).await
}

/// A daemon that holds its lock and has loaded its state, ready to run.
pub struct Daemon {
    config: Arc<Config>,
    engine: Engine,
    _lock: Lock,
}

impl Daemon {
    /// Takes the lock, builds the client and loads the state; fails fast on any of them.
    pub fn new(config: Config) -> Result<Daemon, DaemonError> {
        let lock = try_lock(&config.state_dir, Holder::Daemon)?;
        Daemon::with_lock(config, lock)
    }

    /// As `new`, with the lock already taken (by `lock_after_commands`).
    pub fn with_lock(config: Config, lock: Lock) -> Result<Daemon, DaemonError> {
        let client = config.client()?;
        if let Some(client) = &client {
            info!(api = %client.base_url(), token = %client.token_fingerprint(), "ballchasing client ready");
        }
        let config = Arc::new(config);
        let engine = Engine::new(config.clone(), Mode::Daemon, client)?;
        Ok(Daemon {
            config,
            engine,
            _lock: lock,
        })
    }

    /// Follows what the engine is doing.
    pub fn status(&self) -> tokio::sync::watch::Receiver<EngineStatus> {
        self.engine.watch_status()
    }

    /// Runs until `cancel` fires, then shuts down gracefully.
    pub async fn run(self, cancel: CancellationToken) -> Result<(), DaemonError> {
        let Daemon {
            config,
            engine,
            _lock,
        } = self;
        run_engine(config, engine, cancel).await
    }
}

async fn run_engine(
    config: Arc<Config>,
    engine: Engine,
    cancel: CancellationToken,
) -> Result<(), DaemonError> {
    let (tx, rx) = mpsc::channel(4096);
    let (requests_tx, requests_rx) = mpsc::channel(1);
    let (config_tx, config_rx) = tokio::sync::watch::channel(config.clone());
    let (folders_tx, folders_rx) =
        tokio::sync::watch::channel((config.folders(), config.rescan_interval));
    let side_cancel = cancel.child_token();
    // Kept alive while the engine runs: requests from `autochase retry`.
    let _inbox = crate::inbox::watch(&config.state_dir, requests_tx);
    let scanner = tokio::spawn(watcher::scanner(folders_rx, tx, side_cancel.clone()));
    let reloader = tokio::spawn(reload::run(
        config.clone(),
        move |new: Config| {
            let new = Arc::new(new);
            let _ = folders_tx.send((new.folders(), new.rescan_interval));
            let _ = config_tx.send(new);
        },
        side_cancel.clone(),
    ));
    let readiness = tokio::spawn(crate::readiness::follow(engine.watch_status()));
    let result = engine
        .run(rx, Some(requests_rx), config_rx, cancel, SHUTDOWN_GRACE)
        .await;
    readiness.abort();
    crate::readiness::stopping();
    side_cancel.cancel();
    scanner.abort();
    reloader.abort();
    result?;
    info!("stopped");
    Ok(())
}

/// Uploads `files` once, in this process, without a daemon (the caller holds the lock), and
/// returns one report per file, as they come, through `progress`. `force` uploads replays the
/// filters would skip.
pub async fn upload_once(
    config: Config,
    files: Vec<PathBuf>,
    force: bool,
    mut progress: impl FnMut(&Report),
) -> Result<Vec<Report>, DaemonError> {
    let client = config.client()?;
    let config = Arc::new(config);
    let mut engine = Engine::new(config.clone(), Mode::OneShot, client)?;
    engine.notice_folders(&(config.folders())())?;
    let (report_tx, mut report_rx) = mpsc::unbounded_channel();
    engine.ask(files, force, Sink::Channel(report_tx));
    // No watcher and no scans: the engine looks at the files asked about, then stops.
    let (_, hints) = mpsc::channel(1);
    let cancel = CancellationToken::new();
    // A one-shot upload never reloads its config: the sender goes at once.
    let (_, configs) = tokio::sync::watch::channel(config.clone());
    let engine_task = tokio::spawn(engine.run(hints, None, configs, cancel, SHUTDOWN_GRACE));
    let mut reports = Vec::new();
    while let Some(report) = report_rx.recv().await {
        progress(&report);
        reports.push(report);
    }
    engine_task.await.expect("engine task")?;
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_daemon_waits_for_a_command_but_never_for_a_daemon() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(holder(dir.path()), None);
        let command = try_lock(dir.path(), Holder::Command).unwrap();
        assert_eq!(holder(dir.path()), Some(Holder::Command));
        assert!(!is_running(dir.path()), "a command is not a daemon");
        let path = dir.path().to_path_buf();
        let mut told = false;
        let waiting =
            tokio::spawn(async move { lock_after_commands(&path, Holder::Daemon, || {}).await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "waits while the command works");
        drop(command);
        let daemon = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("takes the lock once the command is done")
            .unwrap()
            .unwrap();
        assert!(is_running(dir.path()));
        let refused = lock_after_commands(dir.path(), Holder::Command, || told = true).await;
        assert!(matches!(refused, Err(DaemonError::AlreadyRunning(_))));
        assert!(!told, "a daemon is never waited for");
        // An older autochase said nothing of its role: it was a daemon.
        std::fs::remove_file(dir.path().join(HOLDER_FILE)).unwrap();
        assert_eq!(holder(dir.path()), Some(Holder::Daemon));
        drop(daemon);
        assert_eq!(holder(dir.path()), None);
        assert!(
            !dir.path().join(HOLDER_FILE).exists(),
            "taken away with the lock"
        );
    }
}
