//! The Windows build end to end, under Wine, against the fake ballchasing on 127.0.0.1: a
//! fresh prefix, `init`, `check`, `run` while a mingw "game" writes replays the way Rocket
//! League does on Windows (held open with share mode 0 while written in chunks, then an
//! in-game rename that replaces the file), `retry`, a clean stop by Ctrl-C, `status --json`,
//! `upload` with a wildcard and a stray quote, the logon task, and the launcher's job object.
//! The MSI is installed, run and uninstalled in a prefix of its own. And, without Wine, the
//! logon task's XML is checked against the Task Scheduler schema.
//!
//! Needs `AUTOCHASE_WINDOWS_BIN` (the folder of the Windows build) and Wine; skips with a
//! notice without them, unless `AUTOCHASE_REQUIRE_WINE=1` (CI) makes a skip a failure.

#[path = "windows/msi.rs"]
mod msi;
#[path = "windows/schema.rs"]
mod schema;
mod support;
#[path = "windows/wine.rs"]
mod wine;

use std::io::BufRead;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::ballchasing::{FakeBallchasing, TOKEN};
use support::replays::{LAN, SMALL, distinct};
use wine::{Prefix, text, windows_bin};

/// The pickup target under Wine after the game lets go of a replay it held (sharing
/// violations until then; Windows may send no event at the close, so the engine looks again
/// every `BUSY_RECHECK`, 500 ms): BENCHMARKS.md's max of 500 ms on Linux, plus Wine's slack.
const PICKUP_TARGET: Duration = Duration::from_millis(1500);

/// `bytes` with one body byte changed and the body CRC fixed: the same replay (same Id)
/// rewritten, as an in-game rename does.
fn renamed(bytes: &[u8]) -> Vec<u8> {
    let header = i32::from_le_bytes(bytes[0..4].try_into().unwrap()) as usize;
    let body_at = 8 + header + 8;
    let mut out = bytes.to_vec();
    let middle = body_at + (out.len() - body_at) / 2;
    out[middle] ^= 0x5A;
    let crc = boxcars::crc::calc_crc(&out[body_at..]);
    out[8 + header + 4..8 + header + 8].copy_from_slice(&crc.to_le_bytes());
    let info = autochase::replay::validate(&out).expect("still a complete replay");
    assert_eq!(
        info.id,
        autochase::replay::validate(bytes).unwrap().id,
        "same Id"
    );
    out
}

fn replay_id(bytes: &[u8]) -> String {
    autochase::replay::validate(bytes).unwrap().id.unwrap()
}

/// Waits for `cond`, up to `limit`, failing with `what`.
async fn until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

