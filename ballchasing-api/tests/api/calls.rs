//! Each replay endpoint and the account: the request the client sends and what it decodes.

use super::*;

#[tokio::test]
async fn ping_decodes_the_account_and_adopts_its_tier() {
    let server = FakeServer::scripted(vec![Reply::json(
        200,
        json!({"name":"Alice","steam_id":"76561198000000000","type":"gold","chaser":true,
               "chat":{"x":"y"},"quota":{"uploads_in_24h":{"max":50,"used":3}}}),
    )])
    .await;
    let client = client(&server);
    assert_eq!(
        client.tier(),
        Tier::Regular,
        "strictest limits until ping says otherwise"
    );
    let me = client.ping().await.unwrap();
    let req = only(&server);
    assert_eq!((req.method.as_str(), req.path.as_str()), ("GET", "/"));
    assert_authorized(&req);
    assert_eq!(me.operation, Operation::Ping);
    assert_eq!(me.response.status.as_u16(), 200);
    assert_eq!(me.value.name.as_deref(), Some("Alice"));
    assert_eq!(me.value.steam_id.as_deref(), Some("76561198000000000"));
    assert_eq!(me.value.tier, Some(Tier::Gold));
    assert_eq!(
        me.value
            .quota
            .as_ref()
            .unwrap()
            .uploads_in_24h
            .as_ref()
            .unwrap()
            .used,
        Some(3)
    );
    assert_eq!(me.value.extra["chat"]["x"], "y");
    assert_eq!(client.tier(), Tier::Gold);
    assert_eq!(client.clone().tier(), Tier::Gold, "clones share the limits");
}

#[tokio::test]
async fn a_fixed_tier_is_not_replaced_by_ping() {
    let server = FakeServer::scripted(vec![Reply::json(200, json!({"type":"regular"}))]).await;
    let client = Client::builder(TOKEN)
        .base_url(format!("{}/api", server.url()))
        .tier(Tier::Champion)
        .build()
        .unwrap();
    client.ping().await.unwrap();
    assert_eq!(only(&server).path, "/api/", "ping keeps the base path");
    assert_eq!(client.tier(), Tier::Champion);
}

#[tokio::test]
async fn upload_sends_one_file_part_and_always_the_visibility() {
    let server = FakeServer::scripted(vec![Reply::json(
        201,
        json!({"id":"0b1c","location":"https://ballchasing.com/replay/0b1c"}),
    )])
    .await;
    let bytes = vec![7u8; 70_000];
    let up = client(&server)
        .upload(
            &Upload::new("A377.replay", bytes.clone())
                .visibility(Visibility::Private)
                .group("g-1"),
        )
        .await
        .unwrap();
    let req = only(&server);
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/v2/upload")
    );
    assert_authorized(&req);
    assert_eq!(req.query_one("visibility"), Some("private"));
    assert_eq!(req.query_one("group"), Some("g-1"));
    assert!(
        req.header("content-type")
            .unwrap()
            .starts_with("multipart/form-data")
    );
    let parts = req.multipart();
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].name, "file");
    assert_eq!(parts[0].filename.as_deref(), Some("A377.replay"));
    assert_eq!(
        parts[0].content_type.as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(parts[0].data, bytes);
    assert_eq!(up.operation, Operation::Upload);
    assert_eq!(
        up.value,
        UploadOutcome::Created {
            id: "0b1c".into(),
            location: "https://ballchasing.com/replay/0b1c".into()
        }
    );
}

#[tokio::test]
async fn upload_defaults_to_public_and_names_the_file_dot_replay() {
    let server = FakeServer::scripted(vec![Reply::json(201, json!({"id":"x1"}))]).await;
    let up = client(&server)
        .upload(&Upload::new("no-extension", vec![1, 2, 3]))
        .await
        .unwrap();
    let req = only(&server);
    assert_eq!(
        req.query_one("visibility"),
        Some("public"),
        "never left to the server default"
    );
    assert_eq!(req.query_one("group"), None);
    assert_eq!(
        req.multipart()[0].filename.as_deref(),
        Some("no-extension.replay")
    );
    assert_eq!(
        up.value.location(),
        "https://ballchasing.com/replay/x1",
        "derived when absent"
    );
}

