//! `ballchasing_api`: a typed async client for the whole ballchasing.com API, with
//! tier-aware rate limiting, a shared 429 cooldown, retries and safe pagination.
//!
//! ```no_run
//! # async fn demo() -> Result<(), ballchasing_api::Error> {
//! use ballchasing_api::{Client, Upload, Visibility};
//! let client = Client::new("my-token")?;
//! let me = client.ping().await?;
//! println!("{:?} on tier {:?}", me.value.name, me.value.tier);
//! let bytes = std::fs::read("match.replay").unwrap();
//! let up = client.upload(&Upload::new("match.replay", bytes).visibility(Visibility::Private)).await?;
//! println!("{} at {}", up.value.id(), up.value.location());
//! # Ok(()) }
//! ```

mod client;
mod enums;
mod error;
mod limits;
mod models;
mod params;
mod response;
mod retry;
mod token;

pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL, Upload, collect_all};
pub use enums::{
    GroupSortBy, MatchResult, Platform, PlayerIdentification, Playlist, Rank, ReplaySortBy,
    SortDir, TeamIdentification, Tier, Visibility,
};
pub use error::Error;
pub use limits::{Category, Rate, TierLimits};
pub use models::{
    CreatedGroup, Extra, Group, GroupPage, GroupRef, GroupSummary, Maps, NewGroup, Ping,
    PlayerDetail, PlayerRef, PlayerSummary, RankInfo, Replay, ReplayCommon, ReplayDetail,
    ReplayPage, ReplaySummary, TeamDetail, TeamSummary, UploadOutcome, User,
};
pub use params::{GroupFilter, GroupPatch, MAX_PAGE_SIZE, ReplayFilter, ReplayPatch};
pub use response::{Operation, RawResponse, Response};
pub use retry::RetryPolicy;
pub use token::Token;

/// The result of a client call.
pub type Result<T, E = Error> = std::result::Result<T, E>;
