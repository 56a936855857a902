//! After the upload: titles, filters and groups.

use super::*;

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
    let config_file = setup.config_file("");
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
