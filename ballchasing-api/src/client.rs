//! The `Client`: one configured connection pool, the request loop (limits, cooldown,
//! retries, error mapping) and one method per API endpoint.

use std::fmt;
use std::net::IpAddr;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;
use tracing::{debug, warn};

use crate::enums::{Tier, Visibility};
use crate::error::{Error, classify, snippet};
use crate::limits::{Category, Cooldown, Limits};
use crate::models::{
    CreatedGroup, Group, GroupPage, GroupSummary, Maps, NewGroup, Ping, Replay, ReplayPage,
    ReplaySummary, UploadBody, UploadOutcome,
};
use crate::params::{GroupFilter, GroupPatch, ReplayFilter, ReplayPatch};
use crate::response::{Operation, RawResponse, Response};
use crate::retry::RetryPolicy;
use crate::token::Token;

/// The public API's address.
pub const DEFAULT_BASE_URL: &str = "https://ballchasing.com/api";

/// Error bodies are read up to this size; the rest is not needed to explain them.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// Shortest cooldown after a 429 that names its own wait.
const MIN_COOLDOWN: Duration = Duration::from_secs(1);

type Result<T, E = Error> = std::result::Result<T, E>;

/// Builds a [`Client`]. Every setting has a safe default.
#[derive(Clone)]
pub struct ClientBuilder {
    token: Token,
    base_url: String,
    tier: Option<Tier>,
    rate_limit: bool,
    rate_margin: f64,
    upload_rate: Option<f64>,
    connect_timeout: Duration,
    timeout: Duration,
    user_agent: String,
    retry: RetryPolicy,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("token", &self.token)
            .field("base_url", &self.base_url)
            .field("tier", &self.tier)
            .field("rate_limit", &self.rate_limit)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The API's base URL. `https` anywhere; plain `http` only for loopback hosts (tests,
    /// local proxies), so the token never crosses a network in the clear.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Fixes the Patreon tier whose limits apply. Without it the client starts with the
    /// strictest (`regular`) limits and adopts the tier the first successful ping reports.
    pub fn tier(mut self, tier: Tier) -> Self {
        self.tier = Some(tier);
        self
    }

    /// Turns client-side rate limiting on (default) or off. The 429 cooldown stays on.
    pub fn rate_limit(mut self, enabled: bool) -> Self {
        self.rate_limit = enabled;
        self
    }

    /// Scales every documented rate by `margin` (default 1.0; 0.5 paces at half the
    /// documented limits, which some users need in practice).
    pub fn rate_margin(mut self, margin: f64) -> Self {
        self.rate_margin = margin;
        self
    }

    /// Paces uploads at `per_second` (for example 0.5: one every two seconds). Default: none.
    pub fn upload_rate(mut self, per_second: f64) -> Self {
        self.upload_rate = Some(per_second);
        self
    }

    /// Time allowed to open a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for one whole request, body included (default 120 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Replaces the User-Agent (default `ballchasing-api/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        let base = parse_base_url(&self.base_url)?;
        if !(self.rate_margin.is_finite() && self.rate_margin > 0.0 && self.rate_margin <= 1.0) {
            return Err(Error::Config(format!(
                "rate margin must be in (0, 1], got {}",
                self.rate_margin
            )));
        }
        if let Some(rate) = self.upload_rate
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(Error::Config(format!(
                "upload rate must be a positive number of uploads per second, got {rate}"
            )));
        }
        let mut auth = HeaderValue::from_str(self.token.expose()).map_err(|_| {
            Error::Config("the API token contains characters that cannot be sent in a header; copy it again from https://ballchasing.com/upload".into())
        })?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(&self.user_agent)
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .https_only(base.scheme() == "https")
            .build()
            .map_err(|e| Error::Config(format!("cannot set up HTTPS: {e}")))?;
        let tier = self.tier.clone().unwrap_or(Tier::Regular);
        Ok(Client {
            inner: Arc::new(Inner {
                limits: Mutex::new(Arc::new(Limits::new(
                    tier,
                    self.rate_margin,
                    self.upload_rate,
                ))),
                http,
                base,
                token: self.token,
                tier_fixed: self.tier.is_some(),
                rate_limit: self.rate_limit,
                rate_margin: self.rate_margin,
                upload_rate: self.upload_rate,
                cooldown: Cooldown::default(),
                retry: self.retry,
            }),
        })
    }
}

