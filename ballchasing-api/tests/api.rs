//! The API client against a fake ballchasing on loopback: for every endpoint, the request the
//! client sent (method, path, query, headers, body) and what it decoded; every error mapping;
//! retries, cooldown, pacing and pagination.

mod support;

use std::time::Duration;

use ballchasing_api::{
    Client, Error, GroupFilter, GroupPatch, GroupStatus, MatchResult, NewGroup, Operation,
    Platform, PlayerIdentification, Playlist, Rank, Replay, ReplayFilter, ReplayPatch,
    ReplayStatus, RetryPolicy, TeamIdentification, Tier, Upload, UploadOutcome, Visibility,
    collect_all,
};
use serde_json::json;
use support::{FakeServer, Recorded, Reply};
use tokio::time::Instant;

const TOKEN: &str = "tok-0123456789abcdefghijklmnopqrstuv";

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        budget: Duration::from_secs(10),
    }
}

/// A client for `server` with limits off (pacing has its own tests) and quick retries.
fn client(server: &FakeServer) -> Client {
    Client::builder(TOKEN)
        .base_url(server.url())
        .rate_limit(false)
        .retry(fast_retries())
        .build()
        .unwrap()
}

fn only(server: &FakeServer) -> Recorded {
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    requests.into_iter().next().unwrap()
}

fn assert_authorized(req: &Recorded) {
    assert_eq!(
        req.header("authorization"),
        Some(TOKEN),
        "raw token, no Bearer"
    );
    assert!(
        req.header("user-agent")
            .unwrap()
            .starts_with("ballchasing-api/")
    );
}

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
async fn retry_after_zero_still_cools_down_a_second() {
    let server = FakeServer::scripted(vec![
        Reply::empty(429).header("retry-after", "0"),
        Reply::json(
            201,
            json!({"id":"r9","location":"https://ballchasing.com/replay/r9"}),
        ),
    ])
    .await;
    let client = client(&server);
    client
        .upload(&Upload::new("a.replay", vec![5; 10]))
        .await
        .unwrap();
    let requests = server.requests();
    let gap = requests[1].at - requests[0].at;
    assert!(gap >= Duration::from_millis(950), "retried after {gap:?}");
}

#[tokio::test]
async fn upload_429_with_retry_after_waits_then_succeeds() {
    let server = FakeServer::scripted(vec![
        Reply::empty(429).header("retry-after", "1"),
        Reply::json(
            201,
            json!({"id":"r9","location":"https://ballchasing.com/replay/r9"}),
        ),
    ])
    .await;
    let client = client(&server);
    let up = client
        .upload(&Upload::new("a.replay", vec![5; 10]))
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let gap = requests[1].at - requests[0].at;
    assert!(
        gap >= Duration::from_millis(950),
        "retried after {gap:?}, Retry-After was 1 s"
    );
    assert_eq!(
        requests[1].multipart()[0].data,
        vec![5; 10],
        "same bytes on the retry"
    );
    assert_eq!(up.response.attempts, 2);
    assert_eq!(up.value.id(), "r9");
}

#[tokio::test]
async fn a_429_pauses_every_clone_of_the_client() {
    let server = FakeServer::start(|req| {
        if req.path == "/v2/upload" {
            Reply::empty(429).header("retry-after", "1")
        } else {
            Reply::json(200, json!({}))
        }
    })
    .await;
    let client = Client::builder(TOKEN)
        .base_url(server.url())
        .rate_limit(false)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client
        .upload(&Upload::new("a.replay", vec![1]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(1)),
        "{err}"
    );
    assert!(client.cooldown_remaining().is_some());
    let other = client.clone();
    other.maps().await.unwrap();
    let requests = server.requests();
    let gap = requests[1].at - requests[0].at;
    assert!(
        gap >= Duration::from_millis(950),
        "the clone waited only {gap:?}"
    );
}

