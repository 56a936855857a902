//! Configuration: the TOML file (UTF-8 or UTF-16), its defaults, and the environment
//! overrides. Every error names the key and line and says what is expected, in words.

use std::path::{Path, PathBuf};
use std::time::Duration;

mod document;
mod template;

use crate::api::{self, Client, RetryPolicy, Token, Visibility};
use crate::filter::Filter;
use crate::groups::{GroupBy, GroupRule};
use crate::platform::Home;
use crate::title::Template;
use crate::watcher::Folders;
use document::Document;

pub use document::KEYS;
pub use template::{exposed_token_warning, template};

/// Environment variable that names the config file.
pub const CONFIG_ENV: &str = "AUTOCHASE_CONFIG";
/// Environment variable holding the token; it wins over the file.
pub const TOKEN_ENV: &str = "BALLCHASING_TOKEN";
/// Environment variable naming the API address (a local proxy, a test server); it wins over
/// the file.
pub const API_URL_ENV: &str = "AUTOCHASE_API_URL";

/// The API address from the environment, if set.
pub fn api_url_from_env() -> Option<String> {
    std::env::var(API_URL_ENV)
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// The settled configuration the daemon runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it came from (`None`: built-in defaults, no file).
    pub path: Option<PathBuf>,
    /// The API token; without one, uploads wait.
    pub token: Option<Token>,
    /// The folders `replay_dirs` names (empty when `discover` is on).
    pub replay_dirs: Vec<PathBuf>,
    /// `replay_dirs` was not set: find the folders, and keep looking at every rescan.
    pub discover: bool,
    /// Visibility of new uploads.
    pub visibility: Visibility,
    /// Group to upload into.
    pub group: Option<String>,
    /// API base URL.
    pub api_url: String,
    /// Where state and the lock live.
    pub state_dir: PathBuf,
    /// Upload replays that were already there on first start.
    pub backfill: bool,
    /// Uploads per second.
    pub upload_rate: f64,
    /// How often every folder is rescanned to catch lost events.
    pub rescan_interval: Duration,
    /// How long a file must stay invalid and quiet before it is marked failed.
    pub invalid_after: Duration,
    /// Files larger than this are refused without being read whole.
    pub max_replay_size: u64,
    /// How long one request may take, upload included, before it is abandoned and retried.
    pub request_timeout: Duration,
    /// Also log to this file, rotated daily (for Windows, where nothing collects stderr).
    pub log_file: Option<PathBuf>,
    /// Title template applied after each upload we created.
    pub title: Option<Template>,
    /// Which replays to upload at all.
    pub filter: Filter,
    /// Automatic child groups per day or session (under `group`, when set).
    pub group_rule: Option<GroupRule>,
    /// Desktop notifications for uploads and failures.
    pub notifications: bool,
    /// How long uploads stop after a refused token or an exhausted quota. Not a file key: the
    /// defaults follow ballchasing's rules; tests shorten them.
    pub pauses: Pauses,
    /// The file the token was read from, when it came from a file.
    pub token_source: Option<PathBuf>,
    /// Problems worth telling the user that do not stop autochase.
    pub warnings: Vec<String>,
}

/// A config problem, with the key and line when there is one.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// TOML syntax: the line, and its key when it has one.
    #[error("config {path}, line {line}{}: {message}", key.as_ref().map(|k| format!(" (`{k}`)")).unwrap_or_default())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The key written on that line.
        key: Option<String>,
        /// What is wrong, never quoting the token.
        message: String,
    },
    /// A key that is not a setting, or a value that makes no sense for its key.
    #[error("config {path}, line {line}: `{key}` {problem}")]
    Value {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// 1-based line.
        line: usize,
        /// What is wrong and what is expected.
        problem: String,
    },
    /// The file's bytes are not text this can read.
    #[error("config {path}: {problem}")]
    Encoding {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to do.
        problem: String,
    },
    /// `token_file` could not be read.
    #[error("cannot read token_file {path}: {source}")]
    TokenFile {
        /// The token file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// No usable default location on this system.
    #[error("cannot find a home directory for the default {0}; set it in the config")]
    NoHome(&'static str),
}

/// How long uploads stop after a refused token or an exhausted quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pauses {
    /// After 401/403 (default a minute).
    pub token_refused: Duration,
    /// After a quota 429 without `Retry-After` (default 30 minutes).
    pub quota: Duration,
    /// Floor for a quota park (default a minute).
    pub quota_min: Duration,
    /// After the upload address answered 404 or a redirect (default 10 minutes).
    pub endpoint: Duration,
}

impl Default for Pauses {
    fn default() -> Pauses {
        Pauses {
            token_refused: Duration::from_secs(60),
            quota: Duration::from_secs(30 * 60),
            // At most one probe a minute, whatever `Retry-After` says.
            quota_min: Duration::from_secs(60),
            endpoint: Duration::from_secs(10 * 60),
        }
    }
}

/// The platform's default config file (`~/.config/autochase/config.toml` on Linux).
pub fn default_config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "autochase").map(|d| d.config_dir().join("config.toml"))
}

