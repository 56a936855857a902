//! Handing files to the engine for `upload`, `retry` and `backfill`: through the running
//! daemon (a request in its inbox) or, when none runs, an engine in this process. Either way
//! each file's result is shown as it comes (with a progress bar on a terminal), then a
//! summary that tells new uploads from earlier ones.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::config::Config;
use crate::daemon::{self, DaemonError};
use crate::engine::{Fate, Report};
use crate::inbox::{self, Followed, Request};

use super::shown;

/// How long a running daemon may take to pick a request up before the command says so.
const TAKE_WITHIN: Duration = Duration::from_secs(15);

/// Uploads `files` (absolute paths) now and prints what became of each. Exit code 0 when
/// every file is on ballchasing (now or before), 1 otherwise.
pub async fn upload(config: Config, files: Vec<PathBuf>, force: bool) -> ExitCode {
    let total = files.len();
    let mut progress = Progress::new(total);
    if daemon::is_running(&config.state_dir) {
        let request = Request::Upload {
            paths: files,
            force,
        };
        let sent = match inbox::send(&config.state_dir, &request) {
            Ok(path) => path,
            Err(e) => {
                eprintln!("error: cannot hand the files to the running daemon: {e}");
                return ExitCode::FAILURE;
            }
        };
        eprintln!(
            "autochase is running: handed {} to it",
            plural(total, "file", "files")
        );
        match inbox::follow(&sent, TAKE_WITHIN, |r| progress.show(&r)).await {
            Followed::Done(_) => {}
            Followed::NotTaken => {
                progress.clear();
                eprintln!(
                    "the running daemon has not taken the request within {} s; it is left in its inbox and done when the daemon gets to it (`autochase status` shows the result)",
                    TAKE_WITHIN.as_secs()
                );
                return ExitCode::FAILURE;
            }
        }
    } else {
        let lock = match daemon::try_lock(&config.state_dir) {
            Ok(lock) => lock,
            Err(DaemonError::AlreadyRunning(_)) => {
                // A daemon started a moment ago: it takes the request.
                return Box::pin(upload(config, files, force)).await;
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        let done = daemon::upload_once(config, files, force, |r| progress.show(r)).await;
        drop(lock);
        if let Err(e) = done {
            progress.clear();
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    progress.summary()
}

/// The running tally, the bar, and the lines.
struct Progress {
    total: usize,
    seen: Vec<Fate>,
    bar: bool,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress {
            total,
            seen: Vec::new(),
            bar: std::io::stderr().is_terminal(),
        }
    }

    /// One file's result: a line on stdout, and the bar redrawn on a terminal.
    fn show(&mut self, report: &Report) {
        self.clear();
        self.seen.push(report.fate);
        let detail = report
            .location
            .as_deref()
            .or(report.reason.as_deref())
            .unwrap_or("");
        println!(
            "{:<16} {}  {detail}",
            describe(report.fate),
            shown(&report.path)
        );
        if self.bar {
            let width = 30;
            let filled = width * self.seen.len() / self.total.max(1);
            eprint!(
                "[{}{}] {}/{}",
                "=".repeat(filled),
                " ".repeat(width - filled),
                self.seen.len(),
                self.total
            );
            let _ = std::io::stderr().flush();
        }
    }

    /// Takes the bar off the terminal line before anything else is written.
    fn clear(&self) {
        if self.bar && !self.seen.is_empty() {
            eprint!("\r\x1b[2K");
        }
    }

    fn summary(self) -> ExitCode {
        self.clear();
        let count = |f: Fate| self.seen.iter().filter(|&&s| s == f).count();
        let mut parts = Vec::new();
        for (fate, words) in [
            (Fate::Created, "uploaded now"),
            (
                Fate::Duplicate,
                "already on ballchasing (uploaded by someone)",
            ),
            (Fate::UploadedBefore, "uploaded before"),
            (Fate::Skipped, "skipped"),
            (Fate::Pending, "waiting"),
            (Fate::Missing, "missing"),
            (Fate::Refused, "refused by ballchasing"),
            (Fate::Invalid, "not uploadable"),
        ] {
            let n = count(fate);
            if n > 0 {
                parts.push(format!("{n} {words}"));
            }
        }
        let unanswered = self.total.saturating_sub(self.seen.len());
        if unanswered > 0 {
            parts.push(format!("{unanswered} without an answer"));
        }
        println!(
            "{}: {}",
            plural(self.total, "file", "files"),
            parts.join(", ")
        );
        if self.seen.len() == self.total && self.seen.iter().all(|f| f.is_uploaded()) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

/// A fate in a word or two.
pub fn describe(fate: Fate) -> &'static str {
    match fate {
        Fate::Created => "uploaded",
        Fate::Duplicate => "uploaded (dup)",
        Fate::UploadedBefore => "uploaded before",
        Fate::Skipped => "skipped",
        Fate::Refused => "refused",
        Fate::Invalid => "not uploadable",
        Fate::Pending => "waiting",
        Fate::Missing => "missing",
    }
}

/// `1 replay`, `3 replays`: `many` is the word for every count but one.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}
