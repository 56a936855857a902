//! Small shapes shared by several answers: users, player ids, ranks, group references, the
//! game date, ping and its quota, and what an upload led to.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::Offset;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Extra;
use crate::enums::Tier;

/// A ballchasing user (uploader, group creator).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// SteamID64.
    #[serde(default, deserialize_with = "super::num::opt_id")]
    pub steam_id: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Steam profile page.
    pub profile_url: Option<String>,
    /// Avatar image.
    pub avatar: Option<String>,
    /// Full-size avatar (group creators; often empty).
    pub avatar_full: Option<String>,
    /// Medium avatar (group creators; often empty).
    pub avatar_medium: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A player's platform id `{platform, id}` (missing for bots).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlayerRef {
    /// `steam`, `epic`, `ps4`, `xbox`, `switch`, … (case varies between endpoints).
    pub platform: Option<String>,
    /// The platform's id.
    #[serde(default, deserialize_with = "super::num::opt_id")]
    pub id: Option<String>,
    /// Which split-screen player of that account (0 for the first), when sent.
    #[serde(default, deserialize_with = "super::num::opt_u32")]
    pub player_number: Option<u32>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A rank `{tier, division, name, id}`, as older replays and list items carry it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RankInfo {
    /// Numeric tier (0 unranked … 22 supersonic legend).
    #[serde(default, deserialize_with = "super::num::opt_u32")]
    pub tier: Option<u32>,
    /// Division within the tier.
    #[serde(default, deserialize_with = "super::num::opt_u32")]
    pub division: Option<u32>,
    /// Display name (`Champion II`).
    pub name: Option<String>,
    /// Filter-style id (`champion-2`), usable as a [`Rank`](crate::Rank) filter value.
    pub id: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A group a replay belongs to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupRef {
    /// Group id.
    pub id: String,
    /// Group name.
    pub name: Option<String>,
    /// API link.
    pub link: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The date a game was played, as the replay header gives it: a local date-time with the
/// player's UTC offset when the replay carries one (`date_has_timezone`), without otherwise.
/// Nothing of what the server sent is lost: `Display` writes it back the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GameDate {
    /// The local date and time on the player's clock.
    pub datetime: DateTime,
    /// The player's UTC offset, when known.
    pub offset: Option<Offset>,
}

impl GameDate {
    /// The instant, when the offset is known.
    ///
    /// ```
    /// use ballchasing_api::GameDate;
    /// let date: GameDate = "2024-12-11T21:34:00-06:00".parse()?;
    /// assert_eq!(date.timestamp().unwrap().to_string(), "2024-12-12T03:34:00Z");
    /// let local: GameDate = "2024-12-11T21:34:00".parse()?;
    /// assert_eq!(local.timestamp(), None);
    /// # Ok::<(), jiff::Error>(())
    /// ```
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.offset?.to_timestamp(self.datetime).ok()
    }
}

impl std::str::FromStr for GameDate {
    type Err = jiff::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let pieces = jiff::fmt::temporal::Pieces::parse(s.trim())?;
        let time = pieces.time().unwrap_or_default();
        Ok(GameDate {
            datetime: pieces.date().to_datetime(time),
            offset: pieces.to_numeric_offset(),
        })
    }
}

impl fmt::Display for GameDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.datetime)?;
        let Some(offset) = self.offset else {
            return Ok(());
        };
        // RFC 3339 style, `-06:00` (jiff's own Display writes `-06`).
        let total = offset.seconds();
        let sign = if total < 0 { '-' } else { '+' };
        let abs = total.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", abs / 3600, abs % 3600 / 60)?;
        match abs % 60 {
            0 => Ok(()),
            secs => write!(f, ":{secs:02}"),
        }
    }
}

impl Serialize for GameDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for GameDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// `GET /`: who the token belongs to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ping {
    /// Account (Steam) name.
    pub name: Option<String>,
    /// SteamID64 of the account.
    #[serde(default, deserialize_with = "super::num::opt_id")]
    pub steam_id: Option<String>,
    /// Patreon tier (`type` on the wire).
    #[serde(rename = "type")]
    pub tier: Option<Tier>,
    /// Whether the account is a "chaser" (decorative).
    pub chaser: Option<bool>,
    /// Upload quota, when the server reports it. Undocumented: a shape that does not fit
    /// reads as `None` (the raw answer stays in [`RawResponse::body`](crate::RawResponse)).
    #[serde(default, deserialize_with = "lenient_quota")]
    pub quota: Option<Quota>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The upload quota ping may report (shape seen in one uploader and one client library).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Quota {
    /// The rolling 24-hour window.
    pub uploads_in_24h: Option<QuotaWindow>,
    /// The rolling 7-day window.
    pub uploads_in_7d: Option<QuotaWindow>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One quota window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QuotaWindow {
    /// Uploads allowed in the window.
    #[serde(default, deserialize_with = "super::num::opt_u64")]
    pub max: Option<u64>,
    /// Uploads made in the window.
    #[serde(default, deserialize_with = "super::num::opt_u64")]
    pub used: Option<u64>,
    /// True when the window has no cap.
    pub unlimited: Option<bool>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

impl QuotaWindow {
    /// Uploads left, when both numbers are known and the window is capped.
    ///
    /// ```
    /// let day = ballchasing_api::QuotaWindow { max: Some(10), used: Some(3), ..Default::default() };
    /// assert_eq!(day.remaining(), Some(7));
    /// ```
    pub fn remaining(&self) -> Option<u64> {
        if self.unlimited == Some(true) {
            return None;
        }
        Some(self.max?.saturating_sub(self.used?))
    }
}

fn lenient_quota<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Quota>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(value).ok())
}

/// What an upload led to. A duplicate is a success that carries the existing replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadOutcome {
    /// 201: a new replay.
    Created {
        /// Replay id (UUID).
        id: String,
        /// Web page of the replay.
        location: String,
    },
    /// 409: ballchasing already has this replay, possibly from another uploader.
    Duplicate {
        /// The existing replay's id.
        id: String,
        /// The existing replay's page.
        location: String,
    },
}

impl UploadOutcome {
    /// The replay id on ballchasing.
    ///
    /// ```
    /// use ballchasing_api::UploadOutcome;
    /// let up = UploadOutcome::Created { id: "r1".into(), location: "https://ballchasing.com/replay/r1".into() };
    /// assert_eq!(up.id(), "r1");
    /// ```
    pub fn id(&self) -> &str {
        match self {
            UploadOutcome::Created { id, .. } | UploadOutcome::Duplicate { id, .. } => id,
        }
    }

    /// The replay's page on ballchasing.
    ///
    /// ```
    /// use ballchasing_api::UploadOutcome;
    /// let up = UploadOutcome::Duplicate { id: "r1".into(), location: "https://ballchasing.com/replay/r1".into() };
    /// assert_eq!(up.location(), "https://ballchasing.com/replay/r1");
    /// ```
    pub fn location(&self) -> &str {
        match self {
            UploadOutcome::Created { location, .. } | UploadOutcome::Duplicate { location, .. } => {
                location
            }
        }
    }

    /// True for a 409.
    ///
    /// ```
    /// use ballchasing_api::UploadOutcome;
    /// assert!(UploadOutcome::Duplicate { id: "r".into(), location: "l".into() }.is_duplicate());
    /// ```
    pub fn is_duplicate(&self) -> bool {
        matches!(self, UploadOutcome::Duplicate { .. })
    }
}