fn replay_item(id: &str) -> serde_json::Value {
    json!({"id": id, "replay_title": format!("t-{id}"), "playlist_id": "ranked-doubles",
           "blue": {"players": [{"name": "Bot"}]}, "orange": {"goals": 2, "players": []}})
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

async fn futures_collect<T>(stream: impl futures_util::Stream<Item = T>) -> Vec<T> {
    use futures_util::StreamExt;
    stream.collect().await
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
async fn delete_replay_and_group_use_delete() {
    let server = FakeServer::scripted(vec![Reply::empty(204)]).await;
    let client = client(&server);
    assert_eq!(
        client.delete_replay("r1").await.unwrap().operation,
        Operation::DeleteReplay
    );
    assert_eq!(
        client.delete_group("g-1").await.unwrap().operation,
        Operation::DeleteGroup
    );
    let requests = server.requests();
    let seen: Vec<(&str, &str)> = requests
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(seen, [("DELETE", "/replays/r1"), ("DELETE", "/groups/g-1")]);
    assert!(requests.iter().all(|r| r.body.is_empty()));
    assert_authorized(&requests[1]);
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
async fn create_group_posts_the_documented_fields() {
    let server = FakeServer::scripted(vec![Reply::json(
        201,
        json!({"id":"day-2026-11-26-a1b2","link":"https://ballchasing.com/api/groups/day-2026-11-26-a1b2"}),
    )])
    .await;
    let group = NewGroup {
        player_identification: PlayerIdentification::ByName,
        team_identification: TeamIdentification::ByPlayerClusters,
        ..NewGroup::new("2026-11-26").parent("season-parent")
    };
    let created = client(&server).create_group(&group).await.unwrap();
    let req = only(&server);
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/groups")
    );
    assert_authorized(&req);
    assert_eq!(
        req.json(),
        json!({"name":"2026-11-26","player_identification":"by-name",
               "team_identification":"by-player-clusters","parent":"season-parent"})
    );
    assert_eq!(created.value.id, "day-2026-11-26-a1b2");
    assert_eq!(created.operation, Operation::CreateGroup);
}

#[tokio::test]
async fn list_groups_sends_filters_and_pages() {
    let server = FakeServer::start(|req| {
        let base = format!("http://{}", req.header("host").unwrap());
        match req.query_one("after") {
            None => Reply::json(
                200,
                json!({"list":[{"id":"g1","name":"one","direct_replays":3,"shared":false}],
                                            "next": format!("{base}/groups?after=p2")}),
            ),
            _ => Reply::json(
                200,
                json!({"list":[{"id":"g2","user":{"steam_id":"1","name":"A"}}]}),
            ),
        }
    })
    .await;
    let client = client(&server);
    let filter = GroupFilter::mine()
        .name("daily")
        .children_of("parent-1")
        .count(1);
    let first = client.list_groups(&filter).await.unwrap();
    assert_eq!(first.value.list[0].direct_replays, Some(3));
    assert_eq!(first.value.count, None, "count may be missing");
    let all = collect_all(client.groups(&filter)).await.unwrap();
    assert_eq!(
        all.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(),
        ["g1", "g2"]
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for req in &requests {
        assert_eq!((req.method.as_str(), req.path.as_str()), ("GET", "/groups"));
        assert_eq!(req.query_one("creator"), Some("me"));
        assert_eq!(req.query_one("name"), Some("daily"));
        assert_eq!(req.query_one("group"), Some("parent-1"));
        assert_eq!(req.query_one("count"), Some("1"));
    }
    assert_eq!(requests[2].query_one("after"), Some("p2"));
}

#[tokio::test]
async fn get_group_and_patch_group() {
    let server = FakeServer::start(|req| match req.method.as_str() {
        "GET" => Reply::json(
            200,
            json!({"id":"g1","name":"one","status":"ok","shared":true,
            "creator":{"steam_id":"1","name":"A"},"players":[{"name":"p"}],"teams":[]}),
        ),
        _ => Reply::empty(204),
    })
    .await;
    let client = client(&server);
    let group = client.get_group("g1").await.unwrap();
    assert_eq!(group.value.status, Some(GroupStatus::Ok));
    assert_eq!(group.value.players.len(), 1);
    assert_eq!(group.operation, Operation::GetGroup);
    client
        .patch_group("g1", &GroupPatch::new().shared(false).parent("p2"))
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.as_str()),
        ("GET", "/groups/g1")
    );
    assert_eq!(
        (requests[1].method.as_str(), requests[1].path.as_str()),
        ("PATCH", "/groups/g1")
    );
    assert_eq!(
        requests[1].json(),
        json!({"shared": false, "parent": "p2"}),
        "false is sent, not dropped"
    );
    assert_authorized(&requests[1]);
    let err = client
        .patch_group("g1", &GroupPatch::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }));
}

