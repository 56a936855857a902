//! Configuration: the TOML file, its defaults, and the environment overrides. Every error
//! names the key and line so the user knows what to fix.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::api::{self, Client, RetryPolicy, Token, Visibility};
use crate::discover;
use crate::filter::Filter;
use crate::groups::{GroupBy, GroupRule};
use crate::platform::Home;
use crate::title::Template;
use crate::watcher::Folders;

/// Environment variable that names the config file.
pub const CONFIG_ENV: &str = "AUTOCHASE_CONFIG";
/// Environment variable holding the token; it wins over the file.
pub const TOKEN_ENV: &str = "BALLCHASING_TOKEN";

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
    /// TOML syntax, an unknown key or a value of the wrong type.
    #[error("config {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// toml's message (it names the key, line and column).
        message: String,
    },
    /// A value of the right type that makes no sense.
    #[error("config {path}, line {line}: `{key}` {problem}")]
    Value {
        /// The file.
        path: PathBuf,
        /// The key.
        key: &'static str,
        /// 1-based line.
        line: usize,
        /// What is wrong and what is expected.
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    token: Option<Spanned<String>>,
    token_file: Option<PathBuf>,
    replay_dirs: Option<Vec<PathBuf>>,
    visibility: Option<Spanned<String>>,
    group: Option<String>,
    api_url: Option<Spanned<String>>,
    state_dir: Option<PathBuf>,
    backfill: Option<bool>,
    upload_rate: Option<Spanned<f64>>,
    rescan_interval: Option<Spanned<u64>>,
    invalid_after: Option<Spanned<u64>>,
    max_replay_size_mb: Option<Spanned<u64>>,
    request_timeout: Option<Spanned<u64>>,
    log_file: Option<PathBuf>,
    title: Option<Spanned<String>>,
    only_match_types: Option<Vec<String>>,
    skip_match_types: Option<Vec<String>>,
    min_duration: Option<Spanned<u64>>,
    group_by: Option<Spanned<String>>,
    session_gap: Option<Spanned<u64>>,
    notifications: Option<bool>,
}

/// The platform's default config file (`~/.config/autochase/config.toml` on Linux).
pub fn default_config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "autochase").map(|d| d.config_dir().join("config.toml"))
}

/// The platform's default state folder (`~/.local/share/autochase` on Linux).
pub fn default_state_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "autochase").map(|d| d.data_dir().to_path_buf())
}

