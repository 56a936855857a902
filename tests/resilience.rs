//! Resilience: a server that fails, drops connections and runs out of quota; a daemon killed
//! over and over; broken, huge, odd and unreadable files; a damaged, read-only or full state
//! folder; and a token that must never show. Every wait is bounded.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use autochase::config::Pauses;
use autochase::state::{Outcome, PauseCause, STATE_FILE, State, Status};
use support::ballchasing::{Answer, Faults, TOKEN};
#[cfg(unix)]
use support::bin::{Daemon, command};
use support::bin::{autochase, text, write_config};
use support::harness::{Setup, real_timeout, until, uploaded};
#[cfg(unix)]
use support::replays::{LAN, SMALL};
use support::replays::{TINY, distinct};

/// `n` distinct small replays written into the demos folder as `R00.replay`….
fn write_replays(demos: &Path, n: u32) -> Vec<PathBuf> {
    (0..n)
        .map(|i| {
            let path = demos.join(format!("R{i:02}.replay"));
            std::fs::write(&path, distinct(TINY, i)).unwrap();
            path
        })
        .collect()
}

/// Every replay the server holds is complete and distinct, and the state agrees with it.
fn assert_server_matches_state(setup: &Setup, state: &State, n: usize) {
    assert_eq!(setup.fake.created(), n, "each replay created once");
    assert_eq!(setup.fake.created_twice(), 0);
    let books = setup.fake.books.lock().unwrap();
    for bytes in &books.created {
        assert!(
            autochase::replay::validate(bytes).is_ok(),
            "only complete replays reach the server"
        );
    }
    assert_eq!(state.replays.len(), n, "the state holds every replay");
    for record in state.replays.values() {
        assert_eq!(record.status, Status::Uploaded, "{record:?}");
        let server_id = books.by_key.get(&record.id).expect("on the server");
        assert_eq!(record.ballchasing_id.as_ref(), Some(server_id));
    }
}

#[tokio::test(start_paused = true)]
async fn a_fault_mix_ends_with_every_replay_uploaded_exactly_once() {
    let setup = Setup::with_faults(Faults {
        seed: 7,
        server_error: 0.3,
        reset: 0.1,
        accept_then_reset: 0.1,
        ..Faults::default()
    })
    .await;
    write_replays(&setup.demos, 30);
    let mut config = setup.config();
    config.backfill = true;
    let mut daemon = setup.start_with(config);
    let state = real_timeout(
        Duration::from_secs(120),
        until(&setup, "30 uploaded", |s| uploaded(s).len() == 30),
    )
    .await
    .expect("all 30 uploaded within 2 minutes");
    daemon.settled().await;
    daemon.stop().await;
    assert_server_matches_state(&setup, &state, 30);
    let books = setup.fake.books.lock().unwrap();
    // The faults really happened, so the outcome above means something.
    for fault in [
        Answer::ServerError,
        Answer::Reset,
        Answer::AcceptedThenReset,
    ] {
        assert!(books.count(fault) > 0, "{fault:?} never injected");
    }
    eprintln!(
        "fault mix: {} upload requests for 30 replays: {} 5xx, {} resets, {} accepted-then-reset, {} duplicates",
        books.upload_requests,
        books.count(Answer::ServerError),
        books.count(Answer::Reset),
        books.count(Answer::AcceptedThenReset),
        books.count(Answer::Duplicate)
    );
    // A replay stored before its connection dropped comes back as a duplicate, never twice.
    assert_eq!(
        books.count(Answer::Duplicate),
        books.count(Answer::AcceptedThenReset)
    );
    let duplicates = state
        .replays
        .values()
        .filter(|r| r.outcome == Some(Outcome::Duplicate))
        .count();
    assert_eq!(duplicates, books.count(Answer::AcceptedThenReset));
}

#[tokio::test(start_paused = true)]
async fn slow_answers_time_out_and_the_retry_is_a_duplicate() {
    let setup = Setup::with_faults(Faults {
        slow: 1.0,
        slow_by: Duration::from_secs(30),
        ..Faults::default()
    })
    .await;
    let mut config = setup.config();
    config.request_timeout = Duration::from_millis(500);
    let mut daemon = setup.start_with(config);
    daemon.settled().await;
    std::fs::write(setup.path("TINY.replay"), TINY).unwrap();
    let state = until(&setup, "uploaded", |s| uploaded(s).len() == 1).await;
    daemon.stop().await;
    assert_eq!(
        uploaded(&state)[0].outcome,
        Some(Outcome::Duplicate),
        "stored by the slow answer, found again by the retry"
    );
    assert_eq!(setup.fake.created(), 1);
}

