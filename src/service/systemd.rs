//! The systemd user unit (Linux, Steam Deck) and the commands that install, remove and query it.

use super::{Action, FileWrite, NAME, Plan, Target, strings};
use crate::platform::Home;

/// The systemd user unit. `target` must have passed `Target::check` (no control characters
/// other than tabs, which are quoted).
pub fn systemd_unit(target: &Target) -> String {
    let mut exec = vec![quote_systemd(&target.exe.display().to_string())];
    exec.extend(target.args().iter().map(|a| quote_systemd(a)));
    // No `After=network-online.target`: a user manager has no such target to wait for; the
    // daemon copes with a network that comes later (uploads retry).
    format!(
        "# Written by `autochase service install`; `autochase service uninstall` removes it.
[Unit]
Description=autochase: upload Rocket League replays to ballchasing.com

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

/// One word of `ExecStart=`: quoted (with C escapes) when it holds whitespace or a character
/// systemd treats specially; `$` and `%` are doubled, since systemd expands them even inside
/// quotes.
fn quote_systemd(arg: &str) -> String {
    let special = |c: char| c.is_whitespace() || "\"\\'$%;".contains(c);
    if !arg.is_empty() && !arg.contains(special) {
        return arg.to_string();
    }
    let mut out = String::from("\"");
    for c in arg.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\t' => out.push_str("\\t"),
            '$' => out.push_str("$$"),
            '%' => out.push_str("%%"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The unit file's path.
pub fn unit_path(home: &Home) -> std::path::PathBuf {
    home.config
        .join("systemd")
        .join("user")
        .join(format!("{NAME}.service"))
}

pub(super) fn systemctl(args: &[&str]) -> Vec<String> {
    let mut cmd = strings(&["systemctl", "--user"]);
    cmd.extend(strings(args));
    cmd
}

pub(super) fn plan(action: Action, home: &Home, target: &Target) -> Plan {
    let unit = unit_path(home);
    let service = format!("{NAME}.service");
    match action {
        Action::Install => Plan {
            write: vec![FileWrite::utf8(unit, systemd_unit(target))],
            run: vec![
                systemctl(&["daemon-reload"]),
                systemctl(&["enable", "--now", &service]),
            ],
            // A failed install: disable what was enabled, then forget the removed unit.
            undo: vec![systemctl(&["disable", "--now", &service])],
            undo_after: vec![systemctl(&["daemon-reload"])],
            notes: vec![
                format!("logs: journalctl --user -u {NAME} -f"),
                format!(
                    "stop: systemctl --user stop {NAME} (until the next login); pause uploads only: `autochase service uninstall`, or remove the token"
                ),
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
            run: vec![
                systemctl(&["is-enabled", &service]),
                systemctl(&["is-active", &service]),
            ],
            ..Plan::default()
        },
    }
}
