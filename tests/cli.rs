//! The `autochase` binary end to end: config errors, one-shot upload, status, check, retry.

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

#[tokio::test]
async fn a_bad_config_names_the_key_and_line() {
    let env = Env::new();
    let path = env.root.path().join("config.toml");
    std::fs::write(&path, "backfill = true\nupload_rate = 0\n").unwrap();
    let out = autochase(&path, &["status"]).await;
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("upload_rate") && err.contains("line 2"),
        "{err}"
    );
    std::fs::write(&path, "replay_dir = []\n").unwrap();
    let err = text(&autochase(&path, &["status"]).await.stderr);
    assert!(
        err.contains("replay_dir") && err.contains("line 1"),
        "{err}"
    );
}

#[tokio::test]
async fn upload_then_status_then_retry() {
    let fake = FakeBallchasing::start().await;
    let env = Env::new();
    let config = env.write_config(&fake.server.url(), TOKEN);
    std::fs::write(env.demos().join("SMALL.replay"), SMALL).unwrap();
    std::fs::write(env.demos().join("TINY.replay"), TINY).unwrap();
    let out = autochase(&config, &["upload", env.demos().to_str().unwrap()]).await;
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("2 of 2 uploaded"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(fake.created(), 2);

    // A second run finds both already uploaded: no request, still success.
    let out = autochase(&config, &["upload", env.demos().to_str().unwrap()]).await;
    assert!(out.status.success());
    assert_eq!(fake.upload_requests(), 2);

    // A broken file fails the command and shows up in status with its reason.
    let bad = env.demos().join("text.replay");
    std::fs::write(&bad, TEXT).unwrap();
    let out = autochase(&config, &["upload", bad.to_str().unwrap()]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("corrupt replay"),
        "{}",
        text(&out.stdout)
    );

    let out = autochase(&config, &["status", "--json"]).await;
    assert!(out.status.success());
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let uploaded = status["uploaded"].as_array().unwrap();
    assert_eq!(uploaded.len(), 2);
    for item in uploaded {
        assert_eq!(item["outcome"], "created");
        assert!(
            item["location"]
                .as_str()
                .unwrap()
                .starts_with("https://ballchasing.com/replay/bc-")
        );
        assert!(item["id"].as_str().unwrap().starts_with("bc-"));
        assert!(item["path"].as_str().unwrap().ends_with(".replay"));
    }
    let failed = status["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("corrupt replay:")
    );
    assert_eq!(status["pending"].as_array().unwrap().len(), 0);
    assert_eq!(status["daemon_running"], false);

    let plain = text(&autochase(&config, &["status"]).await.stdout);
    assert!(plain.contains("uploaded 2, pending 0, failed 1"), "{plain}");

    let out = autochase(&config, &["retry", "--all-failed"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = autochase(&config, &["status", "--json"]).await;
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["failed"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn check_reports_the_account_or_the_refused_token() {
    let fake = FakeBallchasing::start().await;
    let env = Env::new();
    let config = env.write_config(&fake.server.url(), TOKEN);
    let out = autochase(&config, &["check"]).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("account Tester (tier regular)"), "{stdout}");
    assert!(stdout.contains("(0 replays)"), "{stdout}");

    let config = env.write_config(&fake.server.url(), "not-the-token");
    let out = autochase(&config, &["check"]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("refused the API token"), "{err}");
    assert!(
        !err.contains("not-the-token"),
        "the token is never printed: {err}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn run_holds_the_lock_and_stops_cleanly_on_sigterm() {
    let fake = FakeBallchasing::start().await;
    let env = Env::new();
    let config = env.write_config(&fake.server.url(), TOKEN);
    let daemon = support::bin::command(&config)
        .arg("run")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the state file exists the daemon holds the lock.
    let state = env.root.path().join("state/state.jsonl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !state.exists() {
        assert!(std::time::Instant::now() < deadline, "daemon never started");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let second = autochase(&config, &["run"]).await;
    assert_eq!(second.status.code(), Some(1));
    assert!(
        text(&second.stderr).contains("already running"),
        "{}",
        text(&second.stderr)
    );
    let status = text(&autochase(&config, &["status"]).await.stdout);
    assert!(status.starts_with("daemon running"), "{status}");

    std::fs::write(env.demos().join("TINY.replay"), TINY).unwrap();
    while fake.created() == 0 {
        assert!(std::time::Instant::now() < deadline, "no upload");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let pid = daemon.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let out = tokio::task::spawn_blocking(move || daemon.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let log = text(&out.stderr);
    assert!(log.contains("uploaded") && log.contains("stopped"), "{log}");
    assert!(!log.contains(TOKEN), "the token never reaches the log");
}