fn parked(state: &State) -> bool {
    state
        .pause
        .as_ref()
        .is_some_and(|p| p.cause == PauseCause::Quota)
}

#[tokio::test(start_paused = true)]
async fn an_exhausted_quota_parks_uploads_without_hammering_then_resumes() {
    let setup = Setup::with_faults(Faults {
        quota: Some(3),
        ..Faults::default()
    })
    .await;
    let park = Duration::from_secs(1);
    let mut config = setup.config();
    config.pauses = Pauses {
        quota: park,
        quota_min: park,
        ..Pauses::default()
    };
    let mut daemon = setup.start_with(config);
    daemon.settled().await;
    write_replays(&setup.demos, 6);
    let state = until(&setup, "3 uploaded and parked", |s| {
        uploaded(s).len() == 3 && parked(s)
    })
    .await;
    let pending = state
        .replays
        .values()
        .filter(|r| r.status == Status::Pending)
        .count();
    assert_eq!(pending, 3, "past the quota, replays wait; none failed");

    // `status` says uploads are parked, why, and until when.
    let config_file = setup.root.path().join("config.toml");
    write_config(&config_file, &setup.fake.server.url(), TOKEN, "");
    let out = autochase(&config_file, &["status"]).await;
    let shown = text(&out.stdout);
    let until_at = autochase::dates::local(&state.pause.as_ref().unwrap().until);
    assert!(
        shown.contains("parked on the upload quota until") && shown.contains(until_at.as_str()),
        "{shown}"
    );
    assert!(shown.contains("pending 3"), "{shown}");
    let json: serde_json::Value =
        serde_json::from_slice(&autochase(&config_file, &["status", "--json"]).await.stdout)
            .unwrap();
    assert_eq!(json["paused"]["cause"], "quota");

    // Parked for a while: probes come one per parking interval, no faster.
    tokio::time::sleep(Duration::from_secs(4)).await;
    {
        let books = setup.fake.books.lock().unwrap();
        let probes: Vec<_> = books
            .answers
            .iter()
            .filter(|(a, _)| *a == Answer::Quota)
            .map(|(_, at)| *at)
            .collect();
        assert!(
            (2..=6).contains(&probes.len()),
            "{} quota answers in ~5 s",
            probes.len()
        );
        for pair in probes.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap >= park - Duration::from_millis(50),
                "probe after {gap:?}"
            );
        }
    }
    // The quota frees: the rest goes through without a restart.
    setup.fake.books.lock().unwrap().faults.quota = Some(6);
    let state = until(&setup, "all 6 uploaded", |s| {
        uploaded(s).len() == 6 && s.pause.is_none()
    })
    .await;
    daemon.stop().await;
    assert_server_matches_state(&setup, &state, 6);
}

#[tokio::test(start_paused = true)]
async fn a_server_slower_than_the_configured_rate_is_obeyed_not_hammered() {
    // The server allows one upload a second and says so in Retry-After; the config asks for
    // ten a second.
    let setup = Setup::with_faults(Faults {
        per_second: Some(1),
        retry_after: true,
        ..Faults::default()
    })
    .await;
    let mut config = setup.config();
    config.backfill = true;
    write_replays(&setup.demos, 5);
    let daemon = setup.start_with(config);
    let state = until(&setup, "5 uploaded", |s| uploaded(s).len() == 5).await;
    daemon.stop().await;
    assert_server_matches_state(&setup, &state, 5);
    let books = setup.fake.books.lock().unwrap();
    let limited = books.count(Answer::RateLimited);
    // Each 429 starts a shared cooldown of the full Retry-After: at most one per upload.
    // (Without it, a client pacing at 10/s would meet nine 429s per upload.)
    assert!(limited <= 5, "{limited} 429s for 5 uploads");
}

