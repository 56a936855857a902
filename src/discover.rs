//! Finding Rocket League replay folders: the Windows Documents known folder, every Steam
//! library's Proton prefix (from `libraryfolders.vdf`), Heroic and Lutris prefixes, and the
//! dead native ports. Pure path logic over a `Home`, so tests build fake home trees.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::platform::{Home, Os, path_key};

/// Rocket League's Steam app id.
pub const STEAM_APP_ID: &str = "252950";

/// A replay folder that exists, with what is in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The folder.
    pub dir: PathBuf,
    /// Where it came from, for people: "Steam library /mnt/sd", "Heroic", ….
    pub source: String,
    /// `*.replay` files in it.
    pub replays: usize,
    /// The newest replay and its modification time.
    pub newest: Option<(PathBuf, SystemTime)>,
}

/// Every folder to watch when the config names none: the folders that exist, and the ones
/// the game would create first in the places it is installed (watched until they appear).
pub fn watch_list(home: &Home) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = candidates(home).into_iter().map(|(p, _)| p).collect();
    out.extend(find(home).into_iter().map(|f| f.dir));
    out.sort();
    // One entry per folder: `C:\Users\me\Documents` and `C:\users\me\documents` are one
    // folder on Windows, as are a Steam root and its symlink.
    let mut seen = BTreeSet::new();
    out.retain(|p| seen.insert(path_key(p)));
    out
}

/// The replay folders that exist, with their replay counts, newest first by newest replay.
pub fn find(home: &Home) -> Vec<Found> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut consider = |dir: PathBuf, source: String| {
        if !dir.is_dir() {
            return;
        }
        // Symlinked Steam roots (`~/.steam/steam`) lead to the same folder twice, and Windows
        // paths differing only in case are one folder.
        if seen.insert(path_key(&dir)) {
            out.push(survey(&dir, &source));
        }
    };
    for (dir, source) in candidates(home) {
        consider(dir, source);
    }
    for (prefix, source) in prefixes(home) {
        for dir in demos_in_prefix(&prefix) {
            consider(dir, source.clone());
        }
    }
    out.sort_by(|a, b| {
        let at = |f: &Found| f.newest.as_ref().map(|(_, t)| *t);
        at(b).cmp(&at(a)).then_with(|| a.dir.cmp(&b.dir))
    });
    out
}

/// What is in `dir`: its replay count and newest replay.
pub fn survey(dir: &Path, source: &str) -> Found {
    let (replays, newest) = count_and_newest(dir);
    Found {
        dir: dir.to_path_buf(),
        source: source.to_owned(),
        replays,
        newest,
    }
}

/// Counts the replays in `dir` and finds the newest.
fn count_and_newest(dir: &Path) -> (usize, Option<(PathBuf, SystemTime)>) {
    let mut count = 0;
    let mut newest: Option<(PathBuf, SystemTime)> = None;
    for path in crate::watcher::scan(&[dir.to_path_buf()]) {
        count += 1;
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        if let Some(t) = modified
            && newest.as_ref().is_none_or(|(_, n)| t > *n)
        {
            newest = Some((path, t));
        }
    }
    (count, newest)
}

/// Where the game keeps its files under Documents, one component at a time: joined with `/`
/// inside a string, a Windows path would read `…\My Games/Rocket League/TAGame\Demos`.
const TAGAME: [&str; 3] = ["My Games", "Rocket League", "TAGame"];
const LEAVES: [&str; 2] = ["Demos", "DemosEpic"];

/// `base` with each of `parts` joined as a component of its own.
fn join_all(base: &Path, parts: &[&str]) -> PathBuf {
    parts
        .iter()
        .fold(base.to_path_buf(), |path, part| path.join(part))
}

/// The fixed places (existing or not) where the game keeps replays on this OS.
fn candidates(home: &Home) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut under = |docs: &Path, source: &str| {
        for leaf in LEAVES {
            out.push((join_all(docs, &TAGAME).join(leaf), source.to_string()));
        }
    };
    match home.os {
        Os::Windows => {
            if let Some(docs) = &home.documents {
                under(docs, "Documents");
            }
            // A stale copy can remain after OneDrive moved Documents, or the other way round.
            under(&home.home.join("Documents"), "Documents");
            under(
                &home.home.join("OneDrive").join("Documents"),
                "OneDrive Documents",
            );
        }
        Os::Linux => {
            for library in steam_libraries(home) {
                let users = library
                    .join("steamapps/compatdata")
                    .join(STEAM_APP_ID)
                    .join("pfx/drive_c/users/steamuser");
                let source = format!("Steam library {}", library.display());
                for docs in ["Documents", "My Documents"] {
                    under(&users.join(docs), &source);
                }
            }
            out.push((
                home.data.join("Rocket League/TAGame/Demos"),
                "native Linux port (discontinued)".into(),
            ));
        }
        Os::MacOs => {
            out.push((
                home.home
                    .join("Library/Application Support/Rocket League/TAGame/Demos"),
                "native macOS port (discontinued)".into(),
            ));
        }
    }
    let mut seen = BTreeSet::new();
    out.retain(|(p, _)| seen.insert(path_key(p)));
    out
}

