//! The eight everyday tasks of `examples/` run for real: each compiled example binary (built
//! by `cargo test` next to this test's binary) is started against a fake ballchasing on
//! loopback; the test checks what it printed and the requests it made.

mod support;

use std::path::PathBuf;
use std::process::Output;

use serde_json::json;
use support::{FakeServer, Recorded, Reply};

const TOKEN: &str = "tok-examples-0123456789abcdefghij";
const REPLAY: &str = include_str!("fixtures/get-replay.json");
const GROUP: &str = include_str!("fixtures/get-group.json");
const REPLAY_ID: &str = "bdc27caf-fe82-4708-9f48-4f2561f93313";

/// A fake ballchasing that answers every endpoint the examples use.
async fn ballchasing() -> FakeServer {
    FakeServer::start(|req: &Recorded| {
        let base = format!("http://{}", req.header("host").unwrap());
        let item = |id: &str| {
            json!({"id": id, "replay_title": format!("game {id}"),
                                     "date": "2025-03-01T20:00:00+01:00"})
        };
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/") => Reply::json(
                200,
                json!({"name": "Alice", "steam_id": "76561198000000001",
                "type": "gold", "quota": {"uploads_in_24h": {"max": 50, "used": 3}}}),
            ),
            ("POST", "/v2/upload") => Reply::json(
                201,
                json!({"id": "new-1",
                "location": "https://ballchasing.com/replay/new-1"}),
            ),
            ("GET", "/replays") if req.query_one("group").is_some() => {
                Reply::json(200, json!({"list": [item("in-group")]}))
            }
            ("GET", "/replays") => match req.query_one("after") {
                None => Reply::json(
                    200,
                    json!({"count": 3, "list": [item("r1"), item("r2")],
                    "next": format!("{base}/replays?after=page2&count=2")}),
                ),
                Some(_) => Reply::json(200, json!({"count": 3, "list": [item("r3")]})),
            },
            ("GET", p) if p.ends_with("/file") => Reply::bytes(200, vec![42u8; 123_456]),
            ("GET", p) if p.starts_with("/replays/") => Reply::Http {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: REPLAY.into(),
                delay: Default::default(),
            },
            ("PATCH", _) | ("DELETE", _) => Reply::empty(204),
            ("POST", "/groups") => Reply::json(
                201,
                json!({"id": "g-new",
                "link": format!("{base}/groups/g-new")}),
            ),
            ("GET", "/groups") if req.query_one("group").is_some() => {
                Reply::json(200, json!({"list": []}))
            }
            ("GET", "/groups") => {
                Reply::json(200, json!({"list": [{"id": "g-new"}, {"id": "g-old"}]}))
            }
            ("GET", "/groups/g-new") => Reply::Http {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: GROUP.into(),
                delay: Default::default(),
            },
            ("GET", "/maps") => Reply::json(
                200,
                json!({"stadium_p": "DFH Stadium",
                "neotokyo_arcade_p": "Neo Tokyo (Arcade)"}),
            ),
            _ => Reply::json(404, json!({"error": "not found"})),
        }
    })
    .await
}

fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().join("examples");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: run `cargo test -p ballchasing-api` (it builds the examples)",
        path.display()
    );
    path
}

/// Runs an example against `server` and returns its output, asserting it succeeded.
async fn run(server: &FakeServer, name: &str, args: &[&str]) -> (String, Output) {
    let mut command = std::process::Command::new(example(name));
    command
        .args(args)
        .env("BALLCHASING_API_URL", server.url())
        .env("BALLCHASING_TOKEN", TOKEN);
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (stdout, out)
}

