//! What a hostile review broke in the daemon, kept broken no more: replays overwritten,
//! deleted or copied before their upload, a server that fails everything or asks to wait
//! forever, a wrong upload address, and answers that are not what they claim.

mod support;

use std::time::Duration;

use autochase::state::{PauseCause, STATE_FILE, State, Status};
use support::Reply;
use support::ballchasing::{Answer, Faults};
use support::harness::{Setup, until, uploaded};
use support::replays::{TINY, distinct};

fn status_of(state: &State, name: &str, setup: &Setup) -> Option<Status> {
    state
        .replays
        .values()
        .find(|r| r.path == setup.path(name))
        .map(|r| r.status)
}

#[tokio::test]
async fn a_queued_replay_overwritten_or_deleted_is_never_uploaded_under_its_old_record() {
    let setup = Setup::new().await;
    let mut config = setup.config();
    config.token = None; // uploads wait, so the queue holds them
    let mut daemon = setup.start_with(config);
    daemon.settled().await;
    let a = distinct(TINY, 1);
    let b = distinct(TINY, 2);
    let id = |bytes: &[u8]| autochase::replay::validate(bytes).unwrap().id.unwrap();
    std::fs::write(setup.path("A.replay"), &a).unwrap();
    until(&setup, "A pending", |s| s.replays.contains_key(&id(&a))).await;
    // Overwritten in place by another replay.
    std::fs::write(setup.path("A.replay"), &b).unwrap();
    until(&setup, "B pending and A missing", |s| {
        s.replays
            .get(&id(&b))
            .is_some_and(|r| r.status == Status::Pending)
            && s.replays[&id(&a)].status == Status::Missing
    })
    .await;
    // Deleted before its upload.
    let c = distinct(TINY, 3);
    std::fs::write(setup.path("C.replay"), &c).unwrap();
    until(&setup, "C pending", |s| s.replays.contains_key(&id(&c))).await;
    std::fs::remove_file(setup.path("C.replay")).unwrap();
    until(&setup, "C missing", |s| {
        s.replays[&id(&c)].status == Status::Missing
    })
    .await;
    daemon.stop().await;
    // With a token, only B goes up, once.
    let mut daemon = setup.start();
    until(&setup, "B uploaded", |s| uploaded(s).len() == 1).await;
    daemon.settled().await;
    daemon.stop().await;
    assert_eq!(setup.fake.upload_requests(), 1);
    assert_eq!(setup.fake.books.lock().unwrap().created, vec![b.clone()]);
    let state = setup.state();
    assert_eq!(state.replays[&id(&a)].status, Status::Missing);
    assert!(
        state.replays[&id(&a)]
            .last_error
            .as_deref()
            .unwrap()
            .contains("another replay")
    );
    assert_eq!(state.replays[&id(&c)].status, Status::Missing);
}

#[tokio::test(start_paused = true)]
async fn a_replay_under_many_names_is_read_once_and_not_at_every_rescan() {
    let setup = Setup::new().await;
    let mut config = setup.config();
    config.rescan_interval = Duration::from_secs(1);
    let mut daemon = setup.start_with(config);
    daemon.settled().await;
    std::fs::write(setup.path("X.replay"), TINY).unwrap();
    until(&setup, "uploaded", |s| uploaded(s).len() == 1).await;
    for i in 0..20 {
        std::fs::write(setup.path(&format!("copy{i}.replay")), TINY).unwrap();
    }
    // Every copy is looked at once (by its event or the next scan).
    tokio::time::sleep(Duration::from_secs(3)).await;
    daemon.settled().await;
    let checks = daemon.status.borrow().checks;
    let journal = std::fs::read_to_string(setup.state_dir.join(STATE_FILE)).unwrap();
    let scans = daemon.status.borrow().scans;
    tokio::time::sleep(Duration::from_secs(5)).await;
    daemon.settled().await;
    assert!(
        daemon.status.borrow().scans >= scans + 3,
        "rescans happened"
    );
    assert_eq!(daemon.status.borrow().checks, checks, "no copy read again");
    assert_eq!(
        std::fs::read_to_string(setup.state_dir.join(STATE_FILE)).unwrap(),
        journal,
        "nothing recorded again"
    );
    daemon.stop().await;
    let state = setup.state();
    assert_eq!(state.replays.len(), 1);
    assert_eq!(
        uploaded(&state)[0].path,
        setup.path("X.replay"),
        "the record stays put"
    );
    assert_eq!(setup.fake.upload_requests(), 1);
}

/// Upload attempts the engine made (the client tries each three times at most).
fn attempts(setup: &Setup) -> usize {
    setup.fake.upload_requests()
}

