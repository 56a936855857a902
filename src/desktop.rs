//! Desktop notifications, off by default: one per upload (its title and ballchasing link) and
//! one per replay that cannot be uploaded. They go through the desktop's own tool
//! (`notify-send`, `osascript`, PowerShell), so no notification library is linked in, and a
//! desktop without one only costs a debug line.

use tracing::debug;

use crate::platform::Os;

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The bold first line.
    pub summary: String,
    /// The text under it.
    pub body: String,
}

/// The program and arguments that show `note` on `os`.
pub fn command(os: Os, note: &Note) -> (String, Vec<String>) {
    match os {
        Os::Linux => (
            "notify-send".into(),
            vec![
                "--app-name=autochase".into(),
                note.summary.clone(),
                note.body.clone(),
            ],
        ),
        Os::MacOs => (
            "osascript".into(),
            vec![
                "-e".into(),
                format!(
                    "display notification {} with title {}",
                    applescript_string(&note.body),
                    applescript_string(&note.summary)
                ),
            ],
        ),
        Os::Windows => {
            let script = format!(
                "$ErrorActionPreference='Stop';\
                 [Windows.UI.Notifications.ToastNotificationManager,Windows.UI.Notifications,ContentType=WindowsRuntime]>$null;\
                 $x=[Windows.UI.Notifications.ToastNotificationManager]::GetTemplateContent([Windows.UI.Notifications.ToastTemplateType]::ToastText02);\
                 $t=$x.GetElementsByTagName('text');\
                 $t.Item(0).AppendChild($x.CreateTextNode({}))>$null;\
                 $t.Item(1).AppendChild($x.CreateTextNode({}))>$null;\
                 [Windows.UI.Notifications.ToastNotificationManager]::CreateToastNotifier('autochase').Show([Windows.UI.Notifications.ToastNotification]::new($x))",
                powershell_string(&note.summary),
                powershell_string(&note.body)
            );
            (
                "powershell".into(),
                vec![
                    "-NoProfile".into(),
                    "-NonInteractive".into(),
                    "-WindowStyle".into(),
                    "Hidden".into(),
                    "-Command".into(),
                    script,
                ],
            )
        }
    }
}

/// An AppleScript string literal.
fn applescript_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A PowerShell single-quoted string literal (the only escape is a doubled quote).
fn powershell_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Shows `note` without waiting for it; a missing or failing tool is logged at debug level.
pub fn send(note: &Note) {
    let (program, args) = command(Os::current(), note);
    let mut cmd = std::process::Command::new(&program);
    cmd.args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        cmd.creation_flags(0x0800_0000); // CREATE_NO_WINDOW
    }
    match cmd.spawn() {
        // Reaped on a thread of its own, so the engine never waits for a desktop.
        Ok(mut child) => {
            std::thread::spawn(move || {
                let _ = child.wait();
            });
        }
        Err(e) => debug!(%program, error = %e, "desktop notification not shown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note() -> Note {
        Note {
            summary: "Uploaded: LAN 4v4 3-2".into(),
            body: "https://ballchasing.com/replay/x \"quoted\" it's".into(),
        }
    }

    #[test]
    fn each_desktop_gets_its_tool_with_safe_quoting() {
        let (program, args) = command(Os::Linux, &note());
        assert_eq!(program, "notify-send");
        assert_eq!(args[1..], [note().summary, note().body]);
        let (program, args) = command(Os::MacOs, &note());
        assert_eq!(program, "osascript");
        assert_eq!(
            args[1],
            r#"display notification "https://ballchasing.com/replay/x \"quoted\" it's" with title "Uploaded: LAN 4v4 3-2""#
        );
        let (program, args) = command(Os::Windows, &note());
        assert_eq!(program, "powershell");
        let script = args.last().unwrap();
        assert!(
            script.contains(r#"CreateTextNode('https://ballchasing.com/replay/x "quoted" it''s')"#)
        );
        assert!(script.contains("CreateTextNode('Uploaded: LAN 4v4 3-2')"));
    }
}
