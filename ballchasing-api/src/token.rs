//! The API token: kept out of every `Debug`, `Display` and error message.

use std::fmt;

/// A ballchasing.com API token. Its `Debug` and `Display` show only a short fingerprint, so a
/// token can never end up in a log line, a panic message or a state file by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token; surrounding whitespace (a trailing newline from a file) is dropped.
    pub fn new(raw: impl Into<String>) -> Self {
        let raw = raw.into();
        let trimmed = raw.trim();
        if trimmed.len() == raw.len() {
            Token(raw)
        } else {
            Token(trimmed.to_owned())
        }
    }

    /// The secret itself, for the `Authorization` header and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True for an empty token (after trimming).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A stable, non-reversible fingerprint safe to log: `…` plus the last 4 characters when
    /// the token is long enough that they reveal little, otherwise nothing.
    pub fn fingerprint(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() >= 24 {
            let tail: String = chars[chars.len() - 4..].iter().collect();
            format!("…{tail}")
        } else {
            "…".to_owned()
        }
    }

    /// Replaces every occurrence of the token in `text`, for text that came from elsewhere
    /// (a server that echoes request headers into its error page, for instance).
    pub fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 || !text.contains(self.0.as_str()) {
            text.to_owned()
        } else {
            text.replace(self.0.as_str(), "[token]")
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({})", self.fingerprint())
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token {}", self.fingerprint())
    }
}

impl From<String> for Token {
    fn from(raw: String) -> Self {
        Token::new(raw)
    }
}

impl From<&str> for Token {
    fn from(raw: &str) -> Self {
        Token::new(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_secret() {
        let token = Token::new("s3cr3tTOKENs3cr3tTOKENabcd\n");
        assert_eq!(token.expose(), "s3cr3tTOKENs3cr3tTOKENabcd");
        for shown in [
            format!("{token:?}"),
            format!("{token}"),
            token.fingerprint(),
        ] {
            assert!(!shown.contains("s3cr3t"), "{shown}");
        }
        assert_eq!(token.fingerprint(), "…abcd");
        assert_eq!(Token::new("short").fingerprint(), "…");
        assert_eq!(
            token.scrub("echo: s3cr3tTOKENs3cr3tTOKENabcd!"),
            "echo: [token]!"
        );
    }
}
