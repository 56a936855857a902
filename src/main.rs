//! The `autochase` command line: parses arguments, sets up logging, calls into the library
//! and turns the outcome into an exit code.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use autochase::config::{CONFIG_ENV, Config, TOKEN_ENV};
use autochase::daemon;
use autochase::state::{STATE_FILE, State, Status};
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// Uploads every finished Rocket League replay to ballchasing.com.
#[derive(Parser)]
#[command(version, about, propagate_version = true)]
struct Cli {
    /// Config file (default: the platform's config folder, e.g. ~/.config/autochase/config.toml).
    #[arg(long, global = true, env = CONFIG_ENV, value_name = "PATH")]
    config: Option<PathBuf>,
    /// More log output (-v debug, -vv trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Less log output (warnings and errors only).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon in the foreground: watch, validate, upload, record.
    Run,
    /// Upload these files or folders now, then print a summary.
    Upload {
        /// Replay files or folders holding them.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Show what was uploaded, what waits and what failed.
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check the config, the token and the replay folders.
    Check,
    /// Put failed replays back in the queue.
    Retry {
        /// The replay Id (or file path) to retry.
        id: Option<String>,
        /// Retry every failed replay and invalid file.
        #[arg(long, conflicts_with = "id")]
        all_failed: bool,
    },
}

fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "autochase=debug,info",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    let config = match Config::load(cli.config.as_deref(), std::env::var(TOKEN_ENV).ok()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async move {
        match cli.command {
            Command::Run => run(config).await,
            Command::Upload { paths } => upload(config, paths).await,
            Command::Status { json } => status(&config, json),
            Command::Check => check(&config).await,
            Command::Retry { id, all_failed } => retry(config, id, all_failed).await,
        }
    })
}

