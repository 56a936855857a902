//! What the service manager hears about the daemon (systemd `Type=notify`, through the
//! `sd-notify` crate): READY once the first scan is done, a one-line STATUS as the work
//! changes (`systemctl --user status autochase` shows it), RELOADING around a config reload,
//! STOPPING at the end. Nothing at all without `NOTIFY_SOCKET`, and nothing off Linux.

use std::time::SystemTime;

use tokio::sync::watch;

use crate::engine::EngineStatus;
use crate::state::PauseCause;

/// The line systemd shows under the unit: what is true now, and what to do when it is stuck.
pub fn status_line(status: &EngineStatus, now: SystemTime) -> String {
    if !status.initial_scan_done {
        return "looking through the replay folders".into();
    }
    let pending = match status.queued + usize::from(status.uploading) {
        0 => None,
        n => Some(format!("{n} pending")),
    };
    if !status.token {
        return match pending {
            Some(pending) => format!("{pending}: no API token (`autochase check` says how)"),
            None => "watching for replays; no API token (`autochase check` says how)".into(),
        };
    }
    if let Some(paused) = &status.paused {
        let until = crate::dates::clock(paused.until, now);
        let why = match paused.cause {
            PauseCause::Quota => "upload quota used up",
            PauseCause::RateLimit => "ballchasing asked to wait",
            PauseCause::Trouble => "ballchasing keeps failing",
            PauseCause::Token => "token refused: put a working one in the config",
            PauseCause::Endpoint => "api_url answers wrong: check the config",
        };
        let pending = pending.unwrap_or_else(|| "nothing pending".into());
        // A refused token or a wrong address does not end at a time: it is tried again then.
        return match paused.cause {
            PauseCause::Token | PauseCause::Endpoint => {
                format!("{pending}, waiting ({why}); next try {until}")
            }
            _ => format!("{pending}, parked until {until} ({why})"),
        };
    }
    let mut line = match pending {
        None => "watching for replays".to_owned(),
        Some(pending) if status.uploading => format!("{pending}, uploading"),
        Some(pending) => pending,
    };
    match status.checking {
        0 if status.queued == 0 && !status.uploading => line.push_str(", nothing pending"),
        0 => {}
        n => line.push_str(&format!("; checking {n}")),
    }
    line
}

/// Follows the engine: STATUS while the first scan runs, READY when it is done, then a new
/// STATUS each time the line changes. Ends when the engine does.
pub async fn follow(mut status: watch::Receiver<EngineStatus>) {
    let mut said = status_line(&status.borrow_and_update(), SystemTime::now());
    send(&[Notice::Status(&said)]);
    if status.wait_for(|s| s.initial_scan_done).await.is_err() {
        return;
    }
    let mut ready = false;
    loop {
        let line = status_line(&status.borrow_and_update(), SystemTime::now());
        if !ready {
            send(&[Notice::Ready, Notice::Status(&line)]);
            ready = true;
        } else if line != said {
            send(&[Notice::Status(&line)]);
        }
        said = line;
        if status.changed().await.is_err() {
            return;
        }
    }
}

/// The config is being reloaded (sent with the monotonic time `Type=notify-reload` asks for).
pub fn reloading() {
    send(&[Notice::Reloading]);
}

/// The reload is done.
pub fn reloaded() {
    send(&[Notice::Ready]);
}

/// The daemon is stopping.
pub fn stopping() {
    send(&[Notice::Stopping]);
}

/// One thing to tell, whatever the platform.
enum Notice<'a> {
    Ready,
    Reloading,
    Stopping,
    Status(&'a str),
}

#[cfg(target_os = "linux")]
fn send(notices: &[Notice<'_>]) {
    use sd_notify::NotifyState;
    let mut states = Vec::with_capacity(notices.len() + 1);
    for notice in notices {
        match notice {
            Notice::Ready => states.push(NotifyState::Ready),
            Notice::Stopping => states.push(NotifyState::Stopping),
            Notice::Status(line) => states.push(NotifyState::Status(line)),
            Notice::Reloading => {
                states.push(NotifyState::Reloading);
                if let Ok(now) = NotifyState::monotonic_usec_now() {
                    states.push(now);
                }
            }
        }
    }
    if let Err(e) = sd_notify::notify(&states) {
        tracing::warn!(error = %e, "cannot tell systemd how the daemon is doing");
    }
}

/// No service manager listens: the status line goes to the debug log.
#[cfg(not(target_os = "linux"))]
fn send(notices: &[Notice<'_>]) {
    for notice in notices {
        if let Notice::Status(line) = notice {
            tracing::debug!(status = %line, "status");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::engine::Paused;

    fn ready() -> EngineStatus {
        EngineStatus {
            initial_scan_done: true,
            token: true,
            ..EngineStatus::default()
        }
    }

    #[test]
    fn the_line_says_what_is_happening_and_what_to_do() {
        let now = SystemTime::now();
        assert_eq!(
            status_line(&EngineStatus::default(), now),
            "looking through the replay folders"
        );
        assert_eq!(
            status_line(&ready(), now),
            "watching for replays, nothing pending"
        );
        let busy = EngineStatus {
            queued: 2,
            uploading: true,
            checking: 1,
            ..ready()
        };
        assert_eq!(status_line(&busy, now), "3 pending, uploading; checking 1");
        let checking = EngineStatus {
            checking: 1,
            ..ready()
        };
        assert_eq!(
            status_line(&checking, now),
            "watching for replays; checking 1"
        );
        let waiting_turn = EngineStatus {
            queued: 4,
            ..ready()
        };
        assert_eq!(status_line(&waiting_turn, now), "4 pending");
        let no_token = EngineStatus {
            token: false,
            queued: 2,
            ..ready()
        };
        assert_eq!(
            status_line(&no_token, now),
            "2 pending: no API token (`autochase check` says how)"
        );
    }

    #[test]
    fn a_park_shows_until_when_and_why() {
        let now = SystemTime::now();
        let until = now + Duration::from_secs(90);
        let parked = EngineStatus {
            queued: 3,
            paused: Some(Paused {
                cause: PauseCause::Quota,
                reason: "429".into(),
                until,
                told: false,
            }),
            ..ready()
        };
        let clock = crate::dates::clock(until, now);
        assert_eq!(
            status_line(&parked, now),
            format!("3 pending, parked until {clock} (upload quota used up)")
        );
        let mut refused = parked;
        if let Some(p) = refused.paused.as_mut() {
            p.cause = PauseCause::Token;
        }
        assert_eq!(
            status_line(&refused, now),
            format!(
                "3 pending, waiting (token refused: put a working one in the config); next try {clock}"
            )
        );
    }
}