/// The platform's default state folder (`~/.local/share/autochase` on Linux; on Windows the
/// local, not roaming, application data: the state belongs to this machine's folders). A state
/// an earlier version kept in the roaming folder stays where it is.
pub fn default_state_dir() -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "autochase")?;
    let (local, roaming) = (dirs.data_local_dir(), dirs.data_dir());
    let older = roaming.join(crate::state::STATE_FILE);
    if local != roaming && !local.join(crate::state::STATE_FILE).exists() && older.exists() {
        return Some(roaming.to_path_buf());
    }
    Some(local.to_path_buf())
}

impl Config {
    /// Loads `explicit` if given (it must exist), else the default file if it exists, else
    /// built-in defaults. `BALLCHASING_TOKEN` from `env_token` wins over the file's token.
    pub fn load(explicit: Option<&Path>, env_token: Option<String>) -> Result<Config, ConfigError> {
        let path = match explicit {
            Some(path) => Some(path.to_path_buf()),
            None => default_config_path().filter(|p| p.exists()),
        };
        let Some(path) = path else {
            return Config::from_toml(None, "", env_token);
        };
        let bytes = std::fs::read(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        let text = document::decode(&bytes).map_err(|problem| ConfigError::Encoding {
            path: path.clone(),
            problem,
        })?;
        Config::from_toml(Some(path), &text, env_token)
    }

    /// Parses config text; `path` is used in messages and to resolve relative paths.
    pub fn from_toml(
        path: Option<PathBuf>,
        text: &str,
        env_token: Option<String>,
    ) -> Result<Config, ConfigError> {
        let shown = path.clone().unwrap_or_else(|| PathBuf::from("(defaults)"));
        let doc = Document::parse(&shown, text)?;
        // Relative paths in the file are relative to the file, made absolute now: a service
        // started elsewhere must find the same folders.
        // (`--config config.toml` has the parent "", which `absolute` refuses: absolute first.)
        let base = path
            .as_deref()
            .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()))
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| std::env::current_dir().unwrap_or_default());

        let visibility = match doc.text("visibility")? {
            None => Visibility::Public,
            Some(v) => match Visibility::parse(&v) {
                Visibility::Other(other) => {
                    return Err(doc.error(
                        "visibility",
                        format!("is {other:?}; use \"public\", \"unlisted\" or \"private\""),
                    ));
                }
                known => known,
            },
        };
        let upload_rate = match doc.number("upload_rate")? {
            None => 0.5,
            Some(r) if r.is_finite() && r > 0.0 && r <= 10.0 => r,
            Some(r) => {
                return Err(doc.error(
                    "upload_rate",
                    format!("is {r}; use uploads per second between 0 and 10, e.g. 0.5"),
                ));
            }
        };
        let day = 24 * 3600;
        let rescan_interval = doc.seconds("rescan_interval", 60, 1, day)?;
        let invalid_after = doc.seconds("invalid_after", 60, 1, day)?;
        let request_timeout = doc.seconds("request_timeout", 120, 5, day)?;
        let session_gap = doc.seconds("session_gap", 7200, 60, 7 * day)?;
        let title = match doc.text("title")? {
            Some(t) if !t.trim().is_empty() => {
                Some(Template::parse(&t).map_err(|e| doc.error("title", e.to_string()))?)
            }
            _ => None,
        };
        let lower = |v: Option<Vec<String>>| -> Vec<String> {
            v.into_iter()
                .flatten()
                .map(|m| m.trim().to_ascii_lowercase())
                .collect()
        };
        let filter = Filter {
            only_match_types: lower(doc.texts("only_match_types")?),
            skip_match_types: lower(doc.texts("skip_match_types")?),
            min_duration: doc
                .whole("min_duration", 0, day)?
                .map(Duration::from_secs)
                .filter(|d| !d.is_zero()),
        };
        let group = doc.text("group")?.filter(|g| !g.trim().is_empty());
        let group_rule = match doc.text("group_by")? {
            None => None,
            Some(by) => {
                let by = match by.trim().to_ascii_lowercase().as_str() {
                    "day" => GroupBy::Day,
                    "session" => GroupBy::Session,
                    other => {
                        return Err(doc.error(
                            "group_by",
                            format!("is {other:?}; use \"day\" or \"session\""),
                        ));
                    }
                };
                Some(GroupRule {
                    by,
                    parent: group.clone(),
                    session_gap,
                })
            }
        };
        // Replays are under 5 MB; 1 GB is far past any, and keeps the arithmetic honest.
        let max_replay_size = doc.whole("max_replay_size_mb", 1, 1024)?.unwrap_or(64) * 1024 * 1024;
        let api_url = match api_url_from_env().or(doc.text("api_url")?) {
            None => crate::api::DEFAULT_BASE_URL.to_owned(),
            Some(url) => {
                // The client checks scheme and host; do it here too so the line is named.
                if let Err(e) = Client::builder("check").base_url(&url).build() {
                    return Err(doc.error("api_url", redact_userinfo(&e.to_string(), &url)));
                }
                url
            }
        };

        let mut token_source = None;
        let token = if let Some(env) = env_token.filter(|t| !t.trim().is_empty()) {
            Some(Token::new(env))
        } else if let Some(t) = doc.text("token")? {
            token_source = path.clone();
            Some(Token::new(t)).filter(|t| !t.is_empty())
        } else if let Some(file) = doc.path("token_file")? {
            let file = base.join(file);
            let text = std::fs::read_to_string(&file).map_err(|source| ConfigError::TokenFile {
                path: file.clone(),
                source,
            })?;
            token_source = Some(file);
            Some(Token::new(text)).filter(|t| !t.is_empty())
        } else {
            None
        };
        let warnings = token_source
            .as_deref()
            .and_then(exposed_token_warning)
            .into_iter()
            .collect();

        let replay_dirs = doc.paths("replay_dirs")?;
        // Discovery runs where folders are needed (before each scan, in `check`), not at
        // every load: `status`, `retry` and each reload would pay for it for nothing.
        let discover = replay_dirs.is_none();
        // One folder named twice (another case on Windows, a link, `a/../a`) is watched once.
        let mut seen = std::collections::HashSet::new();
        let replay_dirs = replay_dirs
            .unwrap_or_default()
            .into_iter()
            .map(|d| base.join(d))
            .filter(|d| seen.insert(crate::platform::path_key(d)))
            .collect();
        let state_dir = match doc.path("state_dir")? {
            Some(dir) => base.join(dir),
            None => default_state_dir().ok_or(ConfigError::NoHome("state_dir"))?,
        };
        Ok(Config {
            path: path.map(|p| std::path::absolute(&p).unwrap_or(p)),
            token,
            replay_dirs,
            discover,
            visibility,
            group,
            api_url,
            state_dir,
            backfill: doc.flag("backfill")?.unwrap_or(false),
            upload_rate,
            rescan_interval,
            invalid_after,
            max_replay_size,
            request_timeout,
            log_file: doc.path("log_file")?.map(|f| base.join(f)),
            title,
            filter,
            group_rule,
            notifications: doc.flag("notifications")?.unwrap_or(false),
            pauses: Pauses::default(),
            token_source,
            warnings,
        })
    }

    /// The state folder a config names, for `status`, even when the rest of the file is
    /// broken: the value of its `state_dir` line if it reads, else the default.
    pub fn state_dir_anyway(explicit: Option<&Path>) -> Option<PathBuf> {
        let path = explicit
            .map(Path::to_path_buf)
            .or_else(default_config_path)?;
        let text = std::fs::read(&path)
            .ok()
            .and_then(|b| document::decode(&b).ok())
            .unwrap_or_default();
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let named = text.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            if key.trim() != "state_dir" {
                return None;
            }
            let value: toml::Value = toml::from_str(&format!("v = {}", value.trim()))
                .ok()
                .and_then(|t: toml::Table| t.get("v").cloned())?;
            value.as_str().map(|s| base.join(s))
        });
        named.or_else(default_state_dir)
    }
}