/// Steam roots: native, `~/.steam`, Flatpak.
fn steam_roots(home: &Home) -> Vec<PathBuf> {
    vec![
        home.data.join("Steam"),
        home.home.join(".steam/steam"),
        home.home.join(".steam/root"),
        home.home
            .join(".var/app/com.valvesoftware.Steam/.local/share/Steam"),
        home.home
            .join(".var/app/com.valvesoftware.Steam/data/Steam"),
    ]
}

/// Every Steam library that exists: the roots, and every path their `libraryfolders.vdf`
/// lists (other drives, SD cards).
pub fn steam_libraries(home: &Home) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut add = |p: PathBuf| {
        if p.is_dir() {
            let key = p.canonicalize().unwrap_or_else(|_| p.clone());
            if seen.insert(key) {
                out.push(p);
            }
        }
    };
    for root in steam_roots(home) {
        add(root.clone());
        for file in [
            root.join("steamapps/libraryfolders.vdf"),
            root.join("config/libraryfolders.vdf"),
        ] {
            if let Ok(text) = std::fs::read_to_string(&file) {
                for path in vdf_library_paths(&text) {
                    add(PathBuf::from(path));
                }
            }
        }
    }
    out
}

/// The library paths in a `libraryfolders.vdf` (Valve KeyValues, read by `keyvalues-parser`):
/// the `"path"` of every numbered library (current format), or every numbered key with a
/// path as its value (the old format). A file that does not parse gives none.
pub fn vdf_library_paths(text: &str) -> Vec<String> {
    use keyvalues_parser::Value;
    let Ok(vdf) = keyvalues_parser::parse(text) else {
        return Vec::new();
    };
    let Some(libraries) = vdf.value.get_obj() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, values) in libraries.iter() {
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        for value in values {
            match value {
                Value::Str(path) if path.contains(['/', '\\']) => out.push(path.to_string()),
                Value::Obj(library) => out.extend(
                    library
                        .iter()
                        .filter(|(k, _)| k.eq_ignore_ascii_case("path"))
                        .flat_map(|(_, v)| v.iter().filter_map(Value::get_str))
                        .map(str::to_owned),
                ),
                Value::Str(_) => {}
            }
        }
    }
    out
}

/// Wine prefixes from Heroic (configured and default) and Lutris, and `~/Games/*`.
fn prefixes(home: &Home) -> Vec<(PathBuf, String)> {
    if home.os != Os::Linux {
        return Vec::new();
    }
    let mut out = Vec::new();
    for heroic in [
        home.config.join("heroic"),
        home.home
            .join(".var/app/com.heroicgameslauncher.hgl/config/heroic"),
    ] {
        let mut files = vec![heroic.join("config.json")];
        if let Ok(entries) = std::fs::read_dir(heroic.join("GamesConfig")) {
            files.extend(entries.flatten().map(|e| e.path()));
        }
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            if let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) {
                let mut found = Vec::new();
                json_strings_at(&json, "winePrefix", &mut found);
                out.extend(
                    found
                        .into_iter()
                        .map(|p| (PathBuf::from(p), "Heroic".into())),
                );
            }
        }
    }
    for root in [
        home.home.join("Games/Heroic/Prefixes/default"),
        home.home.join("Games/Heroic/Prefixes"),
        home.home.join("Games"),
    ] {
        if let Ok(entries) = std::fs::read_dir(&root) {
            let source = if root.ends_with("Games") {
                "~/Games"
            } else {
                "Heroic"
            };
            out.extend(
                entries
                    .flatten()
                    .map(|e| (e.path(), source.to_string()))
                    .filter(|(p, _)| p.is_dir()),
            );
        }
    }
    for lutris in [
        home.config.join("lutris/games"),
        home.data.join("lutris/games"),
    ] {
        let Ok(entries) = std::fs::read_dir(&lutris) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            // Only the `prefix:` line matters; no YAML parser for one key.
            for line in text.lines() {
                if let Some(value) = line.trim().strip_prefix("prefix:") {
                    let value = value.trim().trim_matches(['"', '\'']);
                    if !value.is_empty() {
                        out.push((expand_tilde(value, &home.home), "Lutris".into()));
                    }
                }
            }
        }
    }
    out
}

fn expand_tilde(path: &str, home: &Path) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None => PathBuf::from(path),
    }
}

