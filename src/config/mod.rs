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
    /// An environment variable holds a value that cannot be used.
    #[error("{name} (environment): {problem}")]
    Environment {
        /// The variable.
        name: &'static str,
        /// What is wrong.
        problem: String,
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
                    format!(
                        "is {r}; use a number of uploads per second above 0 and at most 10 (0.5, the default, is one every 2 seconds)"
                    ),
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
        // The file's address is checked even when the environment's wins: the service,
        // started without the variable, would use it. The client checks scheme and host;
        // done here too so the line is named.
        let file_url = doc.text("api_url")?;
        if let Some(url) = &file_url
            && let Err(e) = Client::builder("check").base_url(url).build()
        {
            return Err(doc.error("api_url", redact_userinfo(&e.to_string(), url)));
        }
        let api_url = match api_url_from_env() {
            Some(url) => {
                Client::builder("check")
                    .base_url(&url)
                    .build()
                    .map_err(|e| ConfigError::Environment {
                        name: API_URL_ENV,
                        problem: redact_userinfo(&e.to_string(), &url),
                    })?;
                url
            }
            None => file_url.unwrap_or_else(|| crate::api::DEFAULT_BASE_URL.to_owned()),
        };

        let mut token_source = None;
        let token = if let Some(env) = env_token.filter(|t| !t.trim().is_empty()) {
            Some(Token::new(env))
        } else if let Some(t) = doc.text("token")? {
            token_source = path.clone();
            Some(Token::new(t)).filter(|t| !t.is_empty())
        } else if let Some(file) = doc.path("token_file")? {
            let file = base.join(file);
            let token_error = |source| ConfigError::TokenFile {
                path: file.clone(),
                source,
            };
            // Read as the config is: a byte-order mark or UTF-16 (what PowerShell writes) is
            // never sent as part of the token.
            let bytes = std::fs::read(&file).map_err(token_error)?;
            let text = document::decode(&bytes).map_err(|problem| {
                token_error(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    problem,
                ))
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
            value.as_str().map(|s| base.join(document::expand_home(s)))
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

/// How long a person waits for ballchasing at most in `check` and `init`.
pub const QUICK_TIMEOUT: Duration = Duration::from_secs(20);

/// A client that tries once and waits at most `QUICK_TIMEOUT` (or `timeout`, if shorter).
pub fn quick_client(token: Token, api_url: &str, timeout: Duration) -> Result<Client, api::Error> {
    Client::builder(token)
        .base_url(api_url)
        .user_agent(concat!("autochase/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout.min(QUICK_TIMEOUT))
        .retry(RetryPolicy::none())
        .build()
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

    /// How to give autochase a token, for when it has none: into the config file when there
    /// is one (`init` would refuse to write over it), else `autochase init`.
    pub fn token_advice(&self) -> String {
        const WHERE: &str = "create one at https://ballchasing.com/upload";
        match &self.path {
            Some(path) => format!(
                "add `token = \"…\"` to {} ({WHERE}), or set BALLCHASING_TOKEN",
                path.display()
            ),
            None => format!("run `autochase init` ({WHERE}), or set BALLCHASING_TOKEN"),
        }
    }

    /// The client for a person waiting at a prompt (`check`, `init`): one try, answered
    /// within 20 s (or `request_timeout` when shorter), so a silent server is said at once.
    pub fn quick_client(&self) -> Result<Option<Client>, api::Error> {
        let Some(token) = self.token.clone() else {
            return Ok(None);
        };
        quick_client(token, &self.api_url, self.request_timeout).map(Some)
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
mod tests;
