//! Reading the config file's values one key at a time, each with the line it is on, so every
//! error names the key and line and says what is expected in words (never a Rust type), and
//! nothing of the token line is ever repeated in a message.

use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::ConfigError;

/// Every key the config knows, with what it takes, in words.
pub const KEYS: &[(&str, &str)] = &[
    ("token", "text in quotes"),
    ("token_file", "a file path in quotes"),
    ("replay_dirs", "a list of folders, e.g. ['/path/to/Demos']"),
    ("visibility", "\"public\", \"unlisted\" or \"private\""),
    ("group", "a ballchasing group id in quotes"),
    ("api_url", "an https address in quotes"),
    ("state_dir", "a folder path in quotes"),
    ("backfill", "true or false"),
    ("upload_rate", "uploads per second, e.g. 0.5"),
    ("rescan_interval", "a number of seconds"),
    ("invalid_after", "a number of seconds"),
    ("max_replay_size_mb", "a number of megabytes"),
    ("request_timeout", "a number of seconds"),
    ("log_file", "a file path in quotes"),
    (
        "title",
        "a template in quotes, e.g. \"{match_type} {map} {date}\"",
    ),
    (
        "only_match_types",
        "a list of match types, e.g. [\"Online\"]",
    ),
    (
        "skip_match_types",
        "a list of match types, e.g. [\"Private\"]",
    ),
    ("min_duration", "a number of seconds"),
    ("group_by", "\"day\" or \"session\""),
    ("session_gap", "a number of seconds"),
    ("notifications", "true or false"),
];

/// How to write a Windows path in TOML, for the hints.
const WINDOWS_PATHS: &str = "in double quotes a backslash starts an escape: write Windows paths in single quotes, e.g. replay_dirs = ['C:\\Users\\me\\Documents\\My Games\\Rocket League\\TAGame\\Demos']";

/// A parsed config file.
pub struct Document<'a> {
    text: &'a str,
    shown: PathBuf,
    table: DeTable<'a>,
}

impl<'a> Document<'a> {
    /// Parses `text`; a syntax error names the line (and its key) and never repeats the
    /// token.
    pub fn parse(shown: &Path, text: &'a str) -> Result<Document<'a>, ConfigError> {
        let table = DeTable::parse(text).map_err(|e| {
            let at = e.span().map_or(0, |s| s.start);
            let (line, key) = line_and_key(text, at);
            let mut message = e.message().trim().to_owned();
            let raw_line = text.lines().nth(line - 1).unwrap_or_default();
            if key.as_deref() == Some("token") {
                // The line holds the secret: say what is wrong without any of its text.
                message = "the value must be in quotes, e.g. token = \"…\"".into();
            } else if raw_line.contains('\\') && raw_line.contains('"') {
                message.push_str("; ");
                message.push_str(WINDOWS_PATHS);
            }
            ConfigError::Syntax {
                path: shown.to_path_buf(),
                line,
                key,
                message,
            }
        })?;
        let doc = Document {
            text,
            shown: shown.to_path_buf(),
            table: table.into_inner(),
        };
        doc.check_keys()?;
        Ok(doc)
    }

    /// Refuses keys the config does not know, suggesting the one meant.
    fn check_keys(&self) -> Result<(), ConfigError> {
        for key in self.table.keys() {
            let name: &str = key.get_ref();
            if !KEYS.iter().any(|(k, _)| *k == name) {
                let line = line_of(self.text, key.span().start);
                let problem = match closest(name) {
                    Some(known) => format!("is not a setting; did you mean `{known}`?"),
                    None => "is not a setting (config.example.toml lists them all)".into(),
                };
                return Err(ConfigError::Value {
                    path: self.shown.clone(),
                    key: name.to_owned(),
                    line,
                    problem,
                });
            }
        }
        Ok(())
    }

    fn entry(&self, key: &str) -> Option<&Spanned<DeValue<'a>>> {
        self.table
            .iter()
            .find(|(k, _)| k.get_ref() == key)
            .map(|(_, v)| v)
    }

