//! Setting autochase up: init, the login service, notifications.

use super::*;

#[cfg(unix)]
#[tokio::test]
async fn init_writes_a_private_config_with_the_found_folders_and_never_overwrites() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let (home, demos) = fake_home(env.root.path());
    let config = home.join(".config/autochase/config.toml");
    let init = |args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_autochase"));
        command
            .arg("init")
            .args(args)
            .env_remove("BALLCHASING_TOKEN")
            // init tries the token: at a closed local port, never at the real ballchasing.
            .env("AUTOCHASE_API_URL", "http://127.0.0.1:9/");
        with_home(&mut command, &home);
        command
    };
    let out = output(init(&["--token", "tok-123"])).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!("found {}", demos.display())),
        "{stdout}"
    );
    assert!(stdout.contains("(1 replay, newest"), "{stdout}");
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.contains("token = \"tok-123\""));
    assert!(written.contains(&format!("#   {}  (1 replay;", demos.display())));
    let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // `check` with that config sees the folder through discovery.
    let mut check = support::bin::command(&config);
    check.arg("check");
    with_home(&mut check, &home);
    let stdout = text(&output(check).await.stdout);
    assert!(
        stdout.contains(&format!(
            "folder: {} (1 replay, newest A377345411F1648257A50AB0C1621AB2.replay",
            demos.display()
        )),
        "{stdout}"
    );

    let again = output(init(&["--token", "other"])).await;
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), written);
    let forced = output(init(&["--force"])).await;
    assert!(forced.status.success());
    let replaced = std::fs::read_to_string(&config).unwrap();
    assert!(
        !replaced.contains("tok-123"),
        "no token given, none written"
    );
    assert!(text(&forced.stdout).contains("no token yet"));
}

#[tokio::test]
async fn service_install_dry_run_shows_the_unit_and_touches_nothing() {
    let env = Env::new();
    let (home, _) = fake_home(env.root.path());
    let config = env.write_config("http://127.0.0.1:9", TOKEN);
    let mut command = support::bin::command(&config);
    command.args(["service", "install", "--dry-run"]);
    with_home(&mut command, &home);
    let out = output(command).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    if cfg!(target_os = "linux") {
        let unit = home.join(".config/systemd/user/autochase.service");
        assert!(
            stdout.starts_with(&format!("write {}:", unit.display())),
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!(
                "ExecStart={} --config {} run",
                env!("CARGO_BIN_EXE_autochase"),
                config.display()
            )),
            "{stdout}"
        );
        assert!(stdout.contains("run   systemctl --user enable --now autochase.service"));
        assert!(!unit.exists(), "a dry run writes nothing");
        // A relative --config becomes absolute: the service does not start in this folder.
        let mut relative = std::process::Command::new(env!("CARGO_BIN_EXE_autochase"));
        relative
            .args(["--config", "config.toml", "service", "install", "--dry-run"])
            .current_dir(env.root.path())
            .env_remove("BALLCHASING_TOKEN");
        with_home(&mut relative, &home);
        let stdout = text(&output(relative).await.stdout);
        assert!(
            stdout.contains(&format!("--config {} run", config.display())),
            "{stdout}"
        );
    }
}

#[tokio::test]
async fn a_broken_config_never_keeps_the_service_from_being_removed() {
    let env = Env::new();
    let (home, _) = fake_home(env.root.path());
    let config = env.root.path().join("config.toml");
    std::fs::write(&config, "tokn = \"x\"\n").unwrap();
    let service = |args: &[&str]| {
        let mut command = support::bin::command(&config);
        command.arg("service").args(args);
        with_home(&mut command, &home);
        command
    };
    let out = output(service(&["uninstall", "--dry-run"])).await;
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("tokn"),
        "the problem is still named: {stderr}"
    );
    assert!(!text(&out.stdout).is_empty(), "the plan is shown");
    // Installing a service that would stop at once on its config is refused.
    let out = output(service(&["install", "--dry-run"])).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

