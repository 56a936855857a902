//! Real answers of the live API (`tests/fixtures/`, see its README) decoded into the typed
//! models, values checked; variants real answers produce that these two do not show (older
//! replays with ranks, training replays without players, sparse list items, numbers as
//! strings); and what a value that does not fit costs (its path, and never the whole answer).

mod support;

use ballchasing_api::{
    Client, Error, Group, GroupStatus, Playlist, Replay, ReplayPage, ReplayStatus, RetryPolicy,
    TeamColor, Visibility,
};
use serde_json::{Value, json};
use support::{FakeServer, Reply};

const REPLAY: &str = include_str!("fixtures/get-replay.json");
const GROUP: &str = include_str!("fixtures/get-group.json");

fn replay_json() -> Value {
    serde_json::from_str(REPLAY).unwrap()
}

#[test]
fn the_real_replay_decodes_with_every_stat_typed() {
    let replay: Replay = serde_json::from_str(REPLAY).unwrap();
    assert_eq!(replay.id, "bdc27caf-fe82-4708-9f48-4f2561f93313");
    assert_eq!(replay.status, Some(ReplayStatus::Ok));
    assert_eq!(
        replay.created.unwrap().to_string(),
        "2024-12-12T03:37:03.656077Z"
    );
    let date = replay.date.unwrap();
    assert_eq!(date.to_string(), "2024-12-11T21:34:00-06:00");
    assert_eq!(
        date.timestamp().unwrap().to_string(),
        "2024-12-12T03:34:00Z"
    );
    assert_eq!(replay.playlist_id, Some(Playlist::UnrankedStandard));
    assert_eq!(replay.visibility, Some(Visibility::Public));
    assert_eq!((replay.team_size, replay.season), (Some(3), Some(17)));
    assert_eq!(replay.duration, Some(325.0));
    let uploader = replay.uploader().unwrap();
    assert_eq!(uploader.steam_id.as_deref(), Some("76561197987055788"));
    assert_eq!(uploader.name.as_deref(), Some("lejeunerenard"));
    let server = replay.server.as_ref().unwrap();
    assert_eq!(
        (server.name.as_deref(), server.region.as_deref()),
        (Some("USW303-Gizmo5"), Some("USW"))
    );
    assert_eq!(replay.score(), (Some(0.0), Some(2.0)));

    let players: Vec<_> = replay.players().collect();
    assert_eq!(players.len(), 6);
    let (color, first) = players[0];
    assert_eq!(color, TeamColor::Blue);
    assert_eq!(first.id.as_ref().unwrap().platform.as_deref(), Some("ps4"));
    assert_eq!(first.car_name.as_deref(), Some("Octane"));
    let camera = first.camera.as_ref().unwrap();
    assert_eq!(
        (
            camera.fov,
            camera.pitch,
            camera.stiffness,
            camera.transition_speed
        ),
        (Some(110.0), Some(-3.0), Some(0.5), Some(1.6))
    );
    assert_eq!(first.steering_sensitivity, Some(1.1));
    let core = first.core().unwrap();
    assert_eq!(
        (core.shots, core.saves, core.score),
        (Some(2.0), Some(2.0), Some(258.0))
    );
    assert!(!core.is_mvp());
    assert_eq!(first.boost().unwrap().bcpm, Some(550.08527));
    assert_eq!(first.boost().unwrap().percent_boost_75_100, Some(30.223202));
    assert_eq!(first.movement().unwrap().total_distance, Some(462615.0));
    let positioning = first.positioning().unwrap();
    assert_eq!(positioning.percent_behind_ball, Some(69.04172));
    assert_eq!(positioning.goals_against_while_last_defender, Some(1.0));
    assert_eq!(first.demo().unwrap().inflicted, Some(3.0));

    // The MVP carries `mvp` on the player (the others omit it) and in core.
    let mvp: Vec<_> = players
        .iter()
        .filter(|(_, p)| p.mvp == Some(true))
        .collect();
    assert_eq!(mvp.len(), 1);
    assert_eq!(mvp[0].1.name.as_deref(), Some("guysteven"));
    assert!(mvp[0].1.core().unwrap().is_mvp());
    assert_eq!(players[1].1.mvp, None, "omitted, not false");

    let blue = replay.blue.as_ref().unwrap().stats.as_ref().unwrap();
    assert_eq!(blue.ball.as_ref().unwrap().possession_time, Some(150.79));
    assert_eq!(blue.core.as_ref().unwrap().mvp, None, "teams have no MVP");
    let team_boost = blue.boost.as_ref().unwrap();
    assert_eq!(team_boost.time_boost_0_25, Some(232.67001));
    assert_eq!(
        team_boost.percent_zero_boost, None,
        "teams carry no percentages"
    );
    assert!(
        replay.extra.is_empty(),
        "unmodelled: {:?}",
        replay.extra.keys()
    );
}

