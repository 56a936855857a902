//! Replays: the list page and its shallow items, and the full replay detail with its teams,
//! players, camera settings, server and every stat.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::common::{GameDate, GroupRef, PlayerRef, RankInfo, User};
use super::stats::{Boost, Core, Demo, Movement, PlayerStats, Positioning, TeamStats};
use super::{Extra, null_as_default};
use crate::enums::{Playlist, ReplayStatus, Visibility};

/// One page of `GET /replays`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReplayPage {
    /// Total matches of the filter (not the page size).
    #[serde(default, deserialize_with = "super::num::opt_u64")]
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

/// One item of `GET /replays` (a "shallow" replay). Sparse data is normal: bots have no
/// player id, `goals` is missing when 0, names and durations can be missing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReplaySummary {
    /// Replay id (UUID).
    pub id: String,
    /// API link.
    pub link: Option<String>,
    /// The replay header's `Id`.
    pub rocket_league_id: Option<String>,
    /// Title (`title` in the detail).
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
    #[serde(default, deserialize_with = "super::num::opt_f64")]
    pub duration: Option<f64>,
    /// Whether the match went to overtime.
    pub overtime: Option<bool>,
    /// Seconds of overtime.
    #[serde(default, deserialize_with = "super::num::opt_f64")]
    pub overtime_seconds: Option<f64>,
    /// Season number (read with `season_type`).
    #[serde(default, deserialize_with = "super::num::opt_u32")]
    pub season: Option<u32>,
    /// `free2play` or `legacy`.
    pub season_type: Option<String>,
    /// When the game was played, on the player's clock.
    pub date: Option<GameDate>,
    /// Whether `date` carries an offset (`date_has_timezone` in the detail).
    pub date_has_tz: Option<bool>,
    /// Visibility.
    pub visibility: Option<Visibility>,
    /// Upload time.
    pub created: Option<Timestamp>,
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

/// A team in a replay list item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TeamSummary {
    /// Goals (missing when 0).
    #[serde(default, deserialize_with = "super::num::opt_u32")]
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

/// A player in a replay list item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlayerSummary {
    /// Name (missing for some bots).
    pub name: Option<String>,
    /// Platform id (missing for bots).
    pub id: Option<PlayerRef>,
    /// Seconds into the match the player joined.
    #[serde(default, deserialize_with = "super::num::opt_f64")]
    pub start_time: Option<f64>,
    /// Seconds into the match the player left.
    #[serde(default, deserialize_with = "super::num::opt_f64")]
    pub end_time: Option<f64>,
    /// In-game score.
    #[serde(default, deserialize_with = "super::num::opt_i64")]
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

/// `GET /replays/{id}`: a replay in any processing state. Only the common fields (`id`,
/// `link`, `created`, `uploader`, `status`) are there while it is `pending` or `failed`;
/// everything else arrives with `ok`, so it is all `Option`. A training replay has no
/// players; an older one carries ranks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Replay {
    /// Replay id.
    pub id: String,
    /// Processing state: `ok`, `pending`, `failed`.
    pub status: Option<ReplayStatus>,
    /// API link.
    pub link: Option<String>,
    /// Upload time.
    pub created: Option<Timestamp>,
    /// Who uploaded it.
    pub uploader: Option<User>,
    /// The replay header's `Id`.
    pub rocket_league_id: Option<String>,
    /// Match GUID (the same for every player's save of one match).
    pub match_guid: Option<String>,
    /// Title (`replay_title` in list items).
    pub title: Option<String>,
    /// Who recorded the replay, when sent.
    pub recorder: Option<String>,
    /// Map code.
    pub map_code: Option<String>,
    /// Map display name.
    pub map_name: Option<String>,
    /// Match type (`Online`, `Private`, `Offline`, …).
    pub match_type: Option<String>,
    /// Players per team.
    #[serde(default, deserialize_with = "super::num::opt_u32")]
    pub team_size: Option<u32>,
    /// Playlist id.
    pub playlist_id: Option<Playlist>,
    /// Playlist display name.
    pub playlist_name: Option<String>,
    /// Match length in seconds.
    #[serde(default, deserialize_with = "super::num::opt_f64")]
    pub duration: Option<f64>,
    /// Whether the match went to overtime.
    pub overtime: Option<bool>,
    /// Seconds of overtime.
    #[serde(default, deserialize_with = "super::num::opt_f64")]
    pub overtime_seconds: Option<f64>,
    /// Season number (read with `season_type`).
    #[serde(default, deserialize_with = "super::num::opt_u32")]
    pub season: Option<u32>,
    /// `free2play` or `legacy`.
    pub season_type: Option<String>,
    /// When the game was played, on the player's clock.
    pub date: Option<GameDate>,
    /// Whether `date` carries an offset.
    pub date_has_timezone: Option<bool>,
    /// Visibility.
    pub visibility: Option<Visibility>,
    /// The game server.
    pub server: Option<Server>,
    /// Lowest rank in the match (older replays).
    pub min_rank: Option<RankInfo>,
    /// Highest rank in the match (older replays).
    pub max_rank: Option<RankInfo>,
    /// Groups it is directly in.
    #[serde(default, deserialize_with = "null_as_default")]
    pub groups: Vec<GroupRef>,
    /// Blue team.
    pub blue: Option<TeamDetail>,
    /// Orange team.
    pub orange: Option<TeamDetail>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Which side a team played on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TeamColor {
    /// Blue.
    Blue,
    /// Orange.
    Orange,
}

