//! Response and request bodies, typed down to every stat. Fields real answers omit or null
//! are `Option` (null means absent); numbers read from integers, floats or numeric strings;
//! strings with a known set of values are open enums; every object keeps the fields this
//! version does not know in `extra`, and serializes them back.

mod common;
mod group;
pub(crate) mod num;
mod replay;
mod stats;

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

pub use common::{
    GameDate, GroupRef, Ping, PlayerRef, Quota, QuotaWindow, RankInfo, UploadOutcome, User,
};
pub use group::{
    CreatedGroup, Group, GroupCumulative, GroupPage, GroupPlayer, GroupStats, GroupSummary,
    GroupTeam, NewGroup,
};
pub use replay::{
    Camera, PlayerDetail, PlayerSummary, Replay, ReplayPage, ReplaySummary, Server, TeamColor,
    TeamDetail, TeamSummary,
};
pub use stats::{Ball, Boost, Core, Demo, Movement, PlayerStats, Positioning, TeamStats};

/// Fields of an object that this version does not model.
pub type Extra = Map<String, Value>;

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