#[test]
fn the_real_replay_serializes_back_to_the_same_json() {
    let replay: Replay = serde_json::from_str(REPLAY).unwrap();
    let back = serde_json::to_value(&replay).unwrap();
    let numbers_as_floats = |v: &Value| -> Value {
        serde_json::from_str(&v.to_string().replace(".0,", ",").replace(".0}", "}")).unwrap()
    };
    // Same keys at the top and in one player's stats (numbers may come back as floats; a
    // field the answer lacks comes back as null or an empty list).
    let original = replay_json();
    let keys = |v: &Value| {
        let mut k: Vec<String> = v
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
            .map(|(k, _)| k.clone())
            .collect();
        k.sort();
        k
    };
    assert_eq!(keys(&back), keys(&original));
    assert_eq!(back["date"], original["date"]);
    assert_eq!(back["created"], original["created"]);
    let path = |v: &Value| v["blue"]["players"][0]["stats"]["positioning"].clone();
    assert_eq!(keys(&path(&back)), keys(&path(&original)));
    assert_eq!(
        numbers_as_floats(&path(&back))["percent_behind_ball"],
        path(&original)["percent_behind_ball"]
    );
}

#[test]
fn the_real_group_decodes_with_players_and_teams() {
    let group: Group = serde_json::from_str(GROUP).unwrap();
    assert_eq!(group.id, "2v2-w-scott-2023-12-20-kunazcz10y");
    assert_eq!(group.status, Some(GroupStatus::Ok));
    assert_eq!(group.shared, Some(false));
    assert_eq!(
        group.created.unwrap().to_string(),
        "2023-12-21T07:53:34.274108Z"
    );
    let creator = group.creator.as_ref().unwrap();
    assert_eq!(creator.name.as_deref(), Some("lejeunerenard"));
    assert_eq!(creator.avatar_full.as_deref(), Some(""));
    assert_eq!((group.players.len(), group.teams.len()), (22, 11));

    let aj = &group.players[0];
    assert_eq!(aj.name.as_deref(), Some("AJ236"));
    assert_eq!(aj.platform.as_deref(), Some("Steam"));
    assert_eq!(aj.team.as_deref(), Some("BluSkit02 & AJ236"));
    let total = aj.cumulative.as_ref().unwrap();
    assert_eq!((total.games, total.wins), (Some(1.0), Some(1.0)));
    assert_eq!(total.win_percentage, Some(100.0));
    let core = total.core.as_ref().unwrap();
    assert_eq!(
        (core.shots, core.mvp),
        (Some(7.0), Some(0.0)),
        "mvp is a count here"
    );
    assert_eq!(core.shooting_percentage, Some(28.571428));
    let average = aj.game_average.as_ref().unwrap();
    assert_eq!(average.core.as_ref().unwrap().goals, Some(2.0));
    assert_eq!(average.boost.as_ref().unwrap().bpm, Some(377.0));

    let team = &group.teams[0];
    assert_eq!(team.name.as_deref(), Some("fajiccanicca & QuixMtic"));
    assert_eq!(team.players.len(), 2);
    assert_eq!(team.players[1].name.as_deref(), Some("QuixMtic"));
    let total = team.cumulative.as_ref().unwrap();
    assert_eq!((total.games, total.wins), (Some(10.0), Some(6.0)));
    assert_eq!(
        total.boost.as_ref().unwrap().bpm,
        None,
        "cumulative team boost has no rate"
    );
    assert_eq!(
        team.game_average
            .as_ref()
            .unwrap()
            .boost
            .as_ref()
            .unwrap()
            .bpm,
        Some(796.7)
    );
    assert!(
        group.extra.is_empty(),
        "unmodelled: {:?}",
        group.extra.keys()
    );
}

#[test]
fn an_older_replay_carries_ranks_and_a_training_replay_no_players() {
    let mut older = replay_json();
    older["min_rank"] =
        json!({"tier": 15, "division": 2, "name": "Champion I", "id": "champion-1"});
    older["max_rank"] =
        json!({"tier": 17, "division": 1, "name": "Champion III", "id": "champion-3"});
    older["blue"]["players"][0]["rank"] =
        json!({"tier": 16, "division": 3, "name": "Champion II", "id": "champion-2"});
    older["blue"]["players"][0]["id"]["player_number"] = json!(1);
    older["season"] = json!(14);
    older["season_type"] = json!("before-free2play");
    older["date"] = json!("2019-06-01T20:15:00");
    older["date_has_timezone"] = json!(false);
    let replay: Replay = serde_json::from_value(older).unwrap();
    assert_eq!(
        replay.min_rank.as_ref().unwrap().id.as_deref(),
        Some("champion-1")
    );
    assert_eq!(replay.max_rank.as_ref().unwrap().tier, Some(17));
    let first = &replay.blue.as_ref().unwrap().players[0];
    assert_eq!(first.rank.as_ref().unwrap().division, Some(3));
    assert_eq!(first.id.as_ref().unwrap().player_number, Some(1));
    let date = replay.date.unwrap();
    assert_eq!(
        (date.offset, date.timestamp()),
        (None, None),
        "no offset, none made up"
    );
    assert_eq!(date.to_string(), "2019-06-01T20:15:00");

    let training = json!({"id": "t1", "status": "ok", "title": "Training", "match_type": "Offline",
        "blue": {"color": "blue", "players": null}, "orange": {"color": "orange"}});
    let replay: Replay = serde_json::from_value(training).unwrap();
    assert_eq!(replay.players().count(), 0);
    assert_eq!(replay.score(), (None, None));
}

