//! Groups (create, list, get, patch, delete, walk the tree, download one whole), and maps.

use super::*;

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
