//! A server that fails, limits, parks or refuses: nothing lost, nothing hammered.

use super::*;

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