#[tokio::test]
async fn upload_409_is_a_duplicate_carrying_the_existing_replay() {
    let server = FakeServer::scripted(vec![Reply::json(
        409,
        json!({"error":"duplicate replay","id":"old-1","location":"https://ballchasing.com/replay/old-1","chat":{}}),
    )])
    .await;
    let up = client(&server)
        .upload(&Upload::new("a.replay", vec![1]))
        .await
        .unwrap();
    assert_eq!(only(&server).method, "POST", "a duplicate is not retried");
    assert_eq!(up.response.status.as_u16(), 409);
    assert!(up.value.is_duplicate());
    assert_eq!(up.value.id(), "old-1");
    assert_eq!(up.value.location(), "https://ballchasing.com/replay/old-1");
}

#[tokio::test]
async fn list_replays_sends_every_filter() {
    let server = FakeServer::scripted(vec![Reply::json(
        200,
        json!({"count": 1, "list": [replay_item("a")]}),
    )])
    .await;
    let filter = ReplayFilter {
        title: Some("final".into()),
        season: Some("f9".into()),
        match_result: Some(MatchResult::Loss),
        min_rank: Some(Rank::Champion1),
        max_rank: Some(Rank::SupersonicLegend),
        pro: true,
        uploader: Some("me".into()),
        created_after: Some("2026-01-01T00:00:00Z".parse().unwrap()),
        ..ReplayFilter::new()
    }
    .player_name("Al ice")
    .player_id(Platform::Epic, "e1")
    .playlist(Playlist::RankedDuels)
    .playlist(Playlist::Hoops)
    .count(2);
    let page = client(&server).list_replays(&filter).await.unwrap();
    let req = only(&server);
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("GET", "/replays")
    );
    assert_authorized(&req);
    assert_eq!(req.query_all("playlist"), ["ranked-duels", "hoops"]);
    assert_eq!(req.query_one("player-name"), Some("Al ice"));
    assert_eq!(req.query_one("player-id"), Some("epic:e1"));
    assert_eq!(req.query_one("min-rank"), Some("champion-1"));
    assert_eq!(req.query_one("max-rank"), Some("supersonic-legend"));
    assert_eq!(req.query_one("match-result"), Some("loss"));
    assert_eq!(req.query_one("pro"), Some("true"));
    assert_eq!(req.query_one("created-after"), Some("2026-01-01T00:00:00Z"));
    assert_eq!(req.query_one("count"), Some("2"));
    assert_eq!(page.operation, Operation::ListReplays);
    assert_eq!(page.value.count, Some(1));
    assert_eq!(
        page.value.list[0].playlist_id,
        Some(Playlist::RankedDoubles)
    );
}

#[tokio::test]
async fn pagination_follows_three_pages_keeping_the_filters() {
    let server = FakeServer::start(|req| {
        let base = format!("http://{}", req.header("host").unwrap());
        // The server's `next` drops the filters and adds junk, as the real one has been seen to.
        match req.query_one("after") {
            None => Reply::json(200, json!({"count": 5, "list": [replay_item("1"), replay_item("2")],
                                            "next": format!("{base}/replays?after=c%2F1&max-rank=")})),
            Some("c/1") => Reply::json(200, json!({"count": 5, "list": [replay_item("3"), replay_item("4")],
                                                   "next": format!("{base}/replays?after=c2")})),
            Some("c2") => Reply::json(200, json!({"count": 5, "list": [replay_item("5")]})),
            Some(other) => Reply::json(400, json!({"error": format!("bad cursor {other}")})),
        }
    })
    .await;
    let filter = ReplayFilter::mine()
        .playlist(Playlist::RankedStandard)
        .count(2);
    let ids: Vec<String> = collect_all(client(&server).replays(&filter))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5"]);
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for (req, after) in requests.iter().zip([None, Some("c/1"), Some("c2")]) {
        assert_eq!(req.path, "/replays");
        assert_eq!(req.query_one("uploader"), Some("me"));
        assert_eq!(req.query_one("playlist"), Some("ranked-standard"));
        assert_eq!(req.query_one("count"), Some("2"));
        assert_eq!(req.query_one("after"), after);
        assert_eq!(
            req.query_one("max-rank"),
            None,
            "nothing but after is taken from next"
        );
    }
}

