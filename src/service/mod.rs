//! Running at login: the systemd user unit (Linux), the launchd agent (macOS) and the logon
//! task (Windows), as a plan of files and commands that `--dry-run` prints and `install`,
//! `uninstall` carry out (an install that fails is rolled back), and a `status` that says in
//! plain words whether the service is installed and running.

mod launchd;
mod status;
mod systemd;
mod windows;

use std::path::{Path, PathBuf};

use crate::platform::{Home, Os};

pub use launchd::launchd_plist;
pub use status::{Installed, Report, status};
pub use systemd::systemd_unit;
pub use windows::{
    utf16_with_bom, windows_launcher, windows_log_dir, windows_log_file, windows_task_xml,
};

/// The systemd unit's and the Windows task's name.
pub const NAME: &str = "autochase";
/// The launchd label.
pub const LAUNCHD_LABEL: &str = "io.github.autochase";

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Write the service file and start it now and at every login.
    Install,
    /// Stop it and remove the file.
    Uninstall,
    /// Show what the service manager says.
    Status,
}

/// How a file's text is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8, no byte order mark.
    Utf8,
    /// UTF-16 little endian with a byte order mark (what an XML file declaring
    /// `encoding="UTF-16"` must be).
    Utf16,
}

/// A file the plan writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileWrite {
    /// Where.
    pub path: PathBuf,
    /// What.
    pub text: String,
    /// How it is stored.
    pub encoding: Encoding,
}

impl FileWrite {
    fn utf8(path: PathBuf, text: String) -> FileWrite {
        FileWrite {
            path,
            text,
            encoding: Encoding::Utf8,
        }
    }

    /// The bytes on disk.
    pub fn bytes(&self) -> Vec<u8> {
        match self.encoding {
            Encoding::Utf8 => self.text.clone().into_bytes(),
            Encoding::Utf16 => utf16_with_bom(&self.text),
        }
    }
}

/// Files to write or remove and commands to run, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Files that must exist before anything is done, with what to do when one is missing.
    pub needs: Vec<(PathBuf, String)>,
    /// Files to write.
    pub write: Vec<FileWrite>,
    /// Commands to run (program and arguments).
    pub run: Vec<Vec<String>>,
    /// Files to remove (after the commands).
    pub remove: Vec<PathBuf>,
    /// Commands that undo a failed install, run before its files are restored (failures
    /// ignored).
    pub undo: Vec<Vec<String>>,
    /// Commands run after a failed install's files are restored (failures ignored).
    pub undo_after: Vec<Vec<String>>,
    /// What to tell the user afterwards.
    pub notes: Vec<String>,
}

/// Why a plan cannot be made or carried out.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A path that cannot go into a service file.
    #[error(
        "{what} {path:?} holds a control character (a newline, a tab or the like), which cannot go into a service file; move or rename it"
    )]
    ControlCharacter {
        /// Which path ("the autochase executable", "the config file").
        what: &'static str,
        /// The path.
        path: String,
    },
    /// A file the service needs is not there.
    #[error("{path} is missing: {hint}")]
    Missing {
        /// The file.
        path: PathBuf,
        /// What to do.
        hint: String,
    },
    /// A service file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A service file could not be removed.
    #[error("cannot remove {path}: {source}")]
    Remove {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A service manager command failed.
    #[error("`{command}` failed: {failure}")]
    Command {
        /// The command line.
        command: String,
        /// How.
        failure: Failure,
    },
}

/// How a command failed.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// It could not be started (not installed?).
    #[error("{0}")]
    Spawn(std::io::Error),
    /// It ran and reported failure.
    #[error("exited with {0}")]
    Exit(std::process::ExitStatus),
}

/// What the service runs, and for whom.
#[derive(Debug, Clone)]
pub struct Target {
    /// The autochase executable.
    pub exe: PathBuf,
    /// The config file to pass, if not the default.
    pub config: Option<PathBuf>,
    /// Windows: the account the logon task is for (`DOMAIN\user`), see `current_user`.
    pub user: Option<String>,
}

impl Target {
    /// The arguments after the executable: `[--config PATH] run`.
    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(config) = &self.config {
            args.push("--config".to_string());
            args.push(config.display().to_string());
        }
        args.push("run".to_string());
        args
    }

    /// Refuses paths no service file can hold.
    fn check(&self) -> Result<(), ServiceError> {
        let bad = |what, path: &Path| {
            let text = path.display().to_string();
            match text.chars().any(|c| c.is_control() && c != '\t') {
                true => Err(ServiceError::ControlCharacter { what, path: text }),
                false => Ok(()),
            }
        };
        bad("the autochase executable", &self.exe)?;
        if let Some(config) = &self.config {
            bad("the config file", config)?;
        }
        Ok(())
    }
}

/// The Windows account running this process, as `DOMAIN\user` (from `USERDOMAIN` and
/// `USERNAME`), or `None` when the environment does not say.
pub fn current_user() -> Option<String> {
    let user = std::env::var("USERNAME").ok().filter(|u| !u.is_empty())?;
    Some(
        match std::env::var("USERDOMAIN").ok().filter(|d| !d.is_empty()) {
            Some(domain) => format!("{domain}\\{user}"),
            None => user,
        },
    )
}

