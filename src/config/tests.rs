//! The config file read key by key: defaults, every error naming its key and line, paths,
//! tokens and the environment.

use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml(Some(PathBuf::from("/cfg/config.toml")), text, None)
}

#[test]
fn defaults_need_nothing() {
    let config = parse("").unwrap();
    assert_eq!(config.visibility, Visibility::Public);
    assert_eq!(config.upload_rate, 0.5);
    assert_eq!(config.rescan_interval, Duration::from_secs(60));
    assert!(!config.backfill);
    assert!(config.token.is_none());
}

#[test]
fn every_key_is_read_and_relative_paths_follow_the_file() {
    let config = parse(
        "token = \"abc\"\nreplay_dirs = [\"demos\", \"/abs\"]\nvisibility = \"private\"\n\
         group = \"g1\"\napi_url = \"http://127.0.0.1:9\"\nstate_dir = \"state\"\nbackfill = true\n\
         upload_rate = 2.0\nrescan_interval = 30\ninvalid_after = 10\nmax_replay_size_mb = 5\n",
    )
    .unwrap();
    assert_eq!(config.token.unwrap().expose(), "abc");
    assert_eq!(
        config.replay_dirs,
        [PathBuf::from("/cfg/demos"), PathBuf::from("/abs")]
    );
    assert_eq!(config.visibility, Visibility::Private);
    assert_eq!(config.group.as_deref(), Some("g1"));
    assert_eq!(config.state_dir, PathBuf::from("/cfg/state"));
    assert!(config.backfill);
    assert_eq!(config.upload_rate, 2.0);
    assert_eq!(config.rescan_interval, Duration::from_secs(30));
    assert_eq!(config.invalid_after, Duration::from_secs(10));
    assert_eq!(config.max_replay_size, 5 * 1024 * 1024);
}

#[test]
fn a_config_named_without_a_folder_still_gives_absolute_paths() {
    // `--config config.toml`: the folders are the current folder's, written out in full,
    // or the watcher's events and the scans name one file two ways.
    let config = Config::from_toml(
        Some(PathBuf::from("config.toml")),
        "replay_dirs = [\"Demos\"]\nstate_dir = \"state\"\n",
        None,
    )
    .unwrap();
    let here = std::env::current_dir().unwrap();
    assert_eq!(config.replay_dirs, [here.join("Demos")]);
    assert_eq!(config.state_dir, here.join("state"));
}

#[test]
fn a_folder_named_twice_is_watched_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("Demos")).unwrap();
    let twice = if cfg!(windows) { "demos" } else { "./Demos" };
    let config = Config::from_toml(
        Some(dir.path().join("config.toml")),
        &format!("replay_dirs = [\"Demos\", \"{twice}\", \"Other\"]\n"),
        None,
    )
    .unwrap();
    assert_eq!(
        config.replay_dirs,
        [dir.path().join("Demos"), dir.path().join("Other")]
    );
}

#[test]
fn errors_name_the_key_and_line() {
    let cases = [
        ("backfill = false\ntokn = \"x\"\n", "tokn", "line 2"),
        ("\n\nvisibility = \"secret\"\n", "visibility", "line 3"),
        ("upload_rate = -1.0\n", "upload_rate", "line 1"),
        ("\nrescan_interval = 0\n", "rescan_interval", "line 2"),
        ("backfill = \"yes\"\n", "backfill", "line 1"),
        (
            "api_url = \"http://example.com/api\"\n",
            "api_url",
            "line 1",
        ),
    ];
    for (text, key, line) in cases {
        let message = parse(text).unwrap_err().to_string();
        assert!(message.contains(key), "{message}");
        assert!(message.contains(line), "{message}");
    }
}

#[test]
fn errors_say_what_is_expected_in_words_and_suggest_the_key_meant() {
    let cases = [
        ("visiblity = \"private\"\n", "did you mean `visibility`?"),
        (
            "backfill = \"yes\"\n",
            "must be true or false (it is the text \"yes\")",
        ),
        ("rescan_interval = \"60\"\n", "must be a number of seconds"),
        ("rescan_interval = -5\n", "is -5; use 1 to 86400 seconds"),
        (
            "max_replay_size_mb = 17592186044416\n",
            "use 1 to 1024 megabytes",
        ),
        (
            "upload_rate = 0\n",
            "is 0; use a number of uploads per second above 0 and at most 10",
        ),
        (
            "replay_dirs = \"/one/folder\"\n",
            "must be a list of folders",
        ),
        ("upload_rate = true\n", "must be uploads per second"),
    ];
    for (text, expected) in cases {
        let message = parse(text).unwrap_err().to_string();
        assert!(message.contains(expected), "{text}: {message}");
        for rust in ["u64", "f64", "i64", "expected a", "invalid type"] {
            assert!(!message.contains(rust), "{text}: {message}");
        }
    }
}

