//! The one-shot commands on the binary: config errors, upload, status, retry, backfill,
//! forget and check, their words and exit codes.

use super::*;

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
    // Each file's line is the command's own; the engine's log does not say it again.
    assert!(!text(&out.stderr).contains("INFO"), "{}", text(&out.stderr));

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
    // Written a while ago: judged at once (a fresh one gets 10 s to be finished).
    std::fs::File::options()
        .write(true)
        .open(&bad)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(60))
        .unwrap();
    let out = autochase(&config, &["upload", bad.to_str().unwrap()]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("not a Rocket League replay"),
        "{}",
        text(&out.stdout)
    );
    // Said once, by the result line, not again by a warning.
    assert!(
        !text(&out.stderr).contains("not uploading"),
        "{}",
        text(&out.stderr)
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
    // The config file is there, so the advice is to put the token in it (`init` would
    // refuse to write over it).
    assert!(
        said.contains(&format!(
            "wait for an API token: add `token = \"…\"` to {}",
            config.display()
        )),
        "{said}"
    );
    assert!(!said.contains("autochase init"), "{said}");
    let out = autochase(&config, &["check"]).await;
    assert!(
        text(&out.stderr).contains(&format!("add `token = \"…\"` to {}", config.display())),
        "{}",
        text(&out.stderr)
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

/// `upload` of a good file and a name that is wrong: the good one goes, the wrong one is
/// said, and the command fails (exit 1) so a script sees it; a lone wrong name is exit 1 too.
#[tokio::test]
async fn upload_sends_the_good_files_and_names_the_wrong_ones() {
    let fake = FakeBallchasing::start().await;
    let env = Env::new();
    let config = env.write_config(&fake.server.url(), TOKEN);
    let good = env.demos().join("TINY.replay");
    std::fs::write(&good, TINY).unwrap();
    let typo = env.demos().join("TYPO.replay");
    let out = autochase(
        &config,
        &["upload", good.to_str().unwrap(), typo.to_str().unwrap()],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("TYPO.replay: no such file or folder"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("1 file: 1 uploaded now"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(fake.created(), 1);
    let out = autochase(&config, &["upload", typo.to_str().unwrap()]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

/// A daemon that holds the lock but reads no requests (stuck): `upload` asks it, waits 15 s,
/// takes the request back and says that nothing was uploaded, never that it was handed over.
#[tokio::test]
async fn a_request_a_stuck_daemon_never_takes_is_withdrawn_and_said() {
    let env = Env::new();
    let config = env.write_config("http://127.0.0.1:9", TOKEN);
    let file = env.demos().join("TINY.replay");
    std::fs::write(&file, TINY).unwrap();
    let state = env.root.path().join("state");
    let _stuck = autochase::daemon::try_lock(&state, autochase::daemon::Holder::Daemon).unwrap();
    let out = autochase(&config, &["upload", file.to_str().unwrap()]).await;
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("handed"), "{err}");
    assert!(
        err.contains(
            "did not take the request within 15 s, so it was withdrawn: nothing was uploaded"
        ),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(state.join("inbox"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "inbox: {left:?}");
}

/// A token or an address from the environment wins over the config file: `check` says so, or
/// a user fixes the file and sees no change (and a service, started without them, would use
/// the file's).
#[tokio::test]
async fn check_says_which_settings_come_from_the_environment() {
    let fake = FakeBallchasing::start().await;
    let env = Env::new();
    let config = env.write_config("http://127.0.0.1:9", TOKEN);
    let mut command = support::bin::command(&config);
    command
        .arg("check")
        .env("BALLCHASING_TOKEN", "not-the-file-token")
        .env("AUTOCHASE_API_URL", fake.server.url());
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let said = text(&out.stdout) + &text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("token: from BALLCHASING_TOKEN"), "{said}");
    assert!(said.contains("api_url: from AUTOCHASE_API_URL"), "{said}");
    assert!(!said.contains("not-the-file-token"), "{said}");
}
