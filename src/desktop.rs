//! Desktop notifications, off by default: one per upload (its title and ballchasing link) and
//! one per replay that cannot be uploaded. They go through the desktop's own tool
//! (`notify-send`, `osascript`, PowerShell), so no notification library is linked in. The
//! text is always passed as data (arguments, or environment variables the fixed PowerShell
//! script reads), never built into script text, so a file name or a replay header cannot run
//! code. A missing tool is said once in the log, with what to install; a failed one is logged.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::{debug, warn};

use crate::platform::{Home, Os};

/// The AppUserModelID the MSI's Start-menu shortcut carries; Windows shows a toast only for
/// an id that a shortcut carries.
pub const APP_ID: &str = "io.github.autochase";
/// Windows PowerShell's own id, which every Windows has a shortcut for: used when autochase
/// was not installed by the MSI (the toast then says "Windows PowerShell").
pub const POWERSHELL_APP_ID: &str =
    r"{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}\WindowsPowerShell\v1.0\powershell.exe";

/// The PowerShell script that shows a toast. Fixed text: what it shows comes from the
/// environment variables `AUTOCHASE_TOAST_APP`, `AUTOCHASE_TOAST_TITLE`, `AUTOCHASE_TOAST_BODY`.
pub const TOAST_SCRIPT: &str = "$ErrorActionPreference='Stop';\
[Windows.UI.Notifications.ToastNotificationManager,Windows.UI.Notifications,ContentType=WindowsRuntime]>$null;\
$x=[Windows.UI.Notifications.ToastNotificationManager]::GetTemplateContent([Windows.UI.Notifications.ToastTemplateType]::ToastText02);\
$t=$x.GetElementsByTagName('text');\
$t.Item(0).AppendChild($x.CreateTextNode($env:AUTOCHASE_TOAST_TITLE))>$null;\
$t.Item(1).AppendChild($x.CreateTextNode($env:AUTOCHASE_TOAST_BODY))>$null;\
[Windows.UI.Notifications.ToastNotificationManager]::CreateToastNotifier($env:AUTOCHASE_TOAST_APP).Show([Windows.UI.Notifications.ToastNotification]::new($x))";

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The bold first line.
    pub summary: String,
    /// The text under it.
    pub body: String,
}

/// How to show a note: a program, its arguments and extra environment variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The program.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Environment variables to set for it.
    pub env: Vec<(String, String)>,
}

/// How to show `note` on `os`; on Windows with the toast app id `app_id`.
pub fn command(os: Os, note: &Note, app_id: &str) -> Invocation {
    let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    match os {
        Os::Linux => Invocation {
            program: "notify-send".into(),
            // `--`: a text starting with `-` is not taken for an option.
            args: strings(&["--app-name=autochase", "--", &note.summary, &note.body]),
            env: Vec::new(),
        },
        Os::MacOs => Invocation {
            program: "osascript".into(),
            // The script is fixed; the texts arrive as its arguments (`argv`).
            args: strings(&[
                "-e",
                "on run argv",
                "-e",
                "display notification (item 2 of argv) with title (item 1 of argv)",
                "-e",
                "end run",
                &note.summary,
                &note.body,
            ]),
            env: Vec::new(),
        },
        Os::Windows => Invocation {
            program: "powershell".into(),
            args: strings(&[
                "-NoProfile",
                "-NonInteractive",
                "-WindowStyle",
                "Hidden",
                "-Command",
                TOAST_SCRIPT,
            ]),
            env: vec![
                ("AUTOCHASE_TOAST_APP".into(), app_id.into()),
                ("AUTOCHASE_TOAST_TITLE".into(), note.summary.clone()),
                ("AUTOCHASE_TOAST_BODY".into(), note.body.clone()),
            ],
        },
    }
}

/// The Start-menu shortcut the MSI creates, carrying `APP_ID`.
pub fn start_menu_shortcut(home: &Home) -> PathBuf {
    home.config
        .join("Microsoft")
        .join("Windows")
        .join("Start Menu")
        .join("Programs")
        .join("autochase.lnk")
}

/// The toast app id to use: ours when its shortcut exists, else PowerShell's.
pub fn toast_app_id(shortcut: &Path) -> &'static str {
    if shortcut.exists() {
        APP_ID
    } else {
        POWERSHELL_APP_ID
    }
}