#[test]
fn windows_paths_in_double_quotes_are_explained_not_mangled() {
    // A backslash escape toml refuses: the hint says to use single quotes.
    let message = parse("replay_dirs = [\"C:\\Users\\me\\Demos\"]\n")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("line 1") && message.contains("single quotes"),
        "{message}"
    );
    // An escape toml takes (\r, \n): refused instead of silently becoming a line break.
    let message = parse("state_dir = \"D:\\replays\\new\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("`state_dir`") && message.contains("single quotes"),
        "{message}"
    );
    // Single quotes work.
    let config = parse("replay_dirs = ['C:\\Users\\me\\Demos']\n").unwrap();
    assert_eq!(config.replay_dirs.len(), 1);
    assert!(
        config.replay_dirs[0]
            .to_string_lossy()
            .contains("C:\\Users\\me")
    );
}

#[test]
fn the_token_never_shows_in_a_config_error() {
    let secret = "s3cr3t-TOKEN-value-0123456789";
    for text in [
        format!("token = {secret}\n"),
        format!("token = \"{secret}\n"),
        format!("token = '{secret}\"\n"),
    ] {
        let message = parse(&text).unwrap_err().to_string();
        assert!(!message.contains("s3cr3t"), "{message}");
        assert!(
            message.contains("line 1") && message.contains("`token`"),
            "{message}"
        );
    }
    let message = parse("api_url = \"http://user:hunter2@example.com/api\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        !message.contains("hunter2") && message.contains("`api_url`"),
        "{message}"
    );
}

#[test]
fn a_utf16_config_as_powershell_writes_it_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let text = "visibility = 'private'\r\n";
    let bytes: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    std::fs::write(&path, bytes).unwrap();
    let config = Config::load(Some(&path), None).unwrap();
    assert_eq!(config.visibility, Visibility::Private);
}

#[test]
fn the_example_documents_only_real_keys() {
    let example = include_str!("../../config.example.toml");
    assert!(
        parse(example).is_ok(),
        "the example as shipped (all commented) loads"
    );
    // Uncomment every `# key = value` line: the result must still load.
    let uncommented: String = example
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| {
            l.split_once(" = ")
                .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let mut documented: Vec<&str> = uncommented
        .lines()
        .filter_map(|l| l.split_once(" = ").map(|(k, _)| k))
        .collect();
    documented.sort();
    // Every key the parser knows.
    let mut known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
    known.sort();
    assert!(
        parse("no_such_key = 1").is_err(),
        "an unknown key is refused"
    );
    assert_eq!(
        documented, known,
        "the example documents exactly the real keys"
    );
    let without_token_file: String = uncommented
        .lines()
        .filter(|l| !l.starts_with("token_file"))
        .map(|l| format!("{l}\n"))
        .collect();
    parse(&without_token_file).unwrap();
}

#[cfg(unix)]
#[test]
fn a_token_file_others_can_read_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "token = \"secret-token-value\"\n").unwrap();
    let mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    mode(&config, 0o644);
    let loaded = Config::load(Some(&config), None).unwrap();
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert!(loaded.warnings[0].contains("chmod 600"));
    assert!(!loaded.warnings[0].contains("secret-token-value"));
    mode(&config, 0o600);
    assert!(
        Config::load(Some(&config), None)
            .unwrap()
            .warnings
            .is_empty()
    );
    // The token in its own file: that file is the one that matters.
    std::fs::write(&config, "token_file = \"tok\"\n").unwrap();
    std::fs::write(dir.path().join("tok"), "secret-token-value").unwrap();
    mode(&dir.path().join("tok"), 0o640);
    let loaded = Config::load(Some(&config), None).unwrap();
    assert!(loaded.warnings[0].contains("tok"), "{:?}", loaded.warnings);
    // From the environment: no file holds it.
    let loaded = Config::load(Some(&config), Some("env".into())).unwrap();
    assert!(loaded.warnings.is_empty());
}