fn seen(server: &FakeServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bc-examples-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn ping_shows_the_account_tier_and_quota() {
    let server = ballchasing().await;
    let (out, _) = run(&server, "ping", &[]).await;
    assert!(
        out.contains("token works: Alice (76561198000000001), tier gold"),
        "{out}"
    );
    assert!(out.contains("uploads in 24 h: 3 of 50"), "{out}");
    assert_eq!(seen(&server), ["GET /"]);
    assert_eq!(server.requests()[0].header("authorization"), Some(TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_sends_the_file_private_into_the_group() {
    let server = ballchasing().await;
    let file = temp_path("upload").join("my match.replay");
    std::fs::write(&file, vec![9u8; 50_000]).unwrap();
    let (out, _) = run(&server, "upload", &[file.to_str().unwrap(), "season-1"]).await;
    assert!(
        out.contains("new-1 (duplicate: false) https://ballchasing.com/replay/new-1"),
        "{out}"
    );
    let req = &server.requests()[0];
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/v2/upload")
    );
    assert_eq!(req.query_one("visibility"), Some("private"));
    assert_eq!(req.query_one("group"), Some("season-1"));
    let parts = req.multipart();
    assert_eq!(
        parts[0].filename.as_deref(),
        Some("my match.replay"),
        "name only, no path"
    );
    assert_eq!(parts[0].data.len(), 50_000);
}

#[tokio::test(flavor = "multi_thread")]
async fn search_streams_every_page_with_the_filters() {
    let server = ballchasing().await;
    let (out, _) = run(&server, "search", &["Alice"]).await;
    for id in ["r1 ", "r2 ", "r3 "] {
        assert!(out.contains(id), "{id} missing: {out}");
    }
    assert!(
        out.contains("r2 2025-03-01T20:00:00+01:00 game r2"),
        "{out}"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "page 1, page 2");
    for req in &requests {
        assert_eq!(req.query_one("player-name"), Some("Alice"));
        assert_eq!(req.query_one("playlist"), Some("ranked-doubles"));
        assert_eq!(req.query_one("match-result"), Some("win"));
        assert_eq!(req.query_one("created-after"), Some("2024-01-01T00:00:00Z"));
    }
    assert_eq!(requests[0].query_one("after"), None);
    assert_eq!(requests[1].query_one("after"), Some("page2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn stats_table_prints_every_player_of_the_real_replay() {
    let server = ballchasing().await;
    let (out, _) = run(&server, "stats_table", &[REPLAY_ID]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 7, "header and six players: {out}");
    assert!(lines[0].contains("behind%"));
    // guysteven (orange): 2 goals, 0 saves, bpm 408, 73.3 % behind the ball in the sample.
    let guy = lines.iter().find(|l| l.contains("guysteven")).unwrap();
    assert!(guy.starts_with("orange"), "{guy}");
    assert!(
        lines[1].starts_with("blue   "),
        "padded like a column: {}",
        lines[1]
    );
    let numbers: Vec<&str> = guy.split_whitespace().skip(2).collect();
    let replay: serde_json::Value = serde_json::from_str(REPLAY).unwrap();
    let stats = &replay["orange"]["players"][0]["stats"];
    assert_eq!(numbers[0], stats["core"]["goals"].to_string());
    assert_eq!(numbers[1], stats["core"]["saves"].to_string());
    assert_eq!(numbers[2], stats["boost"]["bpm"].to_string());
    let behind = stats["positioning"]["percent_behind_ball"]
        .as_f64()
        .unwrap();
    assert_eq!(numbers[3], format!("{behind:.1}"));
    assert_eq!(seen(&server), [format!("GET /replays/{REPLAY_ID}")]);
}

#[tokio::test(flavor = "multi_thread")]
async fn download_writes_the_file() {
    let server = ballchasing().await;
    let dir = temp_path("download");
    let (out, _) = run(&server, "download", &["r9", dir.to_str().unwrap()]).await;
    let file = dir.join("r9.replay");
    assert_eq!(std::fs::read(&file).unwrap(), vec![42u8; 123_456]);
    assert!(out.contains("123456 bytes"), "{out}");
    assert!(!dir.join("r9.replay.part").exists());
    assert_eq!(seen(&server), ["GET /replays/r9/file"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn groups_run_their_whole_life() {
    let server = ballchasing().await;
    let (out, _) = run(&server, "groups", &["Scrims"]).await;
    assert!(
        out.contains("mine: g-new") && out.contains("mine: g-old"),
        "{out}"
    );
    assert!(out.contains("2v2 w/ Scott 2023-12-20: 22 players"), "{out}");
    assert!(out.contains("replay in-group in g-new"), "{out}");
    let requests = server.requests();
    assert_eq!(
        seen(&server),
        [
            "POST /groups",
            "GET /groups",
            "GET /groups/g-new",
            "PATCH /groups/g-new",
            "GET /groups",
            "GET /replays",
            "DELETE /groups/g-new",
        ]
    );
    assert_eq!(
        requests[0].json(),
        json!({"name": "Scrims", "player_identification": "by-name",
               "team_identification": "by-distinct-players"})
    );
    assert_eq!(requests[1].query_one("creator"), Some("me"));
    assert_eq!(requests[3].json(), json!({"shared": true}));
    assert_eq!(
        requests[4].query_one("group"),
        Some("g-new"),
        "children of the group"
    );
    assert_eq!(
        requests[5].query_one("group"),
        Some("g-new"),
        "its own replays"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn maps_lists_codes_and_names() {
    let server = ballchasing().await;
    let (out, _) = run(&server, "maps", &[]).await;
    assert_eq!(
        out,
        "neotokyo_arcade_p: Neo Tokyo (Arcade)\nstadium_p: DFH Stadium\n"
    );
    assert_eq!(seen(&server), ["GET /maps"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn set_title_patches_only_the_title() {
    let server = ballchasing().await;
    let (out, _) = run(&server, "set_title", &["r7", "Grand final, game 7"]).await;
    assert_eq!(out.trim(), "title set");
    assert_eq!(seen(&server), ["PATCH /replays/r7"]);
    assert_eq!(
        server.requests()[0].json(),
        json!({"title": "Grand final, game 7"})
    );
}

/// Runs `examples/python/<name>.py` (python-ballchasing 0.5.4) against `server`.
async fn run_python(python: &str, server: &FakeServer, name: &str, args: &[&str]) -> String {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/python")
        .join(format!("{name}.py"));
    let mut command = std::process::Command::new(python);
    command
        .arg(script)
        .args(args)
        .env("BALLCHASING_API_URL", server.url())
        .env("BALLCHASING_TOKEN", TOKEN);
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name}.py failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The Python side of the README's comparison does the same tasks: same output, same calls
/// (python-ballchasing adds a ping when it starts).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs python-ballchasing 0.5.4: BALLCHASING_PYTHON=/path/to/python cargo test -p ballchasing-api --test examples -- --ignored"]
async fn the_python_versions_do_the_same() {
    let python = std::env::var("BALLCHASING_PYTHON").expect("BALLCHASING_PYTHON");
    let dir = temp_path("python");
    let file = dir.join("my match.replay");
    std::fs::write(&file, vec![9u8; 50_000]).unwrap();
    let (rust_dl, py_dl) = (dir.join("rust"), dir.join("py"));
    for d in [&rust_dl, &py_dl] {
        std::fs::create_dir_all(d).unwrap();
    }
    let tasks: Vec<(&str, Vec<&str>, Vec<&str>)> = vec![
        ("ping", vec![], vec![]),
        ("search", vec!["Alice"], vec!["Alice"]),
        ("stats_table", vec![REPLAY_ID], vec![REPLAY_ID]),
        ("groups", vec!["Scrims"], vec!["Scrims"]),
        ("maps", vec![], vec![]),
        ("set_title", vec!["r7", "Game 7"], vec!["r7", "Game 7"]),
        (
            "upload",
            vec![file.to_str().unwrap(), "g"],
            vec![file.to_str().unwrap(), "g"],
        ),
        (
            "download",
            vec!["r9", rust_dl.to_str().unwrap()],
            vec!["r9", py_dl.to_str().unwrap()],
        ),
    ];
    for (name, rust_args, py_args) in tasks {
        let rust_server = ballchasing().await;
        let (rust_out, _) = run(&rust_server, name, &rust_args).await;
        let py_server = ballchasing().await;
        let py_out = run_python(&python, &py_server, name, &py_args).await;
        let calls = |server: &FakeServer| -> Vec<String> {
            seen(server).into_iter().filter(|c| c != "GET /").collect()
        };
        assert_eq!(calls(&rust_server), calls(&py_server), "{name}: calls");
        match name {
            "upload" => assert_eq!(rust_out.to_lowercase(), py_out.to_lowercase(), "{name}"),
            "download" => assert_eq!(rust_out.replace("rust", "py"), py_out, "{name}"),
            _ => assert_eq!(rust_out, py_out, "{name}"),
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}
