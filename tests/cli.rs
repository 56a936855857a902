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
async fn a_bad_config_names_the_key_and_line_and_status_still_works() {
    let env = Env::new();
    let path = env.root.path().join("config.toml");
    std::fs::write(
        &path,
        "state_dir = \"state\"\nbackfill = true\nupload_rate = 0\n",
    )
    .unwrap();
    // A command that needs the config stops with exit 2, naming the key and line.
    let out = autochase(&path, &["run"]).await;
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("upload_rate") && err.contains("line 3"),
        "{err}"
    );
    // `check` reports it as a problem to fix (exit 1, as the README says).
    let out = autochase(&path, &["check"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("problem: config"),
        "{}",
        text(&out.stderr)
    );
    // `status` still shows the state, from the state folder the broken file names.
    let out = autochase(&path, &["status"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("showing the state anyway"));
    assert!(
        text(&out.stdout).contains(&env.root.path().join("state").display().to_string()),
        "{}",
        text(&out.stdout)
    );
    std::fs::write(&path, "replay_dir = []\n").unwrap();
    let err = text(&autochase(&path, &["run"]).await.stderr);
    assert!(
        err.contains("replay_dir")
            && err.contains("line 1")
            && err.contains("did you mean `replay_dirs`?"),
        "{err}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn status_piped_into_head_ends_quietly() {
    let env = Env::new();
    let path = env.root.path().join("config.toml");
    std::fs::write(&path, "state_dir = \"state\"\n").unwrap();
    // More than a pipe holds, so the writer meets the closed pipe.
    let mut journal =
        String::from("{\"kind\":\"header\",\"format\":\"autochase-state\",\"version\":2}\n");
    for i in 0..2000 {
        journal.push_str(&format!(
            "{{\"kind\":\"replay\",\"id\":\"ID{i}\",\"path\":\"/demos/{i}.replay\",\"size\":1,\"digest\":\"x\",\"status\":\"pending\",\"first_seen\":\"2026-11-26T18:00:00Z\",\"updated\":\"2026-11-26T18:00:00Z\"}}\n"
        ));
    }
    std::fs::create_dir_all(env.root.path().join("state")).unwrap();
    std::fs::write(env.root.path().join("state/state.jsonl"), journal).unwrap();
    let bin = env!("CARGO_BIN_EXE_autochase");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{bin}' --config '{}' status --json | head -c 1 >/dev/null; exit ${{PIPESTATUS:-0}}",
            path.display()
        ))
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
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
        text(&out.stdout).contains("2 files: 2 uploaded now"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(fake.created(), 2);

    // A second run finds both uploaded before: no request, still success, and it says so.
    let out = autochase(&config, &["upload", env.demos().to_str().unwrap()]).await;
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("2 files: 2 uploaded before"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(fake.upload_requests(), 2);

    // A file that is not a replay fails the command and shows up in status with its reason.
    let bad = env.demos().join("text.replay");
    std::fs::write(&bad, TEXT).unwrap();
    let out = autochase(&config, &["upload", bad.to_str().unwrap()]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("not a Rocket League replay"),
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
            .starts_with("not a Rocket League replay")
    );
    assert_eq!(status["pending"].as_array().unwrap().len(), 0);
    assert_eq!(status["daemon_running"], false);

    let plain = text(&autochase(&config, &["status"]).await.stdout);
    assert!(plain.contains("uploaded 2, pending 0, failed 1"), "{plain}");

    // Retrying it looks at it again at once and says what it still is; it stays listed.
    let out = autochase(&config, &["retry", "--all-failed"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("not uploadable")
            && text(&out.stdout).contains("not a Rocket League replay"),
        "{}",
        text(&out.stdout)
    );
    let out = autochase(&config, &["status", "--json"]).await;
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["failed"].as_array().unwrap().len(), 1);
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
    assert!(stdout.contains("(0 replays; replay_dirs)"), "{stdout}");

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

/// With no folder yet (the game not run since it was installed), `check` says where
/// autochase waits for one, so a user can see whether theirs is among them.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn check_lists_where_it_waits_for_a_replay_folder() {
    let env = Env::new();
    let home = env.root.path().join("home");
    std::fs::create_dir_all(home.join(".local/share/Steam/steamapps")).unwrap();
    let config = env.root.path().join("bare.toml");
    std::fs::write(&config, "state_dir = \"state\"\n").unwrap();
    let mut command = support::bin::command(&config);
    command.arg("check");
    with_home(&mut command, &home);
    let out = output(command).await;
    let said = text(&out.stdout);
    assert!(
        said.lines().any(|l| l.contains("compatdata/252950/pfx")
            && l.contains("not there yet; watched for when it appears")),
        "{said}"
    );
    assert!(!out.status.success(), "no folder yet is a problem to fix");
}

#[cfg(unix)]
#[tokio::test]
async fn init_writes_a_private_config_with_the_found_folders_and_never_overwrites() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let (home, demos) = fake_home(env.root.path());
    let config = home.join(".config/autochase/config.toml");
    let init = |args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_autochase"));
        command
            .arg("init")
            .args(args)
            .env_remove("BALLCHASING_TOKEN")
            // init tries the token: at a closed local port, never at the real ballchasing.
            .env("AUTOCHASE_API_URL", "http://127.0.0.1:9/");
        with_home(&mut command, &home);
        command
    };
    let out = output(init(&["--token", "tok-123"])).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!("found {}", demos.display())),
        "{stdout}"
    );
    assert!(stdout.contains("(1 replay, newest"), "{stdout}");
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.contains("token = \"tok-123\""));
    assert!(written.contains(&format!("#   {}  (1 replay;", demos.display())));
    let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // `check` with that config sees the folder through discovery.
    let mut check = support::bin::command(&config);
    check.arg("check");
    with_home(&mut check, &home);
    let stdout = text(&output(check).await.stdout);
    assert!(
        stdout.contains(&format!(
            "folder: {} (1 replay, newest A377345411F1648257A50AB0C1621AB2.replay",
            demos.display()
        )),
        "{stdout}"
    );

    let again = output(init(&["--token", "other"])).await;
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), written);
    let forced = output(init(&["--force"])).await;
    assert!(forced.status.success());
    let replaced = std::fs::read_to_string(&config).unwrap();
    assert!(
        !replaced.contains("tok-123"),
        "no token given, none written"
    );
    assert!(text(&forced.stdout).contains("no token yet"));
}