#[tokio::test]
async fn a_next_link_to_another_host_is_refused_and_not_followed() {
    let server = FakeServer::scripted(vec![Reply::json(
        200,
        json!({"list": [replay_item("1")], "next": "https://evil.example/api/replays?after=x"}),
    )])
    .await;
    let pages: Vec<_> = futures_collect(client(&server).replay_pages(&ReplayFilter::new())).await;
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].as_ref().unwrap().value.list.len(), 1);
    let err = pages[1].as_ref().unwrap_err();
    assert!(
        matches!(err, Error::UnsafeNext { url, .. } if url.contains("evil.example")),
        "{err}"
    );
    assert_eq!(
        server.requests().len(),
        1,
        "the hostile link was never requested"
    );
}

#[tokio::test]
async fn a_bad_page_size_fails_before_sending() {
    let server = FakeServer::scripted(vec![Reply::json(200, json!({"list": []}))]).await;
    let err = client(&server)
        .list_replays(&ReplayFilter::new().count(500))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    let pages = futures_collect(client(&server).group_pages(&GroupFilter::new().count(0))).await;
    assert!(matches!(pages[..], [Err(Error::InvalidInput { .. })]));
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn get_replay_decodes_ok_pending_and_failed() {
    let server = FakeServer::start(|req| match req.path.as_str() {
        "/replays/ok-1" => Reply::json(200, json!({"id":"ok-1","status":"ok","title":"Final","match_type":"Online",
            "team_size":3,"duration":300,"blue":{"color":"blue","players":[{"name":"A","car_name":"Octane","stats":{"core":{"goals":2}}}]},
            "orange":{"color":"orange","players":[]},"server":{"name":"EU","region":"Europe"}})),
        "/replays/pend-2" => Reply::json(200, json!({"id":"pend-2","status":"pending","created":"2026-11-26T10:00:00Z"})),
        "/replays/fail-3" => Reply::json(200, json!({"id":"fail-3","status":"failed"})),
        _ => Reply::json(404, json!({"error":"not found"})),
    })
    .await;
    let client = client(&server);
    let ok = client.get_replay("ok-1").await.unwrap();
    let detail: &Replay = &ok.value;
    assert_eq!(detail.status, Some(ReplayStatus::Ok));
    assert_eq!(detail.title.as_deref(), Some("Final"));
    assert_eq!(detail.team_size, Some(3));
    let blue = detail.blue.as_ref().unwrap();
    assert_eq!(blue.players[0].car_name.as_deref(), Some("Octane"));
    assert_eq!(blue.players[0].core().unwrap().goals, Some(2.0));
    assert_eq!(
        detail.server.as_ref().unwrap().region.as_deref(),
        Some("Europe")
    );
    let pending = client.get_replay("pend-2").await.unwrap().value;
    assert_eq!(pending.status, Some(ReplayStatus::Pending));
    assert_eq!(
        pending.created.map(|t| t.to_string()).as_deref(),
        Some("2026-11-26T10:00:00Z")
    );
    assert!(pending.blue.is_none());
    let failed = client.get_replay("fail-3").await.unwrap().value;
    assert_eq!(failed.status, Some(ReplayStatus::Failed));
    let err = client.get_replay("nope").await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                operation: Operation::GetReplay,
                ..
            }
        ),
        "{err}"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 4, "404 is not retried");
    assert!(requests.iter().all(|r| r.method == "GET"));
    assert_authorized(&requests[0]);
}