#[tokio::test(start_paused = true)]
async fn a_server_failing_everything_is_not_hammered_by_a_backlog() {
    let setup = Setup::with_faults(Faults {
        server_error: 1.0,
        ..Faults::default()
    })
    .await;
    let mut config = setup.config();
    config.backfill = true;
    for i in 0..26 {
        std::fs::write(setup.path(&format!("R{i}.replay")), distinct(TINY, i)).unwrap();
    }
    let daemon = setup.start_with(config);
    tokio::time::sleep(Duration::from_secs(600)).await;
    let requests = attempts(&setup);
    let state = setup.state();
    daemon.stop().await;
    // Before: one upload per replay backoff, so 26 replays kept the uploader busy (300
    // uploads in 10 minutes). Now the uploader as a whole backs off to one try in 5 minutes.
    assert!(
        requests <= 3 * 10,
        "{requests} upload requests in 10 minutes"
    );
    assert!(state.replays.values().all(|r| r.status == Status::Pending));
    assert_eq!(state.pause.unwrap().cause, PauseCause::Trouble);
}

#[tokio::test(start_paused = true)]
async fn retry_after_zero_forever_is_not_an_upload_a_second() {
    let setup = Setup::with_faults(Faults {
        always: Some(Reply::empty(429).header("retry-after", "0")),
        ..Faults::default()
    })
    .await;
    let mut config = setup.config();
    config.backfill = true;
    for i in 0..5 {
        std::fs::write(setup.path(&format!("R{i}.replay")), distinct(TINY, i)).unwrap();
    }
    let daemon = setup.start_with(config);
    tokio::time::sleep(Duration::from_secs(600)).await;
    let requests = attempts(&setup);
    daemon.stop().await;
    assert!(
        requests <= 3 * 10,
        "{requests} upload requests in 10 minutes"
    );
}

#[tokio::test(start_paused = true)]
async fn a_huge_retry_after_pauses_every_upload_for_a_day_at_most_and_status_shows_it() {
    for value in ["999999", "18446744073709551615"] {
        let setup = Setup::with_faults(Faults {
            always: Some(Reply::empty(429).header("retry-after", value)),
            ..Faults::default()
        })
        .await;
        let mut daemon = setup.start();
        daemon.settled().await;
        std::fs::write(setup.path("A.replay"), TINY).unwrap();
        let state = until(&setup, "paused", |s| s.pause.is_some()).await;
        let pause = state.pause.unwrap();
        assert_eq!(pause.cause, PauseCause::RateLimit, "{value}");
        let left = pause.remaining().unwrap();
        assert!(
            left <= Duration::from_secs(24 * 3600) && left > Duration::from_secs(23 * 3600),
            "{left:?}"
        );
        assert_eq!(
            attempts(&setup),
            1,
            "the client did not sit out the wait itself"
        );
        assert!(daemon.status.borrow().paused.is_some());
        daemon.stop().await;
    }
}

#[tokio::test]
async fn a_wrong_upload_address_pauses_uploads_instead_of_failing_the_backlog() {
    for reply in [
        Reply::json(404, serde_json::json!({"error": "not found"})),
        // A redirect to a page that answers JSON: followed, it looked like a success.
        Reply::empty(302).header("location", "/replays/not-an-upload"),
    ] {
        let setup = Setup::with_faults(Faults {
            always: Some(reply),
            ..Faults::default()
        })
        .await;
        let mut config = setup.config();
        config.backfill = true;
        for i in 0..3 {
            std::fs::write(setup.path(&format!("R{i}.replay")), distinct(TINY, i)).unwrap();
        }
        let mut daemon = setup.start_with(config);
        let state = until(&setup, "paused", |s| s.pause.is_some()).await;
        daemon.settled().await;
        daemon.stop().await;
        assert_eq!(state.pause.unwrap().cause, PauseCause::Endpoint);
        assert!(
            setup
                .state()
                .replays
                .values()
                .all(|r| r.status == Status::Pending),
            "{:?}",
            setup.state()
        );
        assert_eq!(attempts(&setup), 1, "one try, then every upload waits");
    }
}

#[tokio::test]
async fn an_upload_answer_without_a_usable_id_is_not_recorded_as_uploaded() {
    let setup = Setup::with_faults(Faults {
        always: Some(Reply::json(201, serde_json::json!({"id": ""}))),
        ..Faults::default()
    })
    .await;
    let mut daemon = setup.start();
    daemon.settled().await;
    std::fs::write(setup.path("A.replay"), TINY).unwrap();
    until(&setup, "tried", |s| {
        s.replays.values().any(|r| r.attempts >= 1)
    })
    .await;
    daemon.stop().await;
    let state = setup.state();
    assert_eq!(status_of(&state, "A.replay", &setup), Some(Status::Pending));
    assert_eq!(setup.fake.books.lock().unwrap().count(Answer::Scripted), 1);
}

