//! The `autochase` command line: parses arguments, sets up logging, calls into the library
//! and turns the outcome into an exit code.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use autochase::config::{CONFIG_ENV, Config, TOKEN_ENV};
use autochase::daemon;
use autochase::discover;
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
    /// Also log to this file, one per day (overrides `log_file` in the config).
    #[arg(long, global = true, value_name = "PATH")]
    log_file: Option<PathBuf>,
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
        /// Upload replays the filters (only_match_types, skip_match_types, min_duration) skip.
        #[arg(long)]
        force: bool,
    },
    /// Show what was uploaded, what waits and what failed.
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check the config, the token and the replay folders.
    Check,
    /// Write a config file with the token and the replay folders found on this machine.
    Init {
        /// The API token (else BALLCHASING_TOKEN, else asked for on a terminal).
        #[arg(long, value_name = "TOKEN")]
        token: Option<String>,
        /// Overwrite an existing config file.
        #[arg(long)]
        force: bool,
    },
    /// Run autochase at login: a systemd user unit, a launchd agent or a Windows logon task.
    Service {
        #[command(subcommand)]
        action: ServiceCommand,
    },
    /// Put failed replays back in the queue.
    Retry {
        /// The replay Id (or file path) to retry.
        id: Option<String>,
        /// Retry every failed replay and invalid file.
        #[arg(long, conflicts_with = "id")]
        all_failed: bool,
    },
}

#[derive(Subcommand, Clone, Copy)]
enum ServiceCommand {
    /// Install and start the service for this user.
    Install {
        /// Print the files and commands instead of carrying them out.
        #[arg(long)]
        dry_run: bool,
    },
    /// Stop and remove the service.
    Uninstall {
        /// Print the files and commands instead of carrying them out.
        #[arg(long)]
        dry_run: bool,
    },
    /// Show what the service manager says about it.
    Status {
        /// Print the command instead of running it.
        #[arg(long)]
        dry_run: bool,
    },
}

fn init_logging(verbose: u8, quiet: bool, log_file: Option<&std::path::Path>) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let default = match (quiet, verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "autochase=debug,info",
        (false, _) => "trace",
    };
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let mut file_error = None;
    let file = log_file.and_then(|path| match rolling_file(path) {
        Ok(appender) => Some(
            tracing_subscriber::fmt::layer()
                .with_writer(appender)
                .with_ansi(false)
                .with_target(false),
        ),
        Err(e) => {
            file_error = Some(format!("cannot log to {}: {e}", path.display()));
            None
        }
    });
    tracing_subscriber::registry()
        .with(filter())
        .with(stderr)
        .with(file)
        .init();
    if let Some(e) = file_error {
        tracing::error!("{e}; logging to stderr only");
    }
}