#[tokio::test]
async fn ids_are_escaped_into_one_path_segment() {
    let server =
        FakeServer::scripted(vec![Reply::json(200, json!({"id":"x","status":"pending"}))]).await;
    client(&server).get_replay("../groups/x?y").await.unwrap();
    assert_eq!(only(&server).path, "/replays/..%2Fgroups%2Fx%3Fy");
}

#[tokio::test]
async fn patch_replay_sends_empty_group_to_ungroup() {
    let server = FakeServer::scripted(vec![Reply::empty(204)]).await;
    let client = client(&server);
    let done = client
        .patch_replay("r1", &ReplayPatch::new().title("Game 1").ungroup())
        .await
        .unwrap();
    let req = only(&server);
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("PATCH", "/replays/r1")
    );
    assert_authorized(&req);
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.json(), json!({"title": "Game 1", "group": ""}));
    assert_eq!(done.response.status.as_u16(), 204);
    assert_eq!(done.operation, Operation::PatchReplay);

    let err = client
        .patch_replay("r1", &ReplayPatch::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    assert_eq!(server.requests().len(), 1, "an empty patch is never sent");
}

#[tokio::test]
async fn download_streams_the_file_into_the_writer() {
    let file: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    let server = FakeServer::scripted(vec![Reply::bytes(200, file.clone())]).await;
    let mut out = Vec::new();
    let done = client(&server)
        .download_replay("r1", &mut out)
        .await
        .unwrap();
    let req = only(&server);
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("GET", "/replays/r1/file")
    );
    assert_authorized(&req);
    assert_eq!(done.value, file.len() as u64);
    assert!(out == file, "downloaded bytes differ");
    assert!(
        done.response.body.is_empty(),
        "streamed, not buffered in the response"
    );
}

#[tokio::test]
async fn download_errors_before_the_body_are_mapped() {
    let server =
        FakeServer::scripted(vec![Reply::json(404, json!({"error":"no such replay"}))]).await;
    let mut out = Vec::new();
    let err = client(&server)
        .download_replay("gone", &mut out)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NotFound { operation: Operation::DownloadReplay, ref message } if message == "no such replay"),
        "{err}"
    );
    assert!(out.is_empty());
}

#[tokio::test]
async fn count_details_and_limit_build_on_the_list() {
    let server = FakeServer::start(|req| match req.path.as_str() {
        "/replays" => match (req.query_one("count"), req.query_one("after")) {
            (Some("1"), _) => Reply::json(200, json!({"count": 1234, "list": [replay_item("a")]})),
            (_, None) => Reply::json(
                200,
                json!({"count": 3, "list": [replay_item("a"), replay_item("b")],
                       "next": format!("http://{}/replays?after=p2", req.header("host").unwrap())}),
            ),
            _ => Reply::json(200, json!({"count": 3, "list": [replay_item("c")]})),
        },
        path => Reply::json(
            200,
            json!({"id": path.trim_start_matches("/replays/"), "status": "ok", "title": "T"}),
        ),
    })
    .await;
    let client = client(&server);
    let filter = ReplayFilter::mine();
    assert_eq!(client.count_replays(&filter).await.unwrap(), 1234);
    assert_eq!(server.requests()[0].query_one("count"), Some("1"));
    assert_eq!(server.requests()[0].query_one("uploader"), Some("me"));

    let details = client.replay_details(&filter).collect_all().await.unwrap();
    let ids: Vec<&str> = details.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert!(details.iter().all(|r| r.title.as_deref() == Some("T")));

    let before = server.requests().len();
    let first_two = client
        .replays(&filter)
        .limit(2)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(first_two.len(), 2);
    assert_eq!(
        server.requests().len() - before,
        1,
        "no page past the second item"
    );
}

#[tokio::test]
async fn an_upload_from_a_missing_file_is_a_local_error_and_sends_nothing() {
    let server = FakeServer::scripted(vec![Reply::json(201, json!({"id": "x"}))]).await;
    let err = client(&server)
        .upload(&Upload::from_path("/no/such/dir/game.replay"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Io {
                operation: Operation::Upload,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_transient());
    assert!(server.requests().is_empty());
}
