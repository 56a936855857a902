//! Handing files to the engine for `upload`, `retry` and `backfill`: through the running
//! daemon (a request in its inbox) or, when none runs, an engine in this process. Either way
//! each file's result is shown as it comes (with a progress bar on a terminal), then a
//! summary that tells new uploads from earlier ones.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::config::Config;
use crate::daemon::{self, DaemonError, Holder};
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
    let mut said_waiting = false;
    let lock = loop {
        match daemon::holder(&config.state_dir) {
            Some(Holder::Daemon) => {
                return match through_daemon(&config, files, force, &mut progress).await {
                    Ok(()) => progress.summary(),
                    Err(code) => code,
                };
            }
            Some(Holder::Command) => {
                if !said_waiting {
                    eprintln!(
                        "another autochase command is working in this state folder; waiting for it"
                    );
                    said_waiting = true;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            None => match daemon::try_lock(&config.state_dir, Holder::Command) {
                Ok(lock) => break lock,
                // Someone took it a moment ago: look again at who.
                Err(DaemonError::AlreadyRunning(_)) => {}
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            },
        }
    };
    let done = daemon::upload_once(config, files, force, |r| progress.show(r)).await;
    drop(lock);
    if let Err(e) = done {
        progress.clear();
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    progress.summary()
}

/// Hands `files` to the running daemon and shows each file's result as it comes.
async fn through_daemon(
    config: &Config,
    files: Vec<PathBuf>,
    force: bool,
    progress: &mut Progress,
) -> Result<(), ExitCode> {
    let total = files.len();
    let request = Request::Upload {
        paths: files,
        force,
    };
    let sent = inbox::send(&config.state_dir, &request).map_err(|e| {
        eprintln!("error: cannot hand the files to the running daemon: {e}");
        ExitCode::FAILURE
    })?;
    eprintln!(
        "autochase is running: asking it to upload {}",
        plural(total, "file", "files")
    );
    match inbox::follow(&sent, TAKE_WITHIN, |r| progress.show(&r)).await {
        Followed::Done(_) => Ok(()),
        Followed::NotTaken => {
            progress.clear();
            eprintln!(
                "the running daemon did not take the request within {} s, so it was withdrawn: nothing was uploaded; try again, or stop the daemon and run the command alone",
                TAKE_WITHIN.as_secs()
            );
            Err(ExitCode::FAILURE)
        }
    }
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
            "{:<16} {}  {}",
            describe(report.fate),
            shown(&report.path),
            crate::platform::printable(detail)
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
