//! Request parameters: list filters (every documented one, typed, plus raw pairs as an escape
//! hatch) and PATCH bodies that tell "leave unchanged" from "set empty".

use serde::Serialize;

use crate::enums::{
    GroupSortBy, MatchResult, Platform, PlayerIdentification, Playlist, Rank, ReplaySortBy,
    SortDir, TeamIdentification, Visibility,
};

/// The page size the API accepts: 1 to 200.
pub const MAX_PAGE_SIZE: u32 = 200;

/// Filters for `GET /replays`. Repeated filters (names, ids, playlists) match any of their
/// values. Dates are RFC 3339 strings, sent as given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplayFilter {
    /// `title`: text in the title.
    pub title: Option<String>,
    /// `player-name`: any of these names.
    pub player_names: Vec<String>,
    /// `player-id`: any of these `platform:id` players.
    pub player_ids: Vec<(Platform, String)>,
    /// `playlist`: any of these playlists.
    pub playlists: Vec<Playlist>,
    /// `season`: `1`–`14` or `f1`, `f2`, ….
    pub season: Option<String>,
    /// `match-result`.
    pub match_result: Option<MatchResult>,
    /// `min-rank`.
    pub min_rank: Option<Rank>,
    /// `max-rank`.
    pub max_rank: Option<Rank>,
    /// `pro=true`: only replays with pro players.
    pub pro: bool,
    /// `uploader`: a SteamID64 or `me`.
    pub uploader: Option<String>,
    /// `group`: replays directly in this group.
    pub group: Option<String>,
    /// `map`: a map code.
    pub map: Option<String>,
    /// `created-before`.
    pub created_before: Option<String>,
    /// `created-after`.
    pub created_after: Option<String>,
    /// `replay-date-before`.
    pub replay_date_before: Option<String>,
    /// `replay-date-after`.
    pub replay_date_after: Option<String>,
    /// `count`: page size, 1–200.
    pub count: Option<u32>,
    /// `sort-by`.
    pub sort_by: Option<ReplaySortBy>,
    /// `sort-dir`.
    pub sort_dir: Option<SortDir>,
    /// Extra raw `key=value` pairs, sent as given (for filters the API adds later).
    pub raw: Vec<(String, String)>,
}

impl ReplayFilter {
    /// No filter: every replay the token can see.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only replays uploaded by the token's own account.
    pub fn mine() -> Self {
        ReplayFilter {
            uploader: Some("me".into()),
            ..Self::default()
        }
    }

    /// Adds a `player-name`.
    pub fn player_name(mut self, name: impl Into<String>) -> Self {
        self.player_names.push(name.into());
        self
    }

    /// Adds a `player-id`.
    pub fn player_id(mut self, platform: Platform, id: impl Into<String>) -> Self {
        self.player_ids.push((platform, id.into()));
        self
    }

    /// Adds a `playlist`.
    pub fn playlist(mut self, playlist: Playlist) -> Self {
        self.playlists.push(playlist);
        self
    }

    /// Sets the page size.
    pub fn count(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }

    /// Adds a raw `key=value` pair.
    pub fn raw(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.raw.push((key.into(), value.into()));
        self
    }

    /// Checks the page size and builds the query pairs in a stable order.
    pub(crate) fn to_query(&self) -> Result<Vec<(String, String)>, String> {
        let mut q = Query::default();
        q.opt("title", &self.title);
        for name in &self.player_names {
            q.push("player-name", name);
        }
        for (platform, id) in &self.player_ids {
            q.push("player-id", format!("{platform}:{id}"));
        }
        for playlist in &self.playlists {
            q.push("playlist", playlist);
        }
        q.opt("season", &self.season);
        q.opt("match-result", &self.match_result);
        q.opt("min-rank", &self.min_rank);
        q.opt("max-rank", &self.max_rank);
        if self.pro {
            q.push("pro", "true");
        }
        q.opt("uploader", &self.uploader);
        q.opt("group", &self.group);
        q.opt("map", &self.map);
        q.opt("created-before", &self.created_before);
        q.opt("created-after", &self.created_after);
        q.opt("replay-date-before", &self.replay_date_before);
        q.opt("replay-date-after", &self.replay_date_after);
        q.count(self.count)?;
        q.opt("sort-by", &self.sort_by);
        q.opt("sort-dir", &self.sort_dir);
        q.raw(&self.raw);
        Ok(q.0)
    }
}

/// Filters for `GET /groups`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupFilter {
    /// `name`: text in the name.
    pub name: Option<String>,
    /// `creator`: a SteamID64 or `me`.
    pub creator: Option<String>,
    /// `group`: children of this group.
    pub group: Option<String>,
    /// `created-before`.
    pub created_before: Option<String>,
    /// `created-after`.
    pub created_after: Option<String>,
    /// `count`: page size, 1–200.
    pub count: Option<u32>,
    /// `sort-by`.
    pub sort_by: Option<GroupSortBy>,
    /// `sort-dir`.
    pub sort_dir: Option<SortDir>,
    /// Extra raw `key=value` pairs.
    pub raw: Vec<(String, String)>,
}

impl GroupFilter {
    /// No filter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Groups created by the token's own account.
    pub fn mine() -> Self {
        GroupFilter {
            creator: Some("me".into()),
            ..Self::default()
        }
    }

    /// Sets the name filter.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Only children of `parent`.
    pub fn children_of(mut self, parent: impl Into<String>) -> Self {
        self.group = Some(parent.into());
        self
    }

    /// Sets the page size.
    pub fn count(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }

