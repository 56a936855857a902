//! The client's error type: one variant per meaning of a failed call, decided by the HTTP
//! status first and the body second, so an HTML gateway page never hides a 504.

use std::time::Duration;

use reqwest::StatusCode;

use crate::response::Operation;

/// The longest body excerpt kept in an error, in bytes.
const SNIPPET_LEN: usize = 200;

/// Everything a call can fail with. No variant's message or `Debug` contains the token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 400: the server refused the request; for uploads this is permanent for that file.
    #[error("{operation}: rejected by ballchasing (400): {message}")]
    BadRequest {
        /// The operation.
        operation: Operation,
        /// The server's `error` text, or a body excerpt.
        message: String,
    },
    /// 401: the token is missing or refused.
    #[error(
        "{operation}: ballchasing refused the API token (401: {message}); create or copy a token at https://ballchasing.com/upload and set it in the config"
    )]
    Unauthorized {
        /// The operation.
        operation: Operation,
        /// The server's `error` text.
        message: String,
    },
    /// 403: not allowed (for example changing a replay someone else uploaded).
    #[error("{operation}: not allowed (403): {message}")]
    Forbidden {
        /// The operation.
        operation: Operation,
        /// The server's `error` text.
        message: String,
    },
    /// 404: no such replay or group, or not visible to this token.
    #[error("{operation}: not found (404): {message}")]
    NotFound {
        /// The operation.
        operation: Operation,
        /// The server's `error` text.
        message: String,
    },
    /// 429 from a rate limit: cool down and try again.
    #[error("{operation}: rate limited by ballchasing (429){}", retry_after_text(.retry_after))]
    RateLimited {
        /// The operation.
        operation: Operation,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// 429 whose message says the upload quota is used up: hours, not seconds, until it frees.
    #[error(
        "{operation}: upload quota exhausted (429: {message}); uploads resume when the quota window frees"
    )]
    QuotaExceeded {
        /// The operation.
        operation: Operation,
        /// The server's message.
        message: String,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// 5xx: a fault on ballchasing's side or its proxy (often an HTML page).
    #[error("{operation}: ballchasing server error ({status}): {message}")]
    Server {
        /// The operation.
        operation: Operation,
        /// The status code.
        status: StatusCode,
        /// The server's `error` text, or an excerpt of the page.
        message: String,
    },
    /// Any other status the API does not document.
    #[error("{operation}: unexpected HTTP status {status}: {snippet}")]
    UnexpectedStatus {
        /// The operation.
        operation: Operation,
        /// The status code.
        status: StatusCode,
        /// A body excerpt.
        snippet: String,
    },
    /// No answer within the configured timeout.
    #[error("{operation}: ballchasing did not answer in time")]
    Timeout {
        /// The operation.
        operation: Operation,
    },
    /// The connection failed or broke (DNS, refused, reset, TLS).
    #[error("{operation}: could not reach ballchasing: {source}")]
    Transport {
        /// The operation.
        operation: Operation,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// A success status whose body did not decode.
    #[error(
        "{operation}: could not decode the answer ({status}): {source}; body starts with: {snippet}"
    )]
    Decode {
        /// The operation.
        operation: Operation,
        /// The status code.
        status: StatusCode,
        /// A body excerpt.
        snippet: String,
        /// The decoder's error.
        #[source]
        source: serde_json::Error,
    },
    /// The call was refused on this side before anything was sent.
    #[error("{operation}: {reason}")]
    InvalidInput {
        /// The operation.
        operation: Operation,
        /// What is wrong with the input.
        reason: String,
    },
    /// A pagination `next` link pointed away from the API; it was not followed.
    #[error(
        "{operation}: refused to follow a next-page link that leaves the API ({url}); the token is only ever sent to the configured API"
    )]
    UnsafeNext {
        /// The operation.
        operation: Operation,
        /// The link the server sent.
        url: String,
    },
    /// Writing a download failed.
    #[error("{operation}: could not write the download: {source}")]
    Io {
        /// The operation.
        operation: Operation,
        /// The writer's error.
        #[source]
        source: std::io::Error,
    },
    /// The client could not be built (bad base URL, TLS setup).
    #[error("invalid client configuration: {0}")]
    Config(String),
}

fn retry_after_text(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(delay) => format!("; retry after {} s", delay.as_secs_f64().ceil()),
        None => String::new(),
    }
}

