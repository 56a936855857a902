//! The client's error type: one variant per meaning of a failed call, decided by the HTTP
//! status first and the body second, so an HTML gateway page never hides a 504.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;

use crate::excerpt::{error_message, snippet};
use crate::response::Operation;

/// Everything a call can fail with. No variant's message or `Debug` contains the token:
/// every text that came from the server is scrubbed before it is stored.
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
        "{operation}: ballchasing refused the API token (401: {message}); a token is created at https://ballchasing.com/upload"
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
        /// The server's own `Retry-After` (seconds or HTTP date), unclamped; the client's
        /// shared cooldown is clamped to [`ClientBuilder::max_cooldown`](crate::ClientBuilder::max_cooldown).
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
        /// The server's own `Retry-After`, unclamped, when it sent one.
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
    /// A 3xx answer. API calls never follow redirects: a redirected upload would be repeated
    /// as a GET without its file, and the token would travel to wherever it points.
    #[error("{operation}: the API answered {status} and pointed to {}; redirects are not followed (is the base URL right?)", location.as_deref().unwrap_or("nowhere (no Location header)"))]
    Redirect {
        /// The operation.
        operation: Operation,
        /// The 3xx status.
        status: StatusCode,
        /// The `Location` header, when there was one (shortened, token scrubbed).
        location: Option<String>,
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
    /// The answer was larger than this operation's limit ([`BodyLimits`](crate::BodyLimits));
    /// reading stopped there.
    #[error("{operation}: the answer is larger than the {limit}-byte limit for it (BodyLimits)")]
    TooLarge {
        /// The operation.
        operation: Operation,
        /// The limit in bytes.
        limit: u64,
    },
    /// A success status whose body did not decode into the typed model (or, for an upload,
    /// carried no usable replay id). The whole body is kept: [`Error::body`] gives it back,
    /// for example to read it as a `serde_json::Value`.
    #[error(
        "{operation}: could not decode the answer ({status}) at `{path}`: {reason}; body starts with: {snippet}"
    )]
    Decode {
        /// The operation.
        operation: Operation,
        /// The status code.
        status: StatusCode,
        /// Where in the JSON it failed, e.g. `blue.players[2].stats.core.goals`.
        path: String,
        /// What was wrong there.
        reason: String,
        /// A body excerpt.
        snippet: String,
        /// The whole body (token scrubbed).
        body: RawBody,
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
    /// Reading an upload from disk or writing a download failed.
    #[error("{operation}: local file error: {source}")]
    Io {
        /// The operation.
        operation: Operation,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The client could not be built (bad base URL, TLS setup, bad setting).
    #[error("invalid client configuration: {0}")]
    Config(String),
}

/// A whole answer body kept in an error; its `Debug` shows only its size.
#[derive(Clone, PartialEq, Eq)]
pub struct RawBody(pub Bytes);

impl fmt::Debug for RawBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawBody({} bytes)", self.0.len())
    }
}

fn retry_after_text(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(delay) => format!("; retry after {} s", delay.as_secs_f64().ceil()),
        None => String::new(),
    }
}

impl Error {
    /// The operation that failed, when the error belongs to one.
    ///
    /// ```
    /// use ballchasing_api::{Error, Operation};
    /// let err = Error::Timeout { operation: Operation::Maps };
    /// assert_eq!(err.operation(), Some(Operation::Maps));
    /// ```
    pub fn operation(&self) -> Option<Operation> {
        match self {
            Error::BadRequest { operation, .. }
            | Error::Unauthorized { operation, .. }
            | Error::Forbidden { operation, .. }
            | Error::NotFound { operation, .. }
            | Error::RateLimited { operation, .. }
            | Error::QuotaExceeded { operation, .. }
            | Error::Server { operation, .. }
            | Error::Redirect { operation, .. }
            | Error::UnexpectedStatus { operation, .. }
            | Error::Timeout { operation }
            | Error::Transport { operation, .. }
            | Error::TooLarge { operation, .. }
            | Error::Decode { operation, .. }
            | Error::InvalidInput { operation, .. }
            | Error::UnsafeNext { operation, .. }
            | Error::Io { operation, .. } => Some(*operation),
            Error::Config(_) => None,
        }
    }

    /// The HTTP status, when the server answered.
    ///
    /// ```
    /// use ballchasing_api::{Error, Operation};
    /// let err = Error::NotFound { operation: Operation::GetReplay, message: "gone".into() };
    /// assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    /// ```
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
            | Error::Redirect { status, .. }
            | Error::UnexpectedStatus { status, .. }
            | Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True when the same request may succeed later without any change: server faults,
    /// gateway pages, timeouts, broken connections and rate limits. Quota, 4xx, redirects,
    /// oversized or undecodable answers and local errors are not: repeating them only
    /// hammers the server.
    ///
    /// ```
    /// use ballchasing_api::{Error, Operation};
    /// assert!(Error::Timeout { operation: Operation::Upload }.is_transient());
    /// assert!(!Error::TooLarge { operation: Operation::Upload, limit: 1 }.is_transient());
    /// ```
    pub fn is_transient(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Server { .. } | Error::Timeout { .. } => true,
            Error::Transport { source, .. } => !source.is_builder(),
            _ => false,
        }
    }

    /// The whole body of an answer that did not decode: the way out when one value of a
    /// real answer does not fit the typed model.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// match client.get_replay("2d7a…").await {
    ///     Ok(replay) => println!("{:?}", replay.value.title),
    ///     Err(err) => match err.body() {
    ///         Some(body) => {
    ///             let raw: serde_json::Value = serde_json::from_slice(body).unwrap();
    ///             println!("{err}; title {}", raw["title"]);
    ///         }
    ///         None => return Err(err),
    ///     },
    /// }
    /// # Ok(()) }
    /// ```
    pub fn body(&self) -> Option<&[u8]> {
        match self {
            Error::Decode { body, .. } => Some(&body.0),
            _ => None,
        }
    }
}

/// Maps a non-success status, its `Location` and its (already scrubbed) body to the error it
/// means.
pub(crate) fn classify(
    operation: Operation,
    status: StatusCode,
    retry_after: Option<Duration>,
    location: Option<String>,
    body: &[u8],
) -> Error {
    let message = error_message(body);
    match status.as_u16() {
        300..=399 => Error::Redirect {
            operation,
            status,
            location,
        },
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

#[cfg(test)]
mod tests {
    use super::*;

    fn class(status: u16, body: &str) -> Error {
        classify(
            Operation::Upload,
            StatusCode::from_u16(status).unwrap(),
            None,
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
            (301, "", "Redirect"),
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
    fn only_transient_errors_are_transient() {
        assert!(class(429, "").is_transient());
        assert!(class(502, "").is_transient());
        for permanent in [301, 302, 400, 401, 403, 404, 418] {
            assert!(!class(permanent, "").is_transient(), "{permanent}");
        }
        assert!(!class(429, r#"{"error":"Quota reached"}"#).is_transient());
    }

    #[test]
    fn messages_read_like_a_library_not_an_app() {
        let text = class(401, r#"{"error":"missing API key"}"#).to_string();
        assert!(text.contains("refused the API token"), "{text}");
        assert!(!text.contains("config"), "{text}");
        let body = RawBody(Bytes::from(vec![b'x'; 5000]));
        assert_eq!(format!("{body:?}"), "RawBody(5000 bytes)");
    }
}