/// What to install when `program` is missing.
fn install_hint(program: &str) -> &'static str {
    match program {
        "notify-send" => {
            "install libnotify (Debian, Ubuntu: `sudo apt install libnotify-bin`; Fedora, Arch, SteamOS: `libnotify`), or set `notifications = false`"
        }
        "powershell" => "Windows PowerShell is missing from PATH; set `notifications = false`",
        _ => "set `notifications = false`",
    }
}

static SAID_MISSING: AtomicBool = AtomicBool::new(false);
static SAID_FAILED: AtomicBool = AtomicBool::new(false);

/// Shows `note` without waiting for it. A missing tool is warned about once; a tool that
/// fails is warned about once with what it said, then at debug level.
pub fn send(note: &Note) {
    let os = Os::current();
    let app_id = match (os, Home::current()) {
        (Os::Windows, Some(home)) => toast_app_id(&start_menu_shortcut(&home)),
        _ => POWERSHELL_APP_ID,
    };
    let call = command(os, note, app_id);
    let mut cmd = std::process::Command::new(&call.program);
    cmd.args(&call.args)
        .envs(call.env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        cmd.creation_flags(0x0800_0000); // CREATE_NO_WINDOW
    }
    let program = call.program;
    match cmd.spawn() {
        // Reaped on a thread of its own, so the engine never waits for a desktop.
        Ok(child) => {
            std::thread::spawn(move || {
                let Ok(out) = child.wait_with_output() else {
                    return;
                };
                if !out.status.success() {
                    let said = String::from_utf8_lossy(&out.stderr);
                    let said = said.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
                    if !SAID_FAILED.swap(true, Ordering::Relaxed) {
                        warn!(%program, status = %out.status, error = said, "desktop notification failed (said once; later failures at debug level)");
                    } else {
                        debug!(%program, status = %out.status, error = said, "desktop notification failed");
                    }
                }
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !SAID_MISSING.swap(true, Ordering::Relaxed) {
                warn!(%program, hint = install_hint(&program), "notifications = true, but no notifier is installed");
            }
        }
        Err(e) => debug!(%program, error = %e, "desktop notification not shown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file name and a title that would run code if pasted into script text: PowerShell
    /// also ends single-quoted strings at U+2018–U+201B, AppleScript at `"`.
    fn hostile() -> Note {
        Note {
            summary: "Uploaded: x\u{2019};Start-Process calc;\u{2019}.replay".into(),
            body: "-\" & (do shell script \"touch /tmp/p\") & \"'$(calc)".into(),
        }
    }

    #[test]
    fn no_notifier_gets_the_text_as_script() {
        let note = hostile();
        for os in [Os::Linux, Os::MacOs, Os::Windows] {
            let call = command(os, &note, APP_ID);
            // Any argument that holds the text holds exactly it, as data.
            for arg in &call.args {
                if arg.contains("calc") {
                    assert!(*arg == note.summary || *arg == note.body, "{os:?}: {arg}");
                }
            }
        }
        let linux = command(Os::Linux, &note, APP_ID);
        assert_eq!(
            linux.args,
            ["--app-name=autochase", "--", &note.summary, &note.body]
        );
        let mac = command(Os::MacOs, &note, APP_ID);
        assert_eq!(mac.args[6..], [note.summary.clone(), note.body.clone()]);
        assert!(mac.args.contains(&"on run argv".to_string()));
        let windows = command(Os::Windows, &note, APP_ID);
        assert_eq!(windows.args.last().unwrap(), TOAST_SCRIPT);
        assert!(!TOAST_SCRIPT.contains("calc"));
        assert_eq!(
            windows.env,
            [
                ("AUTOCHASE_TOAST_APP".to_string(), APP_ID.to_string()),
                ("AUTOCHASE_TOAST_TITLE".to_string(), note.summary.clone()),
                ("AUTOCHASE_TOAST_BODY".to_string(), note.body.clone()),
            ]
        );
    }

    #[test]
    fn the_toast_uses_our_id_only_when_the_msi_shortcut_carries_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut home = Home::linux(dir.path());
        home.os = Os::Windows;
        home.config = dir.path().join("AppData").join("Roaming");
        let lnk = start_menu_shortcut(&home);
        assert!(lnk.ends_with("Microsoft/Windows/Start Menu/Programs/autochase.lnk"));
        assert_eq!(toast_app_id(&lnk), POWERSHELL_APP_ID);
        std::fs::create_dir_all(lnk.parent().unwrap()).unwrap();
        std::fs::write(&lnk, b"").unwrap();
        assert_eq!(toast_app_id(&lnk), APP_ID);
    }
}
