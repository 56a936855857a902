//! Response and request bodies. Fields the API can omit are `Option` (sparse data is normal:
//! bots have no ids, goals are missing when 0), and every object keeps the fields this version
//! does not know in `extra`, so nothing the server sends is lost.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::enums::{PlayerIdentification, Playlist, TeamIdentification, Tier, Visibility};

/// Fields of an object that this version does not model.
pub type Extra = Map<String, Value>;

/// `GET /`: who the token belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ping {
    /// Account (Steam) name.
    pub name: Option<String>,
    /// SteamID64 of the account.
    pub steam_id: Option<String>,
    /// Patreon tier (`type` on the wire).
    #[serde(rename = "type")]
    pub tier: Option<Tier>,
    /// Whether the account is a "chaser" (decorative).
    pub chaser: Option<bool>,
    /// Upload quota, when the server reports it (undocumented; shape unconfirmed).
    pub quota: Option<Value>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
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
    pub fn id(&self) -> &str {
        match self {
            UploadOutcome::Created { id, .. } | UploadOutcome::Duplicate { id, .. } => id,
        }
    }

    /// The replay's page on ballchasing.
    pub fn location(&self) -> &str {
        match self {
            UploadOutcome::Created { location, .. } | UploadOutcome::Duplicate { location, .. } => {
                location
            }
        }
    }

    /// True for a 409.
    pub fn is_duplicate(&self) -> bool {
        matches!(self, UploadOutcome::Duplicate { .. })
    }
}

/// The body of a 201 or 409 upload answer.
#[derive(Debug, Deserialize)]
pub(crate) struct UploadBody {
    pub(crate) id: String,
    pub(crate) location: Option<String>,
}

