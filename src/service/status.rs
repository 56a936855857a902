//! `autochase service status`: whether the service is installed and running, in plain words,
//! from the service file and the service manager's answers (never its raw errors).

use std::fmt;
use std::path::PathBuf;

use super::{LAUNCHD_LABEL, NAME};
use crate::platform::{Home, Os};

/// Whether the service is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    /// Its file is there (and the manager knows it, where it can be asked).
    Yes(String),
    /// Nothing installed.
    No(String),
}

/// What `service status` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Installed or not, with where.
    pub installed: Installed,
    /// Running (`Some(true)`), not running, or unknown with why.
    pub running: Result<bool, String>,
}

impl Report {
    /// True when it is installed and running.
    pub fn ok(&self) -> bool {
        matches!(self.installed, Installed::Yes(_)) && self.running == Ok(true)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.installed {
            Installed::Yes(what) => writeln!(f, "installed: yes, {what}")?,
            Installed::No(what) => writeln!(f, "installed: no ({what})")?,
        }
        match &self.running {
            Ok(true) => writeln!(f, "running: yes"),
            Ok(false) => writeln!(f, "running: no"),
            Err(why) => writeln!(f, "running: unknown: {why}"),
        }
    }
}

/// What a command said: exit success, stdout, stderr; `None` when it could not be started.
pub type Answer = Option<(bool, String, String)>;

fn run(cmd: &[&str]) -> Answer {
    let out = std::process::Command::new(cmd[0])
        .args(&cmd[1..])
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    Some((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// Asks this OS's service manager.
pub fn status(home: &Home) -> Report {
    status_with(home, &mut |cmd| run(cmd))
}

/// `status` with the commands answered by `ask` (tests give canned answers).
pub fn status_with(home: &Home, ask: &mut dyn FnMut(&[&str]) -> Answer) -> Report {
    match home.os {
        Os::Linux => systemd(super::systemd::unit_path(home), ask),
        Os::MacOs => launchd(super::launchd::plist_path(home), ask),
        Os::Windows => windows(ask),
    }
}

fn systemd(unit: PathBuf, ask: &mut dyn FnMut(&[&str]) -> Answer) -> Report {
    let service = format!("{NAME}.service");
    if !unit.exists() {
        return Report {
            installed: Installed::No(format!("no unit at {}", unit.display())),
            running: Ok(false),
        };
    }
    let enabled = ask(&["systemctl", "--user", "is-enabled", &service]);
    let active = ask(&["systemctl", "--user", "is-active", &service]);
    let word = |a: &Answer| a.as_ref().map(|(_, out, _)| out.trim().to_owned());
    let unreachable = |a: &Answer| {
        match a {
        None => Some("systemctl is not installed".to_string()),
        // A manager that answers prints a word on stdout; an unreachable one only complains.
        Some((_, out, _)) if out.trim().is_empty() => Some(
            "the user service manager cannot be reached here (no systemd user session: a login over ssh or sudo, or a container); log in to the desktop or run `loginctl enable-linger $USER`".to_string(),
        ),
        Some(_) => None,
    }
    };
    let at = unit.display();
    if let Some(why) = unreachable(&active) {
        return Report {
            installed: Installed::Yes(format!("unit {at}")),
            running: Err(why),
        };
    }
    let enabled = match word(&enabled).as_deref() {
        Some("enabled") => "starts at login",
        Some(_) | None => {
            "not enabled: it will not start at login (`autochase service install` again)"
        }
    };
    let state = word(&active).unwrap_or_default();
    Report {
        installed: Installed::Yes(format!("unit {at}, {enabled}")),
        running: match state.as_str() {
            "active" | "reloading" => Ok(true),
            "activating" => Err("starting".into()),
            _ => Ok(false),
        },
    }
}

fn launchd(plist: PathBuf, ask: &mut dyn FnMut(&[&str]) -> Answer) -> Report {
    if !plist.exists() {
        return Report {
            installed: Installed::No(format!("no agent at {}", plist.display())),
            running: Ok(false),
        };
    }
    let installed = Installed::Yes(format!("agent {}", plist.display()));
    let running = match ask(&["launchctl", "list", LAUNCHD_LABEL]) {
        None => Err("launchctl is not available".into()),
        Some((false, _, _)) => Ok(false),
        Some((true, out, _)) => Ok(out.contains("\"PID\" = ")),
    };
    Report { installed, running }
}

fn windows(ask: &mut dyn FnMut(&[&str]) -> Answer) -> Report {
    match ask(&["schtasks", "/Query", "/TN", NAME, "/V", "/FO", "LIST"]) {
        None => Report {
            installed: Installed::No("schtasks is not available".into()),
            running: Err("schtasks is not available".into()),
        },
        Some((false, _, _)) => Report {
            installed: Installed::No(format!("no task {NAME}")),
            running: Ok(false),
        },
        Some((true, out, _)) => {
            let status = out
                .lines()
                .find_map(|l| l.trim().strip_prefix("Status:"))
                .map(|s| s.trim().to_owned());
            Report {
                installed: Installed::Yes(format!("task {NAME}, started at logon")),
                running: match status.as_deref() {
                    Some("Running") => Ok(true),
                    Some(_) => Ok(false),
                    None => Err("schtasks did not say".into()),
                },
            }
        }
    }
}