    /// An error about `key`'s value: its line, and what is wrong.
    pub fn error(&self, key: &str, problem: impl Into<String>) -> ConfigError {
        let at = self.entry(key).map_or(0, |v| v.span().start);
        ConfigError::Value {
            path: self.shown.clone(),
            key: key.to_owned(),
            line: line_of(self.text, at),
            problem: problem.into(),
        }
    }

    fn expected(&self, key: &str) -> ConfigError {
        let wants = KEYS
            .iter()
            .find(|(k, _)| *k == key)
            .map_or("something else", |(_, w)| *w);
        let got = match key {
            "token" => String::new(),
            _ => self
                .entry(key)
                .map(|v| format!(" (it is {})", describe(v.get_ref())))
                .unwrap_or_default(),
        };
        self.error(key, format!("must be {wants}{got}"))
    }

    /// A text value.
    pub fn text(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.entry(key).map(|v| v.get_ref()) {
            None => Ok(None),
            Some(value) => value
                .as_str()
                .map(|s| Some(s.to_owned()))
                .ok_or_else(|| self.expected(key)),
        }
    }

    /// A path value; one holding a line break or a tab was a Windows path in double quotes.
    pub fn path(&self, key: &str) -> Result<Option<PathBuf>, ConfigError> {
        match self.text(key)? {
            Some(text) => Ok(Some(self.checked_path(key, text)?)),
            None => Ok(None),
        }
    }

    fn checked_path(&self, key: &str, text: String) -> Result<PathBuf, ConfigError> {
        if text.contains(['\n', '\r', '\t', '\u{7}', '\u{8}', '\u{c}']) {
            return Err(self.error(
                key,
                format!("holds a control character where a backslash was meant; {WINDOWS_PATHS}"),
            ));
        }
        Ok(expand_home(&text))
    }