#[tokio::test(start_paused = true)]
async fn a_quota_park_restored_from_far_in_the_future_waits_a_day_at_most() {
    let setup = Setup::new().await;
    // A pending replay and a park until 2099, as a wrong clock or a bogus answer leaves them.
    std::fs::write(setup.path("A.replay"), TINY).unwrap();
    let id = autochase::replay::validate(TINY).unwrap().id.unwrap();
    let mut record = autochase::state::Record::pending(id, setup.path("A.replay"));
    record.size = TINY.len() as u64;
    let header = r#"{"kind":"header","format":"autochase-state","version":2}"#;
    let replay = serde_json::json!({"kind": "replay"});
    let mut line = serde_json::to_value(&record).unwrap();
    line.as_object_mut()
        .unwrap()
        .extend(replay.as_object().unwrap().clone());
    let paused =
        r#"{"kind":"paused","cause":"quota","reason":"quota","until":"2099-01-01T00:00:00Z"}"#;
    let key = autochase::platform::path_key(&setup.demos);
    let folder = serde_json::json!({"kind": "folder", "key": key, "path": setup.demos, "since": "2026-01-01T00:00:00Z"});
    std::fs::create_dir_all(&setup.state_dir).unwrap();
    std::fs::write(
        setup.state_dir.join(STATE_FILE),
        format!("{header}\n{line}\n{folder}\n{paused}\n"),
    )
    .unwrap();
    let daemon = setup.start();
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(attempts(&setup), 0, "still parked an hour later");
    tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
    until(&setup, "uploaded within a day", |s| uploaded(s).len() == 1).await;
    daemon.stop().await;
}

/// Bytes this process has read so far (every read call), from /proc.
#[cfg(target_os = "linux")]
fn bytes_read() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_replay_file_that_keeps_growing_is_not_read_whole_at_each_change() {
    use std::io::Write;
    let setup = Setup::new().await;
    let mut daemon = setup.start();
    daemon.settled().await;
    // A replay's header, then more and more body: its length never matches what it
    // announces, as with a file being written forever.
    let lan = support::replays::LAN;
    let header_size = i32::from_le_bytes(lan[..4].try_into().unwrap()) as usize;
    let path = setup.path("GROWING.replay");
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(&lan[..16 + header_size]).unwrap();
    let before = bytes_read();
    let piece = vec![0x5au8; 256 * 1024];
    for _ in 0..80 {
        file.write_all(&piece).unwrap();
        file.flush().unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let read = bytes_read() - before;
    let checks = daemon.status.borrow().checks;
    drop(file);
    daemon.stop().await;
    // 20 MB written in 80 pieces: each check reads the header and the body's size, a few KB.
    assert!(
        checks >= 5,
        "the file was looked at as it grew ({checks} checks)"
    );
    assert!(
        read < 2 * 1024 * 1024,
        "{read} bytes read while 20 MB were written"
    );
    assert_eq!(setup.fake.upload_requests(), 0);
}

/// A file name and a server message carrying newlines and terminal escapes: neither forges
/// a log line nor reaches a terminal raw, in the log or in `status`.
#[cfg(unix)]
#[tokio::test]
async fn control_characters_in_names_and_server_words_reach_no_log_line_or_terminal() {
    let setup = Setup::new().await;
    setup
        .fake
        .books
        .lock()
        .unwrap()
        .script
        .push_back(Reply::json(
            400,
            serde_json::json!({"error": "refused\nERROR forged by the server \u{1b}]0;pwned\u{7}"}),
        ));
    let config = setup.config_file("backfill = true\ninvalid_after = 1\n");
    std::fs::write(
        setup.path("evil\nERROR forged line \u{1b}[2J\u{9b}2J.replay"),
        b"not a replay at all",
    )
    .unwrap();
    std::fs::write(setup.path("OK.replay"), TINY).unwrap();
    let daemon = support::bin::Daemon::spawn(
        support::bin::command(&config)
            .arg("run")
            .stderr(std::process::Stdio::piped()),
    );
    until(&setup, "both judged", |s| {
        s.invalid.len() == 1 && s.replays.values().any(|r| r.status == Status::Refused)
    })
    .await;
    daemon.signal("TERM");
    let log = support::bin::text(&daemon.output().await.stderr);
    let status = support::bin::autochase(&config, &["status"]).await;
    let status = support::bin::text(&status.stdout);
    for (what, text) in [("log", &log), ("status", &status)] {
        assert!(
            text.lines()
                .all(|l| !l.trim_start().starts_with("ERROR forged")),
            "{what} has a forged line:\n{text}"
        );
        assert!(
            !text.contains(['\u{1b}', '\u{7}', '\u{9b}']),
            "{what} carries terminal escapes: {text:?}"
        );
        assert!(
            text.contains("forged"),
            "{what} still says what was there: {text}"
        );
    }
}