/// No user service manager (a container, a session without systemd): `service install` says
/// why, rolls back and points at `run`; `service uninstall` of nothing says there is nothing.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn service_commands_without_a_user_manager_say_what_is_true() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let config = env.write_config("http://127.0.0.1:9", TOKEN);
    let home = env.root.path().join("home");
    let bin = env.root.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let systemctl = bin.join("systemctl");
    std::fs::write(
        &systemctl,
        "#!/bin/sh\necho 'Failed to connect to bus: No medium found' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&systemctl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |args: &[&str]| {
        let mut command = support::bin::command(&config);
        command.args(args).env("PATH", &path);
        with_home(&mut command, &home);
        command.output().unwrap()
    };
    let out = run(&["service", "install"]);
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("no systemd user manager answered")
            && said.contains("`autochase run` works meanwhile"),
        "{said}"
    );
    assert!(
        !home.join(".config/systemd/user/autochase.service").exists(),
        "rolled back"
    );
    let out = run(&["service", "uninstall"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("not installed")
            && text(&out.stdout).contains("nothing to remove")
    );
    assert!(
        !text(&out.stderr).contains("Failed to connect"),
        "{}",
        text(&out.stderr)
    );
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn notifications_go_through_notify_send_when_turned_on() {
    use std::os::unix::fs::PermissionsExt;
    let fake = FakeBallchasing::start().await;
    let env = Env::new();
    // A stand-in notify-send that writes down what it was asked to show.
    let bin = env.root.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let shown = env.root.path().join("shown.txt");
    let script = bin.join("notify-send");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s|' \"$@\" >> '{}'\necho >> '{}'\n",
            shown.display(),
            shown.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = env.root.path().join("config.toml");
    write_config(
        &config,
        &fake.server.url(),
        TOKEN,
        "notifications = true\ninvalid_after = 1\n",
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let daemon = support::bin::Daemon::spawn(
        support::bin::command(&config)
            .arg("run")
            .env("PATH", path)
            .stderr(std::process::Stdio::null()),
    );
    let state = env.root.path().join("state/state.jsonl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !state.exists() {
        assert!(std::time::Instant::now() < deadline, "daemon never started");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    std::fs::write(env.demos().join("TINY.replay"), TINY).unwrap();
    std::fs::write(env.demos().join("BROKEN.replay"), &TINY[..200]).unwrap();
    let read = || std::fs::read_to_string(&shown).unwrap_or_default();
    while !(read().contains("Uploaded: TINY.replay")
        && read().contains("Not uploaded: BROKEN.replay"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "notifications: {}",
            read()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    daemon.signal("TERM");
    let _ = daemon.output().await;
    let text = read();
    assert!(
        text.contains(
            "--app-name=autochase|--|Uploaded: TINY.replay|https://ballchasing.com/replay/bc-1|"
        ),
        "{text}"
    );
    assert!(
        text.contains("Not uploaded: BROKEN.replay|corrupt replay: truncated"),
        "{text}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_daemon_started_before_init_picks_up_the_config_init_writes() {
    let fake = FakeBallchasing::start().await;
    let env = Env::new();
    let home = env.root.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_autochase"));
    command
        .arg("run")
        .env_remove("BALLCHASING_TOKEN")
        .env_remove("AUTOCHASE_CONFIG")
        .env_remove("AUTOCHASE_API_URL")
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped());
    with_home(&mut command, &home);
    let daemon = support::bin::Daemon::spawn(&mut command);
    let state = home.join(".local/share/autochase/state.jsonl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !state.exists() {
        assert!(std::time::Instant::now() < deadline, "daemon never started");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // `init` writes the config where the daemon looks for it, folders included.
    let config_dir = home.join(".config/autochase");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("config.toml"),
        format!(
            "token = \"{TOKEN}\"\napi_url = \"{}\"\nreplay_dirs = ['{}']\nupload_rate = 10.0\n",
            fake.server.url(),
            env.demos().display()
        ),
    )
    .unwrap();
    // Written a little later, as a player saves after the game; nothing restarted the daemon.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    std::fs::write(env.demos().join("TINY.replay"), TINY).unwrap();
    while fake.created() == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    daemon.signal("TERM");
    let log = text(&daemon.output().await.stderr);
    assert!(
        fake.created() > 0,
        "the new config was never picked up: {log}"
    );
    assert!(
        log.contains("no Rocket League replay folder found yet"),
        "a start with no folder says so: {log}"
    );
    assert!(log.contains("config reloaded"), "{log}");
}

#[cfg(unix)]
#[tokio::test]
async fn init_tries_the_token_it_was_given() {
    let fake = FakeBallchasing::start().await;
    let env = Env::new();
    let (home, _) = fake_home(env.root.path());
    for (token, expected, code) in [
        (TOKEN, "token: works, account Tester", 0),
        ("wrong-token-value", "refused the API token", 1),
    ] {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_autochase"));
        command
            .args(["init", "--force", "--token", token])
            .env("AUTOCHASE_API_URL", fake.server.url())
            .env_remove("BALLCHASING_TOKEN");
        with_home(&mut command, &home);
        let out = output(command).await;
        // A refused token fails the command, said on stderr; the config is written anyway.
        assert_eq!(out.status.code(), Some(code), "{}", text(&out.stderr));
        let said = text(&out.stdout) + &text(&out.stderr);
        assert!(said.contains(expected), "{said}");
        let written = std::fs::read_to_string(home.join(".config/autochase/config.toml")).unwrap();
        assert!(written.contains(&format!("token = \"{token}\"")));
    }
}