fn parse_base_url(raw: &str) -> Result<Url> {
    let url = Url::parse(raw.trim())
        .map_err(|e| Error::Config(format!("API URL {raw:?} is not a URL: {e}")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::Config(format!(
                "API URL {raw:?} uses plain http; use https (plain http is only accepted for localhost)"
            )));
        }
        other => {
            return Err(Error::Config(format!(
                "API URL {raw:?} has scheme {other:?}; use https"
            )));
        }
    }
    if url.host().is_none() || !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Config(format!(
            "API URL {raw:?} must name a host and carry no user name or password"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!(
            "API URL {raw:?} must not have a query or fragment"
        )));
    }
    Ok(url)
}

/// One file to upload: the bytes, the name ballchasing sees, and where it goes.
#[derive(Debug, Clone)]
pub struct Upload {
    file_name: String,
    bytes: Bytes,
    visibility: Visibility,
    group: Option<String>,
}

impl Upload {
    /// An upload of `bytes` under `file_name` (`.replay` is appended when missing),
    /// public unless changed; visibility is always sent, never left to the server's default.
    pub fn new(file_name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        let mut file_name = file_name.into();
        if !file_name.to_ascii_lowercase().ends_with(".replay") {
            file_name.push_str(".replay");
        }
        Upload {
            file_name,
            bytes: bytes.into(),
            visibility: Visibility::Public,
            group: None,
        }
    }

    /// Sets the visibility.
    pub fn visibility(mut self, visibility: Visibility) -> Self {
        self.visibility = visibility;
        self
    }

    /// Puts the replay in an existing group.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// The file name sent.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The bytes sent.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }
}

/// A typed client for the ballchasing.com API. Cheap to clone; clones share the connection
/// pool, the rate limiters and the 429 cooldown.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    token: Token,
    tier_fixed: bool,
    rate_limit: bool,
    rate_margin: f64,
    upload_rate: Option<f64>,
    limits: Mutex<Arc<Limits>>,
    cooldown: Cooldown,
    retry: RetryPolicy,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.as_str())
            .field("token", &self.inner.token)
            .field("tier", &self.tier())
            .field("rate_limit", &self.inner.rate_limit)
            .finish_non_exhaustive()
    }
}

/// A list answer that may point to a next page.
trait Page {
    fn next(&self) -> Option<&str>;
}

impl Page for ReplayPage {
    fn next(&self) -> Option<&str> {
        self.next.as_deref()
    }
}

impl Page for GroupPage {
    fn next(&self) -> Option<&str> {
        self.next.as_deref()
    }
}

