//! The service plans, the files they write, rollback and status, on every OS's text.

use std::path::{Path, PathBuf};

use super::status::status_with;
use super::*;

fn home(os: Os) -> Home {
    let mut home = Home::linux(Path::new("/home/me"));
    home.os = os;
    home
}

fn target() -> Target {
    Target {
        exe: PathBuf::from("/home/me/.cargo/bin/autochase"),
        config: Some(PathBuf::from("/home/me/my config.toml")),
        user: None,
    }
}

fn windows_home() -> Home {
    Home {
        os: Os::Windows,
        home: PathBuf::from(r"C:\Users\me"),
        documents: None,
        config: PathBuf::from(r"C:\Users\me\AppData\Roaming"),
        data: PathBuf::from(r"C:\Users\me\AppData\Local"),
    }
}

fn windows_target() -> Target {
    Target {
        exe: PathBuf::from(r"C:\Users\me\AppData\Local\Programs\autochase\autochase.exe"),
        config: Some(PathBuf::from(r"C:\Users\me\My Config\config.toml")),
        user: Some(r"DESKTOP-1\Zoé".into()),
    }
}

#[test]
fn the_systemd_unit_runs_this_binary_with_this_config() {
    let plan = plan(Action::Install, &home(Os::Linux), &target()).unwrap();
    let file = &plan.write[0];
    assert_eq!(
        file.path,
        Path::new("/home/me/.config/systemd/user/autochase.service")
    );
    let unit = &file.text;
    assert!(unit.contains(
        "ExecStart=/home/me/.cargo/bin/autochase --config \"/home/me/my config.toml\" run\n"
    ));
    for line in [
        "Type=notify",
        "Restart=on-failure",
        "TimeoutStopSec=20",
        "WantedBy=default.target",
    ] {
        assert!(unit.lines().any(|l| l == line), "{line}");
    }
    // A user manager has no network-online.target; the crate names no repository.
    assert!(!unit.contains("network-online") && !unit.contains("Documentation="));
    assert_eq!(
        plan.run,
        vec![
            strings(&["systemctl", "--user", "daemon-reload"]),
            strings(&[
                "systemctl",
                "--user",
                "enable",
                "--now",
                "autochase.service"
            ])
        ]
    );
    let uninstall = super::plan(Action::Uninstall, &home(Os::Linux), &target()).unwrap();
    assert_eq!(uninstall.remove, vec![file.path.clone()]);
    assert!(uninstall.write.is_empty());
}

#[test]
fn a_control_character_in_a_path_is_refused_and_a_tab_is_quoted() {
    let mut injected = target();
    injected.config = Some(PathBuf::from(
        "/home/me/c.toml\nExecStartPre=/bin/sh -c evil",
    ));
    let err = plan(Action::Install, &home(Os::Linux), &injected).unwrap_err();
    assert!(
        matches!(err, ServiceError::ControlCharacter { what, .. } if what == "the config file"),
        "{err}"
    );
    for os in [Os::MacOs, Os::Windows] {
        assert!(plan(Action::Install, &home(os), &injected).is_err());
    }
    let mut tabbed = target();
    tabbed.config = Some(PathBuf::from("/home/me/a\tb.toml"));
    let unit = systemd_unit(&tabbed);
    assert!(
        unit.contains("--config \"/home/me/a\\tb.toml\" run\n"),
        "{unit}"
    );
    assert!(!unit.contains('\t'));
    // What systemd would expand is doubled.
    tabbed.config = Some(PathBuf::from("/home/me/100%$HOME.toml"));
    assert!(systemd_unit(&tabbed).contains("\"/home/me/100%%$$HOME.toml\""));
}

#[test]
fn the_shipped_unit_matches_the_generated_one_in_what_matters() {
    let shipped = include_str!("../../systemd/autochase.service");
    let generated = systemd_unit(&target());
    for key in [
        "Type=",
        "Restart=",
        "RestartSec=",
        "TimeoutStopSec=",
        "ExecReload=",
        "After=",
        "Documentation=",
    ] {
        let pick = |text: &str| text.lines().find(|l| l.starts_with(key)).map(str::to_owned);
        assert_eq!(pick(shipped), pick(&generated), "{key}");
    }
}

