//! The `autochase` command line: parses arguments, sets up logging, calls the command in
//! `autochase::cli` and returns its exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use autochase::cli::{self, commands, logging};
use autochase::config::{CONFIG_ENV, Config, TOKEN_ENV};
use autochase::service::Action;
use clap::{Parser, Subcommand};

/// Uploads every finished Rocket League replay to ballchasing.com.
#[derive(Parser)]
#[command(version, about, propagate_version = true)]
struct Cli {
    #[cfg_attr(
        windows,
        doc = r"Config file (default: %APPDATA%\autochase\config\config.toml)."
    )]
    #[cfg_attr(
        target_os = "macos",
        doc = "Config file (default: ~/Library/Application Support/autochase/config.toml)."
    )]
    #[cfg_attr(
        not(any(windows, target_os = "macos")),
        doc = "Config file (default: ~/.config/autochase/config.toml)."
    )]
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
    /// Write a config file with the token and the replay folders found on this machine.
    Init {
        /// The API token (else BALLCHASING_TOKEN, else asked for on a terminal).
        #[arg(long, value_name = "TOKEN")]
        token: Option<String>,
        /// Overwrite an existing config file.
        #[arg(long)]
        force: bool,
    },
    /// Check the config, the token and the replay folders; exit 1 with what to fix.
    Check,
    /// Run the daemon in the foreground: watch, validate, upload, record.
    Run,
    /// Show what was uploaded, what waits, what failed and what was skipped.
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Upload these replays (or the replays in these folders) now: through the running daemon
    /// if there is one, else in this process.
    Upload {
        /// Replay files, folders holding them, or patterns such as `Demos/*.replay`.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Upload replays the filters (only_match_types, skip_match_types, min_duration) skip.
        #[arg(long)]
        force: bool,
    },
    /// Look at and upload again now replays that were refused, are missing or wait.
    Retry {
        /// Replay Ids or file paths.
        which: Vec<String>,
        /// Every replay refused, missing or waiting, and every file judged invalid.
        #[arg(long, conflicts_with = "which")]
        all_failed: bool,
    },
    /// Upload the replays skipped because they were already there when autochase first saw
    /// their folder.
    Backfill {
        /// Only the replays in these folders (default: every folder).
        folders: Vec<PathBuf>,
    },
    /// Take entries out of the state (a deleted file, a file uploaded by mistake).
    Forget {
        /// Replay Ids or file paths.
        which: Vec<String>,
        /// Every entry whose file no longer exists.
        #[arg(long)]
        gone: bool,
    },
    /// Run autochase at login: a systemd user unit, a launchd agent or a Windows logon task.
    Service {
        #[command(subcommand)]
        action: ServiceCommand,
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

fn main() -> ExitCode {
    autochase::memory::tune();
    autochase::fsutil::private_from_now_on();
    #[cfg(windows)]
    if std::env::args_os().len() == 1 && autochase::console::is_own_window() {
        return double_clicked();
    }
    let cli = Cli::parse();
    if let Command::Init { token, force } = &cli.command {
        logging::init(cli.verbose, cli.quiet, false, None);
        return runtime().block_on(cli::init::run(cli.config.as_deref(), token.clone(), *force));
    }
    let config = match Config::load(cli.config.as_deref(), std::env::var(TOKEN_ENV).ok()) {
        Ok(config) => config,
        Err(e) => return config_problem(&cli, &e),
    };
    let log_file = cli.log_file.clone().or_else(|| match cli.command {
        Command::Run => config.log_file.clone(),
        _ => None,
    });
    let own_lines = matches!(
        cli.command,
        Command::Upload { .. } | Command::Retry { .. } | Command::Backfill { .. }
    );
    logging::init(cli.verbose, cli.quiet, own_lines, log_file.as_deref());
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    runtime().block_on(async move {
        match cli.command {
            Command::Run => commands::run(config).await,
            Command::Upload { paths, force } => commands::upload(config, paths, force).await,
            Command::Status { json } => {
                let advice = config.token.is_none().then(|| config.token_advice());
                cli::status::run(&config.state_dir, json, advice)
            }
            Command::Check => cli::check::run(&config).await,
            Command::Retry { which, all_failed } => {
                commands::retry(config, which, all_failed).await
            }
            Command::Backfill { folders } => commands::backfill(config, folders).await,
            Command::Forget { which, gone } => commands::forget(config, which, gone).await,
            Command::Service { action } => {
                let (action, dry_run) = match action {
                    ServiceCommand::Install { dry_run } => (Action::Install, dry_run),
                    ServiceCommand::Uninstall { dry_run } => (Action::Uninstall, dry_run),
                    ServiceCommand::Status { dry_run } => (Action::Status, dry_run),
                };
                let setup = commands::ServiceSetup {
                    config_path: config.path.as_deref(),
                    state_dir: Some(&config.state_dir),
                    token_advice: config.token.is_none().then(|| config.token_advice()),
                };
                commands::service(setup, action, dry_run)
            }
            Command::Init { .. } => unreachable!("handled before the config is loaded"),
        }
    })
}

/// `autochase.exe` opened from Explorer: say how it is used, and keep the window open until
/// it has been read.
#[cfg(windows)]
fn double_clicked() -> ExitCode {
    let folder = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.display().to_string()))
        .unwrap_or_else(|| ".".into());
    println!(
        "autochase uploads your Rocket League replays to ballchasing.com. It runs from a\n\
         command prompt: open Command Prompt (Win+R, cmd, Enter) and type\n\n\
         \x20   cd /d \"{folder}\"\n\
         \x20   autochase init                 (your token and replay folders)\n\
         \x20   autochase check                (is everything right?)\n\
         \x20   autochase service install      (upload at every logon)\n\n\
         Press Enter to close this window."
    );
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    ExitCode::SUCCESS
}

/// The runtime every command runs on: two workers are plenty for one engine and its I/O.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A config that cannot be used: `status` still shows the state (it needs only the state
/// folder), `check` reports it as a problem to fix (exit 1), anything else stops (exit 2).
fn config_problem(cli: &Cli, error: &autochase::config::ConfigError) -> ExitCode {
    match cli.command {
        Command::Status { json } => {
            eprintln!("warning: {error}; showing the state anyway");
            match Config::state_dir_anyway(cli.config.as_deref()) {
                Some(dir) => cli::status::run(&dir, json, None),
                None => ExitCode::FAILURE,
            }
        }
        Command::Check => {
            eprintln!("problem: {error}");
            ExitCode::FAILURE
        }
        // Taking the service away, or asking about it, needs nothing from the config: a
        // broken file must not leave a logon task behind (the MSI's uninstall runs this).
        Command::Service {
            action:
                action @ (ServiceCommand::Uninstall { dry_run } | ServiceCommand::Status { dry_run }),
        } => {
            eprintln!("warning: {error}");
            let action = match action {
                ServiceCommand::Uninstall { .. } => Action::Uninstall,
                _ => Action::Status,
            };
            let state_dir = Config::state_dir_anyway(cli.config.as_deref());
            let setup = commands::ServiceSetup {
                config_path: cli.config.as_deref(),
                state_dir: state_dir.as_deref(),
                token_advice: None,
            };
            commands::service(setup, action, dry_run)
        }
        _ => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}