impl Config {
    /// Loads `explicit` if given (it must exist), else the default file if it exists, else
    /// built-in defaults. `BALLCHASING_TOKEN` from `env_token` wins over the file's token.
    pub fn load(explicit: Option<&Path>, env_token: Option<String>) -> Result<Config, ConfigError> {
        let (path, text) = match explicit {
            Some(path) => (
                Some(path.to_path_buf()),
                std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?,
            ),
            None => match default_config_path() {
                Some(path) if path.exists() => {
                    let text =
                        std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                            path: path.clone(),
                            source,
                        })?;
                    (Some(path), text)
                }
                _ => (None, String::new()),
            },
        };
        Config::from_toml(path, &text, env_token)
    }

    /// Parses config text; `path` is used in messages and to resolve relative paths.
    pub fn from_toml(
        path: Option<PathBuf>,
        text: &str,
        env_token: Option<String>,
    ) -> Result<Config, ConfigError> {
        let shown = path.clone().unwrap_or_else(|| PathBuf::from("(defaults)"));
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: shown.clone(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let base = path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let value_error =
            |key: &'static str, span: std::ops::Range<usize>, problem: String| ConfigError::Value {
                path: shown.clone(),
                key,
                line: text[..span.start.min(text.len())].matches('\n').count() + 1,
                problem,
            };

        let visibility = match &raw.visibility {
            None => Visibility::Public,
            Some(v) => match Visibility::parse(v.get_ref()) {
                Visibility::Other(other) => {
                    return Err(value_error(
                        "visibility",
                        v.span(),
                        format!("is {other:?}; use \"public\", \"unlisted\" or \"private\""),
                    ));
                }
                known => known,
            },
        };
        let upload_rate = match &raw.upload_rate {
            None => 0.5,
            Some(r) if r.get_ref().is_finite() && *r.get_ref() > 0.0 && *r.get_ref() <= 10.0 => {
                *r.get_ref()
            }
            Some(r) => {
                return Err(value_error(
                    "upload_rate",
                    r.span(),
                    format!(
                        "is {}; use uploads per second between 0 and 10, e.g. 0.5",
                        r.get_ref()
                    ),
                ));
            }
        };
        let seconds = |key: &'static str, v: &Option<Spanned<u64>>, default: u64, min: u64| match v
        {
            None => Ok(Duration::from_secs(default)),
            Some(s) if *s.get_ref() >= min => Ok(Duration::from_secs(*s.get_ref())),
            Some(s) => Err(value_error(
                key,
                s.span(),
                format!("is {}; use at least {min} seconds", s.get_ref()),
            )),
        };
        let rescan_interval = seconds("rescan_interval", &raw.rescan_interval, 60, 1)?;
        let invalid_after = seconds("invalid_after", &raw.invalid_after, 60, 1)?;
        let request_timeout = seconds("request_timeout", &raw.request_timeout, 120, 5)?;
        let title = match &raw.title {
            Some(t) if !t.get_ref().trim().is_empty() => Some(
                Template::parse(t.get_ref())
                    .map_err(|e| value_error("title", t.span(), e.to_string()))?,
            ),
            _ => None,
        };
        let lower = |v: &Option<Vec<String>>| -> Vec<String> {
            v.iter()
                .flatten()
                .map(|m| m.trim().to_ascii_lowercase())
                .collect()
        };
        let filter = Filter {
            only_match_types: lower(&raw.only_match_types),
            skip_match_types: lower(&raw.skip_match_types),
            min_duration: raw
                .min_duration
                .as_ref()
                .map(|s| Duration::from_secs(*s.get_ref()))
                .filter(|d| !d.is_zero()),
        };
        let session_gap = seconds("session_gap", &raw.session_gap, 7200, 60)?;
        let group = raw.group.clone().filter(|g| !g.trim().is_empty());
        let group_rule = match &raw.group_by {
            None => None,
            Some(by) => {
                let by_value = match by.get_ref().trim().to_ascii_lowercase().as_str() {
                    "day" => GroupBy::Day,
                    "session" => GroupBy::Session,
                    other => {
                        return Err(value_error(
                            "group_by",
                            by.span(),
                            format!("is {other:?}; use \"day\" or \"session\""),
                        ));
                    }
                };
                Some(GroupRule {
                    by: by_value,
                    parent: group.clone(),
                    session_gap,
                })
            }
        };
        let max_replay_size = match &raw.max_replay_size_mb {
            None => 64 * 1024 * 1024,
            Some(mb) if *mb.get_ref() >= 1 => mb.get_ref() * 1024 * 1024,
            Some(mb) => {
                return Err(value_error(
                    "max_replay_size_mb",
                    mb.span(),
                    "must be at least 1".into(),
                ));
            }
        };
        let api_url = match &raw.api_url {
            None => crate::api::DEFAULT_BASE_URL.to_owned(),
            Some(url) => {
                // The client checks scheme and host; do it here too so the line is named.
                if let Err(e) = crate::api::Client::builder("check")
                    .base_url(url.get_ref())
                    .build()
                {
                    return Err(value_error("api_url", url.span(), e.to_string()));
                }
                url.get_ref().clone()
            }
        };

        let mut token_source = None;
        let token = if let Some(env) = env_token.filter(|t| !t.trim().is_empty()) {
            Some(Token::new(env))
        } else if let Some(t) = &raw.token {
            token_source = path.clone();
            Some(Token::new(t.get_ref().clone())).filter(|t| !t.is_empty())
        } else if let Some(file) = &raw.token_file {
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

        let discover = raw.replay_dirs.is_none();
        // Discovery runs where folders are needed (before each scan, in `check`), not at
        // every load: `status`, `retry` and each reload would pay for it for nothing.
        let replay_dirs = raw
            .replay_dirs
            .map(|dirs| dirs.into_iter().map(|d| base.join(d)).collect())
            .unwrap_or_default();
        let state_dir = match raw.state_dir {
            Some(dir) => base.join(dir),
            None => default_state_dir().ok_or(ConfigError::NoHome("state_dir"))?,
        };
        Ok(Config {
            path,
            token,
            replay_dirs,
            discover,
            visibility,
            group: raw.group.filter(|g| !g.trim().is_empty()),
            api_url,
            state_dir,
            backfill: raw.backfill.unwrap_or(false),
            upload_rate,
            rescan_interval,
            invalid_after,
            max_replay_size,
            request_timeout,
            log_file: raw.log_file.map(|f| base.join(f)),
            title,
            filter,
            group_rule,
            notifications: raw.notifications.unwrap_or(false),
            pauses: Pauses::default(),
            token_source,
            warnings,
        })
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
                    .map(|home| discover::watch_list(&home))
                    .unwrap_or_default()
            })
        } else {
            let dirs = self.replay_dirs.clone();
            std::sync::Arc::new(move || dirs.clone())
        }
    }
}

