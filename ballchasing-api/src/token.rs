//! The API token: kept out of every `Debug`, `Display` and error message.

use std::fmt;

/// A ballchasing.com API token. Its `Debug` and `Display` show only a short fingerprint, so a
/// token can never end up in a log line, a panic message or a state file by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token; surrounding whitespace (a trailing newline from a file) is dropped.
    ///
    /// ```
    /// let token = ballchasing_api::Token::new("abc\n");
    /// assert_eq!(token.expose(), "abc");
    /// ```
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
    ///
    /// ```
    /// assert_eq!(ballchasing_api::Token::new("abc").expose(), "abc");
    /// ```
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True for an empty token (after trimming).
    ///
    /// ```
    /// assert!(ballchasing_api::Token::new("  ").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A stable, non-reversible fingerprint safe to log: `…` plus the last 4 characters when
    /// the token is long enough that they reveal little, otherwise nothing.
    ///
    /// ```
    /// let token = ballchasing_api::Token::new("abcdefghijklmnopqrstuvwxyz12");
    /// assert_eq!(token.fingerprint(), "…yz12");
    /// assert_eq!(format!("{token:?}"), "Token(…yz12)");
    /// ```
    pub fn fingerprint(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() >= 24 {
            let tail: String = chars[chars.len() - 4..].iter().collect();
            format!("…{tail}")
        } else {
            "…".to_owned()
        }
    }

    /// Replaces every occurrence of the token in `text` with `[token]`, and a cut-off start
    /// of it at the very end (4 characters or more), for text that came from elsewhere: a
    /// server that echoes request headers into its page, cut by a length limit.
    ///
    /// ```
    /// use ballchasing_api::Token;
    /// let token = Token::new("abcdefghijklmnopqrstuvwxyz012345");
    /// assert_eq!(token.scrub("key abcdefghijklmnopqrstuvwxyz012345!"), "key [token]!");
    /// assert_eq!(token.scrub("page cut at abcdefgh"), "page cut at [token]");
    /// assert_eq!(token.scrub("ends with abc"), "ends with abc");
    /// ```
    pub fn scrub(&self, text: &str) -> String {
        let token = self.0.as_str();
        if token.len() < 4 {
            return text.to_owned();
        }
        let mut out = if text.contains(token) {
            text.replace(token, "[token]")
        } else {
            text.to_owned()
        };
        // The longest start of the token (at least 4 bytes) that the text ends with.
        let partial = (4..token.len())
            .rev()
            .filter(|&n| token.is_char_boundary(n))
            .find(|&n| out.ends_with(&token[..n]));
        if let Some(n) = partial {
            out.truncate(out.len() - n);
            out.push_str("[token]");
        }
        out
    }

    /// [`scrub`](Token::scrub) for raw bytes; returns them unchanged (no copy) when they hold
    /// no trace of the token.
    pub(crate) fn scrub_bytes(&self, body: &bytes::Bytes) -> bytes::Bytes {
        let token = self.0.as_bytes();
        if token.len() < 4 {
            return body.clone();
        }
        let contains = body.windows(token.len()).any(|w| w == token);
        let tail = (4..token.len()).any(|n| body.ends_with(&token[..n]));
        if contains || tail {
            bytes::Bytes::from(self.scrub(&String::from_utf8_lossy(body)).into_bytes())
        } else {
            body.clone()
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
        assert_eq!(token.scrub("cut: s3cr3tTOK"), "cut: [token]");
        assert_eq!(
            token.scrub("cut: s3c"),
            "cut: s3c",
            "3 characters say nothing"
        );
        let body = bytes::Bytes::from_static(b"x s3cr3tTOKENs3cr3tTOKENabcd y");
        assert_eq!(&token.scrub_bytes(&body)[..], b"x [token] y");
        let clean = bytes::Bytes::from_static(b"nothing here");
        assert_eq!(
            token.scrub_bytes(&clean).as_ptr(),
            clean.as_ptr(),
            "no copy"
        );
    }
}