#[tokio::test]
async fn maps_decode_to_a_map() {
    let server = FakeServer::scripted(vec![Reply::json(
        200,
        json!({"stadium_foggy_p":"DFH Stadium (Stormy)","cs_day_p":"Champions Field (Day)"}),
    )])
    .await;
    let maps = client(&server).maps().await.unwrap();
    let req = only(&server);
    assert_eq!((req.method.as_str(), req.path.as_str()), ("GET", "/maps"));
    assert_authorized(&req);
    assert_eq!(maps.value["stadium_foggy_p"], "DFH Stadium (Stormy)");
    assert_eq!(maps.value.len(), 2);
}

#[tokio::test]
async fn permanent_errors_are_mapped_and_never_retried() {
    type Check = fn(&Error) -> bool;
    let cases: Vec<(Reply, Check)> = vec![
        (
            Reply::json(
                400,
                json!({"error":"\"file\" not a .replay file","request_id":"r","server":"minion4"}),
            ),
            |e| matches!(e, Error::BadRequest { message, .. } if message == "\"file\" not a .replay file"),
        ),
        (
            Reply::json(401, json!({"error":"missing API key"})),
            |e| matches!(e, Error::Unauthorized { message, .. } if message == "missing API key"),
        ),
        (Reply::json(403, json!({"error":"not yours"})), |e| {
            matches!(e, Error::Forbidden { .. })
        }),
        (
            Reply::html(404, "<h1>Not Found</h1>"),
            |e| matches!(e, Error::NotFound { message, .. } if message == "Not Found"),
        ),
        (
            Reply::json(429, json!({"error":"Upload quota reached (10 per 24h)"})),
            |e| matches!(e, Error::QuotaExceeded { message, .. } if message.contains("quota")),
        ),
    ];
    for (reply, expected) in cases {
        let server = FakeServer::scripted(vec![reply]).await;
        let err = client(&server)
            .upload(&Upload::new("a.replay", vec![1]))
            .await
            .unwrap_err();
        assert!(expected(&err), "{err:?}");
        assert_eq!(err.operation(), Some(Operation::Upload));
        assert_eq!(server.requests().len(), 1, "{err} was retried");
    }
}

#[tokio::test]
async fn a_504_html_page_is_a_server_error_and_is_retried() {
    let page = "<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center></body></html>";
    let server = FakeServer::scripted(vec![
        Reply::html(504, page),
        Reply::json(500, json!({"error":"ballchasing.com fault. db"})),
        Reply::json(
            201,
            json!({"id":"r1","location":"https://ballchasing.com/replay/r1"}),
        ),
    ])
    .await;
    let up = client(&server)
        .upload(&Upload::new("a.replay", vec![1]))
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 3);
    assert_eq!(up.response.attempts, 3);

    let server = FakeServer::scripted(vec![Reply::html(504, page)]).await;
    let err = client(&server).maps().await.unwrap_err();
    assert!(
        matches!(&err, Error::Server { status, message, .. } if status.as_u16() == 504 && message.starts_with("504 Gateway Time-out")),
        "{err:?}"
    );
    assert_eq!(
        server.requests().len(),
        4,
        "first try + 3 retries, then the last error"
    );
}

