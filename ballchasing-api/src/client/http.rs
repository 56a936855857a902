//! The request loop every call goes through: cooldown, rate limits, retries, the mapping of
//! statuses to errors, size-capped body reading, decoding with field paths, and scrubbing the
//! token out of every error.

use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use reqwest::header::{LOCATION, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::{debug, warn};

use super::Client;
use crate::error::{Error, RawBody, classify};
use crate::excerpt::{snippet, truncate};
use crate::limits::Category;
use crate::response::{Operation, RawResponse, Response};
use crate::token::Token;

/// Error bodies are read up to this size; the rest is not needed to explain them.
const MAX_ERROR_BODY: u64 = 64 * 1024;
/// Shortest cooldown after a 429, even one that says `Retry-After: 0`.
const MIN_COOLDOWN: Duration = Duration::from_secs(1);

type Result<T, E = Error> = std::result::Result<T, E>;

impl Client {
    /// The URL of `segments` under the base URL, each segment escaped on its own.
    pub(super) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base.clone();
        url.path_segments_mut()
            .expect("a validated http(s) URL has a path")
            .pop_if_empty()
            .extend(segments);
        url
    }

    /// A JSON call: sends, reads the body within the JSON limit, decodes it as `T`.
    pub(super) async fn json<T: DeserializeOwned>(
        &self,
        op: Operation,
        method: Method,
        segments: &[&str],
        query: &[(String, String)],
        body: Option<&impl Serialize>,
    ) -> Result<Response<T>> {
        let url = self.url(segments);
        let (resp, attempts) = self
            .send(op, || Ok(self.request(method.clone(), &url, query, body)))
            .await?;
        let raw = self
            .read_body(op, resp, attempts, self.inner.body_limits.json)
            .await?;
        Ok(Response {
            operation: op,
            value: self.decode(op, &raw)?,
            response: raw,
        })
    }

    /// A call answered by 204: whatever a 2xx carries is kept raw, never parsed.
    pub(super) async fn no_content(
        &self,
        op: Operation,
        method: Method,
        segments: &[&str],
        body: Option<&impl Serialize>,
    ) -> Result<Response<()>> {
        let url = self.url(segments);
        let (resp, attempts) = self
            .send(op, || Ok(self.request(method.clone(), &url, &[], body)))
            .await?;
        let raw = self
            .read_body(op, resp, attempts, self.inner.body_limits.json)
            .await?;
        Ok(Response {
            operation: op,
            value: (),
            response: raw,
        })
    }

    fn request(
        &self,
        method: Method,
        url: &Url,
        query: &[(String, String)],
        body: Option<&impl Serialize>,
    ) -> RequestBuilder {
        let mut request = self.inner.http.request(method, url.clone());
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request
    }

    /// Sends a request built by `make` until it succeeds, fails for good, or the retry
    /// policy runs out. Each try first waits out any 429 cooldown and takes a rate-limit slot.
    pub(super) async fn send(
        &self,
        op: Operation,
        make: impl Fn() -> Result<RequestBuilder>,
    ) -> Result<(reqwest::Response, u32)> {
        let policy = self.inner.retry;
        let started = Instant::now();
        let mut retry = 0u32;
        loop {
            self.inner.cooldown.wait().await;
            if self.inner.rate_limit {
                self.limits().acquire(Category::of(op)).await;
            }
            let error = match make()?.send().await {
                Ok(resp) if is_success(op, resp.status()) => {
                    debug!(operation = %op, url = %resp.url(), status = resp.status().as_u16(), attempt = retry + 1, "answered");
                    return Ok((resp, retry + 1));
                }
                Ok(resp) => self.error_from(op, resp).await,
                Err(err) => transport(op, err),
            };
            if !error.is_transient() {
                return Err(error);
            }
            let limited = matches!(error, Error::RateLimited { .. });
            let bare_429 = matches!(
                error,
                Error::RateLimited {
                    retry_after: None,
                    ..
                }
            );
            // An upload answered 429 without `Retry-After` is most often a used-up quota
            // that does not say so: sending the whole file again would not help.
            if bare_429 && op == Operation::Upload {
                self.inner.cooldown.start(MIN_COOLDOWN);
                return Err(error);
            }
            let delay = match &error {
                // "Retry-After: 0" would make the retry a tight loop against a limiting
                // server; a huge one would stall every clone: clamp both ways.
                Error::RateLimited {
                    retry_after: Some(after),
                    ..
                } => (*after).clamp(MIN_COOLDOWN, self.inner.max_cooldown.max(MIN_COOLDOWN)),
                // A bare 429 asks for a pause too: never sooner than a second.
                _ if bare_429 => policy.backoff(retry, fastrand::f64()).max(MIN_COOLDOWN),
                _ => policy.backoff(retry, fastrand::f64()),
            };
            if limited {
                // Every clone pauses, not just this caller: the limit belongs to the token.
                self.inner.cooldown.start(delay);
            }
            if !policy.allows(retry, started.elapsed(), delay) {
                return Err(error);
            }
            warn!(operation = %op, attempt = retry + 1, delay_ms = delay.as_millis() as u64, error = %error, "retrying");
            if !limited {
                tokio::time::sleep(delay).await;
            }
            retry += 1;
        }
    }

    async fn error_from(&self, op: Operation, resp: reqwest::Response) -> Error {
        let status = resp.status();
        let header = |name| {
            resp.headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after =
            header(RETRY_AFTER).and_then(|v| parse_retry_after(&v, SystemTime::now()));
        let location = header(LOCATION).map(|l| truncate(&self.inner.token.scrub(&l)));
        let body = read_prefix(resp, MAX_ERROR_BODY).await;
        // The whole body is scrubbed before any excerpt is cut from it, so a cut can never
        // keep part of the token.
        let body = self.inner.token.scrub_bytes(&body);
        scrub(
            classify(op, status, retry_after, location, &body),
            &self.inner.token,
        )
    }

    /// Reads a success body, at most `limit` bytes; more is [`Error::TooLarge`].
    pub(super) async fn read_body(
        &self,
        op: Operation,
        mut resp: reqwest::Response,
        attempts: u32,
        limit: u64,
    ) -> Result<RawResponse> {
        let too_large = || Error::TooLarge {
            operation: op,
            limit,
        };
        if resp.content_length().is_some_and(|len| len > limit) {
            return Err(too_large());
        }
        let status = resp.status();
        let headers = resp.headers().clone();
        let url = resp.url().clone();
        let mut body = BytesMut::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| transport(op, e))? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(RawResponse {
            status,
            headers,
            url,
            body: body.freeze(),
            attempts,
        })
    }

    /// Decodes a body as `T`; a failure names the JSON path and keeps the whole body.
    pub(super) fn decode<T: DeserializeOwned>(
        &self,
        op: Operation,
        raw: &RawResponse,
    ) -> Result<T> {
        let token = &self.inner.token;
        let mut json = serde_json::Deserializer::from_slice(&raw.body);
        let value = serde_path_to_error::deserialize(&mut json).map_err(|err| {
            let path = err.path().to_string();
            decode_error(op, raw, &path, &err.into_inner().to_string(), token)
        })?;
        json.end()
            .map_err(|e| decode_error(op, raw, ".", &e.to_string(), token))?;
        Ok(value)
    }
}

