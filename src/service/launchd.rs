//! The launchd agent (macOS) and the commands that load, unload and query it.

use super::{Action, FileWrite, LAUNCHD_LABEL, Plan, Target, strings, xml_escape};
use crate::platform::Home;

/// The launchd agent's plist.
pub fn launchd_plist(home: &Home, target: &Target) -> String {
    let mut args = vec![target.exe.display().to_string()];
    args.extend(target.args());
    let args: String = args
        .iter()
        .map(|a| format!("        <string>{}</string>\n", xml_escape(a)))
        .collect();
    let log = xml_escape(&log_path(home).display().to_string());
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

fn log_path(home: &Home) -> std::path::PathBuf {
    home.home.join("Library").join("Logs").join("autochase.log")
}

/// The agent's plist path.
pub fn plist_path(home: &Home) -> std::path::PathBuf {
    home.home
        .join("Library")
        .join("LaunchAgents")
        .join(format!("{LAUNCHD_LABEL}.plist"))
}

pub(super) fn plan(action: Action, home: &Home, target: &Target) -> Plan {
    let plist = plist_path(home);
    let plist_arg = plist.display().to_string();
    match action {
        Action::Install => Plan {
            write: vec![FileWrite::utf8(plist.clone(), launchd_plist(home, target))],
            run: vec![strings(&["launchctl", "load", "-w", &plist_arg])],
            undo: vec![strings(&["launchctl", "unload", &plist_arg])],
            notes: vec![
                format!("logs: {}", log_path(home).display()),
                format!("stop: launchctl unload {plist_arg} (until the next login)"),
            ],
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
