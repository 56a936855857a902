//! The promises the state keeps whatever the order of events: an old folder, a folder seen
//! for the first time and a damaged state never lead to uploads the player did not ask for;
//! what was recorded survives the state file being changed under a running daemon.

mod support;

use std::path::{Path, PathBuf};

use autochase::engine::Fate;
use autochase::state::{STATE_FILE, State, Status};
use support::harness::{Setup, until, uploaded};
use support::replays::{TINY, distinct};

/// `n` distinct replays named `{prefix}{i}.replay` in `dir`, starting at Id number `first`.
fn replays(dir: &Path, prefix: &str, first: u32, n: u32) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    (first..first + n)
        .map(|i| {
            let path = dir.join(format!("{prefix}{i}.replay"));
            std::fs::write(&path, distinct(TINY, i)).unwrap();
            path
        })
        .collect()
}

fn skipped(state: &State) -> usize {
    state
        .replays
        .values()
        .filter(|r| r.status == Status::Skipped)
        .count()
}

#[tokio::test]
async fn upload_before_the_first_run_keeps_the_old_folder_protection() {
    let setup = Setup::new().await;
    let old = replays(&setup.demos, "OLD", 0, 3);
    // The first command is an upload of one of them: the state exists before any `run`.
    let reports =
        autochase::daemon::upload_once(setup.config(), vec![old[0].clone()], false, |_| {})
            .await
            .unwrap();
    assert_eq!(reports[0].fate, Fate::Created);
    // A match saved after that command, before the first `run`: the player's new replay.
    // (A pause first: file times are coarser than the clock.)
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    std::fs::write(setup.path("NEW.replay"), distinct(TINY, 77)).unwrap();
    let mut daemon = setup.start();
    daemon.settled().await;
    daemon.stop().await;
    assert_eq!(
        setup.fake.created(),
        2,
        "the new save goes up; the other two old replays stay put"
    );
    let state = setup.state();
    assert_eq!(skipped(&state), 2, "{state:?}");
    assert_eq!(uploaded(&state).len(), 2);
    assert!(
        uploaded(&state)
            .iter()
            .any(|r| r.path == setup.path("NEW.replay"))
    );
}

#[tokio::test]
async fn a_damaged_state_redoes_the_baseline_instead_of_uploading_the_folder() {
    let setup = Setup::new().await;
    replays(&setup.demos, "OLD", 0, 3);
    let mut daemon = setup.start();
    daemon.settled().await;
    daemon.stop().await;
    assert_eq!(skipped(&setup.state()), 3);
    let file = setup.state_dir.join(STATE_FILE);
    let good = std::fs::read(&file).unwrap();
    let header_only = good[..good.iter().position(|&b| b == b'\n').unwrap() + 1].to_vec();
    let mut nul_start = good.clone();
    nul_start[..16].fill(0);
    let damages: [(&str, Vec<u8>); 5] = [
        ("emptied", Vec::new()),
        (
            "random bytes",
            (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect(),
        ),
        ("cut to 10 bytes", good[..10].to_vec()),
        ("NUL-overwritten start", nul_start),
        ("only the header line", header_only),
    ];
    for (what, damaged) in damages {
        std::fs::write(&file, &damaged).unwrap();
        let mut daemon = setup.start();
        daemon.settled().await;
        daemon.stop().await;
        let state = setup.state();
        assert_eq!(setup.fake.upload_requests(), 0, "{what}: nothing uploaded");
        assert_eq!(skipped(&state), 3, "{what}: skipped again: {state:?}");
        assert_eq!(state.folders.len(), 1, "{what}");
    }
    // A new replay after all that is uploaded.
    let mut daemon = setup.start();
    daemon.settled().await;
    std::fs::write(setup.path("NEW.replay"), distinct(TINY, 99)).unwrap();
    until(&setup, "the new one uploaded", |s| uploaded(s).len() == 1).await;
    daemon.stop().await;
    assert_eq!(setup.fake.created(), 1);
}

#[tokio::test]
async fn a_state_emptied_while_the_daemon_runs_is_written_again_whole() {
    let setup = Setup::new().await;
    replays(&setup.demos, "OLD", 0, 3);
    let mut daemon = setup.start();
    daemon.settled().await;
    let file = setup.state_dir.join(STATE_FILE);
    std::fs::write(&file, b"").unwrap();
    std::fs::write(setup.path("NEW.replay"), distinct(TINY, 50)).unwrap();
    let state = until(&setup, "the new one recorded", |s| uploaded(s).len() == 1).await;
    assert_eq!(
        skipped(&state),
        3,
        "what the daemon knew is back: {state:?}"
    );
    assert_eq!(state.folders.len(), 1);
    daemon.stop().await;
    // And a restart uploads nothing more.
    let mut daemon = setup.start();
    daemon.settled().await;
    daemon.stop().await;
    assert_eq!(setup.fake.upload_requests(), 1);
}

#[tokio::test]
async fn a_folder_seen_for_the_first_time_gets_its_own_baseline() {
    let setup = Setup::new().await;
    let elsewhere = setup.root.path().join("elsewhere");
    let card = setup.root.path().join("Card/Demos");
    let added = setup.root.path().join("Added/Demos");
    let mut config = setup.config();
    config.replay_dirs = vec![setup.demos.clone(), card.clone()];
    config.rescan_interval = std::time::Duration::from_secs(1);
    let mut daemon = setup.start_with(config.clone());
    daemon.settled().await;
    // An SD card mounted later: the folder appears whole, with old replays in it.
    let staged = setup.root.path().join("staged");
    replays(&staged, "CARD", 0, 4);
    std::fs::create_dir_all(card.parent().unwrap()).unwrap();
    std::fs::rename(&staged, &card).unwrap();
    until(&setup, "the card's replays recorded", |s| skipped(s) == 4).await;
    // The watched folder replaced by a link to another folder full of replays.
    replays(&elsewhere, "LINKED", 10, 3);
    std::fs::remove_dir_all(&setup.demos).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&elsewhere, &setup.demos).unwrap();
    #[cfg(unix)]
    until(&setup, "the linked folder's replays recorded", |s| {
        skipped(s) == 7
    })
    .await;
    daemon.stop().await;
    // A folder added to the config (as a reload would) while the daemon is stopped.
    replays(&added, "ADDED", 20, 2);
    config.replay_dirs.push(added.clone());
    let mut daemon = setup.start_with(config);
    daemon.settled().await;
    let expected = if cfg!(unix) { 9 } else { 6 };
    until(&setup, "the added folder's replays recorded", |s| {
        skipped(s) == expected
    })
    .await;
    assert_eq!(setup.fake.upload_requests(), 0, "no old replay uploaded");
    // New replays in each of them are uploaded.
    std::fs::write(card.join("NEW1.replay"), distinct(TINY, 90)).unwrap();
    std::fs::write(added.join("NEW2.replay"), distinct(TINY, 91)).unwrap();
    until(&setup, "the new ones uploaded", |s| uploaded(s).len() == 2).await;
    daemon.stop().await;
    assert_eq!(setup.fake.created(), 2);
}