#[tokio::test]
async fn service_install_dry_run_shows_the_unit_and_touches_nothing() {
    let env = Env::new();
    let (home, _) = fake_home(env.root.path());
    let config = env.write_config("http://127.0.0.1:9", TOKEN);
    let mut command = support::bin::command(&config);
    command.args(["service", "install", "--dry-run"]);
    with_home(&mut command, &home);
    let out = output(command).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    if cfg!(target_os = "linux") {
        let unit = home.join(".config/systemd/user/autochase.service");
        assert!(
            stdout.starts_with(&format!("write {}:", unit.display())),
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!(
                "ExecStart={} --config {} run",
                env!("CARGO_BIN_EXE_autochase"),
                config.display()
            )),
            "{stdout}"
        );
        assert!(stdout.contains("run   systemctl --user enable --now autochase.service"));
        assert!(!unit.exists(), "a dry run writes nothing");
        // A relative --config becomes absolute: the service does not start in this folder.
        let mut relative = std::process::Command::new(env!("CARGO_BIN_EXE_autochase"));
        relative
            .args(["--config", "config.toml", "service", "install", "--dry-run"])
            .current_dir(env.root.path())
            .env_remove("BALLCHASING_TOKEN");
        with_home(&mut relative, &home);
        let stdout = text(&output(relative).await.stdout);
        assert!(
            stdout.contains(&format!("--config {} run", config.display())),
            "{stdout}"
        );
    }
}

