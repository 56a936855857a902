//! The commands that act on replays: `run` (the daemon), `upload`, `retry`, `backfill` (all
//! three through a running daemon, else in this process) and `forget`; and `service`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::daemon::{self, Holder};
use crate::inbox::{self, Followed, Request};
use crate::platform::{Home, path_key};
use crate::service::{self, Action};
use crate::state::{Journal, STATE_FILE, State};

use super::paths::{self, replay_files};
use super::transfer::{self, plural};

/// `autochase run`: the daemon in the foreground until Ctrl-C or SIGTERM.
pub async fn run(config: Config) -> ExitCode {
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        daemon::shutdown_signal().await;
        tracing::info!("shutting down");
        on_signal.cancel();
    });
    match daemon::run(config, cancel).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Logged once: stderr is where the log goes.
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// `autochase upload PATH...`: these replays (or the replays in these folders) now. A path
/// that names no replay is said and fails the command (exit 1), but the others still go.
pub async fn upload(config: Config, args: Vec<PathBuf>, force: bool) -> ExitCode {
    let (files, problems) = replay_files(&args);
    for problem in &problems {
        eprintln!(
            "error: {}",
            crate::platform::printable(&problem.to_string())
        );
    }
    if files.is_empty() {
        return ExitCode::FAILURE;
    }
    let done = transfer::upload(config, files, force).await;
    if problems.is_empty() {
        done
    } else {
        ExitCode::FAILURE
    }
}

/// The state as `status` sees it, or the error to show.
fn read_state(config: &Config) -> Result<State, String> {
    match State::read(&config.state_dir.join(STATE_FILE)) {
        Ok(Some((state, _))) => Ok(state),
        Ok(None) => Ok(State::default()),
        Err(e) => Err(e.to_string()),
    }
}

/// True when `which` (a replay Id or a path as typed) names this Id or file.
fn names(which: &str, id: Option<&str>, path: &Path) -> bool {
    id.is_some_and(|id| id.eq_ignore_ascii_case(which.trim()))
        || path_key(&paths::absolute(PathBuf::from(which))) == path_key(path)
}