    pub(crate) fn to_query(&self) -> Result<Vec<(String, String)>, String> {
        let mut q = Query::default();
        q.opt("name", &self.name);
        q.opt("creator", &self.creator);
        q.opt("group", &self.group);
        q.opt("created-before", &self.created_before);
        q.opt("created-after", &self.created_after);
        q.count(self.count)?;
        q.opt("sort-by", &self.sort_by);
        q.opt("sort-dir", &self.sort_dir);
        q.raw(&self.raw);
        Ok(q.0)
    }
}

#[derive(Default)]
struct Query(Vec<(String, String)>);

impl Query {
    fn push(&mut self, key: &str, value: impl ToString) {
        self.0.push((key.to_owned(), value.to_string()));
    }

    fn opt(&mut self, key: &str, value: &Option<impl std::fmt::Display>) {
        if let Some(value) = value {
            self.push(key, value);
        }
    }

    fn count(&mut self, count: Option<u32>) -> Result<(), String> {
        match count {
            Some(n) if !(1..=MAX_PAGE_SIZE).contains(&n) => Err(format!(
                "count must be between 1 and {MAX_PAGE_SIZE}, got {n}"
            )),
            other => {
                self.opt("count", &other);
                Ok(())
            }
        }
    }

    fn raw(&mut self, pairs: &[(String, String)]) {
        self.0.extend(pairs.iter().cloned());
    }
}

/// `PATCH /replays/{id}`. A `None` field is left unchanged; `Some("")` for the group
/// removes the replay from its group. An empty patch is refused before sending.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReplayPatch {
    /// New title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// New visibility.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
    /// New group; `Some("")` ungroups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl ReplayPatch {
    /// A patch that changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the visibility.
    pub fn visibility(mut self, visibility: Visibility) -> Self {
        self.visibility = Some(visibility);
        self
    }

    /// Moves the replay into `group`.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// Removes the replay from its group (sends `"group": ""`).
    pub fn ungroup(mut self) -> Self {
        self.group = Some(String::new());
        self
    }

    /// True when no field would be sent.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// `PATCH /groups/{id}`. A `None` field is left unchanged; `Some(false)` unshares.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GroupPatch {
    /// New player identification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub player_identification: Option<PlayerIdentification>,
    /// New team identification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_identification: Option<TeamIdentification>,
    /// New parent group id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Shared by link or not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared: Option<bool>,
}

impl GroupPatch {
    /// A patch that changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets sharing on or off (`false` is sent, not dropped).
    pub fn shared(mut self, shared: bool) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Moves the group under `parent`.
    pub fn parent(mut self, parent: impl Into<String>) -> Self {
        self.parent = Some(parent.into());
        self
    }

    /// Sets player identification.
    pub fn player_identification(mut self, value: PlayerIdentification) -> Self {
        self.player_identification = Some(value);
        self
    }

    /// Sets team identification.
    pub fn team_identification(mut self, value: TeamIdentification) -> Self {
        self.team_identification = Some(value);
        self
    }

    /// True when no field would be sent.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_replay_filter_reaches_the_query() {
        let filter = ReplayFilter {
            title: Some("final".into()),
            season: Some("f9".into()),
            match_result: Some(MatchResult::Win),
            min_rank: Some(Rank::Diamond1),
            max_rank: Some(Rank::GrandChampion),
            pro: true,
            uploader: Some("me".into()),
            group: Some("g1".into()),
            map: Some("stadium_p".into()),
            created_before: Some("2026-01-02T00:00:00Z".into()),
            created_after: Some("2026-01-01T00:00:00Z".into()),
            replay_date_before: Some("2026-02-02T00:00:00Z".into()),
            replay_date_after: Some("2026-02-01T00:00:00Z".into()),
            sort_by: Some(ReplaySortBy::ReplayDate),
            sort_dir: Some(SortDir::Asc),
            ..ReplayFilter::new()
        }
        .player_name("a")
        .player_name("b")
        .player_id(Platform::Steam, "7656")
        .player_id(Platform::Other("psn".into()), "x")
        .playlist(Playlist::RankedDoubles)
        .playlist(Playlist::Other("space-race".into()))
        .count(200)
        .raw("rocket-league-id", "ABC");
        let query = filter.to_query().unwrap();
        let pairs: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            pairs,
            [
                "title=final",
                "player-name=a",
                "player-name=b",
                "player-id=steam:7656",
                "player-id=psn:x",
                "playlist=ranked-doubles",
                "playlist=space-race",
                "season=f9",
                "match-result=win",
                "min-rank=diamond-1",
                "max-rank=grand-champion",
                "pro=true",
                "uploader=me",
                "group=g1",
                "map=stadium_p",
                "created-before=2026-01-02T00:00:00Z",
                "created-after=2026-01-01T00:00:00Z",
                "replay-date-before=2026-02-02T00:00:00Z",
                "replay-date-after=2026-02-01T00:00:00Z",
                "count=200",
                "sort-by=replay-date",
                "sort-dir=asc",
                "rocket-league-id=ABC",
            ]
        );
    }

    #[test]
    fn page_size_is_checked() {
        assert!(ReplayFilter::new().count(0).to_query().is_err());
        assert!(ReplayFilter::new().count(201).to_query().is_err());
        assert!(GroupFilter::new().count(1).to_query().is_ok());
        assert!(GroupFilter::new().count(250).to_query().is_err());
    }

    #[test]
    fn patches_send_empty_values_and_skip_absent_ones() {
        let ungroup = serde_json::to_string(&ReplayPatch::new().ungroup()).unwrap();
        assert_eq!(ungroup, r#"{"group":""}"#);
        let unshare = serde_json::to_string(&GroupPatch::new().shared(false)).unwrap();
        assert_eq!(unshare, r#"{"shared":false}"#);
        assert!(ReplayPatch::new().is_empty());
        assert!(!ReplayPatch::new().title("").is_empty());
        assert!(GroupPatch::new().is_empty());
    }
}
