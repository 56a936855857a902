//! From a file event to a record: saves, renames, restarts, the first start, broken files
//! and folders that come later.

use super::*;

#[tokio::test]
async fn an_idle_daemon_does_not_rescan_in_a_loop() {
    let setup = Setup::new().await;
    std::fs::write(setup.path("TINY.replay"), TINY).unwrap();
    let mut daemon = setup.start();
    daemon.settled().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let scans = daemon.status.borrow().scans;
    daemon.stop().await;
    // The first scan, and perhaps one more for the folder's own events at start; the next is
    // due after `rescan_interval` (60 s). Reading the folder must not trigger another.
    assert!(scans <= 2, "{scans} scans in about a second of idling");
}

#[tokio::test]
async fn a_replay_written_in_chunks_is_uploaded_once_and_complete() {
    let setup = Setup::new().await;
    let mut daemon = setup.start();
    daemon.settled().await;
    // 1 MB in 64 KiB chunks, 60 ms apart: about a second of writing, with events all along.
    write_in_chunks(
        &setup.path("LAN.replay"),
        LAN,
        64 * 1024,
        Duration::from_millis(60),
    )
    .await;
    let state = until(&setup, "uploaded", |s| uploaded(s).len() == 1).await;
    daemon.settled().await;
    daemon.stop().await;
    assert_eq!(
        setup.fake.upload_requests(),
        1,
        "exactly one upload, never a partial one"
    );
    let books = setup.fake.books.lock().unwrap();
    assert!(books.created[0] == LAN, "the server got the complete file");
    let record = uploaded(&state)[0];
    assert_eq!(record.outcome, Some(Outcome::Created));
    assert_eq!(
        record.location.as_deref(),
        Some("https://ballchasing.com/replay/bc-1")
    );
    assert_eq!(record.size, LAN.len() as u64);
}

#[tokio::test]
async fn a_replay_renamed_into_place_is_uploaded() {
    let setup = Setup::new().await;
    let mut daemon = setup.start();
    daemon.settled().await;
    let tmp = setup.demos.join("partial.tmp");
    std::fs::write(&tmp, SMALL).unwrap();
    std::fs::rename(&tmp, setup.path("SMALL.replay")).unwrap();
    until(&setup, "uploaded", |s| uploaded(s).len() == 1).await;
    daemon.stop().await;
    assert_eq!(setup.fake.created(), 1);
    assert_eq!(setup.fake.books.lock().unwrap().created[0], SMALL);
}

#[tokio::test]
async fn an_in_game_rename_is_not_uploaded_again() {
    let setup = Setup::new().await;
    let mut daemon = setup.start();
    daemon.settled().await;
    let path = setup.path("LAN.replay");
    std::fs::write(&path, LAN).unwrap();
    until(&setup, "first upload", |s| uploaded(s).len() == 1).await;
    let first_sha = setup
        .state()
        .replays
        .values()
        .next()
        .unwrap()
        .digest
        .clone();
    let renamed = rewritten(LAN);
    assert!(autochase::replay::validate(&renamed).is_ok());
    std::fs::write(&path, &renamed).unwrap();
    let state = until(&setup, "new bytes recorded", |s| {
        s.replays.values().any(|r| r.digest != first_sha)
    })
    .await;
    daemon.settled().await;
    daemon.stop().await;
    assert_eq!(state.replays.len(), 1, "one replay, keyed by its Id");
    assert_eq!(
        setup.fake.upload_requests(),
        1,
        "the rewrite was not uploaded"
    );
}

#[tokio::test]
async fn a_409_is_recorded_as_a_duplicate_with_the_existing_id() {
    let setup = Setup::new().await;
    setup.fake.already_has(TINY, "theirs-1", false);
    let mut daemon = setup.start();
    daemon.settled().await;
    std::fs::write(setup.path("TINY.replay"), TINY).unwrap();
    let state = until(&setup, "duplicate", |s| uploaded(s).len() == 1).await;
    daemon.stop().await;
    let record = uploaded(&state)[0];
    assert_eq!(record.outcome, Some(Outcome::Duplicate));
    assert_eq!(record.ballchasing_id.as_deref(), Some("theirs-1"));
    assert_eq!(setup.fake.created(), 0);
}

#[tokio::test]
async fn a_restart_does_not_upload_again() {
    let setup = Setup::new().await;
    let mut daemon = setup.start();
    daemon.settled().await;
    std::fs::write(setup.path("SMALL.replay"), SMALL).unwrap();
    std::fs::write(setup.path("HEAT.replay"), HEAT).unwrap();
    until(&setup, "both uploaded", |s| uploaded(s).len() == 2).await;
    daemon.stop().await;

    let mut again = setup.start();
    again.settled().await;
    again.stop().await;
    assert_eq!(setup.fake.upload_requests(), 2);
    assert_eq!(uploaded(&setup.state()).len(), 2);
}