#[cfg(unix)]
#[tokio::test]
async fn the_state_folder_and_its_files_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let setup = Setup::new().await;
    // An older autochase left the folder and the journal readable by everyone.
    std::fs::create_dir_all(&setup.state_dir).unwrap();
    std::fs::set_permissions(&setup.state_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let file = setup.state_dir.join(STATE_FILE);
    std::fs::write(
        &file,
        "{\"kind\":\"header\",\"format\":\"autochase-state\",\"version\":2}\n",
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut daemon = setup.start();
    daemon.settled().await;
    std::fs::write(setup.path("NEW.replay"), distinct(TINY, 5)).unwrap();
    until(&setup, "uploaded", |s| uploaded(s).len() == 1).await;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&setup.state_dir), 0o700);
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&setup.state_dir.join("autochase.lock")), 0o600);
    assert_eq!(mode(&setup.state_dir.join("inbox")), 0o700);
    daemon.stop().await;
}

/// Moves `n` replays dated `age` ago into `dir` the way a restored backup or a slow copy
/// arrives: whole, file by file, with their old dates kept.
fn restore_old(root: &Path, dir: &Path, prefix: &str, first: u32, n: u32, age_days: u64) {
    let staged = root.join(format!("staged-{prefix}"));
    let then = std::time::SystemTime::now() - std::time::Duration::from_secs(age_days * 86_400);
    for path in replays(&staged, prefix, first, n) {
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(then)
            .unwrap();
        std::fs::rename(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
}

#[tokio::test]
async fn old_replays_copied_into_a_folder_after_its_baseline_are_skipped() {
    let setup = Setup::new().await;
    let later = setup.root.path().join("Later/Demos");
    let mut config = setup.config();
    config.replay_dirs = vec![setup.demos.clone(), later.clone()];
    config.rescan_interval = std::time::Duration::from_secs(1);
    let mut daemon = setup.start_with(config.clone());
    daemon.settled().await;
    // A folder that appears empty, then fills file by file with a backup of 90-day-old replays.
    std::fs::create_dir_all(&later).unwrap();
    until(&setup, "the new folder's baseline", |s| {
        s.folders.len() == 2
    })
    .await;
    restore_old(setup.root.path(), &later, "OLD", 0, 3, 90);
    // And in the folder watched all along, an old file copied in beside a real save.
    restore_old(setup.root.path(), &setup.demos, "COPY", 10, 1, 90);
    std::fs::write(setup.path("NEW.replay"), distinct(TINY, 50)).unwrap();
    let state = until(&setup, "the old ones recorded", |s| {
        skipped(s) == 4 && uploaded(s).len() == 1
    })
    .await;
    daemon.stop().await;
    assert_eq!(
        setup.fake.upload_requests(),
        1,
        "only the real save: {state:?}"
    );
    assert!(
        state
            .replays
            .values()
            .filter(|r| r.status == Status::Skipped)
            .all(|r| r
                .last_error
                .as_deref()
                .unwrap()
                .contains("autochase backfill")),
        "each says how to upload it: {state:?}"
    );
    // `backfill = true` turns the rule off: old files copied in are uploaded.
    config.backfill = true;
    let mut daemon = setup.start_with(config);
    daemon.settled().await;
    restore_old(setup.root.path(), &later, "MORE", 20, 2, 90);
    until(&setup, "uploaded under backfill", |s| {
        uploaded(s).len() == 3
    })
    .await;
    daemon.stop().await;
    assert_eq!(setup.fake.created(), 3);
}

#[tokio::test]
async fn a_forgotten_replay_is_not_uploaded_again_when_its_file_is_seen() {
    let setup = Setup::new().await;
    let mut daemon = setup.start();
    daemon.settled().await;
    std::fs::write(setup.path("MINE.replay"), distinct(TINY, 7)).unwrap();
    let state = until(&setup, "uploaded", |s| uploaded(s).len() == 1).await;
    daemon.stop().await;
    let id = uploaded(&state)[0].id.clone();
    let config = setup.config_file("");
    let out = support::bin::autochase(&config, &["forget", &id]).await;
    assert!(out.status.success(), "{}", support::bin::text(&out.stderr));
    // Out of sight in `status`...
    let out = support::bin::autochase(&config, &["status", "--json"]).await;
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["uploaded"].as_array().unwrap().len(), 0, "{status}");
    // ...and its file, still there, is not taken for a new replay at the next start.
    let mut daemon = setup.start();
    daemon.settled().await;
    daemon.stop().await;
    assert_eq!(setup.fake.upload_requests(), 1, "not uploaded again");
    let out = support::bin::autochase(&config, &["forget", &id]).await;
    assert!(
        !out.status.success(),
        "already forgotten: nothing to forget"
    );
    // Asked for by name, it is uploaded (ballchasing knows it: a duplicate) and shown again.
    let mine = setup.path("MINE.replay");
    let out = support::bin::autochase(&config, &["upload", mine.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", support::bin::text(&out.stderr));
    let out = support::bin::autochase(&config, &["status", "--json"]).await;
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["uploaded"].as_array().unwrap().len(), 1, "{status}");
}

/// A damaged file forgotten on request stays forgotten: the daemon's rescans and its next
/// start do not judge it again and bring it back under `failed` (it is the same file).
#[tokio::test]
async fn a_forgotten_invalid_file_stays_out_of_sight() {
    let setup = Setup::new().await;
    let mut config = setup.config();
    config.rescan_interval = std::time::Duration::from_secs(1);
    let mut daemon = setup.start_with(config);
    daemon.settled().await;
    let mut broken = distinct(TINY, 9);
    broken.truncate(broken.len() / 2);
    let path = setup.path("BROKEN.replay");
    std::fs::write(&path, &broken).unwrap();
    until(&setup, "judged invalid", |s| s.invalid.contains_key(&path)).await;
    let config = setup.config_file("");
    let failed = |config: PathBuf| async move {
        let out = support::bin::autochase(&config, &["status", "--json"]).await;
        let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        status["failed"].as_array().unwrap().len()
    };
    assert_eq!(failed(config.clone()).await, 1);
    // Forgotten through the running daemon, which then looks at its folder again.
    let out = support::bin::autochase(&config, &["forget", path.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", support::bin::text(&out.stderr));
    daemon.rescanned(2).await;
    daemon.stop().await;
    assert_eq!(failed(config.clone()).await, 0, "hidden after a rescan");
    let mut daemon = setup.start();
    daemon.settled().await;
    daemon.stop().await;
    assert_eq!(failed(config.clone()).await, 0, "hidden after a restart");
    assert_eq!(setup.fake.upload_requests(), 0);
    // Changed, it is another file: judged again, and shown if it is still broken.
    std::fs::write(&path, &broken[..broken.len() - 10]).unwrap();
    let mut daemon = setup.start();
    daemon.settled().await;
    until(&setup, "judged again", |s| {
        s.invalid.get(&path).is_some_and(|f| !f.forgotten)
    })
    .await;
    daemon.stop().await;
    assert_eq!(failed(config).await, 1);
}
