//! The MSI under Wine: install, run, PATH, shortcut, OneDrive-moved Documents, uninstall.

use std::path::PathBuf;

use crate::wine::{self, Prefix, text, windows_bin};

/// The MSI from `dist/build.sh` (`AUTOCHASE_MSI`), in a prefix of its own: installed per user
/// without a window, the installed exe runs, PATH and the Start-menu shortcut are set; a
/// logon task is made; uninstalling removes the task (through `autochase service uninstall`),
/// the files, the PATH entry and the shortcut.
#[test]
fn the_msi_installs_runs_and_uninstalls_under_wine() {
    if windows_bin("the_msi_installs_runs_and_uninstalls_under_wine").is_none() {
        return;
    }
    let Some(msi) = std::env::var_os("AUTOCHASE_MSI").map(PathBuf::from) else {
        let required = std::env::var("AUTOCHASE_REQUIRE_WINE").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "AUTOCHASE_REQUIRE_WINE=1 but no AUTOCHASE_MSI (dist/build.sh makes it)"
        );
        eprintln!("SKIPPED the_msi_installs_runs_and_uninstalls_under_wine: no AUTOCHASE_MSI");
        return;
    };
    let wine = Prefix::new();
    let msiexec = |args: &[&str]| {
        let mut all = vec!["msiexec"];
        all.extend_from_slice(args);
        // Wine's installer service can still be busy with the last run on a loaded machine (CI
        // once saw `/x` fail silently right after the install): a failure is tried again after
        // a pause, up to three times, and the last one still fails the test.
        let mut tries = 0;
        loop {
            tries += 1;
            // No desktop entries in the test's HOME for the shortcut.
            let out = wine::output(
                wine.wine(&all)
                    .env("WINEDLLOVERRIDES", "winemenubuilder.exe=d"),
            );
            if out.status.success() {
                break;
            }
            let said = format!(
                "msiexec {args:?} (try {tries}): {} {}{}",
                out.status,
                text(&out.stdout),
                text(&out.stderr)
            );
            assert!(tries < 3, "{said}");
            eprintln!("{said}; trying again");
            std::thread::sleep(std::time::Duration::from_secs(3));
        }
    };
    let msi_win = wine.win(&msi);
    msiexec(&["/i", &msi_win, "/qn"]);
    let installed = wine.profile.join("AppData/Local/Programs/autochase");
    for file in [
        "autochase.exe",
        "autochasew.exe",
        "README.md",
        "config.example.toml",
    ] {
        assert!(installed.join(file).is_file(), "{file} installed");
    }
    assert!(
        !installed.join("bcryptprimitives.dll").exists(),
        "the Wine stub is never shipped"
    );
    let exe = installed.join("autochase.exe");
    let out = wine.run(&exe, &["--version"]);
    assert_eq!(
        text(&out.stdout).trim(),
        format!("autochase {}", env!("CARGO_PKG_VERSION")),
        "{}",
        text(&out.stderr)
    );
    let path_entry = || {
        let out =
            wine::output(&mut wine.wine(&["reg", "query", r"HKCU\Environment", "/v", "PATH"]));
        text(&out.stdout)
    };
    let installed_win = wine.win(&installed);
    assert!(
        path_entry().contains(&installed_win),
        "PATH: {}",
        path_entry()
    );
    let shortcut = wine
        .profile
        .join("AppData/Roaming/Microsoft/Windows/Start Menu/Programs/autochase.lnk");
    assert!(shortcut.is_file(), "the Start-menu shortcut toasts need");

    // Documents moved by OneDrive (as its Known Folder Move does, through the registry), to a
    // folder whose name is not ASCII: discovery follows the known folder.
    let onedrive = wine.profile.join("OneDrive - Zoé 日本/Documents");
    let moved = onedrive.join("My Games/Rocket League/TAGame/Demos");
    std::fs::create_dir_all(&moved).unwrap();
    let out = wine::output(&mut wine.wine(&[
        "reg",
        "add",
        r"HKCU\Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders",
        "/v",
        "Personal",
        "/t",
        "REG_EXPAND_SZ",
        "/d",
        &wine.win(&onedrive),
        "/f",
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let config = wine.root.path().join("config.toml");
    std::fs::write(&config, "api_url = 'http://127.0.0.1:9'\n").unwrap();
    let out = wine.run(&exe, &["--config", &wine.win(&config), "check"]);
    let said = text(&out.stdout);
    assert!(
        said.contains(&format!("folder: {} (0 replays", wine.win(&moved))),
        "{said}{}",
        text(&out.stderr)
    );

    // A logon task, as a user would make it; the uninstall must take it away.
    let out = wine.run(
        &exe,
        &["--config", &wine.win(&config), "service", "install"],
    );
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let task_xml = wine
        .profile
        .join("AppData/Local/autochase/autochase-task.xml");
    assert!(task_xml.is_file());

    msiexec(&["/x", &msi_win, "/qn"]);
    assert!(!installed.exists(), "the install folder is gone");
    assert!(!task_xml.exists(), "the logon task was removed first");
    assert!(!shortcut.exists());
    assert!(
        !path_entry().contains(&installed_win),
        "PATH: {}",
        path_entry()
    );
}
