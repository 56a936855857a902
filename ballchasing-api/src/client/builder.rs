//! `ClientBuilder`: every setting of a [`Client`] with a safe default, the body size limits,
//! and the base URL rules (https anywhere, plain http only on loopback).

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

use super::{Client, Inner};
use crate::enums::Tier;
use crate::error::Error;
use crate::limits::{Cooldown, Limits};
use crate::retry::RetryPolicy;
use crate::token::Token;

/// The public API's address.
pub const DEFAULT_BASE_URL: &str = "https://ballchasing.com/api";

/// The most a body may weigh, per kind of answer. Bodies are read incrementally and reading
/// stops at the limit with [`Error::TooLarge`], so a broken or hostile server can never make
/// the client hold more than this in memory (or write more than `download` to disk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// An upload's 201/409 answer: about 150 bytes in practice. Default 64 KiB.
    pub upload_answer: u64,
    /// Every other JSON answer. The largest is a group with per-player and per-team stats:
    /// about 9 KB per player (the sample group of 22 players is 194 KB), so the default
    /// 8 MiB holds groups of several hundred players.
    pub json: u64,
    /// A downloaded replay file: 0.5 to 5 MB in practice. Default 64 MiB.
    pub download: u64,
}

impl Default for BodyLimits {
    fn default() -> Self {
        BodyLimits {
            upload_answer: 64 * 1024,
            json: 8 * 1024 * 1024,
            download: 64 * 1024 * 1024,
        }
    }
}

