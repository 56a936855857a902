//! The daemon in-process for tests: temp folders, a fake ballchasing, and bounded waits on
//! the state file, the server and the engine's status.

use std::path::{Path, PathBuf};
use std::time::Duration;

use autochase::api::Visibility;
use autochase::config::Config;
use autochase::daemon::Daemon;
use autochase::engine::EngineStatus;
use autochase::state::{STATE_FILE, State, Status};
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::ballchasing::{FakeBallchasing, Faults, TOKEN};

pub struct Setup {
    pub root: tempfile::TempDir,
    pub demos: PathBuf,
    pub state_dir: PathBuf,
    pub fake: FakeBallchasing,
}

impl Setup {
    pub async fn new() -> Setup {
        Setup::with_faults(Faults::default()).await
    }

    /// Temp folders and a fake server that injects `faults`.
    pub async fn with_faults(faults: Faults) -> Setup {
        let root = tempfile::tempdir().unwrap();
        let demos = root.path().join("Demos");
        std::fs::create_dir(&demos).unwrap();
        let state_dir = root.path().join("state");
        Setup {
            demos,
            state_dir,
            fake: FakeBallchasing::with_faults(faults).await,
            root,
        }
    }

    pub fn config(&self) -> Config {
        let mut config = Config::from_toml(None, "", None).unwrap();
        config.token = Some(TOKEN.into());
        config.replay_dirs = vec![self.demos.clone()];
        config.discover = false;
        config.visibility = Visibility::Unlisted;
        config.api_url = self.fake.server.url();
        config.state_dir = self.state_dir.clone();
        config.upload_rate = 10.0;
        config.invalid_after = Duration::from_secs(2);
        config
    }

    pub fn start(&self) -> Running {
        self.start_with(self.config())
    }

    pub fn start_with(&self, config: Config) -> Running {
        let daemon = Daemon::new(config).unwrap();
        let status = daemon.status();
        let cancel = CancellationToken::new();
        let task = tokio::spawn(daemon.run(cancel.clone()));
        Running {
            status,
            cancel,
            task,
        }
    }

    pub fn state(&self) -> State {
        State::read(&self.state_dir.join(STATE_FILE))
            .unwrap()
            .unwrap()
            .0
    }

    /// Writes the config file commands and reloads read, pointing at the test's folders and
    /// server, with `extra` lines appended.
    pub fn config_file(&self, extra: &str) -> PathBuf {
        let path = self.root.path().join("config.toml");
        super::bin::write_config(
            &path,
            &self.fake.server.url(),
            super::ballchasing::TOKEN,
            extra,
        );
        path
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.demos.join(name)
    }
}

pub struct Running {
    pub status: watch::Receiver<EngineStatus>,
    pub cancel: CancellationToken,
    pub task: JoinHandle<Result<(), autochase::daemon::DaemonError>>,
}

impl Running {
    /// Waits (bounded) until the first scan is done and nothing is left to do.
    pub async fn settled(&mut self) {
        let wait = self.status.wait_for(|s| s.initial_scan_done && s.settled);
        if real_timeout(Duration::from_secs(20), wait).await.is_none() {
            panic!(
                "daemon did not settle within 20 s: {:?}",
                *self.status.borrow()
            );
        }
    }

    /// Waits (bounded) until `n` more full folder scans have ended and all is settled again
    /// (needs a short `rescan_interval`).
    pub async fn rescanned(&mut self, n: u64) {
        let after = self.status.borrow().scans + n;
        let wait = self.status.wait_for(|s| s.scans >= after && s.settled);
        if real_timeout(Duration::from_secs(20), wait).await.is_none() {
            panic!("no {n} rescans within 20 s: {:?}", *self.status.borrow());
        }
    }

    pub async fn stop(self) {
        self.cancel.cancel();
        real_timeout(Duration::from_secs(15), self.task)
            .await
            .expect("daemon did not stop")
            .unwrap()
            .unwrap();
    }
}

/// `fut`'s output, or `None` after `limit` of real time (also under paused time).
pub async fn real_timeout<F: std::future::Future>(limit: Duration, fut: F) -> Option<F::Output> {
    let deadline = std::time::Instant::now() + limit;
    let mut fut = std::pin::pin!(fut);
    loop {
        // Polls `fut` for at most 20 ms of the (possibly paused) clock, then looks at the
        // real one.
        if let Ok(out) = tokio::time::timeout(Duration::from_millis(20), &mut fut).await {
            return Some(out);
        }
        if std::time::Instant::now() >= deadline {
            return None;
        }
    }
}

/// Polls a condition on the state file (bounded); the daemon writes it as it goes. The bound
/// is real time: under paused time (`start_paused`) the clock races ahead while the test waits
/// for the watcher or the disk, and must not end the wait.
pub async fn until(setup: &Setup, what: &str, cond: impl Fn(&State) -> bool) -> State {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some((state, _))) = State::read(&setup.state_dir.join(STATE_FILE))
            && cond(&state)
        {
            return state;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls the fake server (bounded, in real time) until `cond` holds.
pub async fn until_server(cond: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "the upload never arrived"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Writes `bytes` to `path` every half second (an event the watcher may have missed is
/// produced again, never a rescan) until the server has created `n` replays (bounded).
pub async fn write_until_created(setup: &Setup, path: &Path, bytes: &[u8], n: usize, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        std::fs::write(path, bytes).unwrap();
        let created = async {
            while setup.fake.created() < n {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        if tokio::time::timeout(Duration::from_millis(500), created)
            .await
            .is_ok()
        {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}");
    }
}

pub fn uploaded(state: &State) -> Vec<&autochase::state::Record> {
    state
        .replays
        .values()
        .filter(|r| r.status == Status::Uploaded)
        .collect()
}

pub async fn write_in_chunks(path: &Path, bytes: &[u8], chunk: usize, pause: Duration) {
    let mut file = tokio::fs::File::create(path).await.unwrap();
    for piece in bytes.chunks(chunk) {
        file.write_all(piece).await.unwrap();
        file.flush().await.unwrap();
        tokio::time::sleep(pause).await;
    }
    file.sync_all().await.unwrap();
}