#[test]
fn the_launch_agent_runs_at_load_and_restarts_on_failure() {
    let plan = plan(Action::Install, &home(Os::MacOs), &target()).unwrap();
    let file = &plan.write[0];
    assert_eq!(
        file.path,
        Path::new("/home/me/Library/LaunchAgents/io.github.autochase.plist")
    );
    let plist = &file.text;
    assert!(plist.contains("<key>RunAtLoad</key>\n    <true/>"));
    assert!(plist.contains("<key>SuccessfulExit</key>\n        <false/>"));
    assert!(plist.contains("<string>/home/me/my config.toml</string>"));
    assert!(plist.contains("<string>/home/me/Library/Logs/autochase.log</string>"));
    assert_eq!(plan.run[0][..3], strings(&["launchctl", "load", "-w"]));
}

#[test]
fn the_windows_task_names_the_user_restarts_within_the_schema_and_is_stored_as_utf16() {
    let plan = plan(Action::Install, &windows_home(), &windows_target()).unwrap();
    let file = &plan.write[0];
    assert_eq!(file.encoding, Encoding::Utf16);
    assert_eq!(&file.bytes()[..2], &[0xFF, 0xFE], "a BOM, as UTF-16 needs");
    let xml = &file.text;
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-16\"?>"));
    assert!(
        xml.contains(
            "<Enabled>true</Enabled>\n      <UserId>DESKTOP-1\\Zoé</UserId>\n    </LogonTrigger>"
        ),
        "{xml}"
    );
    assert!(
        xml.contains("<Principal id=\"Author\">\n      <UserId>DESKTOP-1\\Zoé</UserId>"),
        "{xml}"
    );
    let count: u32 = xml
        .split("<Count>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=255).contains(&count), "RestartOnFailure/Count {count}");
    assert!(xml.contains("<Interval>PT1M</Interval>"));
    assert!(xml.contains("<ExecutionTimeLimit>PT0S</ExecutionTimeLimit>"));
    // Paths are joined by the rules of the OS the test runs on; the Wine test sees the real
    // Windows ones.
    let launcher = windows_launcher(&windows_target().exe);
    let log = windows_log_file(&windows_home());
    let command = format!("<Command>{}</Command>", launcher.display());
    assert!(xml.contains(&command), "{xml}");
    let arguments = format!(
        r#"<Arguments>--log-file {} --config &quot;C:\Users\me\My Config\config.toml&quot; run</Arguments>"#,
        log.display()
    );
    assert!(xml.contains(&arguments), "{xml}");
    // The launcher must be there before anything is written.
    assert_eq!(plan.needs[0].0, launcher);
    assert_eq!(plan.run[0][0], "schtasks");
    assert!(plan.run[0].contains(&"/XML".to_string()));
    assert!(
        plan.notes[0].contains(r"\autochase.YYYY-MM-DD.log (one file a day)"),
        "the file name the log really has: {:?}",
        plan.notes
    );
}

#[test]
fn dry_run_shows_checks_files_commands_and_removals() {
    let text = plan(Action::Install, &home(Os::Linux), &target())
        .unwrap()
        .describe();
    assert!(text.starts_with("write /home/me/.config/systemd/user/autochase.service:\n"));
    assert!(text.contains("    Type=notify\n"));
    assert!(text.contains("run   systemctl --user enable --now autochase.service\n"));
    let text = plan(Action::Uninstall, &home(Os::Linux), &target())
        .unwrap()
        .describe();
    assert!(text.contains("remove /home/me/.config/systemd/user/autochase.service"));
    let text = plan(Action::Install, &windows_home(), &windows_target())
        .unwrap()
        .describe();
    assert!(text.starts_with("check "), "{text}");
    assert!(text.contains("autochasew.exe exists\n"), "{text}");
    assert!(text.contains("autochase-task.xml (UTF-16):\n"), "{text}");
}