impl std::fmt::Display for TeamColor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so width and alignment (`{color:<6}`) apply.
        f.pad(match self {
            TeamColor::Blue => "blue",
            TeamColor::Orange => "orange",
        })
    }
}

impl Replay {
    /// The replay id.
    ///
    /// ```
    /// let r: ballchasing_api::Replay = serde_json::from_str(r#"{"id":"r1","status":"pending"}"#).unwrap();
    /// assert_eq!(r.id(), "r1");
    /// ```
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Who uploaded it, whatever its processing status.
    ///
    /// ```
    /// let r: ballchasing_api::Replay = serde_json::from_str(
    ///     r#"{"id":"r1","status":"pending","uploader":{"steam_id":"7656","name":"A"}}"#).unwrap();
    /// assert_eq!(r.uploader().and_then(|u| u.name.as_deref()), Some("A"));
    /// ```
    pub fn uploader(&self) -> Option<&super::User> {
        self.uploader.as_ref()
    }

    /// True once ballchasing has processed it (`status: "ok"`).
    ///
    /// ```
    /// let r: ballchasing_api::Replay = serde_json::from_str(r#"{"id":"r1","status":"ok"}"#).unwrap();
    /// assert!(r.is_processed());
    /// ```
    pub fn is_processed(&self) -> bool {
        self.status == Some(ReplayStatus::Ok)
    }

    /// Both teams with their color (blue first); none for a replay not processed yet.
    ///
    /// ```
    /// let r: ballchasing_api::Replay = serde_json::from_str(
    ///     r#"{"id":"r1","blue":{"players":[]},"orange":{"players":[]}}"#).unwrap();
    /// assert_eq!(r.teams().count(), 2);
    /// ```
    pub fn teams(&self) -> impl Iterator<Item = (TeamColor, &TeamDetail)> {
        [
            (TeamColor::Blue, &self.blue),
            (TeamColor::Orange, &self.orange),
        ]
        .into_iter()
        .filter_map(|(color, team)| team.as_ref().map(|t| (color, t)))
    }

    /// Every player with their team's color, blue team first.
    ///
    /// ```
    /// let r: ballchasing_api::Replay = serde_json::from_str(
    ///     r#"{"id":"r1","blue":{"players":[{"name":"A"}]},"orange":{"players":[{"name":"B"}]}}"#).unwrap();
    /// let names: Vec<_> = r.players().map(|(c, p)| format!("{c}:{}", p.name.as_deref().unwrap())).collect();
    /// assert_eq!(names, ["blue:A", "orange:B"]);
    /// ```
    pub fn players(&self) -> impl Iterator<Item = (TeamColor, &PlayerDetail)> {
        self.teams()
            .flat_map(|(color, team)| team.players.iter().map(move |p| (color, p)))
    }

    /// Goals of (blue, orange), from the team stats.
    ///
    /// ```
    /// let r: ballchasing_api::Replay = serde_json::from_str(
    ///     r#"{"id":"r1","blue":{"stats":{"core":{"goals":3}}},"orange":{"stats":{"core":{"goals":1}}}}"#).unwrap();
    /// assert_eq!(r.score(), (Some(3.0), Some(1.0)));
    /// ```
    pub fn score(&self) -> (Option<f64>, Option<f64>) {
        let goals = |team: &Option<TeamDetail>| team.as_ref().and_then(TeamDetail::goals);
        (goals(&self.blue), goals(&self.orange))
    }
}

