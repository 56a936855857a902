//! The daemon in-process against real temp folders and a fake ballchasing on loopback.

mod support;

use std::time::Duration;

use autochase::engine::Fate;
use autochase::state::{Outcome, Status};
use support::Reply;
use support::harness::{
    Setup, until, until_server, uploaded, write_in_chunks, write_until_created,
};
use support::replays::{HEAT, LAN, SMALL, TINY};

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

/// The same replay (same header Id) with one byte of network data changed and its body CRC
/// fixed: what an in-game rename looks like on disk.
fn rewritten(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let header_size = i32::from_le_bytes(out[0..4].try_into().unwrap()) as usize;
    let body_start = 16 + header_size;
    let middle = body_start + (out.len() - body_start) / 2;
    out[middle] ^= 0x55;
    let crc = boxcars::crc::calc_crc(&out[body_start..]);
    out[body_start - 4..body_start].copy_from_slice(&crc.to_le_bytes());
    out
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
async fn uploads_wait_without_a_token_and_a_refused_token_pauses() {
    let setup = Setup::new().await;
    let mut config = setup.config();
    config.token = None;
    let mut daemon = setup.start_with(config);
    daemon.settled().await;
    std::fs::write(setup.path("SMALL.replay"), SMALL).unwrap();
    until(&setup, "queued", |s| {
        s.replays.values().any(|r| r.status == Status::Pending)
    })
    .await;
    daemon.settled().await;
    daemon.stop().await;
    assert_eq!(setup.fake.upload_requests(), 0);

    let mut config = setup.config();
    config.token = Some("wrong-token".into());
    let mut daemon = setup.start_with(config);
    let paused = tokio::time::timeout(
        Duration::from_secs(10),
        daemon.status.wait_for(|s| s.paused.is_some()),
    )
    .await
    .unwrap()
    .unwrap()
    .clone();
    assert!(
        paused
            .paused
            .unwrap()
            .reason
            .contains("refused the API token")
    );
    daemon.stop().await;
    assert_eq!(
        setup.fake.upload_requests(),
        1,
        "one try, then a pause of a minute"
    );
    assert_eq!(
        setup.state().replays.values().next().unwrap().status,
        Status::Pending
    );
}

#[tokio::test(start_paused = true)]
async fn server_trouble_is_retried_until_it_works() {
    let setup = Setup::new().await;
    {
        let mut books = setup.fake.books.lock().unwrap();
        books
            .script
            .push_back(Reply::html(502, "<h1>502 Bad Gateway</h1>"));
        books
            .script
            .push_back(Reply::html(502, "<h1>502 Bad Gateway</h1>"));
        books
            .script
            .push_back(Reply::html(502, "<h1>502 Bad Gateway</h1>"));
        books.script.push_back(Reply::Reset);
    }
    let mut daemon = setup.start();
    daemon.settled().await;
    std::fs::write(setup.path("TINY.replay"), TINY).unwrap();
    // Three 502s exhaust the client's own retries; the engine retries after 5 s, and the
    // file's later events do not cut that wait short.
    std::fs::OpenOptions::new()
        .append(true)
        .open(setup.path("TINY.replay"))
        .unwrap();
    let state = until(&setup, "uploaded after trouble", |s| uploaded(s).len() == 1).await;
    daemon.stop().await;
    assert_eq!(uploaded(&state)[0].attempts, 2);
    assert_eq!(setup.fake.created(), 1);
    let uploads: Vec<_> = setup
        .fake
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v2/upload")
        .collect();
    assert_eq!(uploads.len(), 5, "3 × 502, then reset, then created");
    let gap = uploads[3].at - uploads[2].at;
    assert!(
        gap >= Duration::from_millis(4900),
        "engine backoff was cut short: {gap:?}"
    );
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

/// Writes the config file the daemon reloads, pointing at the test's folders and server.
fn write_config_file(setup: &Setup, extra: &str) -> std::path::PathBuf {
    let path = setup.root.path().join("config.toml");
    support::bin::write_config(
        &path,
        &setup.fake.server.url(),
        support::ballchasing::TOKEN,
        extra,
    );
    path
}

#[tokio::test]
async fn the_config_file_is_reloaded_and_a_bad_one_is_ignored() {
    let setup = Setup::new().await;
    let path = write_config_file(&setup, "visibility = \"unlisted\"\n");
    let config = autochase::config::Config::load(Some(&path), None).unwrap();
    let mut daemon = setup.start_with(config);
    daemon.settled().await;
    let visibility = |n: usize| {
        let uploads: Vec<_> = setup
            .fake
            .server
            .requests()
            .into_iter()
            .filter(|r| r.path == "/v2/upload")
            .collect();
        uploads[n].query_one("visibility").map(str::to_owned)
    };
    std::fs::write(setup.path("A.replay"), TINY).unwrap();
    until(&setup, "first", |s| uploaded(s).len() == 1).await;
    assert_eq!(visibility(0).as_deref(), Some("unlisted"));

    write_config_file(&setup, "visibility = \"private\"\n");
    tokio::time::timeout(
        Duration::from_secs(10),
        daemon.status.wait_for(|s| s.reloads == 1),
    )
    .await
    .expect("reloaded")
    .unwrap();
    std::fs::write(setup.path("B.replay"), SMALL).unwrap();
    until(&setup, "second", |s| uploaded(s).len() == 2).await;
    assert_eq!(visibility(1).as_deref(), Some("private"));

    // A broken file is reported and the running config kept.
    std::fs::write(&path, "visibility = \n").unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(daemon.status.borrow().reloads, 1);
    std::fs::write(setup.path("C.replay"), HEAT).unwrap();
    until(&setup, "third", |s| uploaded(s).len() == 3).await;
    assert_eq!(visibility(2).as_deref(), Some("private"));
    daemon.stop().await;
}

#[tokio::test]
async fn a_new_token_in_the_config_ends_a_token_pause_at_once() {
    let setup = Setup::new().await;
    let path = setup.root.path().join("config.toml");
    support::bin::write_config(&path, &setup.fake.server.url(), "wrong-token", "");
    let config = autochase::config::Config::load(Some(&path), None).unwrap();
    let mut daemon = setup.start_with(config);
    daemon.settled().await;
    std::fs::write(setup.path("A.replay"), TINY).unwrap();
    until(&setup, "token pause", |s| s.pause.is_some()).await;
    write_config_file(&setup, "");
    // Without the reload the next try would come a minute later.
    let state = tokio::time::timeout(
        Duration::from_secs(10),
        until(&setup, "uploaded with the new token", |s| {
            uploaded(s).len() == 1 && s.pause.is_none()
        }),
    )
    .await
    .expect("uploaded within 10 s of the new token");
    daemon.stop().await;
    assert_eq!(uploaded(&state).len(), 1);
}

#[tokio::test]
async fn a_filter_added_by_a_reload_applies_to_replays_already_queued() {
    let setup = Setup::new().await;
    // No token yet: the replay is validated and queued, and waits.
    let path = setup.root.path().join("config.toml");
    let folders = format!(
        "api_url = \"{}\"\nstate_dir = \"state\"\nreplay_dirs = [\"Demos\"]\nupload_rate = 10.0\n",
        setup.fake.server.url()
    );
    std::fs::write(&path, &folders).unwrap();
    let config = autochase::config::Config::load(Some(&path), None).unwrap();
    let mut daemon = setup.start_with(config);
    daemon.settled().await;
    std::fs::write(setup.path("TINY.replay"), TINY).unwrap(); // Online
    until(&setup, "queued", |s| {
        s.replays.values().any(|r| r.status == Status::Pending)
    })
    .await;
    // The token and a filter that leaves online matches out arrive together.
    std::fs::write(
        &path,
        format!(
            "{folders}token = \"{}\"\nskip_match_types = [\"online\"]\n",
            support::ballchasing::TOKEN
        ),
    )
    .unwrap();
    let state = until(&setup, "skipped by the new filter", |s| {
        s.replays.values().any(|r| r.status == Status::Skipped)
    })
    .await;
    daemon.settled().await;
    daemon.stop().await;
    assert_eq!(setup.fake.upload_requests(), 0, "{state:?}");
}

#[tokio::test]
async fn upload_sends_a_replay_skipped_at_first_start() {
    // README: replays present before the first start are skipped; `autochase upload FOLDER`
    // uploads them.
    let setup = Setup::new().await;
    std::fs::write(setup.path("OLD.replay"), TINY).unwrap();
    let mut daemon = setup.start();
    daemon.settled().await;
    daemon.stop().await;
    assert_eq!(
        setup.state().replays.values().next().unwrap().status,
        Status::Skipped
    );
    let reports = autochase::daemon::upload_once(
        setup.config(),
        vec![setup.path("OLD.replay")],
        false,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(reports[0].fate, Fate::Created, "{:?}", reports[0]);
    assert_eq!(setup.fake.created(), 1);
}

#[tokio::test]
async fn our_uploads_get_the_title_template_and_a_failed_patch_is_not_a_failed_upload() {
    let setup = Setup::new().await;
    setup.fake.already_has(SMALL, "theirs-1", false);
    let mut config = setup.config();
    config.title = Some(
        autochase::title::Template::parse(
            "{match_type} {team_size}v{team_size} {team0_score}-{team1_score} {map} {date}",
        )
        .unwrap(),
    );
    let mut daemon = setup.start_with(config);
    daemon.settled().await;
    std::fs::write(setup.path("LAN.replay"), LAN).unwrap();
    until(&setup, "LAN uploaded", |s| uploaded(s).len() == 1).await;
    // A duplicate may be someone else's replay: no PATCH.
    std::fs::write(setup.path("SMALL.replay"), SMALL).unwrap();
    until(&setup, "SMALL recorded", |s| uploaded(s).len() == 2).await;
    // The PATCH fails for good (500, retried by the client, still 500).
    {
        let mut books = setup.fake.books.lock().unwrap();
        for _ in 0..3 {
            books
                .patch_script
                .push_back(Reply::html(500, "<h1>oops</h1>"));
        }
    }
    std::fs::write(setup.path("HEAT.replay"), HEAT).unwrap();
    let state = until(&setup, "HEAT uploaded", |s| uploaded(s).len() == 3).await;
    daemon.stop().await;
    let patches = setup.fake.books.lock().unwrap().patches.clone();
    assert_eq!(patches[0].0, "bc-1");
    assert_eq!(
        patches[0].1,
        serde_json::json!({"title": "LAN 4v4 3-2 Stadium_p 2016-08-07 11:27"})
    );
    assert!(
        patches.iter().all(|(id, _)| id != "theirs-1"),
        "{patches:?}"
    );
    let by_path = |name: &str| {
        state
            .replays
            .values()
            .find(|r| r.path == setup.path(name))
            .unwrap()
            .clone()
    };
    assert_eq!(
        by_path("LAN.replay").title.as_deref(),
        Some("LAN 4v4 3-2 Stadium_p 2016-08-07 11:27")
    );
    assert_eq!(by_path("SMALL.replay").title, None);
    let heat = by_path("HEAT.replay");
    assert_eq!(heat.status, Status::Uploaded);
    assert!(heat.title_error.is_some(), "{heat:?}");
    // `status` shows the titles, and why one is missing.
    let config_file = write_config_file(&setup, "");
    let shown = support::bin::text(
        &support::bin::autochase(&config_file, &["status"])
            .await
            .stdout,
    );
    assert!(
        shown.contains(
            "https://ballchasing.com/replay/bc-1  \"LAN 4v4 3-2 Stadium_p 2016-08-07 11:27\""
        ),
        "{shown}"
    );
    assert!(shown.contains("(title not set: "), "{shown}");
}

#[tokio::test]
async fn titles_name_the_map_as_ballchasing_does() {
    let setup = Setup::new().await;
    setup.fake.books.lock().unwrap().maps =
        Some(serde_json::json!({"stadium_p": "DFH Stadium", "eurostadium_p": "Mannfield"}));
    let mut config = setup.config();
    config.title =
        Some(autochase::title::Template::parse("{map} {team0_score}-{team1_score}").unwrap());
    let mut daemon = setup.start_with(config);
    daemon.settled().await;
    std::fs::write(setup.path("LAN.replay"), LAN).unwrap();
    until(&setup, "uploaded", |s| uploaded(s).len() == 1).await;
    std::fs::write(
        setup.path("LAN2.replay"),
        support::replays::distinct(LAN, 3),
    )
    .unwrap();
    until(&setup, "both uploaded", |s| uploaded(s).len() == 2).await;
    daemon.stop().await;
    let books = setup.fake.books.lock().unwrap();
    assert_eq!(
        books.patches[0].1,
        serde_json::json!({"title": "DFH Stadium 3-2"})
    );
    assert_eq!(
        books.patches[1].1,
        serde_json::json!({"title": "DFH Stadium 3-2"})
    );
    let asked = setup
        .fake
        .server
        .requests()
        .iter()
        .filter(|r| r.path == "/maps")
        .count();
    assert_eq!(asked, 1, "the map names are asked for once");
}

#[tokio::test]
async fn filters_skip_with_their_rule_and_force_overrides() {
    let setup = Setup::new().await;
    let mut config = setup.config();
    config.filter = autochase::filter::Filter {
        skip_match_types: vec!["private".into()],
        min_duration: Some(Duration::from_secs(60)),
        ..Default::default()
    };
    let mut daemon = setup.start_with(config.clone());
    daemon.settled().await;
    std::fs::write(setup.path("SMALL.replay"), SMALL).unwrap(); // Private, 8 s
    std::fs::write(setup.path("LAN.replay"), LAN).unwrap(); // LAN, 4 min
    std::fs::write(setup.path("TINY.replay"), TINY).unwrap(); // Online, length unknown
    let state = until(&setup, "judged", |s| {
        s.replays.len() == 3 && uploaded(s).len() == 2
    })
    .await;
    daemon.settled().await;
    daemon.stop().await;
    let small = state
        .replays
        .values()
        .find(|r| r.path == setup.path("SMALL.replay"))
        .unwrap();
    assert_eq!(small.status, Status::Skipped);
    assert_eq!(
        small.last_error.as_deref(),
        Some(
            "skipped by filter: match type Private is in skip_match_types; `autochase upload --force FILE` uploads it"
        )
    );
    assert_eq!(setup.fake.created(), 2);
    let plain = autochase::daemon::upload_once(
        config.clone(),
        vec![setup.path("SMALL.replay")],
        false,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(
        plain[0].fate,
        Fate::Skipped,
        "filters apply to `upload` too"
    );
    let forced =
        autochase::daemon::upload_once(config, vec![setup.path("SMALL.replay")], true, |_| {})
            .await
            .unwrap();
    assert_eq!(forced[0].fate, Fate::Created, "{:?}", forced[0]);
    assert_eq!(setup.fake.created(), 3);
}

#[tokio::test]
async fn day_groups_are_made_once_under_the_parent_and_only_our_duplicates_join() {
    use support::replays::distinct;
    let setup = Setup::new().await;
    setup.fake.already_has(HEAT, "mine-1", true);
    setup.fake.already_has(TINY, "theirs-1", false);
    let mut config = setup.config();
    config.group = Some("parent-1".into());
    config.group_rule = Some(autochase::groups::GroupRule {
        by: autochase::groups::GroupBy::Day,
        parent: Some("parent-1".into()),
        session_gap: Duration::from_secs(7200),
    });
    let mut daemon = setup.start_with(config.clone());
    daemon.settled().await;
    std::fs::write(setup.path("LAN.replay"), LAN).unwrap(); // 2016-08-07
    until(&setup, "LAN", |s| uploaded(s).len() == 1).await;
    std::fs::write(setup.path("SMALL.replay"), SMALL).unwrap(); // 2016-06-06
    until(&setup, "SMALL", |s| uploaded(s).len() == 2).await;
    std::fs::write(setup.path("HEAT.replay"), HEAT).unwrap(); // ours already: 2025-03-15
    until(&setup, "HEAT", |s| uploaded(s).len() == 3).await;
    std::fs::write(setup.path("TINY.replay"), TINY).unwrap(); // someone else's
    let state = until(&setup, "TINY", |s| uploaded(s).len() == 4).await;
    daemon.stop().await;
    // A restart remembers the groups: another 2016-08-07 replay joins the same one.
    let mut daemon = setup.start_with(config);
    daemon.settled().await;
    std::fs::write(setup.path("LAN2.replay"), distinct(LAN, 2)).unwrap();
    let after = until(&setup, "LAN2", |s| uploaded(s).len() == 5).await;
    daemon.stop().await;

    let books = setup.fake.books.lock().unwrap();
    let names: Vec<_> = books.groups.iter().map(|g| g["name"].clone()).collect();
    assert_eq!(names, ["2016-08-07", "2016-06-06", "2025-03-15"]);
    assert!(books.groups.iter().all(|g| g["parent"] == "parent-1"));
    let patched = |id: &str| {
        books
            .patches
            .iter()
            .find(|(p, _)| p == id)
            .map(|(_, body)| body["group"].clone())
    };
    assert_eq!(patched("bc-1"), Some(serde_json::json!("g-1")));
    assert_eq!(patched("bc-2"), Some(serde_json::json!("g-2")));
    assert_eq!(
        patched("mine-1"),
        Some(serde_json::json!("g-3")),
        "our duplicate joins"
    );
    assert_eq!(patched("theirs-1"), None, "someone else's is left alone");
    assert_eq!(
        patched("bc-3"),
        Some(serde_json::json!("g-1")),
        "remembered across a restart"
    );
    let tiny = state
        .replays
        .values()
        .find(|r| r.path == setup.path("TINY.replay"))
        .unwrap();
    assert_eq!(
        tiny.note.as_deref(),
        Some("duplicate, owned by another uploader (Someone Else)")
    );
    assert_eq!(after.groups.len(), 3);
}

#[tokio::test]
async fn a_fixed_group_goes_with_the_upload_and_our_duplicates_are_moved_into_it() {
    let setup = Setup::new().await;
    setup.fake.already_has(HEAT, "mine-1", true);
    setup.fake.already_has(TINY, "theirs-1", false);
    let mut config = setup.config();
    config.group = Some("fixed-9".into());
    let mut daemon = setup.start_with(config);
    daemon.settled().await;
    for (name, bytes) in [
        ("LAN.replay", LAN),
        ("HEAT.replay", HEAT),
        ("TINY.replay", TINY),
    ] {
        std::fs::write(setup.path(name), bytes).unwrap();
        let n = setup.state().replays.len() + 1;
        until(&setup, name, |s| uploaded(s).len() == n).await;
    }
    daemon.stop().await;
    let uploads: Vec<_> = setup
        .fake
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v2/upload")
        .collect();
    assert!(
        uploads
            .iter()
            .all(|r| r.query_one("group") == Some("fixed-9"))
    );
    let books = setup.fake.books.lock().unwrap();
    let groups: Vec<_> = books
        .patches
        .iter()
        .map(|(id, body)| (id.as_str(), body["group"].as_str().unwrap_or("")))
        .collect();
    // The created one got its group with the upload; only our duplicate needs a PATCH.
    assert_eq!(groups, [("mine-1", "fixed-9")]);
    assert!(books.groups.is_empty(), "no group created");
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

#[tokio::test]
async fn retry_while_the_daemon_runs_goes_through_it() {
    let setup = Setup::new().await;
    setup
        .fake
        .books
        .lock()
        .unwrap()
        .script
        .push_back(Reply::json(
            400,
            serde_json::json!({"error": "\"file\" not a .replay file"}),
        ));
    let mut daemon = setup.start();
    daemon.settled().await;
    std::fs::write(setup.path("A.replay"), TINY).unwrap();
    std::fs::write(setup.path("BROKEN.replay"), &TINY[..100]).unwrap();
    until(&setup, "refused and broken", |s| {
        s.replays.values().any(|r| r.status == Status::Refused) && s.invalid.len() == 1
    })
    .await;
    // `retry --all-failed` from another process, while this daemon holds the lock.
    let config_file = write_config_file(&setup, "");
    let out = support::bin::autochase(&config_file, &["retry", "--all-failed"]).await;
    let stdout = support::bin::text(&out.stdout);
    let stderr = support::bin::text(&out.stderr);
    // The refused one goes out again at once; the broken one is looked at again and, still
    // broken, says so. Each file's result comes back from the daemon.
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("autochase is running: handed 2 files to it"),
        "{stderr}"
    );
    assert!(
        stdout.contains("uploaded ") && stdout.contains("A.replay"),
        "{stdout}"
    );
    assert!(
        stdout.contains("not uploadable") && stdout.contains("BROKEN.replay"),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 files: 1 uploaded now, 1 not uploadable"),
        "{stdout}"
    );
    let state = until(&setup, "uploaded, the broken one still listed", |s| {
        uploaded(s).len() == 1 && s.invalid.len() == 1
    })
    .await;
    assert!(
        state
            .invalid
            .values()
            .next()
            .unwrap()
            .reason
            .contains("truncated")
    );
    daemon.stop().await;
    assert_eq!(setup.fake.created(), 1);
    assert!(
        setup
            .state_dir
            .join("inbox")
            .read_dir()
            .unwrap()
            .next()
            .is_none(),
        "inbox emptied"
    );
}

/// A park autochase chose itself (a quota whose end ballchasing did not say) is lifted for
/// one try when the player asks for an upload: after the quota frees, `retry` uploads at once
/// instead of saying "waiting" for half an hour. At most once a minute.
#[tokio::test]
async fn retry_lifts_a_park_autochase_guessed_for_one_try() {
    let setup = Setup::with_faults(support::ballchasing::Faults {
        quota: Some(1),
        ..Default::default()
    })
    .await;
    let mut config = setup.config();
    config.pauses.quota = Duration::from_secs(1800);
    let mut daemon = setup.start_with(config);
    daemon.settled().await;
    std::fs::write(setup.path("A.replay"), TINY).unwrap();
    until(&setup, "first uploaded", |s| uploaded(s).len() == 1).await;
    std::fs::write(setup.path("B.replay"), SMALL).unwrap();
    until(&setup, "parked on the quota", |s| s.pause.is_some()).await;
    // The quota frees (the day turned); the player asks.
    setup.fake.books.lock().unwrap().faults.quota = None;
    let config_file = write_config_file(&setup, "");
    let b = setup.path("B.replay");
    let out = support::bin::autochase(&config_file, &["retry", b.to_str().unwrap()]).await;
    let said = support::bin::text(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        support::bin::text(&out.stderr)
    );
    assert!(said.contains("uploaded"), "{said}");
    let state = until(&setup, "resumed", |s| {
        uploaded(s).len() == 2 && s.pause.is_none()
    })
    .await;
    assert_eq!(uploaded(&state).len(), 2);
    daemon.stop().await;
}