/// `autochase retry [ID|PATH]... | --all-failed`: replays refused, missing or waiting, and
/// files judged invalid, looked at and uploaded again now.
pub async fn retry(config: Config, which: Vec<String>, all: bool) -> ExitCode {
    if which.is_empty() && !all {
        eprintln!("error: name replays (Id or file), or pass --all-failed");
        return ExitCode::from(2);
    }
    let state = match read_state(&config) {
        Ok(state) => state,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let files = state.retry_paths(|id, path| all || which.iter().any(|w| names(w, id, path)));
    if files.is_empty() {
        return match which.is_empty() {
            true => {
                eprintln!("nothing to retry: no replay failed, waits or is missing");
                ExitCode::SUCCESS
            }
            false => {
                eprintln!(
                    "no failed, waiting or missing replay matches {}; `autochase status` lists them",
                    which.join(", ")
                );
                ExitCode::FAILURE
            }
        };
    }
    transfer::upload(config, files, false).await
}

/// `autochase backfill [FOLDER]...`: the replays skipped because they were already there
/// when autochase first saw their folder, uploaded now (in every folder, or these).
pub async fn backfill(config: Config, folders: Vec<PathBuf>) -> ExitCode {
    let state = match read_state(&config) {
        Ok(state) => state,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let folders: Vec<PathBuf> = folders.into_iter().map(paths::absolute).collect();
    if let Some(missing) = folders.iter().find(|f| !f.is_dir()) {
        eprintln!(
            "error: no such folder: {}; name a replay folder (`autochase check` lists them)",
            crate::platform::printable(&missing.display().to_string())
        );
        return ExitCode::FAILURE;
    }
    let keys: Vec<String> = folders.iter().map(|f| path_key(f)).collect();
    let in_folders =
        |path: &Path| keys.is_empty() || path.parent().is_some_and(|p| keys.contains(&path_key(p)));
    let files: Vec<PathBuf> = state
        .replays
        .values()
        .filter(|r| r.backfillable() && in_folders(&r.path) && r.path.exists())
        .map(|r| r.path.clone())
        .collect();
    if files.is_empty() {
        eprintln!(
            "nothing to backfill: no replay was skipped for being older than autochase's first look at its folder (or their files are gone)"
        );
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "uploading {} skipped for being there before autochase first saw their folder, at `upload_rate`",
        plural(files.len(), "replay", "replays")
    );
    transfer::upload(config, files, false).await
}

/// `autochase forget [ID|PATH]... | --gone`: entries taken out of the state (a file deleted,
/// a wrong file uploaded by mistake); nothing on ballchasing changes.
pub async fn forget(config: Config, which: Vec<String>, gone: bool) -> ExitCode {
    if which.is_empty() && !gone {
        eprintln!("error: name replays (Id or file) or invalid files, or pass --gone");
        return ExitCode::from(2);
    }
    let state = match read_state(&config) {
        Ok(state) => state,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let wanted = |id: Option<&str>, path: &Path| {
        (gone && std::fs::symlink_metadata(path).is_err())
            || which.iter().any(|w| names(w, id, path))
    };
    let ids: Vec<String> = state
        .replays
        .values()
        .filter(|r| !r.forgotten && wanted(Some(&r.id), &r.path))
        .map(|r| r.id.clone())
        .collect();
    let files: Vec<PathBuf> = state
        .invalid_in_sight()
        .filter(|f| wanted(None, &f.path))
        .map(|f| f.path.clone())
        .collect();
    if ids.is_empty() && files.is_empty() {
        return match which.is_empty() {
            true => {
                eprintln!("nothing to forget: every entry's file is still there");
                ExitCode::SUCCESS
            }
            false => {
                eprintln!(
                    "no entry matches {}; `autochase status --json` lists them",
                    which.join(", ")
                );
                ExitCode::FAILURE
            }
        };
    }
    let forgotten = if daemon::is_running(&config.state_dir) {
        let request = Request::Forget { ids, paths: files };
        let sent = inbox::send(&config.state_dir, &request);
        match sent {
            Ok(path) => {
                match inbox::follow(&path, std::time::Duration::from_secs(15), |_| {}).await {
                    Followed::Done(answer) => answer.changed,
                    Followed::NotTaken => {
                        eprintln!(
                            "the running daemon did not take the request within 15 s, so it was withdrawn: nothing was forgotten; try again"
                        );
                        return ExitCode::FAILURE;
                    }
                }
            }
            Err(e) => {
                eprintln!("error: cannot hand the request to the running daemon: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        match forget_here(&config, &ids, &files).await {
            Ok(n) => n,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    println!(
        "forgot {}: out of sight in `status`, and never uploaded again unless named to `autochase upload`",
        plural(forgotten, "entry", "entries")
    );
    ExitCode::SUCCESS
}

/// Forgets entries with no daemon running: under the lock, in the journal.
async fn forget_here(config: &Config, ids: &[String], files: &[PathBuf]) -> Result<usize, String> {
    let _lock = daemon::lock_after_commands(&config.state_dir, Holder::Command, || {
        eprintln!("another autochase command is working in this state folder; waiting for it");
    })
    .await
    .map_err(|e| e.to_string())?;
    let (mut journal, loaded) = Journal::open(&config.state_dir).map_err(|e| e.to_string())?;
    let mut n = 0;
    for id in ids
        .iter()
        .filter(|id| loaded.state.replays.get(*id).is_some_and(|r| !r.forgotten))
    {
        journal.forgot(id).map_err(|e| e.to_string())?;
        n += 1;
    }
    for file in files
        .iter()
        .filter_map(|p| loaded.state.invalid.get(p))
        .filter(|f| !f.forgotten)
    {
        journal.forget_invalid(file).map_err(|e| e.to_string())?;
        n += 1;
    }
    Ok(n)
}

/// `autochase service`: the login service for this OS.
/// What `autochase service …` needs from the config: all of it is known even when the file
/// does not load, so a broken config never keeps a service from being taken away.
pub struct ServiceSetup<'a> {
    /// The config file the service runs with (`None`: the default one).
    pub config_path: Option<&'a Path>,
    /// The state folder, to tell whether a daemon runs.
    pub state_dir: Option<&'a Path>,
    /// Set when the config gives no token, saying how to add one: `install` warns that the
    /// service will not upload.
    pub token_advice: Option<String>,
}

/// `autochase service install|uninstall|status`.
pub fn service(setup: ServiceSetup<'_>, action: Action, dry_run: bool) -> ExitCode {
    let Some(home) = Home::current() else {
        eprintln!("error: no home folder found");
        return ExitCode::FAILURE;
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("error: cannot tell where this autochase is: {e}");
            return ExitCode::FAILURE;
        }
    };
    let target = service::Target {
        exe,
        // The service starts elsewhere: a relative --config must become absolute.
        config: setup
            .config_path
            .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()))
            .filter(|p| Some(p) != crate::config::default_config_path().as_ref()),
        user: service::current_user(),
    };
    if let Some(advice) = setup
        .token_advice
        .as_deref()
        .filter(|_| action == Action::Install)
    {
        eprintln!(
            "warning: no token in the config: the service will watch and queue but not upload; {advice}"
        );
    }
    let plan = match service::plan(action, &home, &target) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if dry_run {
        print!("{}", plan.describe());
        return ExitCode::SUCCESS;
    }
    if action == Action::Status {
        let report = service::status(&home);
        print!("{report}");
        if let Some(state_dir) = setup.state_dir
            && daemon::is_running(state_dir)
        {
            println!(
                "an autochase daemon holds the state folder {}",
                state_dir.display()
            );
        }
        return if report.ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(3)
        };
    }
    if action == Action::Uninstall
        && let Some(file) = service::service_file(&home)
        && !file.exists()
    {
        println!(
            "the autochase service is not installed (no {}): nothing to remove",
            file.display()
        );
        return ExitCode::SUCCESS;
    }
    match plan.execute(action == Action::Uninstall) {
        Ok(()) => {
            for note in &plan.notes {
                println!("{note}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            if let service::ServiceError::Command { command, .. } = &e
                && command.starts_with("systemctl --user")
            {
                eprintln!(
                    "no systemd user manager answered (a container, a session without systemd, or a shell reached through su or sudo): nothing was left installed. `autochase run` works meanwhile, for instance started by your desktop's autostart"
                );
            }
            ExitCode::FAILURE
        }
    }
}