#[test]
fn a_bad_title_template_is_refused_at_load_with_its_line() {
    let err = parse("backfill = true\ntitle = \"{mode} {map}\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 2") && err.contains("`title`") && err.contains("{mode}"),
        "{err}"
    );
    let ok =
        parse("title = \"{map}\"\nskip_match_types = [\"Private\", \" lan\"]\nmin_duration = 60\n")
            .unwrap();
    assert_eq!(ok.title.unwrap().source(), "{map}");
    assert_eq!(ok.filter.skip_match_types, vec!["private", "lan"]);
    assert_eq!(ok.filter.min_duration, Some(Duration::from_secs(60)));
}

#[test]
fn the_init_template_holds_the_token_and_the_found_folders() {
    let found = vec![
        crate::discover::Found {
            dir: PathBuf::from("/games/Demos"),
            source: "Steam library /games".into(),
            replays: 3,
            newest: None,
        },
        crate::discover::Found {
            dir: PathBuf::from("/games/DemosEpic"),
            source: "Heroic".into(),
            replays: 1,
            newest: None,
        },
    ];
    let token = Token::new("tok\"en\\with quotes");
    let text = template(Some(&token), &found);
    assert!(text.contains("#   /games/Demos  (3 replays; Steam library /games)"));
    assert!(text.contains("#   /games/DemosEpic  (1 replay; Heroic)"));
    assert_eq!(text.matches("Every key is optional").count(), 1, "{text}");
    let config = Config::from_toml(None, &text, None).unwrap();
    assert_eq!(config.token.unwrap().expose(), "tok\"en\\with quotes");
    assert!(config.discover, "discovery stays on");
    let text = template(None, &[]);
    assert!(text.contains("No replay folder was found"));
    assert!(
        Config::from_toml(None, &text, None)
            .unwrap()
            .token
            .is_none()
    );
}

#[test]
fn the_environment_token_wins_and_token_file_is_read() {
    let config = Config::from_toml(None, "token = \"file\"\n", Some("env-token".into())).unwrap();
    assert_eq!(config.token.unwrap().expose(), "env-token");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tok"), "from-file\n").unwrap();
    let config = Config::from_toml(
        Some(dir.path().join("config.toml")),
        "token_file = \"tok\"\n",
        None,
    )
    .unwrap();
    assert_eq!(config.token.unwrap().expose(), "from-file");
    let missing = Config::from_toml(None, "token_file = \"/nonexistent/tok\"\n", None);
    assert!(missing.unwrap_err().to_string().contains("token_file"));
}

#[test]
fn a_path_starting_with_a_tilde_is_in_the_home_folder() {
    let home = directories::BaseDirs::new()
        .unwrap()
        .home_dir()
        .to_path_buf();
    let config = parse(
        "replay_dirs = [\"~/Demos\", '~\\Win']\nstate_dir = \"~/.autochase\"\nlog_file = \"~\"\n",
    )
    .unwrap();
    assert_eq!(config.replay_dirs[0], home.join("Demos"));
    assert_eq!(config.replay_dirs[1], home.join("Win"));
    assert_eq!(config.state_dir, home.join(".autochase"));
    assert_eq!(config.log_file, Some(home.clone()));
    // Only a leading `~` alone or before a separator: `~user` and `a/~` are names.
    let config = parse("replay_dirs = [\"~user/x\", \"a/~/b\"]\n").unwrap();
    assert_eq!(config.replay_dirs[0], Path::new("/cfg/~user/x"));
    assert_eq!(config.replay_dirs[1], Path::new("/cfg/a/~/b"));
}

#[test]
fn a_token_file_with_a_byte_order_mark_or_in_utf16_gives_the_bare_token() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    let cases: [(&str, Vec<u8>); 3] = [
        ("utf-8 with a mark", b"\xEF\xBB\xBFabc123\r\n".to_vec()),
        (
            "utf-16 (PowerShell 5.1 `>`)",
            [0xFF, 0xFE]
                .into_iter()
                .chain("abc123\r\n".encode_utf16().flat_map(u16::to_le_bytes))
                .collect(),
        ),
        ("plain", b"abc123\n".to_vec()),
    ];
    for (what, bytes) in cases {
        std::fs::write(dir.path().join("token"), bytes).unwrap();
        let config =
            Config::from_toml(Some(cfg.clone()), "token_file = \"token\"\n", None).unwrap();
        assert_eq!(config.token.unwrap().expose(), "abc123", "{what}");
    }
}
