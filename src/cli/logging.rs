//! Logging: to stderr (colours only on a terminal, so journald shows it cleanly) and, when
//! asked, to a file a day (`logfile`).

use std::io::IsTerminal;
use std::path::Path;

use tracing_subscriber::EnvFilter;

/// Sets up logging: `verbose` 0 info, 1 debug for autochase, 2 trace; `quiet` warnings only;
/// `RUST_LOG` overrides both. `log_file` also logs to that file, one per day.
pub fn init(verbose: u8, quiet: bool, log_file: Option<&Path>) {
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
        .with_timer(LocalTime)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let mut file_error = None;
    let file = log_file.and_then(|path| match super::logfile::DailyFile::open(path) {
        Ok(appender) => Some(
            tracing_subscriber::fmt::layer()
                .with_timer(LocalTime)
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

/// Log times in this machine's time zone, with its offset, as people read them.
struct LocalTime;

impl tracing_subscriber::fmt::time::FormatTime for LocalTime {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        let now = jiff::ZonedDateTime::now();
        write!(w, "{}", now.strftime("%Y-%m-%dT%H:%M:%S%.3f%:z"))
    }
}