#[tokio::test(start_paused = true)]
async fn an_upload_killed_mid_flight_is_redone_after_restart_and_recorded_once() {
    let setup = Setup::new().await;
    setup.fake.books.lock().unwrap().delay = Duration::from_secs(3);
    let mut daemon = setup.start();
    daemon.settled().await;
    std::fs::write(setup.path("SMALL.replay"), SMALL).unwrap();
    // Wait until the server holds the upload (it stores it, then answers slowly) and kill
    // the daemon without any shutdown: the answer never arrives.
    until_server(|| setup.fake.created() > 0).await;
    daemon.task.abort();
    let _ = daemon.task.await;
    let state = setup.state();
    assert!(
        state.replays.values().all(|r| r.status == Status::Pending),
        "{state:?}"
    );

    setup.fake.books.lock().unwrap().delay = Duration::ZERO;
    let mut again = setup.start();
    let state = until(&setup, "recorded", |s| uploaded(s).len() == 1).await;
    again.settled().await;
    again.stop().await;
    assert_eq!(state.replays.len(), 1);
    assert_eq!(
        uploaded(&state)[0].outcome,
        Some(Outcome::Duplicate),
        "the redo got 409"
    );
    assert_eq!(setup.fake.created(), 1, "created once on the server");
}

#[tokio::test]
async fn a_first_start_skips_old_replays_unless_backfill() {
    let setup = Setup::new().await;
    std::fs::write(setup.path("OLD1.replay"), SMALL).unwrap();
    std::fs::write(setup.path("OLD2.replay"), TINY).unwrap();
    let mut daemon = setup.start();
    daemon.settled().await;
    let state = setup.state();
    assert_eq!(
        state
            .replays
            .values()
            .filter(|r| r.status == Status::Skipped)
            .count(),
        2
    );
    assert!(state.replays.values().all(|r| {
        r.last_error
            .as_deref()
            .unwrap()
            .contains("`autochase backfill` uploads it")
    }));
    std::fs::write(setup.path("NEW.replay"), HEAT).unwrap();
    until(&setup, "new one uploaded", |s| uploaded(s).len() == 1).await;
    daemon.stop().await;
    assert_eq!(setup.fake.created(), 1);

    let backfill = Setup::new().await;
    std::fs::write(backfill.path("OLD1.replay"), SMALL).unwrap();
    let mut config = backfill.config();
    config.backfill = true;
    let mut daemon = backfill.start_with(config);
    until(&backfill, "backfilled", |s| uploaded(s).len() == 1).await;
    daemon.settled().await;
    daemon.stop().await;
}

#[tokio::test(start_paused = true)]
async fn graceful_shutdown_finishes_the_upload_in_flight() {
    let setup = Setup::new().await;
    setup.fake.books.lock().unwrap().delay = Duration::from_secs(1);
    let mut daemon = setup.start();
    daemon.settled().await;
    std::fs::write(setup.path("SMALL.replay"), SMALL).unwrap();
    until_server(|| setup.fake.upload_requests() > 0).await;
    daemon.stop().await;
    let state = setup.state();
    assert_eq!(
        uploaded(&state).len(),
        1,
        "the upload in flight was finished and recorded"
    );
}

#[tokio::test]
async fn broken_files_end_failed_with_a_reason_and_are_never_sent() {
    let setup = Setup::new().await;
    let mut daemon = setup.start();
    daemon.settled().await;
    for entry in std::fs::read_dir("tests/fixtures/bad").unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), setup.demos.join(entry.file_name())).unwrap();
    }
    std::fs::write(setup.path("HALF.replay"), &LAN[..LAN.len() / 2]).unwrap();
    let mut zero_tail = LAN.to_vec();
    let n = zero_tail.len();
    zero_tail[n - n / 10..].fill(0);
    std::fs::write(setup.path("ZERO.replay"), &zero_tail).unwrap();
    std::fs::write(setup.path("GOOD.replay"), TINY).unwrap();
    let state = until(&setup, "six failed", |s| s.invalid.len() == 6).await;
    daemon.settled().await;
    daemon.stop().await;
    assert_eq!(
        setup.fake.upload_requests(),
        1,
        "only the good one was sent"
    );
    assert_eq!(setup.fake.books.lock().unwrap().created[0], TINY);
    let reason = |name: &str| state.invalid[&setup.path(name)].reason.clone();
    assert_eq!(reason("ZERO.replay"), "corrupt replay: body crc mismatch");
    assert!(
        reason("HALF.replay").starts_with("corrupt replay: truncated"),
        "{}",
        reason("HALF.replay")
    );
    assert_eq!(reason("text.replay"), "not a Rocket League replay");
}

