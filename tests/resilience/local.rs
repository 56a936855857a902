//! Trouble on this machine: bad files, unreadable ones, a damaged or unwritable state, kill -9,
//! and the token kept out of everything written.

use super::*;

#[cfg(unix)]
#[tokio::test]
async fn bad_input_is_listed_with_reasons_and_never_sent() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("autochase=debug")
        .with_test_writer()
        .try_init();
    use std::os::unix::ffi::OsStrExt;
    let setup = Setup::new().await;
    let mut daemon = setup.start();
    daemon.settled().await;
    let bad_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let mut expect_failed: Vec<(PathBuf, &str)> = Vec::new();
    for entry in std::fs::read_dir(&bad_dir).unwrap() {
        let from = entry.unwrap().path();
        if autochase::watcher::is_replay(&from) {
            let to = setup.demos.join(from.file_name().unwrap());
            std::fs::copy(&from, &to).unwrap();
            let why = match to.ends_with("text.replay") {
                true => "not a Rocket League replay",
                false => "corrupt replay",
            };
            expect_failed.push((to, why));
        }
    }
    let zero = setup.path("zero-bytes.replay");
    std::fs::write(&zero, b"").unwrap();
    expect_failed.push((zero, "(only 0 bytes)"));
    let half = setup.path("half.replay");
    std::fs::write(&half, &SMALL[..SMALL.len() / 2]).unwrap();
    expect_failed.push((half, "truncated"));
    let mut zero_tail = SMALL.to_vec();
    let n = zero_tail.len();
    zero_tail[n - 4096..].fill(0);
    let zero_tail_path = setup.path("zero-tail.replay");
    std::fs::write(&zero_tail_path, zero_tail).unwrap();
    expect_failed.push((zero_tail_path, "body crc mismatch"));
    let huge = setup.path("huge.replay");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(200 * 1024 * 1024)
        .unwrap();
    expect_failed.push((huge, "larger than any replay"));
    let folder = setup.path("folder.replay");
    std::fs::create_dir(&folder).unwrap();
    expect_failed.push((folder, "not a regular file"));
    let looped = setup.path("loop-a.replay");
    std::os::unix::fs::symlink(setup.path("loop-b.replay"), &looped).unwrap();
    std::os::unix::fs::symlink(&looped, setup.path("loop-b.replay")).unwrap();
    expect_failed.push((looped, "cannot read"));
    expect_failed.push((setup.path("loop-b.replay"), "cannot read"));
    let unreadable = setup.path("unreadable.replay");
    make_unreadable(&unreadable);
    expect_failed.push((unreadable, "cannot read"));
    // Good ones among them: a plain name, and a name that is not UTF-8.
    std::fs::write(setup.path("good.replay"), LAN).unwrap();
    let odd_name = setup
        .demos
        .join(std::ffi::OsStr::from_bytes(b"caf\xe9 \xff.replay"));
    std::fs::write(&odd_name, TINY).unwrap();
    // Gone between the event and the read.
    let vanishing = setup.path("vanishing.replay");
    std::fs::write(&vanishing, SMALL).unwrap();
    std::fs::remove_file(&vanishing).unwrap();

    let state = until(&setup, "every bad file judged", |s| {
        uploaded(s).len() == 2 && expect_failed.iter().all(|(p, _)| s.invalid.contains_key(p))
    })
    .await;
    assert!(!daemon.task.is_finished(), "the daemon keeps running");
    daemon.settled().await;
    daemon.stop().await;
    for (path, reason) in &expect_failed {
        let recorded = &state.invalid[path].reason;
        assert!(recorded.contains(reason), "{}: {recorded}", path.display());
    }
    assert!(state.replays.values().any(|r| r.path == odd_name));
    assert!(!state.invalid.contains_key(&vanishing));
    assert!(!state.replays.values().any(|r| r.path == vanishing));
    assert_server_matches_state(&setup, &state, 2);

    // `status` lists every bad file with its reason.
    let config_file = setup.root.path().join("config.toml");
    write_config(&config_file, &setup.fake.server.url(), TOKEN, "");
    let shown = text(&autochase(&config_file, &["status"]).await.stdout);
    assert!(
        shown.contains(&format!("failed {}", expect_failed.len())),
        "{shown}"
    );
    for (path, reason) in &expect_failed {
        let name = path.file_name().unwrap().to_string_lossy();
        let line = shown.lines().find(|l| l.contains(&*name));
        assert!(
            line.is_some_and(|l| l.contains(reason)),
            "{name} listed with '{reason}': {shown}"
        );
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_file_judged_unreadable_is_not_judged_again_at_every_rescan() {
    let setup = Setup::new().await;
    let mut config = setup.config();
    config.rescan_interval = Duration::from_secs(1);
    let looped = setup.path("loop.replay");
    std::os::unix::fs::symlink(&looped, &looped).unwrap();
    let unreadable = setup.path("unreadable.replay");
    make_unreadable(&unreadable);
    let folder = setup.path("folder.replay");
    std::fs::create_dir(&folder).unwrap();
    let mut daemon = setup.start_with(config);
    until(&setup, "judged", |s| {
        [&looped, &unreadable, &folder]
            .iter()
            .all(|p| s.invalid.contains_key(*p))
    })
    .await;
    let scans = daemon.status.borrow().scans;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    daemon.settled().await;
    assert!(
        daemon.status.borrow().scans >= scans + 2,
        "rescans happened"
    );
    daemon.stop().await;
    let journal = std::fs::read_to_string(setup.state_dir.join(STATE_FILE)).unwrap();
    for name in ["loop.replay", "unreadable.replay", "folder.replay"] {
        let lines = journal.lines().filter(|l| l.contains(name)).count();
        assert_eq!(lines, 1, "{name} judged once: {journal}");
    }
}

#[tokio::test]
async fn a_damaged_state_is_kept_aside_and_nothing_is_created_twice() {
    let setup = Setup::new().await;
    let mut config = setup.config();
    config.backfill = true;
    write_replays(&setup.demos, 3);
    let mut daemon = setup.start_with(config.clone());
    until(&setup, "3 uploaded", |s| uploaded(s).len() == 3).await;
    daemon.settled().await;
    daemon.stop().await;
    let state_file = setup.state_dir.join(STATE_FILE);
    let good = std::fs::read(&state_file).unwrap();

    let damages: [(&str, Vec<u8>); 3] = [
        ("garbage", b"\x00\xffnot json at all\n{\"kind\":".to_vec()),
        ("cut inside the header", good[..10].to_vec()),
        (
            "cut inside a record",
            good[..good.len() - good.len() / 3].to_vec(),
        ),
    ];
    for (what, damaged) in damages {
        std::fs::write(&state_file, &damaged).unwrap();
        let mut daemon = setup.start_with(config.clone());
        let state = until(&setup, what, |s| uploaded(s).len() == 3).await;
        daemon.settled().await;
        daemon.stop().await;
        assert_server_matches_state(&setup, &state, 3);
        if what != "cut inside a record" {
            let aside: Vec<_> = std::fs::read_dir(&setup.state_dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.to_string_lossy().contains(".damaged-"))
                .collect();
            assert!(
                aside.iter().any(|p| std::fs::read(p).unwrap() == damaged),
                "{what}: the damaged file is kept: {aside:?}"
            );
            for p in aside {
                std::fs::remove_file(p).unwrap();
            }
        }
    }
    let books = setup.fake.books.lock().unwrap();
    assert!(
        books.count(Answer::Duplicate) >= 7,
        "what the state forgot came back as duplicates"
    );
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_read_only_or_full_state_folder_stops_with_a_clear_error() {
    let setup = Setup::new().await;
    write_replays(&setup.demos, 2);
    let before = snapshot(&setup.demos);
    let config_file = setup.root.path().join("config.toml");
    write_config(
        &config_file,
        &setup.fake.server.url(),
        TOKEN,
        "backfill = true\n",
    );
    std::fs::create_dir_all(&setup.state_dir).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_autochase"));
    let cases = [
        (
            "read-only",
            r#"mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && exec "$2" --config "$3" run"#,
            "Read-only file system",
            "writable state folder",
        ),
        (
            "full",
            r#"mount -t tmpfs -o size=4k tmpfs "$1" && dd if=/dev/zero of="$1/filler" bs=1k 2>/dev/null; exec "$2" --config "$3" run"#,
            "No space left on device",
            "the disk is full",
        ),
    ];
    for (what, script, error, advice) in cases {
        let args = [
            setup.state_dir.as_os_str(),
            bin.as_os_str(),
            config_file.as_os_str(),
        ];
        let Some(mut command) = in_namespace(script, &args) else {
            return;
        };
        let out = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(err.contains(error) && err.contains(advice), "{what}: {err}");
    }
    assert_eq!(setup.fake.upload_requests(), 0);
    assert_eq!(snapshot(&setup.demos), before, "no replay was touched");
}

#[cfg(unix)]
#[tokio::test]
async fn kill_9_twenty_times_during_a_backlog_loses_nothing_and_creates_nothing_twice() {
    let setup = Setup::new().await;
    // Uploads take a while, so kills land in flight too, and the backlog outlasts the kills.
    setup.fake.books.lock().unwrap().delay = Duration::from_millis(150);
    write_replays(&setup.demos, 30);
    let config_file = setup.root.path().join("config.toml");
    write_config(
        &config_file,
        &setup.fake.server.url(),
        TOKEN,
        "backfill = true\n",
    );
    let state_file = setup.state_dir.join(STATE_FILE);
    let mut rng = fastrand::Rng::with_seed(20);
    let kills = 20;
    for round in 0..kills {
        let mut child = Daemon::spawn(
            command(&config_file)
                .arg("run")
                .stderr(std::process::Stdio::null()),
        );
        tokio::time::sleep(Duration::from_millis(rng.u64(30..300))).await;
        child.kill(); // SIGKILL
        match State::read(&state_file) {
            Ok(_) => {}
            Err(e) => panic!("round {round}: the state does not load after kill -9: {e}"),
        }
    }
    let created_while_killing = setup.fake.created();
    let mut child = Daemon::spawn(
        command(&config_file)
            .arg("run")
            .stderr(std::process::Stdio::null()),
    );
    let state = until(&setup, "all 30 uploaded after the crashes", |s| {
        uploaded(s).len() == 30
    })
    .await;
    child.kill();
    assert!(
        created_while_killing > 0 && created_while_killing < 30,
        "every kill came during the backlog, which made progress: {created_while_killing}"
    );
    assert_server_matches_state(&setup, &state, 30);
    let duplicates = setup.fake.books.lock().unwrap().count(Answer::Duplicate);
    eprintln!(
        "crash loop: {created_while_killing} of 30 created during {kills} kills, {duplicates} repeats answered 409"
    );
    assert!(
        duplicates <= kills,
        "{duplicates} repeats: at most one upload in flight per kill"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn the_token_never_shows_in_logs_state_or_status_even_at_trace() {
    let setup = Setup::with_faults(Faults::default()).await;
    setup
        .fake
        .books
        .lock()
        .unwrap()
        .script
        .push_back(support::Reply::html(502, "<h1>502</h1>"));
    setup.fake.already_has(SMALL, "theirs", false);
    std::fs::write(setup.path("SMALL.replay"), SMALL).unwrap();
    std::fs::write(setup.path("TINY.replay"), TINY).unwrap();
    std::fs::write(setup.path("broken.replay"), &TINY[..100]).unwrap();
    let config_file = setup.root.path().join("config.toml");
    let mut everything = String::new();
    for (token, extra) in [
        (TOKEN, "backfill = true\ninvalid_after = 1\n"),
        ("refused-token-5c9d1e", "backfill = true\n"),
    ] {
        if token != TOKEN {
            // Something new to upload with the refused token.
            std::fs::write(setup.path("NEW.replay"), distinct(TINY, 99)).unwrap();
        }
        write_config(&config_file, &setup.fake.server.url(), token, extra);
        let child = Daemon::spawn(
            command(&config_file)
                .arg("run")
                .env("RUST_LOG", "trace")
                .stderr(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped()),
        );
        let target = if token == TOKEN { 2 } else { 3 };
        until(&setup, "the run did its work", |s| {
            uploaded(s).len() == 2 && s.invalid.len() == 1 && setup.fake.upload_requests() >= target
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        child.signal("TERM");
        let out = child.output().await;
        let log = text(&out.stderr);
        assert!(log.contains("TRACE"), "trace logging was on");
        if token != TOKEN {
            // `run` says why it stopped uploading, and when it tries again.
            assert!(
                log.contains("uploads paused") && log.contains("refused the API token"),
                "{log}"
            );
        }
        everything.push_str(&log);
        everything.push_str(&text(&out.stdout));
        for args in [&["status"][..], &["status", "--json"], &["check"]] {
            let out = autochase(&config_file, args).await;
            everything.push_str(&text(&out.stdout));
            everything.push_str(&text(&out.stderr));
        }
        for entry in std::fs::read_dir(&setup.state_dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                everything.push_str(&text(&std::fs::read(path).unwrap()));
            }
        }
        let config = autochase::config::Config::load(Some(&config_file), None).unwrap();
        everything.push_str(&format!("{config:?}"));
        let client = config.client().unwrap().unwrap();
        everything.push_str(&format!("{client:?}"));
    }
    assert!(everything.contains("refused the API token"));
    for secret in [TOKEN, "refused-token-5c9d1e"] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
    // The API's own view of the token must be the one that leaks nothing, too.
    let leaked = std::panic::catch_unwind(|| {
        let token = autochase::api::Token::new(TOKEN.to_string());
        panic!("failed with {token:?} / {token}");
    })
    .unwrap_err();
    let message = leaked.downcast_ref::<String>().unwrap();
    assert!(!message.contains(TOKEN), "{message}");
}
