//! The commands that hand work to the engine: `run` (the daemon), `upload` (now, once),
//! `retry` (through a running daemon, else on the state), and `service`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::daemon;
use crate::engine::{Fate, Report};
use crate::platform::Home;
use crate::service::{self, Action};

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
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn wait_for_daemon(config: &Config) -> Result<daemon::Lock, ExitCode> {
    daemon::lock_waiting(&config.state_dir, || {
        eprintln!(
            "autochase is running with state folder {}; waiting for it to stop (Ctrl-C to give up)",
            config.state_dir.display()
        )
    })
    .await
    .map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::FAILURE
    })
}

/// `autochase upload`: these files (or the replays in these folders) now.
pub async fn upload(config: Config, paths: Vec<PathBuf>, force: bool) -> ExitCode {
    if config.token.is_none() {
        eprintln!(
            "error: no API token; set `token` in the config or BALLCHASING_TOKEN (create one at https://ballchasing.com/upload)"
        );
        return ExitCode::from(2);
    }
    let files = daemon::expand_paths(&paths);
    if files.is_empty() {
        eprintln!("error: no .replay files in {paths:?}");
        return ExitCode::from(2);
    }
    let _lock = match wait_for_daemon(&config).await {
        Ok(lock) => lock,
        Err(code) => return code,
    };
    let total = files.len();
    let tty = std::io::stderr().is_terminal();
    let done = std::cell::Cell::new(0usize);
    let progress = |r: &Report| {
        done.set(done.get() + 1);
        if tty {
            eprintln!(
                "[{}/{total}] {}: {}",
                done.get(),
                describe(r),
                r.path.display()
            );
        }
    };
    let reports = match daemon::upload_once(config, files, force, progress).await {
        Ok(reports) => reports,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ok = reports.iter().filter(|r| r.fate.is_uploaded()).count();
    for r in &reports {
        let detail = r.location.as_deref().or(r.reason.as_deref()).unwrap_or("");
        println!("{:<22} {}  {}", describe(r), r.path.display(), detail);
    }
    println!(
        "{ok} of {} uploaded or already on ballchasing",
        reports.len()
    );
    if ok == reports.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn describe(r: &Report) -> &'static str {
    match r.fate {
        Fate::Created => "uploaded",
        Fate::Duplicate => "uploaded (duplicate)",
        Fate::UploadedBefore => "uploaded before",
        Fate::Skipped => "skipped",
        Fate::Refused => "refused",
        Fate::Invalid => "failed",
        Fate::Pending => "pending",
        Fate::Missing => "missing",
    }
}

/// `autochase retry`: failed replays back in the queue.
pub async fn retry(config: Config, id: Option<String>, all_failed: bool) -> ExitCode {
    if id.is_none() && !all_failed {
        eprintln!("error: name a replay Id or path, or pass --all-failed");
        return ExitCode::from(2);
    }
    if daemon::is_running(&config.state_dir) {
        // The daemon owns the state: hand it the request and wait for its answer.
        use crate::inbox;
        let request = inbox::Request::Retry { which: id.clone() };
        let sent = match inbox::send(&config.state_dir, &request) {
            Ok(path) => path,
            Err(e) => {
                eprintln!("error: cannot hand the request to the running daemon: {e}");
                return ExitCode::FAILURE;
            }
        };
        return match inbox::answer(&sent, std::time::Duration::from_secs(15)).await {
            Some(inbox::Answer { changed: 0 }) => {
                eprintln!("nothing to retry");
                ExitCode::FAILURE
            }
            Some(inbox::Answer { changed }) => {
                println!("{changed} put back in the queue by the running daemon");
                ExitCode::SUCCESS
            }
            None => {
                println!(
                    "handed to the running daemon, which has not answered within 15 s; `autochase status` shows the result"
                );
                ExitCode::SUCCESS
            }
        };
    }
    let _lock = match wait_for_daemon(&config).await {
        Ok(lock) => lock,
        Err(code) => return code,
    };
    match crate::state::retry_failed(&config.state_dir, id.as_deref()) {
        Ok(0) => {
            eprintln!("nothing to retry");
            ExitCode::FAILURE
        }
        Ok(n) => {
            println!(
                "{n} put back in the queue; the daemon uploads them on its next start or scan"
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `autochase service`: the login service for this OS.
pub fn service(config: &Config, action: Action, dry_run: bool) -> ExitCode {
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
        config: config
            .path
            .as_deref()
            .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()))
            .filter(|p| Some(p) != crate::config::default_config_path().as_ref()),
    };
    if action == Action::Install && config.token.is_none() {
        eprintln!(
            "warning: no token in the config: the service will watch and queue but not upload (`autochase init` writes one)"
        );
    }
    let plan = service::plan(action, &home, &target);
    if dry_run {
        print!("{}", plan.describe());
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
            ExitCode::FAILURE
        }
    }
}