fn json_strings_at(value: &serde_json::Value, key: &str, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match v {
                    serde_json::Value::String(s) if k == key => out.push(s.clone()),
                    _ => json_strings_at(v, key, out),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                json_strings_at(v, key, out);
            }
        }
        _ => {}
    }
}

/// `drive_c/users/*/{Documents,My Documents}/My Games/Rocket League/TAGame/Demos*` under a
/// Wine prefix, or under its `pfx` (Proton, umu).
fn demos_in_prefix(prefix: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for drive_c in [prefix.join("pfx/drive_c"), prefix.join("drive_c")] {
        let Ok(users) = std::fs::read_dir(drive_c.join("users")) else {
            continue;
        };
        for user in users.flatten() {
            for docs in ["Documents", "My Documents"] {
                let tagame = join_all(&user.path().join(docs), &TAGAME);
                let Ok(entries) = std::fs::read_dir(&tagame) else {
                    continue;
                };
                let mut found: Vec<PathBuf> = entries
                    .flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with("Demos"))
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect();
                found.sort();
                out.extend(found);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const VDF: &str = r#"
"libraryfolders"
{
	"0"
	{
		"path"		"HOME/.local/share/Steam"
		"label"		""
		"apps"
		{
			"228980"		"0"
		}
	}
	"1"
	{
		"path"		"SDCARD"
		"label"		"SD card"
		"apps"
		{
			"252950"		"21000000000"
		}
	}
}
"#;

    fn write(path: &Path, bytes: &[u8]) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    fn demos(prefix: &Path, user: &str, docs: &str, leaf: &str) -> PathBuf {
        let dir = prefix.join("drive_c/users").join(user).join(docs);
        let dir = join_all(&dir, &TAGAME).join(leaf);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn found_dirs(home: &Home) -> BTreeSet<PathBuf> {
        find(home).into_iter().map(|f| f.dir).collect()
    }

    #[test]
    fn vdf_paths_in_the_current_and_the_old_format() {
        assert_eq!(
            vdf_library_paths(VDF),
            vec!["HOME/.local/share/Steam", "SDCARD"]
        );
        let old = "\"LibraryFolders\"\n{\n\t\"TimeNextStatsReport\"\t\"1\"\n\t\"1\"\t\"D:\\\\SteamLibrary\"\n}\n";
        assert_eq!(vdf_library_paths(old), vec!["D:\\SteamLibrary"]);
        assert!(vdf_library_paths("// nothing\n\"x\" { }").is_empty());
        // A file cut short (Steam writing it) or not VDF at all gives no library, no panic.
        assert!(vdf_library_paths(&VDF[..VDF.len() / 2]).is_empty());
        assert!(vdf_library_paths("\u{0}\u{1}{{{").is_empty());
        // Comments and escaped quotes inside a path.
        let quoted = "// Steam\n\"libraryfolders\" { \"0\" { \"path\" \"/mnt/a \\\"b\\\"\" } }";
        assert_eq!(vdf_library_paths(quoted), vec!["/mnt/a \"b\""]);
    }

    #[test]
    fn every_steam_library_heroic_lutris_and_legacy_folder_is_found() {
        let tmp = tempfile::tempdir().unwrap();
        let home_dir = tmp.path().join("home");
        let sd = tmp.path().join("run/media/deck/sd");
        let home = Home::linux(&home_dir);
        let steam = home.data.join("Steam");
        let vdf = VDF
            .replace("HOME", &home_dir.to_string_lossy())
            .replace("SDCARD", &sd.to_string_lossy());
        write(&steam.join("steamapps/libraryfolders.vdf"), vdf.as_bytes());
        let rl = |library: &Path| library.join("steamapps/compatdata/252950/pfx");
        // Native Steam library: Documents; SD card library: the old `My Documents`.
        let native = demos(&rl(&steam), "steamuser", "Documents", "Demos");
        write(&native.join("A.replay"), b"a");
        let on_sd = demos(&rl(&sd), "steamuser", "My Documents", "Demos");
        write(&on_sd.join("B.replay"), b"b");
        write(&on_sd.join("C.REPLAY"), b"c");
        // Flatpak Steam.
        let flatpak = home_dir.join(".var/app/com.valvesoftware.Steam/.local/share/Steam");
        let in_flatpak = demos(&rl(&flatpak), "steamuser", "Documents", "Demos");
        // Heroic: a configured prefix outside ~/Games, and a default one.
        let configured = tmp.path().join("elsewhere/rl-prefix");
        write(
            &home.config.join("heroic/GamesConfig/Sugar.json"),
            format!(
                r#"{{"Sugar":{{"winePrefix":"{}","wineVersion":{{"type":"proton"}}}}}}"#,
                configured.display()
            )
            .as_bytes(),
        );
        let heroic = demos(
            &configured.join("pfx"),
            "steamuser",
            "Documents",
            "DemosEpic",
        );
        let heroic_default = demos(
            &home_dir.join("Games/Heroic/Prefixes/default/Rocket League"),
            "steamuser",
            "Documents",
            "DemosEpic",
        );
        // Lutris with a plain Wine prefix named in its game file.
        let lutris_prefix = tmp.path().join("wine/epic");
        write(
            &home.config.join("lutris/games/epic-games-store-123.yml"),
            format!(
                "game:\n  exe: x.exe\n  prefix: {}\nwine:\n  version: lutris\n",
                lutris_prefix.display()
            )
            .as_bytes(),
        );
        let lutris = demos(&lutris_prefix, "me", "Documents", "DemosEpic");
        // The dead native port, and a decoy that is not a replay folder.
        let legacy = home.data.join("Rocket League/TAGame/Demos");
        std::fs::create_dir_all(&legacy).unwrap();
        std::fs::create_dir_all(native.parent().unwrap().join("Config")).unwrap();

        let expected: BTreeSet<PathBuf> = [
            &native,
            &on_sd,
            &in_flatpak,
            &heroic,
            &heroic_default,
            &lutris,
            &legacy,
        ]
        .into_iter()
        .cloned()
        .collect();
        assert_eq!(found_dirs(&home), expected);
        let all = find(&home);
        let sd_found = all.iter().find(|f| f.dir == on_sd).unwrap();
        assert_eq!(sd_found.replays, 2);
        assert!(sd_found.source.contains("sd"), "{}", sd_found.source);
        assert!(sd_found.newest.is_some());
        let empty = all.iter().find(|f| f.dir == legacy).unwrap();
        assert_eq!((empty.replays, empty.newest.clone()), (0, None));
        // Folders holding replays come first.
        assert!(all[0].newest.is_some() && all.last().unwrap().newest.is_none());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_steam_root_is_found_once_and_missing_folders_are_still_watched() {
        let tmp = tempfile::tempdir().unwrap();
        let home = Home::linux(tmp.path());
        let steam = home.data.join("Steam");
        std::fs::create_dir_all(steam.join("steamapps")).unwrap();
        std::fs::create_dir_all(tmp.path().join(".steam")).unwrap();
        std::os::unix::fs::symlink(&steam, tmp.path().join(".steam/steam")).unwrap();
        let dir = demos(
            &steam.join("steamapps/compatdata/252950/pfx"),
            "steamuser",
            "Documents",
            "Demos",
        );
        assert_eq!(find(&home).len(), 1);
        assert_eq!(find(&home)[0].dir, dir);
        // Before the first launch nothing exists, yet the Steam prefix is watched for.
        let fresh = tempfile::tempdir().unwrap();
        let home = Home::linux(fresh.path());
        std::fs::create_dir_all(home.data.join("Steam/steamapps")).unwrap();
        let watched = watch_list(&home);
        assert!(
            watched.contains(
                &home
                    .data
                    .join("Steam/steamapps/compatdata/252950/pfx/drive_c/users/steamuser/Documents")
                    .join("My Games/Rocket League/TAGame/Demos")
            )
        );
        assert!(find(&home).is_empty());
    }

    #[test]
    fn windows_uses_the_known_folder_and_probes_both_documents() {
        let tmp = tempfile::tempdir().unwrap();
        let onedrive_docs = tmp.path().join("OneDrive/Documents");
        let home = Home {
            os: Os::Windows,
            home: tmp.path().to_path_buf(),
            documents: Some(onedrive_docs.clone()),
            config: tmp.path().join("AppData/Roaming"),
            data: tmp.path().join("AppData/Roaming"),
        };
        let steam = onedrive_docs.join("My Games/Rocket League/TAGame/Demos");
        let epic = onedrive_docs.join("My Games/Rocket League/TAGame/DemosEpic");
        let stale = tmp
            .path()
            .join("Documents/My Games/Rocket League/TAGame/Demos");
        for dir in [&steam, &epic, &stale] {
            std::fs::create_dir_all(dir).unwrap();
        }
        write(&epic.join("E.replay"), b"e");
        assert_eq!(
            found_dirs(&home),
            [steam, epic.clone(), stale].into_iter().collect()
        );
        assert_eq!(
            find(&home)[0].dir,
            epic,
            "the folder with the newest replay first"
        );
        assert_eq!(find(&home)[0].source, "Documents");
    }

    #[test]
    fn macos_has_only_the_legacy_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let mut home = Home::linux(tmp.path());
        home.os = Os::MacOs;
        let legacy = tmp
            .path()
            .join("Library/Application Support/Rocket League/TAGame/Demos");
        std::fs::create_dir_all(&legacy).unwrap();
        assert_eq!(found_dirs(&home), [legacy].into_iter().collect());
    }
}