impl Client {
    /// A builder for a client that authenticates with `token`.
    pub fn builder(token: impl Into<Token>) -> ClientBuilder {
        ClientBuilder {
            token: token.into(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            tier: None,
            rate_limit: true,
            rate_margin: 1.0,
            upload_rate: None,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(120),
            user_agent: format!(
                "ballchasing-api/{}",
                env!("CARGO_PKG_VERSION")
            ),
            retry: RetryPolicy::default(),
        }
    }

    /// A client with every default.
    pub fn new(token: impl Into<Token>) -> Result<Client> {
        Client::builder(token).build()
    }

    /// The tier whose limits currently apply.
    pub fn tier(&self) -> Tier {
        self.limits().tier().clone()
    }

    /// The API base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The token's fingerprint, safe to log.
    pub fn token_fingerprint(&self) -> String {
        self.inner.token.fingerprint()
    }

    /// How long the 429 cooldown still runs, if one is running.
    pub fn cooldown_remaining(&self) -> Option<Duration> {
        self.inner.cooldown.remaining()
    }

    fn limits(&self) -> Arc<Limits> {
        self.inner
            .limits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `GET /`: checks the token and tells who it belongs to. When no tier was fixed at build
    /// time, the reported tier's limits apply from now on.
    pub async fn ping(&self) -> Result<Response<Ping>> {
        let response: Response<Ping> = self
            .json(Operation::Ping, Method::GET, &[""], &[], None::<&()>)
            .await?;
        if let Some(tier) = &response.value.tier
            && !self.inner.tier_fixed
            && *tier != self.tier()
        {
            debug!(%tier, "adopting the tier reported by ping");
            *self.inner.limits.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(Limits::new(
                tier.clone(),
                self.inner.rate_margin,
                self.inner.upload_rate,
            ));
        }
        Ok(response)
    }

    /// `POST /v2/upload`. A 409 is `Ok(UploadOutcome::Duplicate)` carrying the existing
    /// replay; repeating an upload whose answer was lost is therefore safe.
    pub async fn upload(&self, upload: &Upload) -> Result<Response<UploadOutcome>> {
        let op = Operation::Upload;
        let url = self.url(&["v2", "upload"]);
        let mut query = vec![("visibility", upload.visibility.to_string())];
        if let Some(group) = &upload.group {
            query.push(("group", group.clone()));
        }
        let (resp, attempts) = self
            .send(op, || {
                let part = reqwest::multipart::Part::stream_with_length(
                    reqwest::Body::from(upload.bytes.clone()),
                    upload.bytes.len() as u64,
                )
                .file_name(upload.file_name.clone())
                .mime_str("application/octet-stream")
                .expect("static mime type parses");
                self.inner
                    .http
                    .post(url.clone())
                    .query(&query)
                    .multipart(reqwest::multipart::Form::new().part("file", part))
            })
            .await?;
        let raw = self.read_body(op, resp, attempts).await?;
        let body: UploadBody = decode(op, &raw)?;
        let location = body
            .location
            .unwrap_or_else(|| format!("https://ballchasing.com/replay/{}", body.id));
        let value = if raw.status == StatusCode::CONFLICT {
            UploadOutcome::Duplicate {
                id: body.id,
                location,
            }
        } else {
            UploadOutcome::Created {
                id: body.id,
                location,
            }
        };
        Ok(Response {
            operation: op,
            value,
            response: raw,
        })
    }

    /// `GET /replays`: one page.
    pub async fn list_replays(&self, filter: &ReplayFilter) -> Result<Response<ReplayPage>> {
        let op = Operation::ListReplays;
        let query = filter.to_query().map_err(|reason| invalid(op, reason))?;
        self.json(op, Method::GET, &["replays"], &query, None::<&()>)
            .await
    }

    /// `GET /replays`, every page: re-sends the filter with each page's `after` cursor and
    /// refuses a `next` link that leaves the API.
    pub fn replay_pages(
        &self,
        filter: &ReplayFilter,
    ) -> impl Stream<Item = Result<Response<ReplayPage>>> + Send + 'static {
        let op = Operation::ListReplays;
        self.pages(op, "replays", filter.to_query().map_err(|r| invalid(op, r)))
    }

    /// `GET /replays`, every matching replay across all pages.
    pub fn replays(
        &self,
        filter: &ReplayFilter,
    ) -> impl Stream<Item = Result<ReplaySummary>> + Send + 'static {
        flatten_pages(self.replay_pages(filter), |page| page.list)
    }

    /// `GET /replays/{id}`: ok, pending or failed.
    pub async fn get_replay(&self, id: &str) -> Result<Response<Replay>> {
        let op = Operation::GetReplay;
        let id = check_id(op, id)?;
        self.json(op, Method::GET, &["replays", id], &[], None::<&()>)
            .await
    }