/// The game writing `src` to `dest` held with share mode 0, in `chunks` pieces `pause_ms`
/// apart; returns when it printed "closed", and the instant it did.
async fn game_write(
    wine: &std::sync::Arc<Prefix>,
    src: PathBuf,
    dest: String,
    chunks: u32,
    pause_ms: u32,
) -> Instant {
    let wine = wine.clone();
    blocking(move || {
        let (src, chunks, pause) = (wine.win(&src), chunks.to_string(), pause_ms.to_string());
        let mut child = wine
            .wine(&[
                wine.game.to_str().unwrap(),
                "write",
                &src,
                &dest,
                &chunks,
                &pause,
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut closed = None;
        for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
            if line.unwrap().trim() == "closed" {
                closed = Some(Instant::now());
            }
        }
        assert!(child.wait().unwrap().success(), "the game failed");
        closed.expect("the game said closed")
    })
    .await
}

struct Windows {
    wine: std::sync::Arc<Prefix>,
    exe: PathBuf,
}

impl Windows {
    async fn run(&self, args: &[&str]) -> std::process::Output {
        self.run_with(args, &[]).await
    }

    async fn run_with(&self, args: &[&str], vars: &[(&str, &str)]) -> std::process::Output {
        let (wine, exe) = (self.wine.clone(), self.exe.clone());
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            wine.run_with(&exe, &args, &vars)
        })
        .await
    }

    async fn status(&self) -> Value {
        let out = self.run(&["status", "--json"]).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

fn ids(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["replay_id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

fn every_path(status: &Value) -> Vec<String> {
    ["uploaded", "pending", "failed", "skipped"]
        .iter()
        .flat_map(|k| status[*k].as_array().unwrap().clone())
        .map(|r| r["path"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_under_wine() {
    let Some(bin) = windows_bin("end_to_end_under_wine") else {
        return;
    };
    let fake = FakeBallchasing::start().await;
    let wine = std::sync::Arc::new(blocking(Prefix::new).await);
    // Installed where the MSI puts it.
    let programs = wine.profile.join("AppData/Local/Programs/autochase");
    std::fs::create_dir_all(&programs).unwrap();
    for exe in ["autochase.exe", "autochasew.exe"] {
        std::fs::copy(bin.join(exe), programs.join(exe)).unwrap();
    }
    let win = Windows {
        wine: wine.clone(),
        exe: programs.join("autochase.exe"),
    };
    let documents = wine.profile.join("Documents");
    let demos = documents.join("My Games/Rocket League/TAGame/Demos");
    std::fs::create_dir_all(&demos).unwrap();
    let demos_win = wine.win(&demos);
    assert_eq!(
        demos_win,
        format!(
            r"{}\Documents\My Games\Rocket League\TAGame\Demos",
            wine.win(&wine.profile)
        )
    );
    let sources = wine.root.path().join("sources");
    std::fs::create_dir_all(&sources).unwrap();
    let source = |name: &str, bytes: &[u8]| {
        let path = sources.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };

    // A replay from before autochase: the first start records it as skipped.
    let old = distinct(SMALL, 0x01D);
    std::fs::write(demos.join(format!("{}.replay", replay_id(&old))), &old).unwrap();

    // init finds the prefix's Documents folder, with one kind of separator.
    // (init tries the token: against the test's server, never the real one.)
    let api = fake.server.url();
    let out = win
        .run_with(&["init", "--token", TOKEN], &[("AUTOCHASE_API_URL", &api)])
        .await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let found = format!("found {demos_win} (1 replay, newest ");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with(&found) && l.ends_with("; Documents)")),
        "{found}\n{stdout}"
    );
    let config = wine
        .profile
        .join("AppData/Roaming/autochase/config/config.toml");
    let mut toml = std::fs::read_to_string(&config).expect("init wrote the default config");
    assert!(toml.contains(&format!("token = \"{TOKEN}\"")));
    // The test's server, fast pacing, and a short quiet time so that a replay judged failed
    // while the game still writes it would show.
    toml.push_str(&format!(
        "api_url = '{}'\nupload_rate = 10.0\ninvalid_after = 2\n",
        fake.server.url()
    ));
    std::fs::write(&config, toml).unwrap();

    let out = win.run(&["check"]).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("account Tester (tier regular)"), "{stdout}");
    assert!(
        stdout.contains(&format!("folder: {demos_win} (1 replay,")),
        "{stdout}"
    );
    assert!(!stdout.contains('/'), "one kind of separator: {stdout}");

    // The daemon, logging to a file.
    let log = wine.root.path().join("run.log");
    let daemon = support::bin::Daemon::spawn(
        wine.wine(&[win.exe.to_str().unwrap(), "-v", "run"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap()),
    );
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    until(Duration::from_secs(60), "the first scan", || {
        read_log().contains("ready: initial scan done")
    })
    .await;

    // The game saves a 1 MB replay: created under its final name, held with share mode 0
    // and written in 8 chunks 400 ms apart, longer than invalid_after.
    let a = distinct(LAN, 0xA);
    let a_name = format!("{}.replay", replay_id(&a));
    let closed = game_write(
        &wine,
        source("a.replay", &a),
        format!(r"{demos_win}\{a_name}"),
        8,
        400,
    )
    .await;
    until(Duration::from_secs(30), "A uploaded", || {
        fake.created() == 1
    })
    .await;
    let uploaded_at = fake.books.lock().unwrap().answers[0].1.into_std();
    let pickup = uploaded_at.saturating_duration_since(closed);
    eprintln!("pickup after the game closed the replay: {pickup:?}");
    assert!(
        pickup <= PICKUP_TARGET,
        "picked up {pickup:?} after the close"
    );
    let log_now = read_log();
    assert!(
        log_now.contains("held by another program; not ready yet"),
        "the sharing-violation path was taken:\n{log_now}"
    );

    // An in-game rename: the same replay rewritten, replacing the file with MoveFileExW.
    let a2 = renamed(&a);
    let wine2 = wine.clone();
    let (src, dest) = (
        wine.win(&source("a2.replay", &a2)),
        format!(r"{demos_win}\{a_name}"),
    );
    let out = blocking(move || {
        wine::output(&mut wine2.wine(&[wine2.game.to_str().unwrap(), "replace", &src, &dest]))
    })
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(demos.join(&a_name)).unwrap(), a2);

    // A replay ballchasing refuses once: failed, then `retry` through the running daemon.
    fake.books
        .lock()
        .unwrap()
        .script
        .push_back(support::Reply::json(
            400,
            serde_json::json!({"error": "replay refused for the test"}),
        ));
    let c = distinct(SMALL, 0xC);
    let c_id = replay_id(&c);
    game_write(
        &wine,
        source("c.replay", &c),
        format!(r"{demos_win}\{c_id}.replay"),
        2,
        100,
    )
    .await;
    until(Duration::from_secs(30), "C refused", || {
        fake.upload_requests() == 2
    })
    .await;
    // A broken save the game left behind.
    std::fs::write(demos.join("BROKEN.replay"), &SMALL[..300]).unwrap();
    let status_now = win.status().await;
    assert_eq!(status_now["daemon_running"], true);
    let out = win.run(&["retry", &c_id]).await;
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    until(Duration::from_secs(30), "C uploaded", || {
        fake.created() == 2
    })
    .await;
    until(Duration::from_secs(30), "BROKEN judged", || {
        read_log().contains("BROKEN.replay")
    })
    .await;
    // Quiet for a while: the rename must not have caused a second upload of A.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        fake.upload_requests(),
        3,
        "A once, C refused once then once"
    );

    // Ctrl-C (Wine turns SIGINT into CTRL_C_EVENT) stops the daemon cleanly.
    std::process::Command::new("kill")
        .args(["-INT", &daemon.id().to_string()])
        .status()
        .unwrap();
    let out = daemon.output().await;
    let log_text = read_log();
    assert_eq!(out.status.code(), Some(0), "{log_text}");
    assert!(log_text.contains("asked to stop by=Ctrl-C"), "{log_text}");
    assert!(log_text.contains("stopped"), "{log_text}");
    // A was held by the game past invalid_after; it was never judged.
    for line in log_text.lines().filter(|l| l.contains(a_name.as_str())) {
        assert!(
            !line.contains("invalid")
                && !line.contains("failed")
                && !line.contains("not uploading"),
            "judged while being written: {line}"
        );
    }

    // status and the state agree; every path has one kind of separator.
    let status = win.status().await;
    assert_eq!(status["daemon_running"], false);
    let mut expect_uploaded = vec![replay_id(&a), c_id.clone()];
    expect_uploaded.sort();
    assert_eq!(ids(&status["uploaded"]), expect_uploaded, "{status:#}");
    assert_eq!(ids(&status["skipped"]), vec![replay_id(&old)]);
    for path in every_path(&status) {
        assert!(!path.contains('/'), "mixed separators: {path}");
        assert!(path.starts_with(&demos_win), "{path}");
    }
    let state_file = status["state_file"].as_str().unwrap().to_owned();
    let state_unix = wine
        .drive_c()
        .join(status["state_file"].as_str().unwrap()[3..].replace('\\', "/"));
    let (state, _) = autochase::state::State::read(&state_unix)
        .unwrap()
        .expect("a state");
    for item in status["uploaded"].as_array().unwrap() {
        let id = item["replay_id"].as_str().unwrap();
        let record = &state.replays[id];
        assert_eq!(
            record.status,
            autochase::state::Status::Uploaded,
            "{state_file}"
        );
        assert_eq!(item["id"].as_str(), record.ballchasing_id.as_deref());
    }
    let broken: Vec<&Value> = status["failed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"].as_str().unwrap().ends_with("BROKEN.replay"))
        .collect();
    assert!(!broken.is_empty(), "{status:#}");
    assert_eq!(broken.len(), 1, "one broken file, listed once: {status:#}");

    // retry with the path in another case: the same file on Windows.
    let other_case = format!(r"{}\broken.REPLAY", demos_win.to_lowercase());
    let out = win.run(&["retry", &other_case]).await;
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!said.contains("nothing to retry"), "{said}");
    assert!(said.contains("BROKEN.replay"), "{said}");

    // upload with a wildcard cmd did not expand: the old replay goes up, and no entry
    // named `*.replay` appears.
    let out = win
        .run(&["upload", &format!(r"{demos_win}\*.replay")])
        .await;
    let said = text(&out.stdout);
    assert!(said.contains("uploaded now"), "{said}{}", text(&out.stderr));
    assert_eq!(fake.created(), 3);
    // `"…\Demos\"` reaches the program as `…\Demos"`.
    let out = win.run(&["upload", &format!("{demos_win}\"")]).await;
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(said.contains("uploaded before"), "{said}");
    let status = win.status().await;
    for path in every_path(&status) {
        assert!(!path.contains('*') && !path.contains('"'), "{path}");
    }
    assert_eq!(fake.created_twice(), 0);
    // Each replay uploaded once, whole: exactly the bytes the game finished writing.
    let created = fake.books.lock().unwrap().created.clone();
    assert_eq!(created.len(), 3);
    assert!(created.contains(&a) && created.contains(&c) && created.contains(&old));

    // The logon task: what install would write, then a real install and uninstall (Wine
    // stores the task but runs none of it).
    let out = win.run(&["service", "install", "--dry-run"]).await;
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}{}", text(&out.stderr));
    let programs_win = wine.win(&programs);
    assert!(
        said.contains(&format!(
            r"<Command>{programs_win}\autochasew.exe</Command>"
        )),
        "{said}"
    );
    assert!(said.contains("autochase-task.xml (UTF-16):"), "{said}");
    assert!(said.contains("<Count>3</Count>"), "{said}");
    assert!(said.contains("<UserId>"), "the user is named: {said}");
    for line in said
        .lines()
        .filter(|l| l.contains("<Command>") || l.contains("<Arguments>"))
    {
        let inner = line.replace("</Command>", "").replace("</Arguments>", "");
        assert!(!inner.contains('/'), "{line}");
    }
    let out = win.run(&["service", "install"]).await;
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    eprintln!("service install under Wine: {said}");
    let xml = wine
        .profile
        .join("AppData/Local/autochase/autochase-task.xml");
    if out.status.success() {
        let bytes = std::fs::read(&xml).unwrap();
        assert_eq!(&bytes[..2], &[0xFF, 0xFE], "UTF-16 with a BOM");
        let out = win.run(&["service", "uninstall"]).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(!xml.exists());
    } else {
        assert!(
            !xml.exists(),
            "a failed install leaves nothing behind: {said}"
        );
    }

    // The launcher restarts a daemon that failed: with a daemon already holding the state
    // folder, each start fails ("already running") and is retried, 10 s later.
    let first = support::bin::Daemon::spawn(
        wine.wine(&[win.exe.to_str().unwrap(), "run"])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let running = |want: bool, limit: u64, what: &'static str| {
        let win = &win;
        async move {
            let deadline = Instant::now() + Duration::from_secs(limit);
            while win.status().await["daemon_running"] != want {
                assert!(Instant::now() < deadline, "{what}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    running(true, 60, "the daemon never started").await;
    let launcher_log = wine.root.path().join("launcher.log");
    let launcher = support::bin::Daemon::spawn(
        wine.wine(&[
            programs.join("autochasew.exe").to_str().unwrap(),
            "--log-file",
            &wine.win(&launcher_log),
            "run",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null()),
    );
    let tries = || {
        std::fs::read_dir(wine.root.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("launcher."))
            .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
            .collect::<String>()
            .matches("already running")
            .count()
    };
    until(Duration::from_secs(40), "the launcher's second try", || {
        tries() >= 2
    })
    .await;
    // Once the first daemon stops, a restart takes over (20 s after the second try).
    std::process::Command::new("kill")
        .args(["-INT", &first.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(first.output().await.status.code(), Some(0));
    running(true, 60, "the launcher did not restart the daemon").await;
    // Ending the launcher (as schtasks /End, taskkill or Task Manager do) ends the daemon too
    // (the job object), which releases the state folder's lock.
    let out = blocking({
        let wine = wine.clone();
        move || wine::output(&mut wine.wine(&["taskkill", "/F", "/IM", "autochasew.exe"]))
    })
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    running(
        false,
        20,
        "autochase.exe outlived its launcher, holding the lock",
    )
    .await;
    drop(launcher);
}