/// Builds a [`Client`]. Every setting has a safe default.
///
/// ```
/// use std::time::Duration;
/// use ballchasing_api::{Client, RetryPolicy, Tier};
/// let client = Client::builder("my-token")
///     .tier(Tier::Gold)
///     .timeout(Duration::from_secs(60))
///     .retry(RetryPolicy::none())
///     .user_agent("my-tool/1.0")
///     .build()?;
/// assert_eq!(client.tier(), Tier::Gold);
/// # Ok::<(), ballchasing_api::Error>(())
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    pub(super) token: Token,
    pub(super) base_url: String,
    pub(super) tier: Option<Tier>,
    pub(super) rate_limit: bool,
    pub(super) rate_margin: f64,
    pub(super) upload_rate: Option<f64>,
    pub(super) connect_timeout: Duration,
    pub(super) timeout: Duration,
    pub(super) user_agent: String,
    pub(super) retry: RetryPolicy,
    pub(super) max_cooldown: Duration,
    pub(super) body_limits: BodyLimits,
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
    pub(super) fn new(token: Token) -> Self {
        ClientBuilder {
            token,
            base_url: DEFAULT_BASE_URL.to_owned(),
            tier: None,
            rate_limit: true,
            rate_margin: 1.0,
            upload_rate: None,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(120),
            user_agent: format!("ballchasing-api/{}", env!("CARGO_PKG_VERSION")),
            retry: RetryPolicy::default(),
            max_cooldown: Duration::from_secs(3600),
            body_limits: BodyLimits::default(),
        }
    }

    /// The API's base URL. `https` anywhere; plain `http` only for loopback hosts (tests,
    /// local proxies), so the token never crosses a network in the clear. A loopback base
    /// ignores proxy variables (`HTTP_PROXY`, `ALL_PROXY`); an `https` base uses them.
    ///
    /// ```
    /// # use ballchasing_api::Client;
    /// let client = Client::builder("t").base_url("http://127.0.0.1:8080/api").build()?;
    /// assert_eq!(client.base_url().as_str(), "http://127.0.0.1:8080/api");
    /// assert!(Client::builder("t").base_url("http://example.com/api").build().is_err());
    /// # Ok::<(), ballchasing_api::Error>(())
    /// ```
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Fixes the Patreon tier whose limits apply. Without it the client starts with the
    /// strictest (`regular`) limits and adopts the tier the first successful ping reports.
    ///
    /// ```
    /// # use ballchasing_api::{Client, Tier};
    /// let client = Client::builder("t").tier(Tier::Champion).build()?;
    /// assert_eq!(client.tier(), Tier::Champion);
    /// # Ok::<(), ballchasing_api::Error>(())
    /// ```
    pub fn tier(mut self, tier: Tier) -> Self {
        self.tier = Some(tier);
        self
    }

    /// Turns client-side rate limiting on (default) or off. The 429 cooldown stays on.
    ///
    /// ```
    /// # use ballchasing_api::Client;
    /// let client = Client::builder("t").rate_limit(false).build()?;
    /// # Ok::<(), ballchasing_api::Error>(())
    /// ```
    pub fn rate_limit(mut self, enabled: bool) -> Self {
        self.rate_limit = enabled;
        self
    }

    /// Scales every documented rate by `margin` in (0, 1] (default 1.0; 0.5 paces at half
    /// the documented limits, which some users need in practice).
    ///
    /// ```
    /// # use ballchasing_api::Client;
    /// assert!(Client::builder("t").rate_margin(0.5).build().is_ok());
    /// assert!(Client::builder("t").rate_margin(1.5).build().is_err());
    /// ```
    pub fn rate_margin(mut self, margin: f64) -> Self {
        self.rate_margin = margin;
        self
    }

    /// Paces uploads at `per_second` (for example 0.5: one every two seconds). Default: none
    /// (uploads are governed by quotas, not documented rates).
    ///
    /// ```
    /// # use ballchasing_api::Client;
    /// let client = Client::builder("t").upload_rate(0.5).build()?;
    /// # Ok::<(), ballchasing_api::Error>(())
    /// ```
    pub fn upload_rate(mut self, per_second: f64) -> Self {
        self.upload_rate = Some(per_second);
        self
    }

    /// Time allowed to open a connection (default 10 s).
    ///
    /// ```
    /// # use ballchasing_api::Client;
    /// let client = Client::builder("t").connect_timeout(std::time::Duration::from_secs(3)).build()?;
    /// # Ok::<(), ballchasing_api::Error>(())
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for one whole request, body included (default 120 s).
    ///
    /// ```
    /// # use ballchasing_api::Client;
    /// let client = Client::builder("t").timeout(std::time::Duration::from_secs(30)).build()?;
    /// # Ok::<(), ballchasing_api::Error>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Replaces the User-Agent (default `ballchasing-api/<version>`).
    ///
    /// ```
    /// # use ballchasing_api::Client;
    /// let client = Client::builder("t").user_agent("my-uploader/2.1").build()?;
    /// # Ok::<(), ballchasing_api::Error>(())
    /// ```
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Sets the retry policy.
    ///
    /// ```
    /// # use ballchasing_api::{Client, RetryPolicy};
    /// let client = Client::builder("t").retry(RetryPolicy { max_retries: 1, ..RetryPolicy::default() }).build()?;
    /// # Ok::<(), ballchasing_api::Error>(())
    /// ```
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The longest cooldown one 429 can impose on every clone of the client (default 1 h).
    /// The server's own `Retry-After` stays readable, unclamped, in the error
    /// ([`Error::RateLimited`], [`Error::QuotaExceeded`]); a caller that wants to wait longer
    /// parks on its own. A cooldown is never shorter than 1 s.
    ///
    /// ```
    /// # use ballchasing_api::Client;
    /// let client = Client::builder("t").max_cooldown(std::time::Duration::from_secs(60)).build()?;
    /// # Ok::<(), ballchasing_api::Error>(())
    /// ```
    pub fn max_cooldown(mut self, max: Duration) -> Self {
        self.max_cooldown = max;
        self
    }

    /// Sets the body size limits (see [`BodyLimits`] for the defaults and why).
    ///
    /// ```
    /// # use ballchasing_api::{BodyLimits, Client};
    /// let client = Client::builder("t")
    ///     .body_limits(BodyLimits { json: 32 << 20, ..BodyLimits::default() })
    ///     .build()?;
    /// # Ok::<(), ballchasing_api::Error>(())
    /// ```
    pub fn body_limits(mut self, limits: BodyLimits) -> Self {
        self.body_limits = limits;
        self
    }

    /// Builds the client.
    ///
    /// ```
    /// # use ballchasing_api::Client;
    /// assert!(Client::builder("bad\ntoken").build().is_err());
    /// ```
    pub fn build(self) -> Result<Client, Error> {
        let (base, loopback) = parse_base_url(&self.base_url)?;
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
            Error::Config(
                "the API token contains characters that cannot be sent in a header".into(),
            )
        })?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        let mut http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(&self.user_agent)
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            // A redirected POST comes back as a GET without its file; and the token must
            // never follow a redirect to another place.
            .redirect(reqwest::redirect::Policy::none())
            .https_only(base.scheme() == "https");
        if loopback {
            // A proxy variable must not receive a loopback API's plain-http token.
            http = http.no_proxy();
        }
        let http = http
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
                max_cooldown: self.max_cooldown,
                retry: self.retry,
                body_limits: self.body_limits,
            }),
        })
    }
}

/// Checks a base URL; returns it and whether its host is loopback.
pub(super) fn parse_base_url(raw: &str) -> Result<(Url, bool), Error> {
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
    let plain_loopback = loopback && url.scheme() == "http";
    Ok((url, plain_loopback))
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
        assert!(
            parse_base_url("http://127.0.0.1:1").unwrap().1,
            "plain loopback"
        );
        assert!(
            !parse_base_url("https://localhost:1").unwrap().1,
            "https keeps proxies"
        );
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
    fn debug_output_hides_the_token() {
        let builder = Client::builder("very-secret-token-value-1234");
        let client = builder.clone().build().unwrap();
        for shown in [format!("{builder:?}"), format!("{client:?}")] {
            assert!(!shown.contains("very-secret"), "{shown}");
        }
        assert!(Client::new("bad\ntoken inside").is_err());
    }
}