impl Error {
    /// The operation that failed, when the error belongs to one.
    pub fn operation(&self) -> Option<Operation> {
        match self {
            Error::BadRequest { operation, .. }
            | Error::Unauthorized { operation, .. }
            | Error::Forbidden { operation, .. }
            | Error::NotFound { operation, .. }
            | Error::RateLimited { operation, .. }
            | Error::QuotaExceeded { operation, .. }
            | Error::Server { operation, .. }
            | Error::UnexpectedStatus { operation, .. }
            | Error::Timeout { operation }
            | Error::Transport { operation, .. }
            | Error::Decode { operation, .. }
            | Error::InvalidInput { operation, .. }
            | Error::UnsafeNext { operation, .. }
            | Error::Io { operation, .. } => Some(*operation),
            Error::Config(_) => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::BadRequest { .. } => Some(StatusCode::BAD_REQUEST),
            Error::Unauthorized { .. } => Some(StatusCode::UNAUTHORIZED),
            Error::Forbidden { .. } => Some(StatusCode::FORBIDDEN),
            Error::NotFound { .. } => Some(StatusCode::NOT_FOUND),
            Error::RateLimited { .. } | Error::QuotaExceeded { .. } => {
                Some(StatusCode::TOO_MANY_REQUESTS)
            }
            Error::Server { status, .. }
            | Error::UnexpectedStatus { status, .. }
            | Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True when the same request may succeed later without any change: server faults,
    /// gateway pages, timeouts, broken connections and rate limits. Quota, 4xx and local
    /// errors are not: repeating them only hammers the server.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Server { .. } | Error::Timeout { .. } => true,
            Error::Transport { source, .. } => !source.is_builder(),
            _ => false,
        }
    }
}

/// Maps a non-success status and its body to the error it means.
pub(crate) fn classify(
    operation: Operation,
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Error {
    let message = error_message(body);
    match status.as_u16() {
        400 => Error::BadRequest { operation, message },
        401 => Error::Unauthorized { operation, message },
        403 => Error::Forbidden { operation, message },
        404 => Error::NotFound { operation, message },
        429 if message.to_ascii_lowercase().contains("quota") => Error::QuotaExceeded {
            operation,
            message,
            retry_after,
        },
        429 => Error::RateLimited {
            operation,
            retry_after,
        },
        500..=599 => Error::Server {
            operation,
            status,
            message,
        },
        _ => Error::UnexpectedStatus {
            operation,
            status,
            snippet: snippet(body),
        },
    }
}

/// The `error` field of a JSON body, else a short excerpt of whatever the body is.
pub(crate) fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        error: String,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(parsed) => truncate(parsed.error.trim()),
        Err(_) if body.iter().all(u8::is_ascii_whitespace) => "(empty body)".to_owned(),
        Err(_) => snippet(body),
    }
}

/// A one-line excerpt of a body for messages: HTML tags dropped, whitespace folded, cut short.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(4 * SNIPPET_LEN)]);
    let mut out = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if in_tag => {}
            c if c.is_whitespace() => out.push(' '),
            c => out.push(c),
        }
    }
    let folded = out.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.is_empty() {
        "(empty body)".to_owned()
    } else {
        truncate(&folded)
    }
}

fn truncate(text: &str) -> String {
    if text.len() <= SNIPPET_LEN {
        return text.to_owned();
    }
    let mut end = SNIPPET_LEN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(status: u16, body: &str) -> Error {
        classify(
            Operation::Upload,
            StatusCode::from_u16(status).unwrap(),
            None,
            body.as_bytes(),
        )
    }

    #[test]
    fn status_decides_and_body_only_explains() {
        let cases: &[(u16, &str, &str)] = &[
            (
                400,
                r#"{"error":"\"file\" not a .replay file","chat":{}}"#,
                "BadRequest",
            ),
            (401, r#"{"error":"missing API key"}"#, "Unauthorized"),
            (403, "", "Forbidden"),
            (404, "<html>nope</html>", "NotFound"),
            (429, "", "RateLimited"),
            (
                429,
                r#"{"error":"upload quota exceeded for 24h"}"#,
                "QuotaExceeded",
            ),
            (
                500,
                r#"{"error":"ballchasing.com fault. db down"}"#,
                "Server",
            ),
            (
                504,
                "<html><body><h1>504 Gateway Time-out</h1></body></html>",
                "Server",
            ),
            (418, "teapot", "UnexpectedStatus"),
        ];
        for (status, body, expected) in cases {
            let err = class(*status, body);
            let name = format!("{err:?}");
            assert!(name.starts_with(expected), "{status} {body}: {name}");
            assert_eq!(err.status().unwrap().as_u16(), *status);
        }
    }

    #[test]
    fn html_pages_become_short_readable_messages() {
        let err = class(
            504,
            "<html>\n<head><title>504 Gateway Time-out</title></head>\n<body>\n<center><h1>504 Gateway Time-out</h1></center>\n<hr><center>nginx</center></body></html>",
        );
        assert_eq!(
            err.to_string(),
            "upload: ballchasing server error (504 Gateway Timeout): 504 Gateway Time-out 504 Gateway Time-out nginx"
        );
        assert!(err.is_transient());
        let long = "x".repeat(5000);
        assert!(snippet(long.as_bytes()).chars().count() <= SNIPPET_LEN + 1);
        assert_eq!(error_message(b"  "), "(empty body)");
    }

    #[test]
    fn only_transient_errors_are_transient() {
        assert!(class(429, "").is_transient());
        assert!(class(502, "").is_transient());
        for permanent in [400, 401, 403, 404, 418] {
            assert!(!class(permanent, "").is_transient(), "{permanent}");
        }
        assert!(!class(429, r#"{"error":"Quota reached"}"#).is_transient());
    }
}
