//! Running at login: the systemd user unit (Linux), the launchd agent (macOS) and the logon
//! task (Windows), as a plan of files and commands that `--dry-run` prints and `install`,
//! `uninstall` and `status` carry out.

use std::path::{Path, PathBuf};

use crate::platform::{Home, Os};

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

/// Files to write or remove and commands to run, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Files to write, with their content.
    pub write: Vec<(PathBuf, String)>,
    /// Commands to run (program and arguments).
    pub run: Vec<Vec<String>>,
    /// Files to remove (after the commands).
    pub remove: Vec<PathBuf>,
    /// What to tell the user afterwards.
    pub notes: Vec<String>,
}

/// Why carrying out a plan stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
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

/// What the service runs.
#[derive(Debug, Clone)]
pub struct Target {
    /// The autochase executable.
    pub exe: PathBuf,
    /// The config file to pass, if not the default.
    pub config: Option<PathBuf>,
}

impl Target {
    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(config) = &self.config {
            args.push("--config".to_string());
            args.push(config.display().to_string());
        }
        args.push("run".to_string());
        args
    }
}

/// The plan for `action` on `home.os`.
pub fn plan(action: Action, home: &Home, target: &Target) -> Plan {
    match home.os {
        Os::Linux => systemd_plan(action, home, target),
        Os::MacOs => launchd_plan(action, home, target),
        Os::Windows => windows_plan(action, home, target),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The systemd user unit.
pub fn systemd_unit(target: &Target) -> String {
    let mut exec = vec![quote_systemd(&target.exe.display().to_string())];
    exec.extend(target.args().iter().map(|a| quote_systemd(a)));
    format!(
        "# Written by `autochase service install`; `autochase service uninstall` removes it.
[Unit]
Description=autochase: upload Rocket League replays to ballchasing.com
Documentation=https://github.com/autochase/autochase
After=network-online.target

[Service]
# autochase tells systemd when its first scan is done (sd_notify READY=1).
Type=notify
ExecStart={exec}
# SIGHUP reloads the config without a restart.
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=10
# Above the daemon's 10 s grace for the upload in flight.
TimeoutStopSec=20
Nice=10
IOSchedulingClass=idle

[Install]
WantedBy=default.target
",
        exec = exec.join(" ")
    )
}

fn quote_systemd(arg: &str) -> String {
    if arg.is_empty() || arg.contains([' ', '"', '\\', '\'', '$', '%', ';']) {
        let escaped = arg
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('$', "$$")
            .replace('%', "%%");
        format!("\"{escaped}\"")
    } else {
        arg.to_string()
    }
}

fn systemd_plan(action: Action, home: &Home, target: &Target) -> Plan {
    let unit = home
        .config
        .join("systemd/user")
        .join(format!("{NAME}.service"));
    let systemctl = |args: &[&str]| {
        let mut cmd = strings(&["systemctl", "--user"]);
        cmd.extend(strings(args));
        cmd
    };
    let service = format!("{NAME}.service");
    match action {
        Action::Install => Plan {
            write: vec![(unit, systemd_unit(target))],
            run: vec![
                systemctl(&["daemon-reload"]),
                systemctl(&["enable", "--now", &service]),
            ],
            notes: vec![
                format!("logs: journalctl --user -u {NAME} -f"),
                "to keep it running while logged out: loginctl enable-linger $USER".into(),
            ],
            ..Plan::default()
        },
        Action::Uninstall => Plan {
            run: vec![
                systemctl(&["disable", "--now", &service]),
                systemctl(&["daemon-reload"]),
            ],
            remove: vec![unit],
            ..Plan::default()
        },
        Action::Status => Plan {
            run: vec![systemctl(&["status", "--no-pager", &service])],
            ..Plan::default()
        },
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The launchd agent's plist.
pub fn launchd_plist(home: &Home, target: &Target) -> String {
    let mut args = vec![target.exe.display().to_string()];
    args.extend(target.args());
    let args: String = args
        .iter()
        .map(|a| format!("        <string>{}</string>\n", xml_escape(a)))
        .collect();
    let log = home.home.join("Library/Logs/autochase.log");
    let log = xml_escape(&log.display().to_string());
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Written by `autochase service install`; `autochase service uninstall` removes it. -->
<plist version="1.0">
<dict>
    <key>Label</key>
    <string>{LAUNCHD_LABEL}</string>
    <key>ProgramArguments</key>
    <array>
{args}    </array>
    <key>RunAtLoad</key>
    <true/>
    <!-- Restarted when it fails, not when it is stopped on purpose. -->
    <key>KeepAlive</key>
    <dict>
        <key>SuccessfulExit</key>
        <false/>
    </dict>
    <key>ThrottleInterval</key>
    <integer>10</integer>
    <key>ProcessType</key>
    <string>Background</string>
    <key>StandardOutPath</key>
    <string>{log}</string>
    <key>StandardErrorPath</key>
    <string>{log}</string>
</dict>
</plist>
"#
    )
}

fn launchd_plan(action: Action, home: &Home, target: &Target) -> Plan {
    let plist = home
        .home
        .join("Library/LaunchAgents")
        .join(format!("{LAUNCHD_LABEL}.plist"));
    let plist_arg = plist.display().to_string();
    match action {
        Action::Install => Plan {
            write: vec![(plist.clone(), launchd_plist(home, target))],
            run: vec![strings(&["launchctl", "load", "-w", &plist_arg])],
            notes: vec![format!(
                "logs: {}",
                home.home.join("Library/Logs/autochase.log").display()
            )],
            ..Plan::default()
        },
        Action::Uninstall => Plan {
            run: vec![strings(&["launchctl", "unload", "-w", &plist_arg])],
            remove: vec![plist],
            ..Plan::default()
        },
        Action::Status => Plan {
            run: vec![strings(&["launchctl", "list", LAUNCHD_LABEL])],
            ..Plan::default()
        },
    }
}

/// Where the Windows service logs, since nothing collects a background program's stderr.
pub fn windows_log_file(home: &Home) -> PathBuf {
    home.data
        .join("autochase")
        .join("logs")
        .join("autochase.log")
}

/// The console-less launcher next to `exe` (`autochasew.exe`).
pub fn windows_launcher(exe: &Path) -> PathBuf {
    exe.with_file_name("autochasew.exe")
}

/// The Task Scheduler task: at this user's logon, run the console-less launcher, restart on
/// failure, no time limit, not on battery only.
pub fn windows_task_xml(home: &Home, target: &Target) -> String {
    let mut args = vec![
        "--log-file".to_string(),
        windows_log_file(home).display().to_string(),
    ];
    args.extend(target.args());
    let args = args
        .iter()
        .map(|a| {
            if a.contains(' ') {
                format!("\"{a}\"")
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let command = windows_launcher(&target.exe).display().to_string();
    format!(
        r#"<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>autochase: upload Rocket League replays to ballchasing.com. Written by `autochase service install`.</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
    <Priority>7</Priority>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{}</Command>
      <Arguments>{}</Arguments>
    </Exec>
  </Actions>
</Task>
"#,
        xml_escape(&command),
        xml_escape(&args)
    )
}

fn windows_plan(action: Action, home: &Home, target: &Target) -> Plan {
    let xml = home.data.join("autochase").join("autochase-task.xml");
    let xml_arg = xml.display().to_string();
    match action {
        Action::Install => Plan {
            write: vec![(xml.clone(), windows_task_xml(home, target))],
            run: vec![
                strings(&["schtasks", "/Create", "/TN", NAME, "/XML", &xml_arg, "/F"]),
                strings(&["schtasks", "/Run", "/TN", NAME]),
            ],
            notes: vec![format!("logs: {}", windows_log_file(home).display())],
            ..Plan::default()
        },
        Action::Uninstall => Plan {
            run: vec![
                strings(&["schtasks", "/End", "/TN", NAME]),
                strings(&["schtasks", "/Delete", "/TN", NAME, "/F"]),
            ],
            remove: vec![xml],
            ..Plan::default()
        },
        Action::Status => Plan {
            run: vec![strings(&[
                "schtasks", "/Query", "/TN", NAME, "/V", "/FO", "LIST",
            ])],
            ..Plan::default()
        },
    }
}

impl Plan {
    /// What the plan does, one line per step (for `--dry-run`), with the files' contents.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for (path, content) in &self.write {
            out.push_str(&format!("write {}:\n", path.display()));
            for line in content.lines() {
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

    /// Carries the plan out, stopping at the first failure (a command that fails while
    /// uninstalling, because the service is already stopped, is reported and passed over).
    pub fn execute(&self, tolerant: bool) -> Result<(), ServiceError> {
        for (path, content) in &self.write {
            let written = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(path, content));
            written.map_err(|source| ServiceError::Write {
                path: path.clone(),
                source,
            })?;
            println!("wrote {}", path.display());
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home(os: Os) -> Home {
        let mut home = Home::linux(Path::new("/home/me"));
        home.os = os;
        home
    }

    fn target() -> Target {
        Target {
            exe: PathBuf::from("/home/me/.cargo/bin/autochase"),
            config: Some(PathBuf::from("/home/me/my config.toml")),
        }
    }

    #[test]
    fn the_systemd_unit_runs_this_binary_with_this_config() {
        let plan = plan(Action::Install, &home(Os::Linux), &target());
        let (path, unit) = &plan.write[0];
        assert_eq!(
            path,
            Path::new("/home/me/.config/systemd/user/autochase.service")
        );
        assert!(unit.contains(
            "ExecStart=/home/me/.cargo/bin/autochase --config \"/home/me/my config.toml\" run\n"
        ));
        for line in [
            "Type=notify",
            "Restart=on-failure",
            "TimeoutStopSec=20",
            "WantedBy=default.target",
        ] {
            assert!(unit.lines().any(|l| l == line), "{line}");
        }
        assert_eq!(
            plan.run,
            vec![
                strings(&["systemctl", "--user", "daemon-reload"]),
                strings(&[
                    "systemctl",
                    "--user",
                    "enable",
                    "--now",
                    "autochase.service"
                ])
            ]
        );
        let uninstall = super::plan(Action::Uninstall, &home(Os::Linux), &target());
        assert_eq!(uninstall.remove, vec![path.clone()]);
        assert!(uninstall.write.is_empty());
    }

    #[test]
    fn the_shipped_unit_matches_the_generated_one_in_what_matters() {
        let shipped = include_str!("../systemd/autochase.service");
        let generated = systemd_unit(&target());
        for key in [
            "Type=",
            "Restart=",
            "RestartSec=",
            "TimeoutStopSec=",
            "ExecReload=",
        ] {
            let pick = |text: &str| text.lines().find(|l| l.starts_with(key)).map(str::to_owned);
            assert_eq!(pick(shipped), pick(&generated), "{key}");
        }
    }

    #[test]
    fn the_launch_agent_runs_at_load_and_restarts_on_failure() {
        let plan = plan(Action::Install, &home(Os::MacOs), &target());
        let (path, plist) = &plan.write[0];
        assert_eq!(
            path,
            Path::new("/home/me/Library/LaunchAgents/io.github.autochase.plist")
        );
        assert!(plist.contains("<key>RunAtLoad</key>\n    <true/>"));
        assert!(plist.contains("<key>SuccessfulExit</key>\n        <false/>"));
        assert!(plist.contains("<string>/home/me/my config.toml</string>"));
        assert!(plist.contains("<string>/home/me/Library/Logs/autochase.log</string>"));
        assert_eq!(plan.run[0][..3], strings(&["launchctl", "load", "-w"]));
    }

    #[test]
    fn the_windows_task_starts_the_windowless_launcher_at_logon_with_a_log_file() {
        let home = Home {
            os: Os::Windows,
            home: PathBuf::from(r"C:\Users\me"),
            documents: None,
            config: PathBuf::from(r"C:\Users\me\AppData\Roaming"),
            data: PathBuf::from(r"C:\Users\me\AppData\Local"),
        };
        let target = Target {
            exe: PathBuf::from(r"C:\Users\me\.cargo\bin\autochase.exe"),
            config: None,
        };
        let plan = plan(Action::Install, &home, &target);
        let xml = &plan.write[0].1;
        assert!(xml.contains("<LogonTrigger>"));
        assert!(xml.contains("<RestartOnFailure>"));
        assert!(xml.contains("<ExecutionTimeLimit>PT0S</ExecutionTimeLimit>"));
        assert!(xml.contains("autochasew.exe</Command>"), "{xml}");
        assert!(xml.contains("<Arguments>--log-file "), "{xml}");
        assert!(xml.contains(" run</Arguments>"), "{xml}");
        assert_eq!(plan.run[0][0], "schtasks");
        assert!(plan.run[0].contains(&"/XML".to_string()));
    }

    #[test]
    fn dry_run_shows_files_commands_and_removals() {
        let text = plan(Action::Install, &home(Os::Linux), &target()).describe();
        assert!(text.starts_with("write /home/me/.config/systemd/user/autochase.service:\n"));
        assert!(text.contains("    Type=notify\n"));
        assert!(text.contains("run   systemctl --user enable --now autochase.service\n"));
        let text = plan(Action::Uninstall, &home(Os::Linux), &target()).describe();
        assert!(text.contains("remove /home/me/.config/systemd/user/autochase.service"));
    }
}
