//! Groups: the list page and its items, the group detail with per-player and per-team stats
//! (cumulative and per-game average), and the create request and answer.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::common::User;
use super::stats::{Boost, Core, Demo, Movement, Positioning};
use super::{Extra, null_as_default};
use crate::enums::{GroupStatus, PlayerIdentification, TeamIdentification};

/// One page of `GET /groups`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupPage {
    /// Total matches, when sent.
    #[serde(default, deserialize_with = "super::num::opt_u64")]
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

/// One item of `GET /groups`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    /// Group id.
    pub id: String,
    /// API link.
    pub link: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Creation time.
    pub created: Option<Timestamp>,
    /// How players are identified.
    pub player_identification: Option<PlayerIdentification>,
    /// How teams are identified.
    pub team_identification: Option<TeamIdentification>,
    /// Replays directly in the group.
    #[serde(default, deserialize_with = "super::num::opt_u64")]
    pub direct_replays: Option<u64>,
    /// Replays in child groups.
    #[serde(default, deserialize_with = "super::num::opt_u64")]
    pub indirect_replays: Option<u64>,
    /// Whether the group is shared by link.
    pub shared: Option<bool>,
    /// The creator.
    pub user: Option<User>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `GET /groups/{id}`: the group and its stats.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// Group id.
    pub id: String,
    /// API link.
    pub link: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Creation time.
    pub created: Option<Timestamp>,
    /// `ok`, `pending_replays`, `failed_replays`.
    pub status: Option<GroupStatus>,
    /// How players are identified.
    pub player_identification: Option<PlayerIdentification>,
    /// How teams are identified.
    pub team_identification: Option<TeamIdentification>,
    /// Whether the group is shared by link.
    pub shared: Option<bool>,
    /// The creator (with `avatar_full` and `avatar_medium`).
    pub creator: Option<User>,
    /// Every player of the group's replays, with their stats.
    #[serde(default, deserialize_with = "null_as_default")]
    pub players: Vec<GroupPlayer>,
    /// Every team, with its stats.
    #[serde(default, deserialize_with = "null_as_default")]
    pub teams: Vec<GroupTeam>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A player in a group answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupPlayer {
    /// Platform (`Steam`, `Epic`, `PS4`, …; capitalised here, unlike in replays).
    pub platform: Option<String>,
    /// The platform's id.
    #[serde(default, deserialize_with = "super::num::opt_id")]
    pub id: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// The team's name.
    pub team: Option<String>,
    /// Totals over the group's games.
    pub cumulative: Option<GroupCumulative>,
    /// Averages per game.
    pub game_average: Option<GroupStats>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A team in a group answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupTeam {
    /// Team name (by default its players' names).
    pub name: Option<String>,
    /// Its players (without stats).
    #[serde(default, deserialize_with = "null_as_default")]
    pub players: Vec<GroupPlayer>,
    /// Totals over the group's games.
    pub cumulative: Option<GroupCumulative>,
    /// Averages per game.
    pub game_average: Option<GroupStats>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Totals over a group's games: the record and the summed stats.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupCumulative {
    /// Games played.
    #[serde(default, deserialize_with = "super::num::opt_f64")]
    pub games: Option<f64>,
    /// Games won.
    #[serde(default, deserialize_with = "super::num::opt_f64")]
    pub wins: Option<f64>,
    /// Games won, in percent.
    #[serde(default, deserialize_with = "super::num::opt_f64")]
    pub win_percentage: Option<f64>,
    /// Seconds played.
    #[serde(default, deserialize_with = "super::num::opt_f64")]
    pub play_duration: Option<f64>,
    /// Shots, goals, saves, score, MVPs.
    pub core: Option<Core>,
    /// Boost use and collection.
    pub boost: Option<Boost>,
    /// Speed, air time, distance.
    pub movement: Option<Movement>,
    /// Where on the field.
    pub positioning: Option<Positioning>,
    /// Demolitions.
    pub demo: Option<Demo>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Stats averaged per game over a group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupStats {
    /// Shots, goals, saves, score, MVPs per game.
    pub core: Option<Core>,
    /// Boost use and collection.
    pub boost: Option<Boost>,
    /// Speed, air time, distance.
    pub movement: Option<Movement>,
    /// Where on the field.
    pub positioning: Option<Positioning>,
    /// Demolitions.
    pub demo: Option<Demo>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `POST /groups` body. Every field has a builder; `parent` is also a public field.
///
/// ```
/// use ballchasing_api::{NewGroup, PlayerIdentification, TeamIdentification};
/// let group = NewGroup::new("Scrims")
///     .player_identification(PlayerIdentification::ByName)
///     .team_identification(TeamIdentification::ByPlayerClusters)
///     .parent("season-12-x1y2");
/// assert_eq!(group.parent.as_deref(), Some("season-12-x1y2"));
/// ```
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
    ///
    /// ```
    /// let group = ballchasing_api::NewGroup::new("Scrims");
    /// assert_eq!(group.parent, None);
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        NewGroup {
            name: name.into(),
            player_identification: PlayerIdentification::ById,
            team_identification: TeamIdentification::ByDistinctPlayers,
            parent: None,
        }
    }

    /// Makes it a child of `parent`.
    ///
    /// ```
    /// let group = ballchasing_api::NewGroup::new("Week 1").parent("league-x1");
    /// ```
    pub fn parent(mut self, parent: impl Into<String>) -> Self {
        self.parent = Some(parent.into());
        self
    }

    /// How the group identifies a player across replays (`by-name` for shared accounts).
    ///
    /// ```
    /// use ballchasing_api::{NewGroup, PlayerIdentification};
    /// let group = NewGroup::new("RLCS").player_identification(PlayerIdentification::ByName);
    /// ```
    pub fn player_identification(mut self, value: PlayerIdentification) -> Self {
        self.player_identification = value;
        self
    }

    /// How the group identifies a team (`by-player-clusters` when rosters rotate).
    ///
    /// ```
    /// use ballchasing_api::{NewGroup, TeamIdentification};
    /// let group = NewGroup::new("League").team_identification(TeamIdentification::ByPlayerClusters);
    /// ```
    pub fn team_identification(mut self, value: TeamIdentification) -> Self {
        self.team_identification = value;
        self
    }
}

/// `POST /groups` answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreatedGroup {
    /// Group id (slug).
    pub id: String,
    /// API link.
    pub link: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}