#[tokio::test]
async fn a_broken_config_never_keeps_the_service_from_being_removed() {
    let env = Env::new();
    let (home, _) = fake_home(env.root.path());
    let config = env.root.path().join("config.toml");
    std::fs::write(&config, "tokn = \"x\"\n").unwrap();
    let service = |args: &[&str]| {
        let mut command = support::bin::command(&config);
        command.arg("service").args(args);
        with_home(&mut command, &home);
        command
    };
    let out = output(service(&["uninstall", "--dry-run"])).await;
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("tokn"),
        "the problem is still named: {stderr}"
    );
    assert!(!text(&out.stdout).is_empty(), "the plan is shown");
    // Installing a service that would stop at once on its config is refused.
    let out = output(service(&["install", "--dry-run"])).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
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

/// Two `upload`s at once with no daemon: the second waits for the first (a command, which
/// reads no requests) instead of handing its files to it, and nothing is left in the inbox.
#[tokio::test]
async fn a_second_upload_waits_for_a_command_and_never_hands_it_work() {
    let fake = FakeBallchasing::start().await;
    fake.books.lock().unwrap().delay = std::time::Duration::from_secs(2);
    let env = Env::new();
    let config = env.write_config(&fake.server.url(), TOKEN);
    let (a, b) = (env.demos().join("A.replay"), env.demos().join("B.replay"));
    std::fs::write(&a, TINY).unwrap();
    std::fs::write(&b, SMALL).unwrap();
    let first = support::bin::Daemon::spawn(
        support::bin::command(&config)
            .arg("upload")
            .arg(&a)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped()),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while fake.upload_requests() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the first upload never came"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The first holds the lock while ballchasing takes its time to answer.
    let started = std::time::Instant::now();
    let second = autochase(&config, &["upload", b.to_str().unwrap()]).await;
    let waited = started.elapsed();
    let err = text(&second.stderr);
    assert!(second.status.success(), "{err}{}", text(&second.stdout));
    assert!(!err.contains("handed"), "handed to a command: {err}");
    assert!(err.contains("waiting for it"), "says why it waits: {err}");
    assert!(waited < std::time::Duration::from_secs(12), "{waited:?}");
    let first = first.output().await;
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(fake.created(), 2);
    let left: Vec<_> = std::fs::read_dir(env.root.path().join("state/inbox"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "inbox: {left:?}");
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

/// Nothing to do is done (exit 0); a name that matches nothing, or a folder that does not
/// exist, is something to fix (exit 1), said in words.
#[tokio::test]
async fn nothing_to_do_exits_0_and_a_wrong_name_exits_1() {
    let env = Env::new();
    let config = env.write_config("http://127.0.0.1:9", TOKEN);
    for args in [
        &["retry", "--all-failed"][..],
        &["backfill"],
        &["forget", "--gone"],
    ] {
        let out = autochase(&config, args).await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).starts_with("nothing to "),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let missing = env.root.path().join("NoSuchFolder");
    for args in [
        &["retry", "NOSUCHID"][..],
        &["forget", "NOSUCHID"],
        &["backfill", missing.to_str().unwrap()],
    ] {
        let out = autochase(&config, args).await;
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = autochase(&config, &["backfill", missing.to_str().unwrap()]).await;
    assert!(
        text(&out.stderr).contains("no such folder"),
        "{}",
        text(&out.stderr)
    );
}

/// Without a token, `status` says what the pending replays wait for and how to give it.
#[tokio::test]
async fn status_says_pending_replays_wait_for_a_token() {
    let env = Env::new();
    let config = env.root.path().join("config.toml");
    std::fs::write(
        &config,
        "state_dir = \"state\"\nreplay_dirs = [\"Demos\"]\napi_url = \"http://127.0.0.1:9\"\n",
    )
    .unwrap();
    let file = env.demos().join("TINY.replay");
    std::fs::write(&file, TINY).unwrap();
    let out = autochase(&config, &["upload", file.to_str().unwrap()]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let out = autochase(&config, &["status"]).await;
    let said = text(&out.stdout);
    assert!(said.contains("pending 1"), "{said}");
    assert!(
        said.contains("wait for an API token: `autochase init`"),
        "{said}"
    );
}

/// A server that takes the connection and never answers: `check` says so within its own
/// short time limit, with one request, rather than after the daemon's retries.
#[tokio::test]
async fn check_gives_a_silent_server_one_short_try() {
    let silent = support::FakeServer::start(|_| {
        support::Reply::json(200, serde_json::json!({})).delay(std::time::Duration::from_secs(60))
    })
    .await;
    let env = Env::new();
    let config = env.root.path().join("config.toml");
    write_config(&config, &silent.url(), TOKEN, "request_timeout = 5\n");
    let started = std::time::Instant::now();
    let out = autochase(&config, &["check"]).await;
    let took = started.elapsed();
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("cannot reach ballchasing"), "{said}");
    assert_eq!(silent.requests().len(), 1, "tried once");
    assert!(took < std::time::Duration::from_secs(12), "{took:?}");
}

/// `AUTOCHASE_API_URL` wins over the file's `api_url`, but a broken `api_url` in the file is
/// still an error: the service, started without the variable, would use it.
#[tokio::test]
async fn a_broken_api_url_in_the_file_is_an_error_even_when_the_environment_wins() {
    let env = Env::new();
    let config = env.root.path().join("config.toml");
    write_config(&config, "ftp://example.com/api", TOKEN, "");
    let out = support::bin::command(&config)
        .env("AUTOCHASE_API_URL", "http://127.0.0.1:9")
        .arg("check")
        .output()
        .unwrap();
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}{}", text(&out.stdout));
    assert!(
        said.contains("`api_url`") && said.contains("line 2"),
        "{said}"
    );
}

/// A damaged state: `status` says what the next start will do about it.
#[tokio::test]
async fn status_of_a_damaged_state_says_what_the_next_start_does() {
    let env = Env::new();
    let config = env.write_config("http://127.0.0.1:9", TOKEN);
    std::fs::create_dir_all(env.root.path().join("state")).unwrap();
    std::fs::write(env.root.path().join("state/state.jsonl"), b"\0\0garbage").unwrap();
    let out = autochase(&config, &["status"]).await;
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        said.contains("next start") && said.contains("nothing old is uploaded"),
        "{said}"
    );
}

/// No user service manager (a container, a session without systemd): `service install` says
/// why, rolls back and points at `run`; `service uninstall` of nothing says there is nothing.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn service_commands_without_a_user_manager_say_what_is_true() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let config = env.write_config("http://127.0.0.1:9", TOKEN);
    let home = env.root.path().join("home");
    let bin = env.root.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let systemctl = bin.join("systemctl");
    std::fs::write(
        &systemctl,
        "#!/bin/sh\necho 'Failed to connect to bus: No medium found' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&systemctl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |args: &[&str]| {
        let mut command = support::bin::command(&config);
        command.args(args).env("PATH", &path);
        with_home(&mut command, &home);
        command.output().unwrap()
    };
    let out = run(&["service", "install"]);
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("no systemd user manager answered")
            && said.contains("`autochase run` works meanwhile"),
        "{said}"
    );
    assert!(
        !home.join(".config/systemd/user/autochase.service").exists(),
        "rolled back"
    );
    let out = run(&["service", "uninstall"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("not installed")
            && text(&out.stdout).contains("nothing to remove")
    );
    assert!(
        !text(&out.stderr).contains("Failed to connect"),
        "{}",
        text(&out.stderr)
    );
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
#[tokio::test]
async fn notifications_go_through_notify_send_when_turned_on() {
    use std::os::unix::fs::PermissionsExt;
    let fake = FakeBallchasing::start().await;
    let env = Env::new();
    // A stand-in notify-send that writes down what it was asked to show.
    let bin = env.root.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let shown = env.root.path().join("shown.txt");
    let script = bin.join("notify-send");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s|' \"$@\" >> '{}'\necho >> '{}'\n",
            shown.display(),
            shown.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = env.root.path().join("config.toml");
    write_config(
        &config,
        &fake.server.url(),
        TOKEN,
        "notifications = true\ninvalid_after = 1\n",
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let daemon = support::bin::Daemon::spawn(
        support::bin::command(&config)
            .arg("run")
            .env("PATH", path)
            .stderr(std::process::Stdio::null()),
    );
    let state = env.root.path().join("state/state.jsonl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !state.exists() {
        assert!(std::time::Instant::now() < deadline, "daemon never started");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    std::fs::write(env.demos().join("TINY.replay"), TINY).unwrap();
    std::fs::write(env.demos().join("BROKEN.replay"), &TINY[..200]).unwrap();
    let read = || std::fs::read_to_string(&shown).unwrap_or_default();
    while !(read().contains("Uploaded: TINY.replay")
        && read().contains("Not uploaded: BROKEN.replay"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "notifications: {}",
            read()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    daemon.signal("TERM");
    let _ = daemon.output().await;
    let text = read();
    assert!(
        text.contains(
            "--app-name=autochase|--|Uploaded: TINY.replay|https://ballchasing.com/replay/bc-1|"
        ),
        "{text}"
    );
    assert!(
        text.contains("Not uploaded: BROKEN.replay|corrupt replay: truncated"),
        "{text}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_daemon_started_before_init_picks_up_the_config_init_writes() {
    let fake = FakeBallchasing::start().await;
    let env = Env::new();
    let home = env.root.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_autochase"));
    command
        .arg("run")
        .env_remove("BALLCHASING_TOKEN")
        .env_remove("AUTOCHASE_CONFIG")
        .env_remove("AUTOCHASE_API_URL")
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped());
    with_home(&mut command, &home);
    let daemon = support::bin::Daemon::spawn(&mut command);
    let state = home.join(".local/share/autochase/state.jsonl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !state.exists() {
        assert!(std::time::Instant::now() < deadline, "daemon never started");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // `init` writes the config where the daemon looks for it, folders included.
    let config_dir = home.join(".config/autochase");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("config.toml"),
        format!(
            "token = \"{TOKEN}\"\napi_url = \"{}\"\nreplay_dirs = ['{}']\nupload_rate = 10.0\n",
            fake.server.url(),
            env.demos().display()
        ),
    )
    .unwrap();
    // Written a little later, as a player saves after the game; nothing restarted the daemon.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    std::fs::write(env.demos().join("TINY.replay"), TINY).unwrap();
    while fake.created() == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    daemon.signal("TERM");
    let log = text(&daemon.output().await.stderr);
    assert!(
        fake.created() > 0,
        "the new config was never picked up: {log}"
    );
    assert!(
        log.contains("no Rocket League replay folder found yet"),
        "a start with no folder says so: {log}"
    );
    assert!(log.contains("config reloaded"), "{log}");
}

#[tokio::test]
async fn check_tells_an_unreachable_server_from_a_refused_token() {
    let env = Env::new();
    // Nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let config = env.write_config(&url, TOKEN);
    let out = autochase(&config, &["check"]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("cannot reach ballchasing"), "{err}");
    assert!(!err.contains("problem: token"), "{err}");
}

#[cfg(unix)]
#[tokio::test]
async fn init_tries_the_token_it_was_given() {
    let fake = FakeBallchasing::start().await;
    let env = Env::new();
    let (home, _) = fake_home(env.root.path());
    for (token, expected) in [
        (TOKEN, "token: works, account Tester"),
        ("wrong-token-value", "refused the API token"),
    ] {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_autochase"));
        command
            .args(["init", "--force", "--token", token])
            .env("AUTOCHASE_API_URL", fake.server.url())
            .env_remove("BALLCHASING_TOKEN");
        with_home(&mut command, &home);
        let out = output(command).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains(expected),
            "{}",
            text(&out.stdout)
        );
    }
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
