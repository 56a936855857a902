//! The [`Client`]: one configured connection pool shared by every clone, with the limits, the
//! 429 cooldown and the settings; the endpoint methods live in the submodules.

mod builder;
mod groups;
mod http;
mod pages;
mod replays;
mod upload;

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, Url};
use tracing::debug;

pub use builder::{BodyLimits, ClientBuilder, DEFAULT_BASE_URL};
pub use groups::GroupReplay;
pub use pages::{Items, collect_all};
pub use replays::Downloaded;
pub use upload::Upload;

use crate::enums::Tier;
use crate::error::Error;
use crate::limits::{Cooldown, Limits};
use crate::models::{Maps, Ping};
use crate::response::{Operation, Response};
use crate::retry::RetryPolicy;
use crate::token::Token;

/// A typed client for the ballchasing.com API. Cheap to clone; clones share the connection
/// pool, the rate limiters and the 429 cooldown.
///
/// ```no_run
/// # async fn demo() -> Result<(), ballchasing_api::Error> {
/// let client = ballchasing_api::Client::new(std::env::var("BALLCHASING_TOKEN").unwrap())?;
/// let me = client.ping().await?.value;
/// println!("{:?} ({:?})", me.name, me.tier);
/// # Ok(()) }
/// ```
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
    max_cooldown: Duration,
    retry: RetryPolicy,
    body_limits: BodyLimits,
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

impl Client {
    /// A builder for a client that authenticates with `token`.
    ///
    /// ```
    /// let client = ballchasing_api::Client::builder("my-token").build()?;
    /// # Ok::<(), ballchasing_api::Error>(())
    /// ```
    pub fn builder(token: impl Into<Token>) -> ClientBuilder {
        ClientBuilder::new(token.into())
    }

    /// A client with every default.
    ///
    /// ```
    /// let client = ballchasing_api::Client::new("my-token")?;
    /// assert_eq!(client.base_url().as_str(), ballchasing_api::DEFAULT_BASE_URL);
    /// # Ok::<(), ballchasing_api::Error>(())
    /// ```
    pub fn new(token: impl Into<Token>) -> Result<Client, Error> {
        Client::builder(token).build()
    }

    /// A client for the token in `BALLCHASING_TOKEN`, against `BALLCHASING_API_URL` when
    /// that is set (a test server, say), otherwise the public API; every other default.
    ///
    /// ```no_run
    /// let client = ballchasing_api::Client::from_env()?;
    /// # Ok::<(), ballchasing_api::Error>(())
    /// ```
    pub fn from_env() -> Result<Client, Error> {
        let token = std::env::var("BALLCHASING_TOKEN")
            .map_err(|_| Error::Config("BALLCHASING_TOKEN is not set".into()))?;
        let mut builder = Client::builder(token);
        if let Ok(url) = std::env::var("BALLCHASING_API_URL") {
            builder = builder.base_url(url);
        }
        builder.build()
    }

    /// The tier whose limits currently apply.
    ///
    /// ```
    /// let client = ballchasing_api::Client::new("my-token")?;
    /// assert_eq!(client.tier(), ballchasing_api::Tier::Regular); // until ping says otherwise
    /// # Ok::<(), ballchasing_api::Error>(())
    /// ```
    pub fn tier(&self) -> Tier {
        self.limits().tier().clone()
    }

    /// The API base URL.
    ///
    /// ```
    /// let client = ballchasing_api::Client::new("my-token")?;
    /// assert_eq!(client.base_url().host_str(), Some("ballchasing.com"));
    /// # Ok::<(), ballchasing_api::Error>(())
    /// ```
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The token's fingerprint, safe to log.
    ///
    /// ```
    /// let client = ballchasing_api::Client::new("abcdefghijklmnopqrstuvwxyz12")?;
    /// assert_eq!(client.token_fingerprint(), "…yz12");
    /// # Ok::<(), ballchasing_api::Error>(())
    /// ```
    pub fn token_fingerprint(&self) -> String {
        self.inner.token.fingerprint()
    }

    /// How long the 429 cooldown still runs, if one is running.
    ///
    /// ```
    /// let client = ballchasing_api::Client::new("my-token")?;
    /// assert_eq!(client.cooldown_remaining(), None);
    /// # Ok::<(), ballchasing_api::Error>(())
    /// ```
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
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let me = client.ping().await?.value;
    /// println!("{:?} {:?} {:?}", me.name, me.steam_id, me.tier);
    /// if let Some(day) = me.quota.as_ref().and_then(|q| q.uploads_in_24h.as_ref()) {
    ///     println!("uploads today: {:?} of {:?}", day.used, day.max);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn ping(&self) -> Result<Response<Ping>, Error> {
        let mut response: Response<Ping> = self
            .json(Operation::Ping, Method::GET, &[""], &[], None::<&()>)
            .await?;
        // Ping says who the token is; a server echoing the token there must not have it
        // printed as an account name by a `check` command.
        let token = &self.inner.token;
        let me = &mut response.value;
        me.name = me.name.take().map(|n| token.scrub(&n));
        me.steam_id = me.steam_id.take().map(|n| token.scrub(&n));
        response.response.body = token.scrub_bytes(&response.response.body);
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

    /// `GET /maps`: map code → display name.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let maps = client.maps().await?.value;
    /// println!("{:?}", maps.get("stadium_p"));
    /// # Ok(()) }
    /// ```
    pub async fn maps(&self) -> Result<Response<Maps>, Error> {
        self.json(Operation::Maps, Method::GET, &["maps"], &[], None::<&()>)
            .await
    }
}