    /// `PATCH /replays/{id}`. An empty patch is refused instead of sent.
    pub async fn patch_replay(&self, id: &str, patch: &ReplayPatch) -> Result<Response<()>> {
        let op = Operation::PatchReplay;
        let id = check_id(op, id)?;
        if patch.is_empty() {
            return Err(invalid(op, "the patch changes nothing".into()));
        }
        self.no_content(op, Method::PATCH, &["replays", id], Some(patch))
            .await
    }

    /// `DELETE /replays/{id}`.
    pub async fn delete_replay(&self, id: &str) -> Result<Response<()>> {
        let op = Operation::DeleteReplay;
        let id = check_id(op, id)?;
        self.no_content(op, Method::DELETE, &["replays", id], None::<&()>)
            .await
    }

    /// `GET /replays/{id}/file`: streams the replay into `writer` and returns the byte count.
    /// Failures before the first byte are retried; a connection lost mid-body is not (the
    /// writer already holds part of the file), and comes back as an error.
    pub async fn download_replay<W>(&self, id: &str, writer: &mut W) -> Result<Response<u64>>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        let op = Operation::DownloadReplay;
        let id = check_id(op, id)?;
        let url = self.url(&["replays", id, "file"]);
        let (mut resp, attempts) = self.send(op, || self.inner.http.get(url.clone())).await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let final_url = resp.url().clone();
        let mut written = 0u64;
        while let Some(chunk) = resp.chunk().await.map_err(|e| transport(op, e))? {
            writer.write_all(&chunk).await.map_err(|source| Error::Io {
                operation: op,
                source,
            })?;
            written += chunk.len() as u64;
        }
        writer.flush().await.map_err(|source| Error::Io {
            operation: op,
            source,
        })?;
        Ok(Response {
            operation: op,
            value: written,
            response: RawResponse {
                status,
                headers,
                url: final_url,
                body: Bytes::new(),
                attempts,
            },
        })
    }

    /// `POST /groups`. ballchasing answers 400 when the name is taken.
    pub async fn create_group(&self, group: &NewGroup) -> Result<Response<CreatedGroup>> {
        let op = Operation::CreateGroup;
        if group.name.trim().is_empty() {
            return Err(invalid(op, "a group needs a name".into()));
        }
        self.json(op, Method::POST, &["groups"], &[], Some(group))
            .await
    }

    /// `GET /groups`: one page.
    pub async fn list_groups(&self, filter: &GroupFilter) -> Result<Response<GroupPage>> {
        let op = Operation::ListGroups;
        let query = filter.to_query().map_err(|reason| invalid(op, reason))?;
        self.json(op, Method::GET, &["groups"], &query, None::<&()>)
            .await
    }

    /// `GET /groups`, every page.
    pub fn group_pages(
        &self,
        filter: &GroupFilter,
    ) -> impl Stream<Item = Result<Response<GroupPage>>> + Send + 'static {
        let op = Operation::ListGroups;
        self.pages(op, "groups", filter.to_query().map_err(|r| invalid(op, r)))
    }

    /// `GET /groups`, every matching group across all pages.
    pub fn groups(
        &self,
        filter: &GroupFilter,
    ) -> impl Stream<Item = Result<GroupSummary>> + Send + 'static {
        flatten_pages(self.group_pages(filter), |page| page.list)
    }

    /// `GET /groups/{id}`.
    pub async fn get_group(&self, id: &str) -> Result<Response<Group>> {
        let op = Operation::GetGroup;
        let id = check_id(op, id)?;
        self.json(op, Method::GET, &["groups", id], &[], None::<&()>)
            .await
    }

    /// `PATCH /groups/{id}`. An empty patch is refused instead of sent.
    pub async fn patch_group(&self, id: &str, patch: &GroupPatch) -> Result<Response<()>> {
        let op = Operation::PatchGroup;
        let id = check_id(op, id)?;
        if patch.is_empty() {
            return Err(invalid(op, "the patch changes nothing".into()));
        }
        self.no_content(op, Method::PATCH, &["groups", id], Some(patch))
            .await
    }

    /// `DELETE /groups/{id}`: deletes the group and its child groups.
    pub async fn delete_group(&self, id: &str) -> Result<Response<()>> {
        let op = Operation::DeleteGroup;
        let id = check_id(op, id)?;
        self.no_content(op, Method::DELETE, &["groups", id], None::<&()>)
            .await
    }

    /// `GET /maps`: map code → display name.
    pub async fn maps(&self) -> Result<Response<Maps>> {
        self.json(Operation::Maps, Method::GET, &["maps"], &[], None::<&()>)
            .await
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base.clone();
        url.path_segments_mut()
            .expect("a validated http(s) URL has a path")
            .pop_if_empty()
            .extend(segments);
        url
    }

    async fn json<T: DeserializeOwned>(
        &self,
        op: Operation,
        method: Method,
        segments: &[&str],
        query: &[(String, String)],
        body: Option<&impl Serialize>,
    ) -> Result<Response<T>> {
        let url = self.url(segments);
        let (resp, attempts) = self
            .send(op, || self.request(method.clone(), &url, query, body))
            .await?;
        let raw = self.read_body(op, resp, attempts).await?;
        Ok(Response {
            operation: op,
            value: decode(op, &raw)?,
            response: raw,
        })
    }

    async fn no_content(
        &self,
        op: Operation,
        method: Method,
        segments: &[&str],
        body: Option<&impl Serialize>,
    ) -> Result<Response<()>> {
        let url = self.url(segments);
        let (resp, attempts) = self
            .send(op, || self.request(method.clone(), &url, &[], body))
            .await?;
        // 204 has no body; whatever a 200 carries is kept raw, never parsed.
        let raw = self.read_body(op, resp, attempts).await?;
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
    async fn send(
        &self,
        op: Operation,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<(reqwest::Response, u32)> {
        let policy = self.inner.retry;
        let started = Instant::now();
        let mut retry = 0u32;
        loop {
            self.inner.cooldown.wait().await;
            if self.inner.rate_limit {
                self.limits().acquire(Category::of(op)).await;
            }
            let error = match make().send().await {
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
            let delay = match &error {
                // "Retry-After: 0" would make the retry a tight loop against a limiting server.
                Error::RateLimited {
                    retry_after: Some(after),
                    ..
                } => (*after).max(MIN_COOLDOWN),
                _ => policy.backoff(retry, fastrand::f64()),
            };
            if matches!(error, Error::RateLimited { .. }) {
                // Every clone pauses, not just this caller: the limit belongs to the token.
                self.inner.cooldown.start(delay);
            }
            if !policy.allows(retry, started.elapsed(), delay) {
                return Err(error);
            }
            warn!(operation = %op, attempt = retry + 1, delay_ms = delay.as_millis() as u64, error = %error, "retrying");
            if !matches!(error, Error::RateLimited { .. }) {
                tokio::time::sleep(delay).await;
            }
            retry += 1;
        }
    }

    async fn error_from(&self, op: Operation, resp: reqwest::Response) -> Error {
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = read_limited(resp, MAX_ERROR_BODY).await;
        let error = classify(op, status, retry_after, &body);
        scrub(error, &self.inner.token)
    }

    async fn read_body(
        &self,
        op: Operation,
        resp: reqwest::Response,
        attempts: u32,
    ) -> Result<RawResponse> {
        let status = resp.status();
        let headers = resp.headers().clone();
        let url = resp.url().clone();
        let body = resp.bytes().await.map_err(|e| transport(op, e))?;
        Ok(RawResponse {
            status,
            headers,
            url,
            body,
            attempts,
        })
    }

    fn pages<P>(
        &self,
        op: Operation,
        path: &'static str,
        query: Result<Vec<(String, String)>>,
    ) -> impl Stream<Item = Result<Response<P>>> + Send + 'static
    where
        P: Page + DeserializeOwned + Send + 'static,
    {
        enum Cursor {
            First,
            After(String),
            /// The page before was fine but its `next` link was not: report that next.
            Refused(Error),
            Done,
        }
        let client = self.clone();
        stream::unfold(Cursor::First, move |cursor| {
            let client = client.clone();
            let query = query.as_ref().map(Clone::clone).map_err(|e| e.to_string());
            async move {
                let after = match cursor {
                    Cursor::Done => return None,
                    Cursor::Refused(e) => return Some((Err(e), Cursor::Done)),
                    Cursor::First => None,
                    Cursor::After(after) => Some(after),
                };
                let mut query = match query {
                    Ok(query) => query,
                    Err(reason) => return Some((Err(invalid(op, reason)), Cursor::Done)),
                };
                if let Some(after) = &after {
                    query.retain(|(key, _)| key != "after");
                    query.push(("after".into(), after.clone()));
                }
                let page: Response<P> = match client
                    .json(op, Method::GET, &[path], &query, None::<&()>)
                    .await
                {
                    Ok(page) => page,
                    Err(e) => return Some((Err(e), Cursor::Done)),
                };
                let next = match page.value.next() {
                    None => Cursor::Done,
                    Some(link) => match client.cursor_from(op, link) {
                        Err(e) => Cursor::Refused(e),
                        Ok(None) => Cursor::Done,
                        Ok(Some(next)) if Some(&next) == after.as_ref() => {
                            warn!(operation = %op, "the server sent the same page cursor twice; stopping");
                            Cursor::Done
                        }
                        Ok(Some(next)) => Cursor::After(next),
                    },
                };
                Some((Ok(page), next))
            }
        })
    }

    /// The `after` cursor of a `next` link, after checking that the link stays on the API's
    /// scheme, host, port and path.
    fn cursor_from(&self, op: Operation, link: &str) -> Result<Option<String>> {
        let base = &self.inner.base;
        let refuse = || Error::UnsafeNext {
            operation: op,
            url: link.to_owned(),
        };
        let next = base.join(link).map_err(|_| refuse())?;
        let base_path = base.path().trim_end_matches('/');
        let same_origin = next.scheme() == base.scheme()
            && next.host() == base.host()
            && next.port_or_known_default() == base.port_or_known_default()
            && next.username().is_empty()
            && next.password().is_none()
            && next.path().starts_with(base_path)
            && matches!(
                next.path()[base_path.len()..].chars().next(),
                None | Some('/')
            );
        if !same_origin {
            return Err(refuse());
        }
        Ok(next
            .query_pairs()
            .find(|(key, value)| key == "after" && !value.is_empty())
            .map(|(_, value)| value.into_owned()))
    }
}

fn flatten_pages<P, T, S>(
    pages: S,
    items: fn(P) -> Vec<T>,
) -> impl Stream<Item = Result<T>> + Send + 'static
where
    S: Stream<Item = Result<Response<P>>> + Send + 'static,
    P: Send + 'static,
    T: Send + 'static,
{
    pages.flat_map(move |page| {
        let batch: Vec<Result<T>> = match page {
            Ok(page) => items(page.value).into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        };
        stream::iter(batch)
    })
}

fn is_success(op: Operation, status: StatusCode) -> bool {
    status.is_success() || (op == Operation::Upload && status == StatusCode::CONFLICT)
}

fn decode<T: DeserializeOwned>(op: Operation, raw: &RawResponse) -> Result<T> {
    serde_json::from_slice(&raw.body).map_err(|source| Error::Decode {
        operation: op,
        status: raw.status,
        snippet: snippet(&raw.body),
        source,
    })
}

fn transport(op: Operation, err: reqwest::Error) -> Error {
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

fn invalid(op: Operation, reason: String) -> Error {
    Error::InvalidInput {
        operation: op,
        reason,
    }
}

fn check_id(op: Operation, id: &str) -> Result<&str> {
    let id = id.trim();
    if id.is_empty() {
        Err(invalid(op, "the id is empty".into()))
    } else {
        Ok(id)
    }
}

/// Reads at most `limit` bytes of a body; a failed read yields what arrived.
async fn read_limited(mut resp: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < limit {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk[..chunk.len().min(limit - body.len())])
            }
            _ => break,
        }
    }
    body
}