#[tokio::test]
async fn dropped_connections_are_retried() {
    let server = FakeServer::scripted(vec![
        Reply::Reset,
        Reply::json(
            201,
            json!({"id":"r1","location":"https://ballchasing.com/replay/r1"}),
        ),
    ])
    .await;
    let up = client(&server)
        .upload(&Upload::new("a.replay", vec![1]))
        .await
        .unwrap();
    assert_eq!(up.value.id(), "r1");
    assert_eq!(server.requests().len(), 2);

    let server = FakeServer::scripted(vec![Reply::Reset]).await;
    let err = client(&server).ping().await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let server = FakeServer::scripted(vec![
        Reply::json(200, json!({})).delay(Duration::from_secs(5)),
    ])
    .await;
    let client = Client::builder(TOKEN)
        .base_url(server.url())
        .timeout(Duration::from_millis(200))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.ping().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                operation: Operation::Ping
            }
        ),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn a_body_that_does_not_decode_keeps_the_status_and_a_snippet() {
    let server = FakeServer::scripted(vec![Reply::html(200, "<html>maintenance</html>")]).await;
    let err = client(&server).ping().await.unwrap_err();
    match &err {
        Error::Decode {
            status, snippet, ..
        } => {
            assert_eq!(status.as_u16(), 200);
            assert_eq!(snippet, "maintenance");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_token_never_appears_in_errors_even_when_the_server_echoes_it() {
    let server = FakeServer::start(|req| {
        let echoed = req.header("authorization").unwrap_or_default().to_string();
        match req.path.as_str() {
            "/maps" => Reply::html(502, &format!("<p>bad gateway for {echoed}</p>")),
            _ => Reply::json(401, json!({"error": format!("key {echoed} refused")})),
        }
    })
    .await;
    let client = Client::builder(TOKEN)
        .base_url(server.url())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let errors = [
        client.ping().await.unwrap_err(),
        client.maps().await.unwrap_err(),
    ];
    for err in &errors {
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains(TOKEN), "token leaked: {shown}");
            assert!(shown.contains("[token]"), "{shown}");
        }
    }
    assert!(!format!("{client:?}").contains(TOKEN));
}

#[tokio::test]
async fn requests_are_paced_per_category() {
    let server = FakeServer::start(|req| match req.path.as_str() {
        "/groups" => Reply::json(200, json!({"list": []})),
        _ => Reply::json(200, json!({"id": "x", "status": "pending"})),
    })
    .await;
    // Regular tier: core 2/s. Three core calls need at least two half-second gaps; a list
    // call in between does not wait for the core bucket.
    let client = Client::builder(TOKEN)
        .base_url(server.url())
        .tier(Tier::Regular)
        .build()
        .unwrap();
    for _ in 0..3 {
        client.get_replay("x").await.unwrap();
    }
    client.list_groups(&GroupFilter::new()).await.unwrap();
    let requests = server.requests();
    for pair in requests[..3].windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap >= Duration::from_millis(450),
            "core calls {gap:?} apart"
        );
    }
    assert!(
        requests[3].at - requests[2].at < Duration::from_millis(450),
        "list waited for core"
    );
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
async fn group_replays_walk_the_tree_and_download_group_mirrors_it() {
    // top ─┬─ replays t1
    //      ├─ child "../c1" ─ replays c1a, and grandchild c2 ─ replay c2a
    //      └─ child "top" again (a cycle): walked once
    let server = FakeServer::start(|req| {
        let group = req.query_one("group").unwrap_or_default().to_string();
        let items = |ids: &[&str]| json!({"list": ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>()});
        match (req.path.as_str(), group.as_str()) {
            ("/groups", "top") => Reply::json(200, items(&["../c1", "top"])),
            ("/groups", "../c1") => Reply::json(200, items(&["c2"])),
            ("/groups", _) => Reply::json(200, items(&[])),
            ("/replays", "top") => Reply::json(200, items(&["t1"])),
            ("/replays", "../c1") => Reply::json(200, items(&["c1a"])),
            ("/replays", "c2") => Reply::json(200, items(&["c2a"])),
            ("/replays", _) => Reply::json(200, items(&[])),
            (path, _) if path.ends_with("/file") => Reply::bytes(200, path.as_bytes().to_vec()),
            _ => Reply::json(404, json!({"error": "no"})),
        }
    })
    .await;
    let client = client(&server);
    let found = client.group_replays("top").collect_all().await.unwrap();
    let seen: Vec<(String, &str)> = found
        .iter()
        .map(|f| (f.path.join(">"), f.replay.id.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("top".to_string(), "t1"),
            ("top>../c1".to_string(), "c1a"),
            ("top>../c1>c2".to_string(), "c2a"),
        ]
    );

    let dir = std::env::temp_dir().join(format!("bc-group-{}", std::process::id()));
    let files = client.download_group("top", &dir).await.unwrap();
    let relative: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(&dir).unwrap().display().to_string())
        .collect();
    assert_eq!(
        relative,
        [
            "top/t1.replay",
            "top/_c1/c1a.replay",
            "top/_c1/c2/c2a.replay"
        ],
        "server ids never climb out of the folder"
    );
    assert_eq!(
        std::fs::read(&files[2]).unwrap(),
        b"/replays/c2a/file".to_vec()
    );
    std::fs::remove_dir_all(&dir).unwrap();
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
