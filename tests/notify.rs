//! `notifications = true` on a desktop without a notifier: the daemon says so once, in the
//! log, with what to install, and uploads as usual. (Linux: notify-send is its notifier.)
#![cfg(target_os = "linux")]

mod support;

use std::time::{Duration, Instant};

use support::ballchasing::{FakeBallchasing, TOKEN};
use support::bin::{Daemon, command, write_config};
use support::replays::{SMALL, distinct};

#[tokio::test]
async fn a_missing_notifier_is_said_once_with_what_to_install() {
    let fake = FakeBallchasing::start().await;
    let root = tempfile::tempdir().unwrap();
    let demos = root.path().join("Demos");
    std::fs::create_dir(&demos).unwrap();
    let config = root.path().join("config.toml");
    write_config(&config, &fake.server.url(), TOKEN, "notifications = true\n");
    // A PATH with no notify-send on it.
    let empty = root.path().join("empty-bin");
    std::fs::create_dir(&empty).unwrap();
    let log = root.path().join("run.log");
    let daemon = Daemon::spawn(
        command(&config)
            .arg("run")
            .env("PATH", &empty)
            .stderr(std::fs::File::create(&log).unwrap()),
    );
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !read().contains("ready: initial scan done") {
        assert!(
            Instant::now() < deadline,
            "daemon never started: {}",
            read()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for n in 1..=2 {
        std::fs::write(demos.join(format!("R{n}.replay")), distinct(SMALL, n)).unwrap();
    }
    while fake.created() < 2 {
        assert!(Instant::now() < deadline, "no uploads: {}", read());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    daemon.signal("TERM");
    let _ = daemon.output().await;
    let log = read();
    assert_eq!(
        log.matches("no notifier is installed").count(),
        1,
        "said once for two uploads:\n{log}"
    );
    assert!(
        log.contains("notify-send") && log.contains("libnotify"),
        "names the tool and what to install:\n{log}"
    );
}