/// A player reference `{platform, id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlayerRef {
    /// `steam`, `epic`, `ps4`, `xbox`, `switch`, …
    pub platform: Option<String>,
    /// The platform's id.
    pub id: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A ballchasing user (uploader, group creator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// SteamID64.
    pub steam_id: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Steam profile page.
    pub profile_url: Option<String>,
    /// Avatar image.
    pub avatar: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A rank `{tier, division, name, id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankInfo {
    /// Numeric tier.
    pub tier: Option<u32>,
    /// Division within the tier.
    pub division: Option<u32>,
    /// Display name.
    pub name: Option<String>,
    /// Filter-style id (`champion-2`).
    pub id: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A group a replay belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// A player in a replay list item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlayerSummary {
    /// Name (missing for some bots).
    pub name: Option<String>,
    /// Platform id (missing for bots).
    pub id: Option<PlayerRef>,
    /// Seconds into the match the player joined.
    pub start_time: Option<f64>,
    /// Seconds into the match the player left.
    pub end_time: Option<f64>,
    /// In-game score.
    pub score: Option<i64>,
    /// Whether the player was MVP.
    pub mvp: Option<bool>,
    /// The player's rank.
    pub rank: Option<RankInfo>,
    /// Whether the player is a pro.
    pub pro: Option<bool>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A team in a replay list item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamSummary {
    /// Goals (missing when 0).
    pub goals: Option<u32>,
    /// Team name, when set.
    pub name: Option<String>,
    /// Players.
    #[serde(default, deserialize_with = "null_as_default")]
    pub players: Vec<PlayerSummary>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One item of `GET /replays` (a "shallow" replay).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplaySummary {
    /// Replay id (UUID).
    pub id: String,
    /// API link.
    pub link: Option<String>,
    /// The replay header's `Id`.
    pub rocket_league_id: Option<String>,
    /// Title.
    pub replay_title: Option<String>,
    /// Map code.
    pub map_code: Option<String>,
    /// Map display name.
    pub map_name: Option<String>,
    /// Playlist id.
    pub playlist_id: Option<Playlist>,
    /// Playlist display name.
    pub playlist_name: Option<String>,
    /// Match length in seconds.
    pub duration: Option<f64>,
    /// Whether the match went to overtime.
    pub overtime: Option<bool>,
    /// Season number (legacy) or free-to-play season.
    pub season: Option<Value>,
    /// `free2play` or legacy.
    pub season_type: Option<String>,
    /// Game date (the player's local offset).
    pub date: Option<String>,
    /// Whether `date` carries a time zone.
    pub date_has_tz: Option<bool>,
    /// Visibility.
    pub visibility: Option<Visibility>,
    /// Upload time (UTC, RFC 3339).
    pub created: Option<String>,
    /// Lowest rank in the match.
    pub min_rank: Option<RankInfo>,
    /// Highest rank in the match.
    pub max_rank: Option<RankInfo>,
    /// Who uploaded it.
    pub uploader: Option<User>,
    /// Groups it is directly in.
    #[serde(default, deserialize_with = "null_as_default")]
    pub groups: Vec<GroupRef>,
    /// Blue team.
    pub blue: Option<TeamSummary>,
    /// Orange team.
    pub orange: Option<TeamSummary>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One page of `GET /replays`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayPage {
    /// Total matches of the filter (not the page size).
    pub count: Option<u64>,
    /// This page's replays.
    #[serde(default, deserialize_with = "null_as_default")]
    pub list: Vec<ReplaySummary>,
    /// Link to the next page; absent on the last one.
    pub next: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Fields every replay detail has, whatever its processing status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayCommon {
    /// Replay id.
    pub id: String,
    /// API link.
    pub link: Option<String>,
    /// Upload time.
    pub created: Option<String>,
    /// Who uploaded it.
    pub uploader: Option<User>,
    /// Everything else (the full stats object for processed replays).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A player in a processed replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlayerDetail {
    /// Name.
    pub name: Option<String>,
    /// Platform id (missing for bots).
    pub id: Option<PlayerRef>,
    /// Seconds into the match the player joined.
    pub start_time: Option<f64>,
    /// Seconds into the match the player left.
    pub end_time: Option<f64>,
    /// Car body id.
    pub car_id: Option<i64>,
    /// Car body name.
    pub car_name: Option<String>,
    /// Camera settings.
    pub camera: Option<Value>,
    /// Steering sensitivity.
    pub steering_sensitivity: Option<f64>,
    /// Per-player stats (core, boost, movement, positioning, demo).
    pub stats: Option<Value>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A team in a processed replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamDetail {
    /// `blue` or `orange`.
    pub color: Option<String>,
    /// Team name, when set.
    pub name: Option<String>,
    /// Players.
    #[serde(default, deserialize_with = "null_as_default")]
    pub players: Vec<PlayerDetail>,
    /// Team stats.
    pub stats: Option<Value>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A processed replay (`status: "ok"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayDetail {
    /// Replay id.
    pub id: String,
    /// API link.
    pub link: Option<String>,
    /// Upload time.
    pub created: Option<String>,
    /// Who uploaded it.
    pub uploader: Option<User>,
    /// The replay header's `Id`.
    pub rocket_league_id: Option<String>,
    /// Match GUID.
    pub match_guid: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Map code.
    pub map_code: Option<String>,
    /// Map display name.
    pub map_name: Option<String>,
    /// Match type (`Online`, `Private`, …).
    pub match_type: Option<String>,
    /// Players per team.
    pub team_size: Option<u32>,
    /// Playlist id.
    pub playlist_id: Option<Playlist>,
    /// Playlist display name.
    pub playlist_name: Option<String>,
    /// Match length in seconds.
    pub duration: Option<f64>,
    /// Whether the match went to overtime.
    pub overtime: Option<bool>,
    /// Seconds of overtime.
    pub overtime_seconds: Option<f64>,
    /// Season.
    pub season: Option<Value>,
    /// Season type.
    pub season_type: Option<String>,
    /// Game date.
    pub date: Option<String>,
    /// Whether `date` has a time zone.
    pub date_has_timezone: Option<bool>,
    /// Visibility.
    pub visibility: Option<Visibility>,
    /// Server `{name, region}`.
    pub server: Option<Value>,
    /// Blue team.
    pub blue: Option<TeamDetail>,
    /// Orange team.
    pub orange: Option<TeamDetail>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `GET /replays/{id}`: a replay in one of its processing states.
#[derive(Debug, Clone, PartialEq)]
pub enum Replay {
    /// Processed; full stats.
    Ok(Box<ReplayDetail>),
    /// Not processed yet.
    Pending(ReplayCommon),
    /// ballchasing could not parse it.
    Failed(ReplayCommon),
    /// A status this version does not know.
    Other {
        /// The status string.
        status: String,
        /// The common fields.
        replay: ReplayCommon,
    },
}

impl Replay {
    /// Who uploaded it, whatever its processing status.
    pub fn uploader(&self) -> Option<&User> {
        match self {
            Replay::Ok(detail) => detail.uploader.as_ref(),
            Replay::Pending(common) | Replay::Failed(common) => common.uploader.as_ref(),
            Replay::Other { replay, .. } => replay.uploader.as_ref(),
        }
    }

    /// The replay id.
    pub fn id(&self) -> &str {
        match self {
            Replay::Ok(detail) => &detail.id,
            Replay::Pending(common) | Replay::Failed(common) => &common.id,
            Replay::Other { replay, .. } => &replay.id,
        }
    }
}

impl<'de> Deserialize<'de> for Replay {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut map = Map::<String, Value>::deserialize(deserializer)?;
        let status = match map.remove("status") {
            Some(Value::String(status)) => status,
            Some(other) => {
                return Err(D::Error::custom(format!("status is not a string: {other}")));
            }
            None => return Err(D::Error::missing_field("status")),
        };
        let object = Value::Object(map);
        let common = |o: Value| serde_json::from_value::<ReplayCommon>(o).map_err(D::Error::custom);
        Ok(match status.as_str() {
            "ok" => Replay::Ok(Box::new(
                serde_json::from_value(object).map_err(D::Error::custom)?,
            )),
            "pending" => Replay::Pending(common(object)?),
            "failed" => Replay::Failed(common(object)?),
            _ => Replay::Other {
                status,
                replay: common(object)?,
            },
        })
    }
}

/// `POST /groups` body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewGroup {
    /// Group name (must be unique for the creator).
    pub name: String,
    /// How players are identified.
    pub player_identification: PlayerIdentification,
    /// How teams are identified.
    pub team_identification: TeamIdentification,
    /// Parent group id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

impl NewGroup {
    /// A top-level group identifying players by id and teams by distinct players (the
    /// website's defaults).
    pub fn new(name: impl Into<String>) -> Self {
        NewGroup {
            name: name.into(),
            player_identification: PlayerIdentification::ById,
            team_identification: TeamIdentification::ByDistinctPlayers,
            parent: None,
        }
    }

    /// Makes it a child of `parent`.
    pub fn parent(mut self, parent: impl Into<String>) -> Self {
        self.parent = Some(parent.into());
        self
    }
}

/// `POST /groups` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedGroup {
    /// Group id (slug).
    pub id: String,
    /// API link.
    pub link: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One item of `GET /groups`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    /// Group id.
    pub id: String,
    /// API link.
    pub link: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Creation time.
    pub created: Option<String>,
    /// How players are identified.
    pub player_identification: Option<PlayerIdentification>,
    /// How teams are identified.
    pub team_identification: Option<TeamIdentification>,
    /// Replays directly in the group.
    pub direct_replays: Option<u64>,
    /// Replays in child groups.
    pub indirect_replays: Option<u64>,
    /// Whether the group is shared by link.
    pub shared: Option<bool>,
    /// The creator.
    pub user: Option<User>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One page of `GET /groups`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupPage {
    /// Total matches, when sent.
    pub count: Option<u64>,
    /// This page's groups.
    #[serde(default, deserialize_with = "null_as_default")]
    pub list: Vec<GroupSummary>,
    /// Link to the next page.
    pub next: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `GET /groups/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// Group id.
    pub id: String,
    /// API link.
    pub link: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Creation time.
    pub created: Option<String>,
    /// `ok`, `pending_replays`, `failed_replays`.
    pub status: Option<String>,
    /// How players are identified.
    pub player_identification: Option<PlayerIdentification>,
    /// How teams are identified.
    pub team_identification: Option<TeamIdentification>,
    /// Whether the group is shared by link.
    pub shared: Option<bool>,
    /// The creator.
    pub creator: Option<User>,
    /// Per-player cumulative and average stats.
    #[serde(default, deserialize_with = "null_as_default")]
    pub players: Vec<Value>,
    /// Per-team stats.
    #[serde(default, deserialize_with = "null_as_default")]
    pub teams: Vec<Value>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `GET /maps`: map code → display name.
pub type Maps = BTreeMap<String, String>;

/// Treats `null` like a missing field for collections.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_list_items_decode_and_unknown_fields_survive() {
        let page: ReplayPage = serde_json::from_str(
            r#"{"count":1,"list":[{"id":"abc","playlist_id":"space-race","new_field":7,
                 "blue":{"players":[{"name":"Bot"}]},"orange":{"goals":2,"players":null}}]}"#,
        )
        .unwrap();
        let item = &page.list[0];
        assert_eq!(item.playlist_id, Some(Playlist::Other("space-race".into())));
        assert_eq!(item.extra["new_field"], 7);
        assert_eq!(item.blue.as_ref().unwrap().goals, None);
        assert_eq!(item.blue.as_ref().unwrap().players[0].id, None);
        assert!(item.orange.as_ref().unwrap().players.is_empty());
        assert_eq!(page.next, None);
        let back = serde_json::to_value(item).unwrap();
        assert_eq!(back["new_field"], 7, "unknown fields serialize back");
    }

    #[test]
    fn replay_detail_is_a_union_on_status() {
        let pending: Replay = serde_json::from_str(r#"{"id":"r1","status":"pending"}"#).unwrap();
        assert!(matches!(&pending, Replay::Pending(c) if c.id == "r1"));
        let failed: Replay =
            serde_json::from_str(r#"{"id":"r2","status":"failed","err":"x"}"#).unwrap();
        assert!(matches!(&failed, Replay::Failed(c) if c.extra["err"] == "x"));
        let odd: Replay = serde_json::from_str(r#"{"id":"r3","status":"archived"}"#).unwrap();
        assert!(matches!(&odd, Replay::Other { status, .. } if status == "archived"));
        assert!(serde_json::from_str::<Replay>(r#"{"id":"r4"}"#).is_err());
    }
}