/// An error about an API address, without the user name or password it may carry.
fn redact_userinfo(message: &str, url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let mut clean = parsed.clone();
            let _ = clean.set_username("");
            let _ = clean.set_password(None);
            message.replace(url, clean.as_str())
        }
        _ => message.to_owned(),
    }
}

impl Config {
    /// The API client this config describes, or `None` without a token.
    pub fn client(&self) -> Result<Option<Client>, api::Error> {
        let Some(token) = self.token.clone() else {
            return Ok(None);
        };
        Client::builder(token)
            .base_url(&self.api_url)
            .user_agent(concat!("autochase/", env!("CARGO_PKG_VERSION")))
            .upload_rate(self.upload_rate)
            .timeout(self.request_timeout)
            // A long Retry-After parks uploads in the engine, recorded and shown by
            // `status`; the client's own shared cooldown stays short.
            .max_cooldown(Duration::from_secs(60))
            // The engine retries forever with its own, longer backoff; the client only
            // smooths over blips.
            .retry(RetryPolicy {
                max_retries: 2,
                base_delay: Duration::from_millis(500),
                max_delay: Duration::from_secs(5),
                budget: Duration::from_secs(30),
            })
            .build()
            .map(Some)
    }

    /// The folders to watch, asked again before every scan: discovery runs each time when
    /// the config names no folders.
    pub fn folders(&self) -> Folders {
        if self.discover {
            std::sync::Arc::new(|| {
                Home::current()
                    .map(|home| crate::discover::watch_list(&home))
                    .unwrap_or_default()
            })
        } else {
            let dirs = self.replay_dirs.clone();
            std::sync::Arc::new(move || dirs.clone())
        }
    }
}

#[cfg(test)]
mod tests {
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
            ("rescan_interval = -5\n", "is -5; use 1 to 86400"),
            ("max_replay_size_mb = 17592186044416\n", "use 1 to 1024"),
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
        let ok = parse(
            "title = \"{map}\"\nskip_match_types = [\"Private\", \" lan\"]\nmin_duration = 60\n",
        )
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
        let config =
            Config::from_toml(None, "token = \"file\"\n", Some("env-token".into())).unwrap();
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
}