/// The file a service on this OS is installed as, where one file tells (`None` on Windows,
/// where the task lives in the Task Scheduler).
pub fn service_file(home: &Home) -> Option<PathBuf> {
    match home.os {
        Os::Linux => Some(systemd::unit_path(home)),
        Os::MacOs => Some(launchd::plist_path(home)),
        Os::Windows => None,
    }
}

/// The plan for `action` on `home.os`; refuses a target no service file can hold.
pub fn plan(action: Action, home: &Home, target: &Target) -> Result<Plan, ServiceError> {
    if action == Action::Install {
        target.check()?;
    }
    Ok(match home.os {
        Os::Linux => systemd::plan(action, home, target),
        Os::MacOs => launchd::plan(action, home, target),
        Os::Windows => windows::plan(action, home, target),
    })
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Escapes text for an XML element or attribute.
fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

impl Plan {
    /// What the plan does, one line per step (for `--dry-run`), with the files' contents.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for (path, _) in &self.needs {
            out.push_str(&format!("check {} exists\n", path.display()));
        }
        for file in &self.write {
            let encoding = match file.encoding {
                Encoding::Utf8 => "",
                Encoding::Utf16 => " (UTF-16)",
            };
            out.push_str(&format!("write {}{encoding}:\n", file.path.display()));
            for line in file.text.lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
        for cmd in &self.run {
            out.push_str(&format!("run   {}\n", cmd.join(" ")));
        }
        for path in &self.remove {
            out.push_str(&format!("remove {}\n", path.display()));
        }
        out
    }

    /// Carries the plan out. `tolerant` (uninstalling): a command that fails, because the
    /// service is already stopped or gone, is reported and passed over. Otherwise the first
    /// failure stops it and rolls back: the files written get their old content back (or are
    /// removed), then the `undo` commands run.
    pub fn execute(&self, tolerant: bool) -> Result<(), ServiceError> {
        for (path, hint) in &self.needs {
            if !path.is_file() {
                return Err(ServiceError::Missing {
                    path: path.clone(),
                    hint: hint.clone(),
                });
            }
        }
        let mut written = Written::default();
        let result = self.carry_out(tolerant, &mut written);
        if result.is_err() && !tolerant {
            self.roll_back(&written);
        }
        result
    }

    fn carry_out(&self, tolerant: bool, written: &mut Written) -> Result<(), ServiceError> {
        for file in &self.write {
            let before = std::fs::read(&file.path).ok();
            if let Some(dir) = file.path.parent() {
                // The folders made for it, deepest first, so a rollback takes them away too.
                let mut made: Vec<PathBuf> = dir
                    .ancestors()
                    .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
                    .map(Path::to_path_buf)
                    .collect();
                written.dirs.append(&mut made);
            }
            let done = file
                .path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(&file.path, file.bytes()));
            done.map_err(|source| ServiceError::Write {
                path: file.path.clone(),
                source,
            })?;
            written.files.push((file.path.clone(), before));
            println!("wrote {}", file.path.display());
        }
        for cmd in &self.run {
            let failure = match std::process::Command::new(&cmd[0]).args(&cmd[1..]).status() {
                Ok(s) if s.success() => continue,
                Ok(s) => Failure::Exit(s),
                Err(e) => Failure::Spawn(e),
            };
            let error = ServiceError::Command {
                command: cmd.join(" "),
                failure,
            };
            if tolerant {
                eprintln!("note: {error}");
            } else {
                return Err(error);
            }
        }
        for path in &self.remove {
            match std::fs::remove_file(path) {
                Ok(()) => println!("removed {}", path.display()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(ServiceError::Remove {
                        path: path.clone(),
                        source,
                    });
                }
            }
        }
        Ok(())
    }

    /// Puts back what a failed install changed, as far as it can, and says what it did.
    fn roll_back(&self, written: &Written) {
        let quietly = |cmd: &Vec<String>| {
            let _ = std::process::Command::new(&cmd[0])
                .args(&cmd[1..])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        };
        self.undo.iter().for_each(quietly);
        for (path, before) in written.files.iter().rev() {
            let undone = match before {
                Some(bytes) => std::fs::write(path, bytes).map(|()| "restored"),
                None => std::fs::remove_file(path).map(|()| "removed"),
            };
            match undone {
                Ok(how) => eprintln!("rolled back: {how} {}", path.display()),
                Err(e) => eprintln!("could not roll back {}: {e}", path.display()),
            }
        }
        // Only folders left empty go (deepest first): anything put there meanwhile stays.
        let mut dirs = written.dirs.clone();
        dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for dir in &dirs {
            if std::fs::remove_dir(dir).is_ok() {
                eprintln!("rolled back: removed {}", dir.display());
            }
        }
        self.undo_after.iter().for_each(quietly);
    }
}

/// What an install changed, for its rollback: each file with its old content (`None`: it
/// was new), and the folders made for them.
#[derive(Default)]
struct Written {
    files: Vec<(PathBuf, Option<Vec<u8>>)>,
    dirs: Vec<PathBuf>,
}

#[cfg(test)]
mod tests;