#[test]
fn sparse_list_items_decode_and_unknown_fields_survive() {
    let page: ReplayPage = serde_json::from_value(json!({
    "count": 2, "next": "https://ballchasing.com/api/replays?after=x",
    "list": [
        {"id": "a", "replay_title": "no duration, a bot", "playlist_id": "space-race",
         "new_field": 7, "created": "2025-01-01T10:00:00.5Z",
         "blue": {"players": [{"name": "Bot", "start_time": 0, "end_time": 300.5}]},
         "orange": {"goals": 2, "players": null}},
        {"id": "b", "overtime_seconds": 42, "min_rank": {"tier": 3, "division": 1},
         "blue": {"players": [{"id": {"platform": "steam", "id": "7656"}, "score": 350,
                               "mvp": true, "rank": {"id": "gold-1"}}]}}
    ]}))
    .unwrap();
    assert_eq!(page.count, Some(2));
    let a = &page.list[0];
    assert_eq!(a.duration, None);
    assert_eq!(a.playlist_id, Some(Playlist::Other("space-race".into())));
    assert_eq!(a.extra["new_field"], 7);
    assert_eq!(a.blue.as_ref().unwrap().goals, None, "missing when 0");
    assert_eq!(
        a.blue.as_ref().unwrap().players[0].id,
        None,
        "bots have no id"
    );
    assert!(a.orange.as_ref().unwrap().players.is_empty());
    let b = &page.list[1];
    assert_eq!(b.overtime_seconds, Some(42.0));
    assert_eq!(b.min_rank.as_ref().unwrap().tier, Some(3));
    let player = &b.blue.as_ref().unwrap().players[0];
    assert_eq!(
        (player.name.as_ref(), player.score, player.mvp),
        (None, Some(350), Some(true))
    );
    assert_eq!(
        serde_json::to_value(a).unwrap()["new_field"],
        7,
        "kept on the way back"
    );
}

#[test]
fn numbers_come_as_integers_floats_or_strings() {
    let mut odd = replay_json();
    odd["team_size"] = json!("3");
    odd["duration"] = json!(325.0);
    odd["blue"]["players"][0]["stats"]["core"]["goals"] = json!("1");
    odd["blue"]["players"][0]["stats"]["positioning"]["percent_behind_ball"] = json!(69);
    odd["blue"]["players"][0]["stats"]["core"]["saves"] = Value::Null;
    let replay: Replay = serde_json::from_value(odd).unwrap();
    assert_eq!(replay.team_size, Some(3));
    let first = &replay.blue.as_ref().unwrap().players[0];
    assert_eq!(first.core().unwrap().goals, Some(1.0));
    assert_eq!(first.core().unwrap().saves, None);
    assert_eq!(first.positioning().unwrap().percent_behind_ball, Some(69.0));
}

#[tokio::test]
async fn a_value_that_does_not_fit_names_its_path_and_the_answer_is_not_lost() {
    let mut broken = replay_json();
    broken["orange"]["players"][2]["stats"]["core"]["goals"] = json!({"oops": 1});
    let body = broken.to_string();
    let server = FakeServer::scripted(vec![Reply::json(200, broken)]).await;
    let client = Client::builder("tok-0123456789abcdefghij")
        .base_url(server.url())
        .rate_limit(false)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.get_replay("r1").await.unwrap_err();
    match &err {
        Error::Decode { path, .. } => assert_eq!(path, "orange.players[2].stats.core.goals"),
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .contains("orange.players[2].stats.core.goals"),
        "{err}"
    );
    // The way out: the whole body is in the error...
    let raw: Value = serde_json::from_slice(err.body().unwrap()).unwrap();
    assert_eq!(raw.to_string(), body);
    assert_eq!(
        raw["title"],
        "2024-12-11.21.34 Quixtic Casual Standard Loss"
    );
    // ...and the same answer decodes into any type.
    let raw = client.get_replay_as::<Value>("r1").await.unwrap();
    assert_eq!(
        raw.value["orange"]["players"][2]["stats"]["core"]["goals"]["oops"],
        1
    );
}