/// A decode-class error for `raw`, with every text scrubbed.
pub(super) fn decode_error(
    op: Operation,
    raw: &RawResponse,
    path: &str,
    reason: &str,
    token: &Token,
) -> Error {
    let body = token.scrub_bytes(&raw.body);
    Error::Decode {
        operation: op,
        status: raw.status,
        path: token.scrub(path),
        reason: truncate(&token.scrub(reason)),
        snippet: snippet(&body),
        body: RawBody(body),
    }
}

fn is_success(op: Operation, status: StatusCode) -> bool {
    status.is_success() || (op == Operation::Upload && status == StatusCode::CONFLICT)
}

/// `Retry-After` as delta-seconds (saturating: any run of digits is a valid wait) or as an
/// HTTP date (relative to `now`; a date in the past means now).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

pub(super) fn transport(op: Operation, err: reqwest::Error) -> Error {
    if err.is_timeout() {
        Error::Timeout { operation: op }
    } else {
        // reqwest's message names the URL, never the headers, so the token cannot leak here.
        Error::Transport {
            operation: op,
            source: err,
        }
    }
}

pub(super) fn invalid(op: Operation, reason: impl Into<String>) -> Error {
    Error::InvalidInput {
        operation: op,
        reason: reason.into(),
    }
}

pub(super) fn check_id(op: Operation, id: &str) -> Result<&str> {
    let id = id.trim();
    if id.is_empty() {
        Err(invalid(op, "the id is empty"))
    } else {
        Ok(id)
    }
}

/// Reads at most `limit` bytes of a body; a failed read yields what arrived.
async fn read_prefix(mut resp: reqwest::Response, limit: u64) -> Bytes {
    let limit = limit as usize;
    let mut body = BytesMut::new();
    while body.len() < limit {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk[..chunk.len().min(limit - body.len())])
            }
            _ => break,
        }
    }
    body.freeze()
}

/// Removes the token from every server-provided text of an error.
pub(super) fn scrub(error: Error, token: &Token) -> Error {
    let s = |text: String| token.scrub(&text);
    match error {
        Error::BadRequest { operation, message } => Error::BadRequest {
            operation,
            message: s(message),
        },
        Error::Unauthorized { operation, message } => Error::Unauthorized {
            operation,
            message: s(message),
        },
        Error::Forbidden { operation, message } => Error::Forbidden {
            operation,
            message: s(message),
        },
        Error::NotFound { operation, message } => Error::NotFound {
            operation,
            message: s(message),
        },
        Error::QuotaExceeded {
            operation,
            message,
            retry_after,
        } => Error::QuotaExceeded {
            operation,
            message: s(message),
            retry_after,
        },
        Error::Server {
            operation,
            status,
            message,
        } => Error::Server {
            operation,
            status,
            message: s(message),
        },
        Error::Redirect {
            operation,
            status,
            location,
        } => Error::Redirect {
            operation,
            status,
            location: location.map(s),
        },
        Error::UnexpectedStatus {
            operation,
            status,
            snippet,
        } => Error::UnexpectedStatus {
            operation,
            status,
            snippet: s(snippet),
        },
        Error::UnsafeNext { operation, url } => Error::UnsafeNext {
            operation,
            url: s(url),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates_and_never_overflows() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let secs = |s: u64| Some(Duration::from_secs(s));
        assert_eq!(parse_retry_after("0", now), secs(0));
        assert_eq!(parse_retry_after(" 120 ", now), secs(120));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            secs(u64::MAX)
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(parse_retry_after(&later, now), secs(90));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(90));
        assert_eq!(parse_retry_after(&earlier, now), secs(0));
        for junk in ["", "-1", "1.5", "soon"] {
            assert_eq!(parse_retry_after(junk, now), None, "{junk}");
        }
    }
}