#[tokio::test(start_paused = true)]
async fn a_quota_park_outlives_a_restart() {
    let setup = Setup::with_faults(Faults {
        quota: Some(1),
        ..Faults::default()
    })
    .await;
    let mut config = setup.config();
    config.pauses.quota = Duration::from_secs(600);
    let mut daemon = setup.start_with(config.clone());
    daemon.settled().await;
    write_replays(&setup.demos, 2);
    until(&setup, "parked", |s| uploaded(s).len() == 1 && parked(s)).await;
    daemon.stop().await;
    let before = setup.fake.upload_requests();
    let mut daemon = setup.start_with(config);
    daemon.settled().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    daemon.stop().await;
    assert_eq!(
        setup.fake.upload_requests(),
        before,
        "a restart does not probe a parked quota early"
    );
    assert!(parked(&setup.state()));
}

#[tokio::test(start_paused = true)]
async fn repeated_plain_429s_are_taken_for_a_quota() {
    // ballchasing's quota answer may be a bare 429: the same as a rate limit.
    let setup = Setup::with_faults(Faults {
        per_hour: Some(1),
        ..Faults::default()
    })
    .await;
    let mut config = setup.config();
    config.pauses.quota = Duration::from_secs(600);
    let mut daemon = setup.start_with(config);
    daemon.settled().await;
    write_replays(&setup.demos, 2);
    let state = real_timeout(
        Duration::from_secs(60),
        until(&setup, "parked", |s| uploaded(s).len() == 1 && parked(s)),
    )
    .await
    .expect("parked within a minute");
    daemon.stop().await;
    assert!(
        state.pause.unwrap().reason.contains("quota"),
        "status says why"
    );
    let limited = setup.fake.books.lock().unwrap().count(Answer::RateLimited);
    assert_eq!(
        limited, 2,
        "two tries, the file never sent again by the client's own retries"
    );
}

#[tokio::test]
async fn a_refused_token_is_tried_at_most_once_a_minute() {
    let setup = Setup::new().await;
    let mut config = setup.config();
    config.token = Some("wrong-token-7f3e".into());
    config.backfill = true;
    write_replays(&setup.demos, 3);
    let mut daemon = setup.start_with(config);
    let state = until(&setup, "paused", |s| {
        s.pause
            .as_ref()
            .is_some_and(|p| p.cause == PauseCause::Token)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    daemon.settled().await;
    daemon.stop().await;
    assert_eq!(
        setup.fake.upload_requests(),
        1,
        "one try, then a minute's pause"
    );
    let pause = state.pause.unwrap();
    assert!(pause.reason.contains("refused the API token"), "{pause:?}");
    let left = pause.remaining().unwrap();
    assert!(left > Duration::from_secs(50), "{left:?}");
    assert!(
        state.replays.values().all(|r| r.status == Status::Pending),
        "nothing failed or lost"
    );
}

/// Where on this machine a file can be made that even root cannot read.
#[cfg(unix)]
fn make_unreadable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if std::fs::read_to_string("/proc/self/status")
            .is_ok_and(|s| s.lines().any(|l| l.starts_with("Uid:\t0\t")))
        {
            // Root reads anything with mode 000; reading another process's memory from
            // offset 0 fails with EIO for everyone.
            std::os::unix::fs::symlink("/proc/self/mem", path).unwrap();
        } else {
            std::fs::write(path, TINY).unwrap();
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).unwrap();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

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

/// Runs `script` in a new user and mount namespace, where it may mount (`$1`… are `args`).
/// `None` when this machine does not allow it; CI sets AUTOCHASE_REQUIRE_NAMESPACES so a
/// missing capability fails there instead of skipping.
#[cfg(target_os = "linux")]
fn in_namespace(script: &str, args: &[&std::ffi::OsStr]) -> Option<std::process::Command> {
    let works = std::process::Command::new("unshare")
        .args(["-Urm", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        assert!(
            std::env::var_os("AUTOCHASE_REQUIRE_NAMESPACES").is_none(),
            "unshare -Urm is not available"
        );
        eprintln!("SKIPPED: this machine cannot create user namespaces (unshare -Urm)");
        return None;
    }
    let mut command = std::process::Command::new("unshare");
    command
        .args(["-Urm", "sh", "-c", script, "sh"])
        .args(args)
        .env_remove("BALLCHASING_TOKEN")
        .env_remove("RUST_LOG");
    Some(command)
}

/// Every file in `dir` with its bytes and mtime.
#[cfg(target_os = "linux")]
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> {
    let mut all: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let meta = std::fs::metadata(&p).unwrap();
            (
                p.clone(),
                std::fs::read(&p).unwrap(),
                meta.modified().unwrap(),
            )
        })
        .collect();
    all.sort();
    all
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