/// Removes the token from any server-provided text in an error (a server may echo headers).
fn scrub(error: Error, token: &Token) -> Error {
    match error {
        Error::BadRequest { operation, message } => Error::BadRequest {
            operation,
            message: token.scrub(&message),
        },
        Error::Unauthorized { operation, message } => Error::Unauthorized {
            operation,
            message: token.scrub(&message),
        },
        Error::Forbidden { operation, message } => Error::Forbidden {
            operation,
            message: token.scrub(&message),
        },
        Error::NotFound { operation, message } => Error::NotFound {
            operation,
            message: token.scrub(&message),
        },
        Error::QuotaExceeded {
            operation,
            message,
            retry_after,
        } => Error::QuotaExceeded {
            operation,
            message: token.scrub(&message),
            retry_after,
        },
        Error::Server {
            operation,
            status,
            message,
        } => Error::Server {
            operation,
            status,
            message: token.scrub(&message),
        },
        Error::UnexpectedStatus {
            operation,
            status,
            snippet,
        } => Error::UnexpectedStatus {
            operation,
            status,
            snippet: token.scrub(&snippet),
        },
        other => other,
    }
}

/// Drains a stream of results into a vector, stopping at the first error.
pub async fn collect_all<T>(stream: impl Stream<Item = Result<T>>) -> Result<Vec<T>> {
    let mut stream = pin!(stream);
    let mut out = Vec::new();
    while let Some(item) = stream.next().await {
        out.push(item?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_rules() {
        for ok in [
            "https://ballchasing.com/api",
            "http://127.0.0.1:8080",
            "http://localhost:1/api/",
            "http://[::1]:9/",
        ] {
            assert!(parse_base_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://ballchasing.com/api",
            "http://192.168.1.2/api",
            "ftp://ballchasing.com",
            "https://user:pw@ballchasing.com/api",
            "https://ballchasing.com/api?x=1",
            "not a url",
        ] {
            assert!(parse_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn next_links_must_stay_on_the_api() {
        let client = Client::new("t").unwrap();
        let op = Operation::ListReplays;
        let ok = client
            .cursor_from(
                op,
                "https://ballchasing.com/api/replays?after=abc%3D&count=2",
            )
            .unwrap();
        assert_eq!(ok.as_deref(), Some("abc="));
        assert_eq!(
            client
                .cursor_from(op, "https://ballchasing.com/api/replays?count=2")
                .unwrap(),
            None
        );
        for hostile in [
            "http://ballchasing.com/api/replays?after=x",
            "https://evil.example/api/replays?after=x",
            "https://ballchasing.com:8443/api/replays?after=x",
            "https://user@ballchasing.com/api/replays?after=x",
            "https://ballchasing.com/elsewhere?after=x",
            "https://ballchasing.com/apix/replays?after=x",
            "//evil.example/api/replays?after=x",
        ] {
            assert!(
                matches!(
                    client.cursor_from(op, hostile),
                    Err(Error::UnsafeNext { .. })
                ),
                "{hostile}"
            );
        }
    }

    #[test]
    fn debug_output_hides_the_token() {
        let builder = Client::builder("very-secret-token-value-1234");
        let client = builder.clone().build().unwrap();
        for shown in [format!("{builder:?}"), format!("{client:?}")] {
            assert!(!shown.contains("very-secret"), "{shown}");
        }
        assert!(Client::new("bad\ntoken inside").is_err());
    }
}