/// The config `autochase init` writes: the documented example with the token filled in and
/// the folders found now listed (discovery stays on, so folders that appear later are found).
pub fn template(token: Option<&Token>, found: &[discover::Found]) -> String {
    let example = include_str!("../config.example.toml");
    let mut out = String::with_capacity(example.len() + 1024);
    out.push_str("# Written by `autochase init`. Every key is optional; see the comments.\n");
    for line in example.lines() {
        if line == "# token = \"...\""
            && let Some(token) = token
        {
            out.push_str("token = ");
            out.push_str(&toml::Value::String(token.expose().to_owned()).to_string());
            out.push('\n');
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if line.starts_with("# replay_dirs = ") {
            if found.is_empty() {
                out.push_str("# (No replay folder was found when this file was written.)\n");
            } else {
                out.push_str("# Found when this file was written:\n");
                for f in found {
                    out.push_str(&format!(
                        "#   {}  ({} replays; {})\n",
                        f.dir.display(),
                        f.replays,
                        f.source
                    ));
                }
            }
        }
    }
    out
}

/// A warning when the file holding the token can be read by other users (unix modes).
#[cfg(unix)]
pub fn exposed_token_warning(file: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(file).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then(|| {
        format!(
            "{} holds your ballchasing token and other users can read it (mode {mode:o}); run `chmod 600 {}`",
            file.display(),
            file.display()
        )
    })
}

/// Windows keeps files in the profile private to the user; nothing to check.
#[cfg(not(unix))]
pub fn exposed_token_warning(_file: &Path) -> Option<String> {
    None
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
    fn the_example_documents_only_real_keys() {
        let example = include_str!("../config.example.toml");
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
        // Every key the parser knows, as its unknown-key error lists them.
        let Err(ConfigError::Parse { message, .. }) = parse("no_such_key = 1") else {
            panic!("an unknown key is refused");
        };
        let mut known: Vec<&str> = message
            .split('`')
            .skip(3) // the message names the unknown key first
            .step_by(2)
            .collect();
        known.sort();
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
        let found = vec![discover::Found {
            dir: PathBuf::from("/games/Demos"),
            source: "Steam library /games".into(),
            replays: 3,
            newest: None,
        }];
        let token = Token::new("tok\"en\\with quotes");
        let text = template(Some(&token), &found);
        assert!(text.contains("#   /games/Demos  (3 replays; Steam library /games)"));
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