/// A log file rotated daily: `dir/name.YYYY-MM-DD.ext`, the last 14 kept.
fn rolling_file(
    path: &std::path::Path,
) -> Result<tracing_appender::rolling::RollingFileAppender, String> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let stem = path
        .file_stem()
        .map_or("autochase".into(), |s| s.to_string_lossy().into_owned());
    let mut builder = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(stem)
        .max_log_files(14);
    if let Some(ext) = path.extension() {
        builder = builder.filename_suffix(ext.to_string_lossy().into_owned());
    }
    builder.build(dir).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Init { token, force } = &cli.command {
        init_logging(cli.verbose, cli.quiet, None);
        return init(cli.config.as_deref(), token.clone(), *force);
    }
    let config = match Config::load(cli.config.as_deref(), std::env::var(TOKEN_ENV).ok()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let log_file = cli.log_file.clone().or_else(|| match cli.command {
        Command::Run => config.log_file.clone(),
        _ => None,
    });
    init_logging(cli.verbose, cli.quiet, log_file.as_deref());
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
            Command::Upload { paths, force } => upload(config, paths, force).await,
            Command::Status { json } => status(&config, json),
            Command::Check => check(&config).await,
            Command::Retry { id, all_failed } => retry(config, id, all_failed).await,
            Command::Service { action } => service(&config, action),
            Command::Init { .. } => unreachable!("handled before the config is loaded"),
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

async fn upload(config: Config, paths: Vec<PathBuf>, force: bool) -> ExitCode {
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
    let reports = match daemon::upload_once(config, files, force, progress).await {
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
                "location": r.location, "title": r.title, "title_error": r.title_error,
                "group": r.group, "note": r.note,
                "outcome": r.outcome, "updated": r.updated})
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
            let mut title = match (&r.title, &r.title_error) {
                (Some(title), _) => format!("  \"{title}\""),
                (None, Some(e)) => format!("  (title not set: {e})"),
                (None, None) => String::new(),
            };
            if let Some(note) = &r.note {
                title.push_str(&format!("  ({note})"));
            }
            println!(
                "  {}  {}{dup}{title}",
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
    let found = folders_found(config);
    for f in &found {
        println!("folder: {} ({})", f.dir.display(), describe_found(f));
    }
    if !config.discover {
        for dir in config.replay_dirs.iter().filter(|d| !d.is_dir()) {
            println!(
                "folder: {} (does not exist yet; watched for when it appears)",
                dir.display()
            );
        }
    }
    if found.is_empty() {
        problems.push(if config.discover {
            "folders: no Rocket League replay folder found on this machine; save a replay in the game (it creates the folder), or set `replay_dirs` in the config to where your replays are".to_string()
        } else {
            "folders: none of the folders in `replay_dirs` exists; set it to where Rocket League saves replays (…/My Games/Rocket League/TAGame/Demos)".to_string()
        });
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
    if daemon::is_running(&config.state_dir) {
        // The daemon owns the state: hand it the request and wait for its answer.
        use autochase::inbox;
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

/// The replay folders that exist: found by discovery, or the configured ones.
fn folders_found(config: &Config) -> Vec<discover::Found> {
    if config.discover {
        return discover::Home::current()
            .map(|home| discover::find(&home))
            .unwrap_or_default();
    }
    config
        .replay_dirs
        .iter()
        .filter(|d| d.is_dir())
        .map(|d| discover::survey(d, "replay_dirs"))
        .collect()
}

fn describe_found(f: &discover::Found) -> String {
    let newest = match &f.newest {
        Some((path, at)) => format!(
            ", newest {} from {}",
            path.file_name().unwrap_or_default().to_string_lossy(),
            humantime::format_rfc3339_seconds(*at)
        ),
        None => String::new(),
    };
    format!("{} replays{newest}; {}", f.replays, f.source)
}

fn init(explicit: Option<&std::path::Path>, token: Option<String>, force: bool) -> ExitCode {
    let Some(path) = explicit
        .map(std::path::Path::to_path_buf)
        .or_else(autochase::config::default_config_path)
    else {
        eprintln!("error: no home folder to put the config in; pass --config PATH");
        return ExitCode::from(2);
    };
    if path.exists() && !force {
        eprintln!(
            "error: {} already exists; edit it, or run `autochase init --force` to replace it",
            path.display()
        );
        return ExitCode::from(2);
    }
    let found = discover::Home::current()
        .map(|home| discover::find(&home))
        .unwrap_or_default();
    if found.is_empty() {
        println!("no Rocket League replay folder found yet; autochase keeps looking while it runs");
    }
    for f in &found {
        println!("found {} ({})", f.dir.display(), describe_found(f));
    }
    let token = token
        .or_else(|| std::env::var(TOKEN_ENV).ok())
        .filter(|t| !t.trim().is_empty())
        .or_else(|| {
            if !std::io::stdin().is_terminal() {
                return None;
            }
            rpassword::prompt_password(
                "ballchasing API token (create one at https://ballchasing.com/upload; input hidden; Enter to skip): ",
            )
            .ok()
            .filter(|t| !t.trim().is_empty())
        })
        .map(autochase::api::Token::new);
    let text = autochase::config::template(token.as_ref(), &found);
    if let Err(e) = write_private(&path, text.as_bytes()) {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    println!("wrote {} (readable by you only)", path.display());
    if token.is_none() {
        println!(
            "no token yet: add `token = \"...\"` to it, or set BALLCHASING_TOKEN (create one at https://ballchasing.com/upload)"
        );
    }
    println!("next: `autochase check`, then `autochase service install` (or `autochase run`)");
    ExitCode::SUCCESS
}

/// Writes a file only its owner can read (it holds the token), replacing it atomically.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("toml.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    #[cfg(unix)]
    {
        // `mode` applies only to new files; a leftover temp file keeps its old mode.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn service(config: &Config, command: ServiceCommand) -> ExitCode {
    use autochase::service::{self, Action};
    let (action, dry_run) = match command {
        ServiceCommand::Install { dry_run } => (Action::Install, dry_run),
        ServiceCommand::Uninstall { dry_run } => (Action::Uninstall, dry_run),
        ServiceCommand::Status { dry_run } => (Action::Status, dry_run),
    };
    let Some(home) = discover::Home::current() else {
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
            .filter(|p| Some(p) != autochase::config::default_config_path().as_ref()),
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