/// The game server `{name, region}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Server {
    /// Server name (`USW303-Gizmo5`).
    pub name: Option<String>,
    /// Region (`USW`).
    pub region: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A team in a processed replay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TeamDetail {
    /// `blue` or `orange`.
    pub color: Option<String>,
    /// Team name, when set.
    pub name: Option<String>,
    /// Players (none in a training replay).
    #[serde(default, deserialize_with = "null_as_default")]
    pub players: Vec<PlayerDetail>,
    /// Team stats, ball possession included.
    pub stats: Option<TeamStats>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TeamDetail {
    /// Goals scored, from the team's core stats.
    ///
    /// ```
    /// let t: ballchasing_api::TeamDetail = serde_json::from_str(r#"{"stats":{"core":{"goals":2}}}"#).unwrap();
    /// assert_eq!(t.goals(), Some(2.0));
    /// ```
    pub fn goals(&self) -> Option<f64> {
        self.stats.as_ref()?.core.as_ref()?.goals
    }
}

/// A player's camera settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Camera {
    /// Field of view.
    #[serde(default, deserialize_with = "super::num::opt_f64")]
    pub fov: Option<f64>,
    /// Height.
    #[serde(default, deserialize_with = "super::num::opt_f64")]
    pub height: Option<f64>,
    /// Pitch (angle).
    #[serde(default, deserialize_with = "super::num::opt_f64")]
    pub pitch: Option<f64>,
    /// Distance.
    #[serde(default, deserialize_with = "super::num::opt_f64")]
    pub distance: Option<f64>,
    /// Stiffness.
    #[serde(default, deserialize_with = "super::num::opt_f64")]
    pub stiffness: Option<f64>,
    /// Swivel speed.
    #[serde(default, deserialize_with = "super::num::opt_f64")]
    pub swivel_speed: Option<f64>,
    /// Transition speed.
    #[serde(default, deserialize_with = "super::num::opt_f64")]
    pub transition_speed: Option<f64>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A player in a processed replay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlayerDetail {
    /// Name.
    pub name: Option<String>,
    /// Platform id (missing for bots).
    pub id: Option<PlayerRef>,
    /// Seconds into the match the player joined.
    #[serde(default, deserialize_with = "super::num::opt_f64")]
    pub start_time: Option<f64>,
    /// Seconds into the match the player left.
    #[serde(default, deserialize_with = "super::num::opt_f64")]
    pub end_time: Option<f64>,
    /// Car body id.
    #[serde(default, deserialize_with = "super::num::opt_i64")]
    pub car_id: Option<i64>,
    /// Car body name.
    pub car_name: Option<String>,
    /// Camera settings.
    pub camera: Option<Camera>,
    /// Steering sensitivity.
    #[serde(default, deserialize_with = "super::num::opt_f64")]
    pub steering_sensitivity: Option<f64>,
    /// Whether the player was MVP (sent only for the MVP in some answers).
    pub mvp: Option<bool>,
    /// The player's rank (older replays).
    pub rank: Option<RankInfo>,
    /// Whether the player is a pro.
    pub pro: Option<bool>,
    /// Every stat of the player in this replay.
    pub stats: Option<PlayerStats>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

impl PlayerDetail {
    /// Core stats (shots, goals, saves, score, MVP), when present.
    ///
    /// ```
    /// let p: ballchasing_api::PlayerDetail = serde_json::from_str(r#"{"stats":{"core":{"saves":4}}}"#).unwrap();
    /// assert_eq!(p.core().and_then(|c| c.saves), Some(4.0));
    /// ```
    pub fn core(&self) -> Option<&Core> {
        self.stats.as_ref()?.core.as_ref()
    }

    /// Boost stats, when present.
    ///
    /// ```
    /// let p: ballchasing_api::PlayerDetail = serde_json::from_str(r#"{"stats":{"boost":{"bpm":400}}}"#).unwrap();
    /// assert_eq!(p.boost().and_then(|b| b.bpm), Some(400.0));
    /// ```
    pub fn boost(&self) -> Option<&Boost> {
        self.stats.as_ref()?.boost.as_ref()
    }

    /// Movement stats, when present.
    ///
    /// ```
    /// let p: ballchasing_api::PlayerDetail = serde_json::from_str(r#"{"stats":{"movement":{"avg_speed":1500}}}"#).unwrap();
    /// assert_eq!(p.movement().and_then(|m| m.avg_speed), Some(1500.0));
    /// ```
    pub fn movement(&self) -> Option<&Movement> {
        self.stats.as_ref()?.movement.as_ref()
    }

    /// Positioning stats, when present.
    ///
    /// ```
    /// let p: ballchasing_api::PlayerDetail = serde_json::from_str(r#"{"stats":{"positioning":{"percent_behind_ball":69.5}}}"#).unwrap();
    /// assert_eq!(p.positioning().and_then(|s| s.percent_behind_ball), Some(69.5));
    /// ```
    pub fn positioning(&self) -> Option<&Positioning> {
        self.stats.as_ref()?.positioning.as_ref()
    }

    /// Demolition stats, when present.
    ///
    /// ```
    /// let p: ballchasing_api::PlayerDetail = serde_json::from_str(r#"{"stats":{"demo":{"inflicted":3}}}"#).unwrap();
    /// assert_eq!(p.demo().and_then(|d| d.inflicted), Some(3.0));
    /// ```
    pub fn demo(&self) -> Option<&Demo> {
        self.stats.as_ref()?.demo.as_ref()
    }
}