#[tokio::test]
async fn a_folder_that_appears_later_is_watched() {
    let setup = Setup::new().await;
    let later = setup.demos.parent().unwrap().join("Later/TAGame/Demos");
    let mut config = setup.config();
    config.replay_dirs = vec![later.clone()];
    let mut daemon = setup.start_with(config);
    daemon.settled().await;
    // The game creates its folders on first launch; the rescan interval is a minute, so a
    // folder recorded within the test's bounds proves the creation itself was noticed.
    std::fs::create_dir_all(&later).unwrap();
    until(&setup, "the new folder seen", |s| s.folders.len() == 1).await;
    write_until_created(
        &setup,
        &later.join("TINY.replay"),
        TINY,
        1,
        "the new folder was never watched",
    )
    .await;
    // And when it vanishes and comes back, it is watched again.
    std::fs::remove_dir_all(later.parent().unwrap()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    std::fs::create_dir_all(&later).unwrap();
    write_until_created(
        &setup,
        &later.join("SMALL.replay"),
        SMALL,
        2,
        "the recreated folder was not watched again",
    )
    .await;
    daemon.stop().await;
}

#[tokio::test]
async fn a_first_start_stopped_halfway_still_skips_the_old_replays_next_time() {
    // The first start was stopped before it had recorded every old replay (the marker says
    // the baseline is not done): the next start must finish the baseline, not upload them.
    let setup = Setup::new().await;
    for (name, bytes) in [("A.replay", TINY), ("B.replay", SMALL), ("C.replay", HEAT)] {
        std::fs::write(setup.path(name), bytes).unwrap();
    }
    std::fs::create_dir_all(&setup.state_dir).unwrap();
    std::fs::write(
        setup.state_dir.join(autochase::state::STATE_FILE),
        "{\"kind\":\"header\",\"format\":\"autochase-state\",\"version\":1}\n{\"kind\":\"baseline\",\"done\":false}\n",
    )
    .unwrap();
    let mut daemon = setup.start();
    daemon.settled().await;
    let state = until(&setup, "all three judged", |s| s.replays.len() == 3).await;
    assert!(
        state.replays.values().all(|r| r.status == Status::Skipped),
        "{state:?}"
    );
    assert_eq!(setup.fake.upload_requests(), 0);
    // The baseline is done now: a new replay is uploaded.
    std::fs::write(setup.path("NEW.replay"), LAN).unwrap();
    until(&setup, "new one uploaded", |s| uploaded(s).len() == 1).await;
    daemon.stop().await;
    let state = setup.state();
    assert_eq!(state.folders.len(), 1, "{:?}", state.folders);
}

/// `autochase upload` of a file the game is still writing waits for the rest instead of
/// calling it truncated; a broken file nothing writes any more is judged at once.
#[tokio::test]
async fn an_upload_of_a_file_still_being_written_waits_for_the_rest() {
    let setup = Setup::new().await;
    let path = setup.path("SAVING.replay");
    std::fs::write(&path, &LAN[..LAN.len() / 2]).unwrap();
    let writer = {
        let path = path.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(1500));
            std::fs::write(&path, LAN).unwrap();
        })
    };
    // The default wait for a broken file, not the tests' 2 s.
    let mut config = setup.config();
    config.invalid_after = std::time::Duration::from_secs(60);
    let reports = autochase::daemon::upload_once(config.clone(), vec![path.clone()], false, |_| {})
        .await
        .unwrap();
    writer.join().unwrap();
    assert_eq!(reports[0].fate, Fate::Created, "{:?}", reports[0]);
    assert_eq!(setup.fake.books.lock().unwrap().created[0], LAN);

    let old = setup.path("OLD-HALF.replay");
    std::fs::write(&old, &LAN[..LAN.len() / 2]).unwrap();
    let year_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(365 * 86400);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(year_ago)
        .unwrap();
    let started = std::time::Instant::now();
    let reports = autochase::daemon::upload_once(config, vec![old], false, |_| {})
        .await
        .unwrap();
    assert_eq!(reports[0].fate, Fate::Invalid, "{:?}", reports[0]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "judged at once: {:?}",
        started.elapsed()
    );
}
