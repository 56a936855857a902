//! The Windows logon task: its XML (valid against the Task Scheduler schema, stored as the
//! UTF-16 it declares), the console-less launcher it starts, and the `schtasks` commands.

use std::path::{Path, PathBuf};

use super::{Action, Encoding, FileWrite, NAME, Plan, Target, strings, xml_escape};
use crate::platform::Home;

/// How many times the Task Scheduler retries a start that failed (the schema allows 1–255).
/// A daemon that crashes later is restarted by the launcher, not by this.
pub const RESTART_COUNT: u8 = 3;

/// Where the Windows service logs, since nothing collects a background program's stderr:
/// `%LOCALAPPDATA%\autochase\logs`.
pub fn windows_log_dir(home: &Home) -> PathBuf {
    home.data.join("autochase").join("logs")
}

/// The `--log-file` the task passes; the files are `autochase.YYYY-MM-DD.log` beside it.
pub fn windows_log_file(home: &Home) -> PathBuf {
    windows_log_dir(home).join("autochase.log")
}

/// The console-less launcher next to `exe` (`autochasew.exe`).
pub fn windows_launcher(exe: &Path) -> PathBuf {
    exe.with_file_name("autochasew.exe")
}

/// One argument for a Windows command line, quoted the way `CommandLineToArgvW` (and Rust's
/// own argument parsing) reads it back.
fn windows_arg(arg: &str) -> String {
    if !arg.is_empty() && !arg.contains([' ', '\t', '"']) {
        return arg.to_string();
    }
    let mut out = String::from("\"");
    let mut backslashes = 0;
    for c in arg.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                out.push_str(&"\\".repeat(backslashes * 2 + 1));
                backslashes = 0;
            }
            _ => {
                out.push_str(&"\\".repeat(backslashes));
                backslashes = 0;
            }
        }
        if c != '\\' {
            out.push(c);
        }
    }
    out.push_str(&"\\".repeat(backslashes * 2));
    out.push('"');
    out
}

/// `text` as UTF-16 little endian with a byte order mark: how a file whose XML declaration
/// says `encoding="UTF-16"` must be stored.
pub fn utf16_with_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

/// The Task Scheduler task: at this user's logon, run the console-less launcher (which
/// restarts a crashed daemon), retry a failed start `RESTART_COUNT` times a minute apart, no
/// time limit, not stopped on battery. Names the user in the trigger and the principal: a
/// logon trigger without one means "any user", which only an administrator may register.
pub fn windows_task_xml(home: &Home, target: &Target) -> String {
    let mut args = vec![
        "--log-file".to_string(),
        windows_log_file(home).display().to_string(),
    ];
    args.extend(target.args());
    let args: Vec<String> = args.iter().map(|a| windows_arg(a)).collect();
    let command = windows_launcher(&target.exe).display().to_string();
    let (trigger_user, principal_user) = match &target.user {
        Some(user) => {
            let user = xml_escape(user);
            (
                format!("\n      <UserId>{user}</UserId>"),
                format!("\n      <UserId>{user}</UserId>"),
            )
        }
        None => (String::new(), String::new()),
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>autochase: upload Rocket League replays to ballchasing.com. Written by `autochase service install`.</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>{trigger_user}
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">{principal_user}
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>{RESTART_COUNT}</Count>
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
        xml_escape(&args.join(" "))
    )
}

/// The XML file `schtasks /Create /XML` reads.
pub fn task_xml_path(home: &Home) -> PathBuf {
    home.data.join("autochase").join("autochase-task.xml")
}

pub(super) fn plan(action: Action, home: &Home, target: &Target) -> Plan {
    let xml = task_xml_path(home);
    let xml_arg = xml.display().to_string();
    let schtasks = |args: &[&str]| {
        let mut cmd = strings(&["schtasks"]);
        cmd.extend(strings(args));
        cmd
    };
    match action {
        Action::Install => Plan {
            needs: vec![(
                windows_launcher(&target.exe),
                "the task starts autochasew.exe, the launcher without a console window, which belongs beside autochase.exe; install autochase from its MSI or zip (or `cargo install`, which installs both)".into(),
            )],
            write: vec![FileWrite {
                path: xml.clone(),
                text: windows_task_xml(home, target),
                encoding: Encoding::Utf16,
            }],
            run: vec![
                schtasks(&["/Create", "/TN", NAME, "/XML", &xml_arg, "/F"]),
                schtasks(&["/Run", "/TN", NAME]),
            ],
            undo: vec![schtasks(&["/Delete", "/TN", NAME, "/F"])],
            notes: vec![
                format!(
                    "logs: {}\\autochase.YYYY-MM-DD.log (one file a day)",
                    windows_log_dir(home).display()
                ),
                format!(
                    "stop: schtasks /End /TN {NAME} (until the next logon); remove: autochase service uninstall"
                ),
            ],
            ..Plan::default()
        },
        Action::Uninstall => Plan {
            run: vec![
                schtasks(&["/End", "/TN", NAME]),
                schtasks(&["/Delete", "/TN", NAME, "/F"]),
            ],
            remove: vec![xml],
            ..Plan::default()
        },
        Action::Status => Plan {
            run: vec![schtasks(&["/Query", "/TN", NAME, "/V", "/FO", "LIST"])],
            ..Plan::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_arguments_survive_the_command_line_round_trip() {
        let table = [
            ("run", "run"),
            (r"C:\Users\me\config.toml", r"C:\Users\me\config.toml"),
            (r"C:\My Games\c.toml", r#""C:\My Games\c.toml""#),
            (r"C:\dir with space\", r#""C:\dir with space\\""#),
            (r#"say "hi""#, r#""say \"hi\"""#),
            ("", r#""""#),
        ];
        for (arg, quoted) in table {
            assert_eq!(windows_arg(arg), quoted, "{arg}");
        }
    }

    #[test]
    fn utf16_files_start_with_a_bom_and_hold_every_character() {
        let bytes = utf16_with_bom("<a>Zoé 日本</a>");
        assert_eq!(&bytes[..4], &[0xFF, 0xFE, b'<', 0]);
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(String::from_utf16(&units).unwrap(), "<a>Zoé 日本</a>");
    }
}
