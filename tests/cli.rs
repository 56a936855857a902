//! The `autochase` binary end to end: config errors, one-shot upload, status, check, retry.

#[path = "cli/commands.rs"]
mod commands;
// Every test there signals the process (SIGTERM, SIGHUP): Unix only.
#[cfg(unix)]
#[path = "cli/running.rs"]
mod running;
#[path = "cli/setup.rs"]
mod setup;
mod support;

use std::path::PathBuf;

use support::ballchasing::{FakeBallchasing, TOKEN};
use support::bin::{autochase, text, write_config};

use support::replays::{SMALL, TINY};
const TEXT: &[u8] = include_bytes!("fixtures/bad/text.replay");

struct Env {
    root: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let env = Env {
            root: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir(env.demos()).unwrap();
        env
    }

    fn demos(&self) -> PathBuf {
        self.root.path().join("Demos")
    }

    fn write_config(&self, api: &str, token: &str) -> PathBuf {
        let path = self.root.path().join("config.toml");
        write_config(&path, api, token, "");
        path
    }
}

/// A fake home with a Steam library holding Rocket League's Proton prefix and one replay.
fn fake_home(root: &std::path::Path) -> (PathBuf, PathBuf) {
    let home = root.join("home");
    let demos = home.join(
        ".local/share/Steam/steamapps/compatdata/252950/pfx/drive_c/users/steamuser/Documents/My Games/Rocket League/TAGame/Demos",
    );
    std::fs::create_dir_all(&demos).unwrap();
    std::fs::write(demos.join("A377345411F1648257A50AB0C1621AB2.replay"), TINY).unwrap();
    (home, demos)
}

fn with_home(command: &mut std::process::Command, home: &std::path::Path) {
    command
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_DATA_HOME")
        .stdin(std::process::Stdio::null());
}

async fn output(mut command: std::process::Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// Collects what the daemon tells systemd, one datagram per message, on its own thread.
#[cfg(target_os = "linux")]
fn listen_as_systemd(path: &std::path::Path) -> std::sync::mpsc::Receiver<String> {
    let socket = std::os::unix::net::UnixDatagram::bind(path).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 4096];
        while let Ok(n) = socket.recv(&mut buf) {
            if tx.send(text(&buf[..n])).is_err() {
                return;
            }
        }
    });
    rx
}

/// Waits for a message that contains `wanted`, and returns it.
#[cfg(target_os = "linux")]
fn heard(messages: &std::sync::mpsc::Receiver<String>, wanted: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match messages.recv_timeout(left) {
            Ok(message) if message.contains(wanted) => return message,
            Ok(message) => seen.push(message),
            Err(_) => panic!("systemd never heard {wanted:?}; it heard {seen:?}"),
        }
    }
}