async fn run(config: Config) -> ExitCode {
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

async fn upload(config: Config, paths: Vec<PathBuf>) -> ExitCode {
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
    let progress = |r: &autochase::engine::Report| {
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
    let reports = match daemon::upload_once(config, files, progress).await {
        Ok(reports) => reports,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ok = reports
        .iter()
        .filter(|r| r.status == Status::Uploaded)
        .count();
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

fn describe(r: &autochase::engine::Report) -> &'static str {
    use autochase::state::Outcome;
    match (r.status, r.outcome) {
        (Status::Uploaded, Some(Outcome::Duplicate)) => "uploaded (duplicate)",
        (Status::Uploaded, _) => "uploaded",
        (Status::Failed, _) => "failed",
        (Status::Pending, _) => "pending",
        (Status::Skipped, _) => "skipped",
    }
}

fn status(config: &Config, json: bool) -> ExitCode {
    let path = config.state_dir.join(STATE_FILE);
    let state = match State::read(&path) {
        Ok(Some((state, _))) => state,
        Ok(None) => State::default(),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let running = daemon::is_running(&config.state_dir);
    let of = |status: Status| state.replays.values().filter(move |r| r.status == status);
    if json {
        let uploaded: Vec<_> = of(Status::Uploaded)
            .map(|r| {
                serde_json::json!({"replay_id": r.id, "path": r.path.to_string_lossy(), "id": r.ballchasing_id,
                "location": r.location, "outcome": r.outcome, "updated": r.updated})
            })
            .collect();
        let pending: Vec<_> = of(Status::Pending)
            .map(|r| serde_json::json!({"replay_id": r.id, "path": r.path.to_string_lossy(), "attempts": r.attempts, "last_error": r.last_error}))
            .collect();
        let mut failed: Vec<_> = of(Status::Failed)
            .map(|r| serde_json::json!({"replay_id": r.id, "path": r.path.to_string_lossy(), "reason": r.last_error}))
            .collect();
        failed.extend(
            state.invalid.values().map(
                |f| serde_json::json!({"replay_id": null, "path": f.path.to_string_lossy(), "reason": f.reason}),
            ),
        );
        let skipped: Vec<_> = of(Status::Skipped)
            .map(|r| serde_json::json!({"replay_id": r.id, "path": r.path.to_string_lossy(), "reason": r.last_error}))
            .collect();
        let out = serde_json::json!({
            "daemon_running": running,
            "paused": state.pause,
            "state_file": path.to_string_lossy(),
            "uploaded": uploaded, "pending": pending, "failed": failed, "skipped": skipped,
        });
        println!("{}", serde_json::to_string_pretty(&out).expect("json"));
        return ExitCode::SUCCESS;
    }
    let failed = of(Status::Failed).count() + state.invalid.len();
    println!(
        "daemon {}; state {}",
        if running { "running" } else { "not running" },
        path.display()
    );
    println!(
        "uploaded {}, pending {}, failed {}, skipped {}",
        of(Status::Uploaded).count(),
        of(Status::Pending).count(),
        failed,
        of(Status::Skipped).count()
    );
    if let Some(pause) = &state.pause {
        let what = match pause.cause {
            autochase::state::PauseCause::Quota => "parked on the upload quota",
            autochase::state::PauseCause::Token => "paused: the token was refused",
        };
        match pause.remaining() {
            Some(left) => {
                let left =
                    humantime::format_duration(std::time::Duration::from_secs(left.as_secs()));
                println!(
                    "uploads {what} until {} (in {left}); they resume by themselves\n  last answer: {}",
                    pause.until, pause.reason
                );
            }
            None => println!(
                "uploads were {what} until {}; {}\n  last answer: {}",
                pause.until,
                if running {
                    "the daemon tries again when a replay waits"
                } else {
                    "start autochase to try again"
                },
                pause.reason
            ),
        }
    }
    let mut recent: Vec<_> = of(Status::Uploaded).collect();
    recent.sort_by(|a, b| b.updated.cmp(&a.updated));
    if !recent.is_empty() {
        println!("\nrecent uploads:");
        for r in recent.iter().take(10) {
            let dup = if r.outcome == Some(autochase::state::Outcome::Duplicate) {
                " (duplicate)"
            } else {
                ""
            };
            println!(
                "  {}  {}{dup}",
                r.updated,
                r.location.as_deref().unwrap_or("?")
            );
        }
    }
    let pending: Vec<_> = of(Status::Pending).collect();
    if !pending.is_empty() {
        println!("\npending:");
        for r in pending {
            println!(
                "  {}  {}",
                r.path.display(),
                r.last_error.as_deref().unwrap_or("waiting")
            );
        }
    }
    if failed > 0 {
        println!("\nfailed (`autochase retry --all-failed` tries them again):");
        for r in of(Status::Failed) {
            println!(
                "  {}  {}",
                r.path.display(),
                r.last_error.as_deref().unwrap_or("?")
            );
        }
        for f in state.invalid.values() {
            println!("  {}  {}", f.path.display(), f.reason);
        }
    }
    ExitCode::SUCCESS
}

async fn check(config: &Config) -> ExitCode {
    let mut problems = Vec::new();
    match &config.path {
        Some(path) => println!("config: {}", path.display()),
        None => println!("config: none found, using defaults"),
    }
    match daemon::client(config) {
        Ok(Some(client)) => match client.ping().await {
            Ok(me) => println!(
                "token: works, account {} (tier {})",
                me.value.name.as_deref().unwrap_or("(no name)"),
                client.tier()
            ),
            Err(e) => problems.push(format!("token: {e}")),
        },
        Ok(None) => problems.push("token: none set; add `token = \"...\"` to the config or set BALLCHASING_TOKEN (create one at https://ballchasing.com/upload)".into()),
        Err(e) => problems.push(format!("api: {e}")),
    }
    let mut any_folder = false;
    for dir in &config.replay_dirs {
        if dir.is_dir() {
            any_folder = true;
            let count = autochase::watch::scan(std::slice::from_ref(dir)).len();
            println!("folder: {} ({count} replays)", dir.display());
        } else {
            println!(
                "folder: {} (does not exist yet; watched for when it appears)",
                dir.display()
            );
        }
    }
    if !any_folder {
        problems.push("folders: none of the replay folders exists; set `replay_dirs` in the config to where Rocket League saves replays (…/My Games/Rocket League/TAGame/Demos)".into());
    }
    if problems.is_empty() {
        println!("all good");
        ExitCode::SUCCESS
    } else {
        for p in problems {
            eprintln!("problem: {p}");
        }
        ExitCode::FAILURE
    }
}

async fn retry(config: Config, id: Option<String>, all_failed: bool) -> ExitCode {
    if id.is_none() && !all_failed {
        eprintln!("error: name a replay Id or path, or pass --all-failed");
        return ExitCode::from(2);
    }
    let _lock = match wait_for_daemon(&config).await {
        Ok(lock) => lock,
        Err(code) => return code,
    };
    match autochase::state::retry_failed(&config.state_dir, id.as_deref()) {
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
