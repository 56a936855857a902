//! `ballchasing-api`: a typed async client for the whole [ballchasing.com](https://ballchasing.com)
//! API: every endpoint, every stat typed, tier-aware rate limits, a shared 429 cooldown,
//! retries, safe pagination and a token that never shows up in a log.
//!
//! ```no_run
//! # async fn demo() -> Result<(), ballchasing_api::Error> {
//! use ballchasing_api::{Client, ReplayFilter, Upload, Visibility};
//!
//! let client = Client::new(std::env::var("BALLCHASING_TOKEN").unwrap())?;
//! let me = client.ping().await?.value;                  // also adopts the account's tier
//! println!("{:?} on tier {:?}", me.name, me.tier);
//!
//! let up = client
//!     .upload(&Upload::from_path("match.replay").visibility(Visibility::Private))
//!     .await?;                                           // 201 and 409 are both Ok
//! println!("{} at {}", up.value.id(), up.value.location());
//!
//! let mut mine = client.replays(&ReplayFilter::mine()); // every page, no pinning
//! while let Some(replay) = mine.next().await {
//!     println!("{}", replay?.id);
//! }
//!
//! let replay = client.get_replay(up.value.id()).await?.value;
//! for (color, player) in replay.players() {
//!     let goals = player.core().and_then(|c| c.goals).unwrap_or(0.0);
//!     println!("{color} {:?} {goals}", player.name);
//! }
//! # Ok(()) }
//! ```
//!
//! # Policies
//!
//! - **Decoding.** Fields real answers omit or null are `Option` (null = absent); numbers
//!   read from integers, floats or numeric strings; enums are open (`Other(String)`);
//!   unknown fields are kept in `extra`. A value that still does not fit is an
//!   [`Error::Decode`] naming its JSON path (`blue.players[2].stats.core.goals`) and keeping
//!   the whole body ([`Error::body`]); [`Client::get_replay_as`] and
//!   [`Client::get_group_as`] decode into any type, `serde_json::Value` included, and every
//!   [`Response`] keeps its raw body. One odd value never costs the whole answer.
//! - **Retries** ([`RetryPolicy`]): 5xx, gateway pages, dropped connections, timeouts and
//!   rate-limit 429s, with jittered backoff inside a count and time budget; never 4xx,
//!   quota 429s, redirects, oversized or undecodable answers.
//! - **Limits**: per tier and category (list, core, download), paced evenly; unknown tiers get
//!   the strictest (`regular`) ones. A 429 pauses every clone of the client; `Retry-After`
//!   (seconds or HTTP date) is honoured, clamped to [`ClientBuilder::max_cooldown`], and
//!   kept unclamped in the error.
//! - **Bodies** are read incrementally within [`BodyLimits`]; downloads stream to a writer.
//! - **PATCH**: `None` leaves a field alone, empty or false values are sent; an empty patch
//!   is refused before sending.
//! - **Pagination** re-sends your filters with only `after` taken from `next`, and refuses a
//!   `next` that leaves the API.
//! - **The token** travels only in `Authorization`, never through a redirect or (for a
//!   loopback base) a proxy; `Debug`/`Display` show a fingerprint, and server text that
//!   echoes it is scrubbed from every error.

mod client;
mod enums;
mod error;
mod excerpt;
mod limits;
mod models;
mod params;
mod response;
mod retry;
mod token;

pub use client::{
    BodyLimits, Client, ClientBuilder, DEFAULT_BASE_URL, Downloaded, GroupReplay, Items, Upload,
    collect_all,
};
pub use enums::{
    GroupSortBy, GroupStatus, MatchResult, Platform, PlayerIdentification, Playlist, Rank,
    ReplaySortBy, ReplayStatus, SortDir, TeamIdentification, Tier, Visibility,
};
pub use error::{Error, RawBody};
pub use limits::{Category, Rate, TierLimits};
pub use models::{
    Ball, Boost, Camera, Core, CreatedGroup, Demo, Extra, GameDate, Group, GroupCumulative,
    GroupPage, GroupPlayer, GroupRef, GroupStats, GroupSummary, GroupTeam, Maps, Movement,
    NewGroup, Ping, PlayerDetail, PlayerRef, PlayerStats, PlayerSummary, Positioning, Quota,
    QuotaWindow, RankInfo, Replay, ReplayPage, ReplaySummary, Server, TeamColor, TeamDetail,
    TeamStats, TeamSummary, UploadOutcome, User,
};
pub use params::{GroupFilter, GroupPatch, MAX_PAGE_SIZE, ReplayFilter, ReplayPatch};
pub use response::{Operation, RawResponse, Response};
pub use retry::RetryPolicy;
pub use token::Token;

/// The result of a client call.
pub type Result<T, E = Error> = std::result::Result<T, E>;