    /// A list of text values.
    pub fn texts(&self, key: &str) -> Result<Option<Vec<String>>, ConfigError> {
        let Some(value) = self.entry(key).map(|v| v.get_ref()) else {
            return Ok(None);
        };
        let items = value.as_array().ok_or_else(|| self.expected(key))?;
        items
            .iter()
            .map(|item| {
                item.get_ref()
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| self.expected(key))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A list of paths.
    pub fn paths(&self, key: &str) -> Result<Option<Vec<PathBuf>>, ConfigError> {
        match self.texts(key)? {
            Some(texts) => texts
                .into_iter()
                .map(|t| self.checked_path(key, t))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            None => Ok(None),
        }
    }

    /// A true/false value.
    pub fn flag(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        match self.entry(key).map(|v| v.get_ref()) {
            None => Ok(None),
            Some(value) => value.as_bool().map(Some).ok_or_else(|| self.expected(key)),
        }
    }

    /// A number, whole or not.
    pub fn number(&self, key: &str) -> Result<Option<f64>, ConfigError> {
        let Some(value) = self.entry(key).map(|v| v.get_ref()) else {
            return Ok(None);
        };
        let parsed = if let Some(i) = value.as_integer() {
            i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
                .ok()
                .map(|i| i as f64)
        } else {
            value
                .as_float()
                .and_then(|f| f.as_str().replace('_', "").parse::<f64>().ok())
        };
        parsed.map(Some).ok_or_else(|| self.expected(key))
    }

    /// A whole number between `min` and `max`.
    pub fn whole(&self, key: &str, min: u64, max: u64) -> Result<Option<u64>, ConfigError> {
        let Some(value) = self.entry(key).map(|v| v.get_ref()) else {
            return Ok(None);
        };
        let int = value.as_integer().ok_or_else(|| self.expected(key))?;
        let n = u64::from_str_radix(&int.as_str().replace('_', ""), int.radix()).ok();
        match n {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => {
                // The unit as the key table says it: "a number of seconds" → "seconds".
                let unit = KEYS
                    .iter()
                    .find(|(k, _)| *k == key)
                    .and_then(|(_, kind)| kind.strip_prefix("a number of "))
                    .map_or(String::new(), |unit| format!(" {unit}"));
                Err(self.error(
                    key,
                    format!("is {}; use {min} to {max}{unit}", int.as_str()),
                ))
            }
        }
    }

    /// A number of seconds between `min` and `max`, or `default`.
    pub fn seconds(
        &self,
        key: &str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<Duration, ConfigError> {
        Ok(Duration::from_secs(
            self.whole(key, min, max)?.unwrap_or(default),
        ))
    }
}

/// A value's kind, for "it is …"; never its content beyond a short text.
fn describe(value: &DeValue<'_>) -> String {
    if let Some(text) = value.as_str() {
        let short: String = text.chars().take(40).collect();
        format!("the text \"{short}\"")
    } else if value.is_integer() || value.is_float() {
        "a number".into()
    } else if value.is_bool() {
        "true or false".into()
    } else if value.is_array() {
        "a list".into()
    } else if value.is_table() {
        "a table".into()
    } else {
        "a date".into()
    }
}

/// The 1-based line of byte offset `at`.
pub fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// The line of `at` and the key written at its start, if any.
fn line_and_key(text: &str, at: usize) -> (usize, Option<String>) {
    let line = line_of(text, at);
    let key = text.lines().nth(line - 1).and_then(|l| {
        let (key, _) = l.split_once('=')?;
        let key = key.trim();
        (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .then(|| key.to_owned())
    });
    (line, key)
}

/// The known key nearest to a misspelt one, when it is near enough.
fn closest(name: &str) -> Option<&'static str> {
    KEYS.iter()
        .map(|(k, _)| (distance(name, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

/// Edit distance (insertions, deletions, substitutions).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Config text from a file's bytes: UTF-8 (a byte-order mark dropped, as Notepad writes it)
/// or UTF-16 with its mark (what PowerShell 5.1's `>` writes).
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    let utf16 = |bytes: &[u8], le: bool| {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| match le {
                true => u16::from_le_bytes([c[0], c[1]]),
                false => u16::from_be_bytes([c[0], c[1]]),
            })
            .collect();
        String::from_utf16(&units).map_err(|_| "it is not valid UTF-16 text".to_string())
    };
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => std::str::from_utf8(rest).map(str::to_owned),
        [0xFF, 0xFE, rest @ ..] => return utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => return utf16(rest, false),
        _ => std::str::from_utf8(bytes).map(str::to_owned),
    }
    .map_err(|_| {
        "it is not UTF-8 text; save it as UTF-8 (in PowerShell: `Set-Content -Encoding utf8`)"
            .to_string()
    })
}

/// `~` alone or followed by a separator is the home folder, as in a shell (`~user` is not
/// expanded: a folder may be named that way).
pub(super) fn expand_home(text: &str) -> PathBuf {
    let rest = match text.strip_prefix('~') {
        Some("") => Some(""),
        Some(rest) if rest.starts_with(['/', '\\']) => Some(&rest[1..]),
        _ => None,
    };
    match (rest, directories::BaseDirs::new()) {
        (Some(""), Some(dirs)) => dirs.home_dir().to_path_buf(),
        (Some(rest), Some(dirs)) => dirs.home_dir().join(rest),
        _ => PathBuf::from(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_keys_get_the_nearest_one_and_far_ones_none() {
        assert_eq!(closest("tokn"), Some("token"));
        assert_eq!(closest("visiblity"), Some("visibility"));
        assert_eq!(closest("replay_dir"), Some("replay_dirs"));
        assert_eq!(closest("colour_scheme"), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn utf8_with_a_mark_and_utf16_either_way_are_read() {
        assert_eq!(
            decode(b"\xEF\xBB\xBFbackfill = true").unwrap(),
            "backfill = true"
        );
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("a = 1".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&le).unwrap(), "a = 1");
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("a = 1".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(&be).unwrap(), "a = 1");
        assert!(decode(b"\xff\x00\xfe").unwrap_err().contains("UTF-8"));
    }
}