#[cfg(unix)]
#[test]
fn a_failed_install_rolls_back_what_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("new/systemd/user/autochase.service");
    let old = dir.path().join("old.service");
    std::fs::write(&old, "old content").unwrap();
    let marker = dir.path().join("undone");
    let plan = Plan {
        write: vec![
            FileWrite::utf8(fresh.clone(), "new".into()),
            FileWrite::utf8(old.clone(), "replaced".into()),
        ],
        run: vec![strings(&["true"]), strings(&["false"])],
        undo: vec![strings(&["touch", &marker.display().to_string()])],
        ..Plan::default()
    };
    let err = plan.execute(false).unwrap_err();
    assert!(matches!(err, ServiceError::Command { .. }), "{err}");
    assert!(!fresh.exists(), "a file it created is removed");
    assert!(
        !dir.path().join("new").exists(),
        "and the folders it created for it"
    );
    assert_eq!(std::fs::read_to_string(&old).unwrap(), "old content");
    assert!(marker.exists(), "the undo commands ran");
    // Uninstalling passes over a failing command and removes the files.
    let uninstall = Plan {
        run: vec![strings(&["false"])],
        remove: vec![old.clone()],
        ..Plan::default()
    };
    uninstall.execute(true).unwrap();
    assert!(!old.exists());
}

#[test]
fn a_missing_launcher_stops_the_install_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("task.xml");
    let plan = Plan {
        needs: vec![(dir.path().join("autochasew.exe"), "reinstall".into())],
        write: vec![FileWrite::utf8(xml.clone(), "x".into())],
        ..Plan::default()
    };
    let err = plan.execute(false).unwrap_err().to_string();
    assert!(
        err.contains("autochasew.exe is missing: reinstall"),
        "{err}"
    );
    assert!(!xml.exists());
}

#[test]
fn status_says_installed_and_running_in_words_without_raw_bus_errors() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::linux(dir.path());
    // Nothing installed: no command needed.
    let report = status_with(&home, &mut |_| panic!("no need to ask"));
    assert!(!report.ok());
    assert!(report.to_string().starts_with("installed: no (no unit at "));
    let unit = super::systemd::unit_path(&home);
    std::fs::create_dir_all(unit.parent().unwrap()).unwrap();
    std::fs::write(&unit, "x").unwrap();
    // No user manager: systemctl only complains on stderr.
    let bus = "Failed to connect to bus: No medium found";
    let report = status_with(&home, &mut |_| Some((false, String::new(), bus.into())));
    let text = report.to_string();
    assert!(text.contains("installed: yes"), "{text}");
    assert!(text.contains("running: unknown: the user service manager cannot be reached"));
    assert!(!text.contains("Failed to connect"), "{text}");
    // A manager that answers.
    let report = status_with(&home, &mut |cmd| {
        let word = if cmd[2] == "is-enabled" {
            "enabled"
        } else {
            "active"
        };
        Some((true, format!("{word}\n"), String::new()))
    });
    assert!(report.ok(), "{report}");
    assert!(report.to_string().contains("starts at login"));
    let report = status_with(&home, &mut |cmd| {
        let word = if cmd[2] == "is-enabled" {
            "enabled"
        } else {
            "failed"
        };
        Some((false, format!("{word}\n"), String::new()))
    });
    assert_eq!(report.running, Ok(false));
    // Windows: schtasks' list format.
    let report = status_with(&windows_home(), &mut |_| {
        Some((
            true,
            "TaskName: \\autochase\nStatus:   Running\n".into(),
            String::new(),
        ))
    });
    assert!(report.ok(), "{report}");
    let report = status_with(&windows_home(), &mut |_| {
        Some((
            false,
            String::new(),
            "ERROR: The system cannot find the file specified.".into(),
        ))
    });
    assert!(
        report
            .to_string()
            .starts_with("installed: no (no task autochase)")
    );
}
