//! What holds uploads back and what lets them go: no token, a refused one, server trouble,
//! reloads, and requests from other commands.

use super::*;

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
async fn the_config_file_is_reloaded_and_a_bad_one_is_ignored() {
    let setup = Setup::new().await;
    let path = setup.config_file("visibility = \"unlisted\"\n");
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

    setup.config_file("visibility = \"private\"\n");
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
    setup.config_file("");
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
    let config_file = setup.config_file("");
    let out = support::bin::autochase(&config_file, &["retry", "--all-failed"]).await;
    let stdout = support::bin::text(&out.stdout);
    let stderr = support::bin::text(&out.stderr);
    // The refused one goes out again at once; the broken one is looked at again and, still
    // broken, says so. Each file's result comes back from the daemon.
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("autochase is running: asking it to upload 2 files"),
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
    let config_file = setup.config_file("");
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

/// While ballchasing keeps failing, a file a person names goes before the backlog and its
/// result comes back at once: before, the backlog's newer replays took the one try the
/// request bought, and the command sat silent while the uploads were parked.
#[tokio::test]
async fn a_file_asked_for_while_ballchasing_fails_goes_first_and_is_answered() {
    use support::replays::distinct;
    let setup = Setup::with_faults(support::ballchasing::Faults {
        always: Some(Reply::json(500, serde_json::json!({"error": "down"}))),
        ..Default::default()
    })
    .await;
    let mut daemon = setup.start();
    daemon.settled().await;
    for i in 0..3 {
        std::fs::write(
            setup.path(&format!("BACKLOG{i}.replay")),
            distinct(TINY, 100 + i),
        )
        .unwrap();
    }
    until(&setup, "parked on the trouble", |s| s.pause.is_some()).await;
    // An old replay from elsewhere, named by the player.
    let elsewhere = setup.root.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let asked = elsewhere.join("OLD.replay");
    let bytes = distinct(TINY, 200);
    std::fs::write(&asked, &bytes).unwrap();
    let year_ago = std::time::SystemTime::now() - Duration::from_secs(365 * 86400);
    std::fs::File::options()
        .write(true)
        .open(&asked)
        .unwrap()
        .set_modified(year_ago)
        .unwrap();
    let config_file = setup.config_file("");
    // Still failing: the request lifts the park for one try, that try is the named file, and
    // its answer comes at once, saying the file waits.
    let before = setup.fake.books.lock().unwrap().sent.len();
    let started = std::time::Instant::now();
    let out = support::bin::autochase(&config_file, &["upload", asked.to_str().unwrap()]).await;
    let said = support::bin::text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{said}{}",
        support::bin::text(&out.stderr)
    );
    assert!(said.contains("waiting"), "{said}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "answered in {:?}",
        started.elapsed()
    );
    let sent = setup.fake.books.lock().unwrap().sent.clone();
    assert!(sent.len() > before, "the request bought a try");
    assert_eq!(sent[before], bytes, "and the try was the named file");
    daemon.stop().await;
}

/// `upload` with no daemon keeps a wait ballchasing named (`Retry-After`) from one run to the
/// next instead of sending again at once, and a failed try says the replay stays pending for
/// the daemon, not that it is "tried again in 10 s" by a process about to exit.
#[tokio::test]
async fn one_shot_uploads_keep_a_named_wait_and_say_who_tries_again() {
    let setup = Setup::new().await;
    let file = setup.path("A.replay");
    std::fs::write(&file, TINY).unwrap();
    setup.fake.books.lock().unwrap().faults.always =
        Some(Reply::json(500, serde_json::json!({"error": "down"})));
    let reports = autochase::daemon::upload_once(setup.config(), vec![file.clone()], false, |_| {})
        .await
        .unwrap();
    let reason = reports[0].reason.clone().unwrap_or_default();
    assert_eq!(reports[0].fate, Fate::Pending, "{reason}");
    assert!(
        reason.contains("stays pending until autochase runs"),
        "{reason}"
    );
    // The next command within a minute sends nothing: a script in a loop cannot hammer a
    // failing server.
    let sent = setup.fake.upload_requests();
    let reports = autochase::daemon::upload_once(setup.config(), vec![file.clone()], false, |_| {})
        .await
        .unwrap();
    assert_eq!(reports[0].fate, Fate::Pending);
    assert_eq!(
        setup.fake.upload_requests(),
        sent,
        "tried at most once a minute"
    );
    // Over a minute later (the record says when it tried), it tries once more.
    let state_file = setup.state_dir.join(autochase::state::STATE_FILE);
    let journal = std::fs::read_to_string(&state_file).unwrap();
    let minute_ago = autochase::dates::utc(std::time::SystemTime::now() - Duration::from_secs(61));
    let (mut journal_state, _) = autochase::state::State::read(&state_file).unwrap().unwrap();
    let tried = journal_state.pause.as_mut().unwrap().tried.take().unwrap();
    std::fs::write(&state_file, journal.replace(&tried, &minute_ago)).unwrap();
    setup.fake.books.lock().unwrap().faults.always = Some(
        Reply::json(429, serde_json::json!({"error": "slow down"})).header("retry-after", "86400"),
    );
    let reports = autochase::daemon::upload_once(setup.config(), vec![file.clone()], false, |_| {})
        .await
        .unwrap();
    assert_eq!(reports[0].fate, Fate::Pending);
    assert!(setup.fake.upload_requests() > sent, "tried once more");
    let sent = setup.fake.upload_requests();
    setup.fake.books.lock().unwrap().faults.always = None;
    let reports = autochase::daemon::upload_once(setup.config(), vec![file], false, |_| {})
        .await
        .unwrap();
    assert_eq!(reports[0].fate, Fate::Pending, "{:?}", reports[0]);
    assert!(
        reports[0]
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("uploads are paused")),
        "{:?}",
        reports[0]
    );
    assert_eq!(
        setup.fake.upload_requests(),
        sent,
        "nothing sent during the wait"
    );
}

/// A server slower than `request_timeout`: the word says which limit ran out and what to do.
#[tokio::test]
async fn a_timeout_names_request_timeout() {
    let setup = Setup::with_faults(support::ballchasing::Faults {
        always: Some(Reply::Http {
            status: 500,
            headers: vec![],
            body: Default::default(),
            delay: Duration::from_secs(30),
        }),
        ..Default::default()
    })
    .await;
    let mut config = setup.config();
    config.request_timeout = Duration::from_millis(300);
    let file = setup.path("A.replay");
    std::fs::write(&file, TINY).unwrap();
    let reports = autochase::daemon::upload_once(config, vec![file], false, |_| {})
        .await
        .unwrap();
    let reason = reports[0].reason.clone().unwrap_or_default();
    assert!(
        reason.contains("did not answer in time") && reason.contains("`request_timeout` is 0.3 s"),
        "{:?}",
        reports[0]
    );
}
