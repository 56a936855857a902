//! `autochase run` as a process: the lock, signals, reloads, the log file, systemd.

use super::*;

#[cfg(unix)]
#[tokio::test]
async fn run_holds_the_lock_and_stops_cleanly_on_sigterm() {
    let fake = FakeBallchasing::start().await;
    let env = Env::new();
    let config = env.write_config(&fake.server.url(), TOKEN);
    let daemon = support::bin::Daemon::spawn(
        support::bin::command(&config)
            .arg("run")
            .stderr(std::process::Stdio::piped()),
    );
    // Once the state file exists the daemon holds the lock.
    let state = env.root.path().join("state/state.jsonl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !state.exists() {
        assert!(std::time::Instant::now() < deadline, "daemon never started");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let second = autochase(&config, &["run"]).await;
    assert_eq!(second.status.code(), Some(1));
    assert_eq!(
        text(&second.stderr).matches("already running").count(),
        1,
        "said once: {}",
        text(&second.stderr)
    );
    let status = text(&autochase(&config, &["status"]).await.stdout);
    assert!(status.starts_with("daemon running"), "{status}");

    std::fs::write(env.demos().join("TINY.replay"), TINY).unwrap();
    while fake.created() == 0 {
        assert!(std::time::Instant::now() < deadline, "no upload");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    daemon.signal("TERM");
    let out = daemon.output().await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let log = text(&out.stderr);
    assert!(log.contains("uploaded") && log.contains("stopped"), "{log}");
    assert!(!log.contains(TOKEN), "the token never reaches the log");
}

#[cfg(unix)]
#[tokio::test]
async fn sighup_reloads_the_config() {
    // The config is a hard link to a file in another folder: a write through that other name
    // makes no event in any folder the daemon watches, so only SIGHUP can make it reload.
    let fake = FakeBallchasing::start().await;
    let env = Env::new();
    let real = env.root.path().join("elsewhere/config.toml");
    std::fs::create_dir_all(real.parent().unwrap()).unwrap();
    let state_dir = env.root.path().join("state");
    let demos = env.demos();
    let write_real = |token: &str| {
        let text = format!(
            "token = \"{token}\"\napi_url = \"{}\"\nstate_dir = \"{}\"\nreplay_dirs = [\"{}\"]\nbackfill = true\n",
            fake.server.url(),
            state_dir.display(),
            demos.display()
        );
        std::fs::write(&real, text).unwrap();
    };
    write_real("wrong-token");
    let link = env.root.path().join("config.toml");
    std::fs::hard_link(&real, &link).unwrap();
    let daemon = support::bin::Daemon::spawn(
        support::bin::command(&link)
            .arg("run")
            .stderr(std::process::Stdio::piped()),
    );
    std::fs::write(demos.join("TINY.replay"), TINY).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while fake.upload_requests() == 0 {
        assert!(std::time::Instant::now() < deadline, "no upload try");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    write_real(TOKEN);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(fake.created(), 0, "no reload without the signal");
    daemon.signal("HUP");
    while fake.created() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "SIGHUP did not reload the token"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    daemon.signal("TERM");
    let out = daemon.output().await;
    let log = text(&out.stderr);
    assert!(
        log.contains("SIGHUP") && log.contains("config reloaded"),
        "{log}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn log_file_writes_a_dated_file_beside_stderr() {
    let fake = FakeBallchasing::start().await;
    let env = Env::new();
    let config = env.root.path().join("config.toml");
    write_config(
        &config,
        &fake.server.url(),
        TOKEN,
        "log_file = \"logs/autochase.log\"\n",
    );
    let daemon = support::bin::Daemon::spawn(
        support::bin::command(&config)
            .arg("run")
            .stderr(std::process::Stdio::piped()),
    );
    let logs = env.root.path().join("logs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let log_text = || -> Option<String> {
        let entry = std::fs::read_dir(&logs).ok()?.flatten().next()?;
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            name.starts_with("autochase.")
                && name.ends_with(".log")
                && name.len() == "autochase.2026-11-26.log".len(),
            "{name}"
        );
        std::fs::read_to_string(entry.path()).ok()
    };
    while !log_text().is_some_and(|t| t.contains("ready: initial scan done")) {
        assert!(std::time::Instant::now() < deadline, "no log file");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    daemon.signal("TERM");
    let out = daemon.output().await;
    assert!(
        text(&out.stderr).contains("ready: initial scan done"),
        "stderr too"
    );
    let file = log_text().unwrap();
    assert!(file.contains("stopped"), "{file}");
    assert!(!file.contains('\u{1b}'), "no colour codes in the file");
}

/// A config that is a link to a dotfile elsewhere, and a token kept in `token_file`: editing
/// either is picked up at once, as editing the config itself is.
#[cfg(unix)]
#[tokio::test]
async fn a_linked_config_and_the_token_file_are_reloaded_when_edited() {
    let fake = FakeBallchasing::start().await;
    let env = Env::new();
    let dotfiles = env.root.path().join("dotfiles");
    std::fs::create_dir(&dotfiles).unwrap();
    let real = dotfiles.join("autochase.toml");
    let token_file = env.root.path().join("secrets/token");
    std::fs::create_dir_all(token_file.parent().unwrap()).unwrap();
    std::fs::write(&token_file, "wrong-token\n").unwrap();
    let state_dir = env.root.path().join("state");
    let demos = env.demos();
    let write_real = |visibility: &str| {
        let text = format!(
            "token_file = \"{}\"\napi_url = \"{}\"\nstate_dir = \"{}\"\nreplay_dirs = [\"{}\"]\nvisibility = \"{visibility}\"\nupload_rate = 10.0\n",
            token_file.display(),
            fake.server.url(),
            state_dir.display(),
            demos.display()
        );
        std::fs::write(&real, text).unwrap();
    };
    write_real("unlisted");
    let link = env.root.path().join("config.toml");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let daemon = support::bin::Daemon::spawn(
        support::bin::command(&link)
            .arg("run")
            .stderr(std::process::Stdio::piped()),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !state_dir.join("state.jsonl").exists() {
        assert!(std::time::Instant::now() < deadline, "daemon did not start");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    std::fs::write(demos.join("TINY.replay"), TINY).unwrap();
    while fake.upload_requests() == 0 {
        assert!(std::time::Instant::now() < deadline, "no upload try");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The dotfile behind the link asks for private uploads; the token file gets the token.
    write_real("private");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    while fake.created() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the new token in token_file was not picked up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let visibility: Vec<String> = fake
        .server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/upload"))
        .filter_map(|r| r.query_one("visibility").map(str::to_owned))
        .collect();
    assert_eq!(
        visibility.last().map(String::as_str),
        Some("private"),
        "{visibility:?}"
    );
    daemon.signal("TERM");
    let out = daemon.output().await;
    assert!(text(&out.stderr).contains("config reloaded"));
}

/// The first start's log line counts every replay it skipped, not only those judged before
/// the scan ended.
#[cfg(unix)]
#[tokio::test]
async fn the_baseline_log_line_counts_every_skipped_replay() {
    let fake = FakeBallchasing::start().await;
    let env = Env::new();
    for i in 0..60 {
        std::fs::write(
            env.demos().join(format!("OLD{i}.replay")),
            support::replays::distinct(TINY, i),
        )
        .unwrap();
    }
    let config = env.write_config(&fake.server.url(), TOKEN);
    let daemon = support::bin::Daemon::spawn(
        support::bin::command(&config)
            .arg("run")
            .stderr(std::process::Stdio::piped()),
    );
    let state = env.root.path().join("state/state.jsonl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !std::fs::read_to_string(&state).is_ok_and(|t| t.contains("\"kind\":\"folder\"")) {
        assert!(std::time::Instant::now() < deadline, "no baseline");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    daemon.signal("TERM");
    let log = text(&daemon.output().await.stderr);
    assert!(log.contains("skipped=60"), "{log}");
}

/// `--log-file` in a folder of the user's own: only autochase's dated files are ever pruned,
/// and today's is private even when it was there before, readable by all.
#[cfg(unix)]
#[tokio::test]
async fn the_log_file_prunes_only_its_own_dated_files() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let config = env.write_config("http://127.0.0.1:9", TOKEN);
    let docs = env.root.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let mine = [
        "my notes 1.txt",
        "my.txt.bak",
        "my.2026-13-40.txt",
        "my.txt",
    ];
    for name in mine {
        std::fs::write(docs.join(name), "the user's").unwrap();
    }
    let day = |n: i64| {
        jiff::civil::date(2025, 1, 1)
            .checked_add(jiff::Span::new().days(n))
            .unwrap()
    };
    for n in 0..20 {
        std::fs::write(docs.join(format!("my.{}.txt", day(n))), "old log").unwrap();
    }
    let today = docs.join(format!("my.{}.txt", jiff::ZonedDateTime::now().date()));
    std::fs::write(&today, "").unwrap();
    std::fs::set_permissions(&today, std::fs::Permissions::from_mode(0o644)).unwrap();
    let log = docs.join("my.txt");
    let out = support::bin::command(&config)
        .arg("--log-file")
        .arg(&log)
        .args(["-v", "status"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    for name in mine {
        assert!(docs.join(name).exists(), "{name} was removed");
    }
    let dated: Vec<String> = std::fs::read_dir(&docs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("my.20") && n != "my.2026-13-40.txt")
        .collect();
    assert_eq!(dated.len(), 14, "the newest 14 kept: {dated:?}");
    assert!(!docs.join(format!("my.{}.txt", day(0))).exists());
    assert!(docs.join(format!("my.{}.txt", day(19))).exists());
    let mode = std::fs::metadata(&today).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "today's log is private");
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn systemd_hears_ready_a_status_line_reloads_and_stopping() {
    let fake = FakeBallchasing::start().await;
    let env = Env::new();
    let config = env.write_config(&fake.server.url(), "wrong-token");
    let socket = env.root.path().join("notify.sock");
    let messages = listen_as_systemd(&socket);
    let daemon = support::bin::Daemon::spawn(
        support::bin::command(&config)
            .arg("run")
            .env("NOTIFY_SOCKET", &socket)
            .stderr(std::process::Stdio::null()),
    );
    let ready = heard(&messages, "READY=1");
    assert!(
        ready.contains("STATUS=watching for replays, nothing pending"),
        "{ready}"
    );
    std::fs::write(env.demos().join("TINY.replay"), TINY).unwrap();
    let parked = heard(&messages, "next try");
    assert!(
        parked.contains("STATUS=1 pending, waiting (token refused") && parked.contains("next try "),
        "{parked}"
    );

    write_config(&config, &fake.server.url(), TOKEN, "");
    daemon.signal("HUP");
    let reloading = heard(&messages, "RELOADING=1");
    assert!(reloading.contains("MONOTONIC_USEC="), "{reloading}");
    heard(&messages, "READY=1");
    heard(&messages, "STATUS=watching for replays, nothing pending");
    assert_eq!(fake.created(), 1);

    daemon.signal("TERM");
    heard(&messages, "STOPPING=1");
    let out = daemon.output().await;
    assert_eq!(out.status.code(), Some(0));
}
