//! List filters for `GET /replays` and `GET /groups`: every documented filter, typed, with a
//! builder method each, plus raw pairs as an escape hatch for filters the API adds later.

use jiff::Timestamp;

use crate::enums::{GroupSortBy, MatchResult, Platform, Playlist, Rank, ReplaySortBy, SortDir};

/// The page size the API accepts: 1 to 200.
pub const MAX_PAGE_SIZE: u32 = 200;

/// Filters for `GET /replays`. Repeated filters (names, ids, playlists) match any of their
/// values. Every field is public and has a builder method of the same name.
///
/// ```
/// use ballchasing_api::{MatchResult, Playlist, ReplayFilter};
/// let filter = ReplayFilter::mine()
///     .playlist(Playlist::RankedDoubles)
///     .match_result(MatchResult::Win)
///     .created_after("2025-01-01T00:00:00Z".parse().unwrap());
/// ```
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
    pub created_before: Option<Timestamp>,
    /// `created-after`.
    pub created_after: Option<Timestamp>,
    /// `replay-date-before`.
    pub replay_date_before: Option<Timestamp>,
    /// `replay-date-after`.
    pub replay_date_after: Option<Timestamp>,
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
    ///
    /// ```
    /// assert_eq!(ballchasing_api::ReplayFilter::new(), Default::default());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Only replays uploaded by the token's own account (`uploader=me`).
    ///
    /// ```
    /// assert_eq!(ballchasing_api::ReplayFilter::mine().uploader.as_deref(), Some("me"));
    /// ```
    pub fn mine() -> Self {
        Self::default().uploader("me")
    }

    /// Adds a `player-id` (`platform:id`; several match any of them).
    ///
    /// ```
    /// let f = ballchasing_api::ReplayFilter::new().player_id(ballchasing_api::Platform::Steam, "76561198000000000");
    /// ```
    pub fn player_id(mut self, platform: Platform, id: impl Into<String>) -> Self {
        self.player_ids.push((platform, id.into()));
        self
    }

    /// Adds a raw `key=value` pair, sent as given.
    ///
    /// ```
    /// let f = ballchasing_api::ReplayFilter::new().raw("rocket-league-id", "11D76D08");
    /// ```
    pub fn raw(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.raw.push((key.into(), value.into()));
        self
    }

    /// `title`: text in the title.
    ///
    /// ```
    /// let f = ballchasing_api::ReplayFilter::new().title("final");
    /// ```
    pub fn title(mut self, value: impl Into<String>) -> Self {
        self.title = Some(value.into());
        self
    }

    /// Adds a `player-name` (several match any of them).
    ///
    /// ```
    /// let f = ballchasing_api::ReplayFilter::new().player_name("Alice").player_name("Bob");
    /// ```
    pub fn player_name(mut self, value: impl Into<String>) -> Self {
        self.player_names.push(value.into());
        self
    }

    /// Adds a `playlist` (several match any of them).
    ///
    /// ```
    /// let f = ballchasing_api::ReplayFilter::new().playlist(ballchasing_api::Playlist::RankedDoubles);
    /// ```
    pub fn playlist(mut self, value: Playlist) -> Self {
        self.playlists.push(value);
        self
    }

    /// `season`: `1` to `14` (legacy) or `f1`, `f2`, … (free to play).
    ///
    /// ```
    /// let f = ballchasing_api::ReplayFilter::new().season("f12");
    /// ```
    pub fn season(mut self, value: impl Into<String>) -> Self {
        self.season = Some(value.into());
        self
    }

    /// `match-result`: the uploader's result.
    ///
    /// ```
    /// let f = ballchasing_api::ReplayFilter::new().match_result(ballchasing_api::MatchResult::Win);
    /// ```
    pub fn match_result(mut self, value: MatchResult) -> Self {
        self.match_result = Some(value);
        self
    }

    /// `min-rank`.
    ///
    /// ```
    /// let f = ballchasing_api::ReplayFilter::new().min_rank(ballchasing_api::Rank::Diamond1);
    /// ```
    pub fn min_rank(mut self, value: Rank) -> Self {
        self.min_rank = Some(value);
        self
    }

    /// `max-rank`.
    ///
    /// ```
    /// let f = ballchasing_api::ReplayFilter::new().max_rank(ballchasing_api::Rank::GrandChampion1);
    /// ```
    pub fn max_rank(mut self, value: Rank) -> Self {
        self.max_rank = Some(value);
        self
    }

    /// `pro=true`: only replays with a pro player.
    ///
    /// ```
    /// let f = ballchasing_api::ReplayFilter::new().pro(true);
    /// ```
    pub fn pro(mut self, value: bool) -> Self {
        self.pro = value;
        self
    }

    /// `uploader`: a SteamID64, or `me`.
    ///
    /// ```
    /// let f = ballchasing_api::ReplayFilter::new().uploader("76561198000000000");
    /// ```
    pub fn uploader(mut self, value: impl Into<String>) -> Self {
        self.uploader = Some(value.into());
        self
    }

    /// `group`: replays directly in this group (not its children; see [`Client::group_replays`](crate::Client::group_replays)).
    ///
    /// ```
    /// let f = ballchasing_api::ReplayFilter::new().group("season-12-x1y2");
    /// ```
    pub fn group(mut self, value: impl Into<String>) -> Self {
        self.group = Some(value.into());
        self
    }

    /// `map`: a map code (see [`Client::maps`](crate::Client::maps)).
    ///
    /// ```
    /// let f = ballchasing_api::ReplayFilter::new().map("stadium_p");
    /// ```
    pub fn map(mut self, value: impl Into<String>) -> Self {
        self.map = Some(value.into());
        self
    }

    /// `created-before`: uploaded before this instant.
    ///
    /// ```
    /// let f = ballchasing_api::ReplayFilter::new().created_before("2025-01-01T00:00:00Z".parse().unwrap());
    /// ```
    pub fn created_before(mut self, value: Timestamp) -> Self {
        self.created_before = Some(value);
        self
    }

    /// `created-after`: uploaded after this instant.
    ///
    /// ```
    /// let f = ballchasing_api::ReplayFilter::new().created_after(jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24));
    /// ```
    pub fn created_after(mut self, value: Timestamp) -> Self {
        self.created_after = Some(value);
        self
    }

    /// `replay-date-before`: played before this instant.
    ///
    /// ```
    /// let f = ballchasing_api::ReplayFilter::new().replay_date_before("2025-01-01T00:00:00Z".parse().unwrap());
    /// ```
    pub fn replay_date_before(mut self, value: Timestamp) -> Self {
        self.replay_date_before = Some(value);
        self
    }

    /// `replay-date-after`: played after this instant.
    ///
    /// ```
    /// let f = ballchasing_api::ReplayFilter::new().replay_date_after("2024-12-01T00:00:00Z".parse().unwrap());
    /// ```
    pub fn replay_date_after(mut self, value: Timestamp) -> Self {
        self.replay_date_after = Some(value);
        self
    }

    /// `count`: the page size, 1 to 200 (checked before sending). To stop after N replays, use [`Items::limit`](crate::Items::limit).
    ///
    /// ```
    /// let f = ballchasing_api::ReplayFilter::new().count(200);
    /// ```
    pub fn count(mut self, value: u32) -> Self {
        self.count = Some(value);
        self
    }

    /// `sort-by`.
    ///
    /// ```
    /// let f = ballchasing_api::ReplayFilter::new().sort_by(ballchasing_api::ReplaySortBy::ReplayDate);
    /// ```
    pub fn sort_by(mut self, value: ReplaySortBy) -> Self {
        self.sort_by = Some(value);
        self
    }

    /// `sort-dir`.
    ///
    /// ```
    /// let f = ballchasing_api::ReplayFilter::new().sort_dir(ballchasing_api::SortDir::Asc);
    /// ```
    pub fn sort_dir(mut self, value: SortDir) -> Self {
        self.sort_dir = Some(value);
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

/// Filters for `GET /groups`. Every field is public and has a builder method.
///
/// ```
/// let children = ballchasing_api::GroupFilter::mine().children_of("season-12-x1y2");
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupFilter {
    /// `name`: text in the name.
    pub name: Option<String>,
    /// `creator`: a SteamID64 or `me`.
    pub creator: Option<String>,
    /// `group`: children of this group.
    pub group: Option<String>,
    /// `created-before`.
    pub created_before: Option<Timestamp>,
    /// `created-after`.
    pub created_after: Option<Timestamp>,
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
    ///
    /// ```
    /// assert_eq!(ballchasing_api::GroupFilter::new(), Default::default());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Groups created by the token's own account (`creator=me`).
    ///
    /// ```
    /// assert_eq!(ballchasing_api::GroupFilter::mine().creator.as_deref(), Some("me"));
    /// ```
    pub fn mine() -> Self {
        Self::default().creator("me")
    }

    /// Adds a raw `key=value` pair, sent as given.
    ///
    /// ```
    /// let f = ballchasing_api::GroupFilter::new().raw("future-filter", "x");
    /// ```
    pub fn raw(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.raw.push((key.into(), value.into()));
        self
    }

    /// `name`: text in the name.
    ///
    /// ```
    /// let f = ballchasing_api::GroupFilter::new().name("scrims");
    /// ```
    pub fn name(mut self, value: impl Into<String>) -> Self {
        self.name = Some(value.into());
        self
    }

    /// `creator`: a SteamID64, or `me`.
    ///
    /// ```
    /// let f = ballchasing_api::GroupFilter::new().creator("me");
    /// ```
    pub fn creator(mut self, value: impl Into<String>) -> Self {
        self.creator = Some(value.into());
        self
    }

    /// `group`: only children of this group.
    ///
    /// ```
    /// let f = ballchasing_api::GroupFilter::new().children_of("season-12-x1y2");
    /// ```
    pub fn children_of(mut self, value: impl Into<String>) -> Self {
        self.group = Some(value.into());
        self
    }

    /// `created-before`.
    ///
    /// ```
    /// let f = ballchasing_api::GroupFilter::new().created_before("2025-01-01T00:00:00Z".parse().unwrap());
    /// ```
    pub fn created_before(mut self, value: Timestamp) -> Self {
        self.created_before = Some(value);
        self
    }

    /// `created-after`.
    ///
    /// ```
    /// let f = ballchasing_api::GroupFilter::new().created_after("2024-01-01T00:00:00Z".parse().unwrap());
    /// ```
    pub fn created_after(mut self, value: Timestamp) -> Self {
        self.created_after = Some(value);
        self
    }

    /// `count`: the page size, 1 to 200.
    ///
    /// ```
    /// let f = ballchasing_api::GroupFilter::new().count(50);
    /// ```
    pub fn count(mut self, value: u32) -> Self {
        self.count = Some(value);
        self
    }

    /// `sort-by`.
    ///
    /// ```
    /// let f = ballchasing_api::GroupFilter::new().sort_by(ballchasing_api::GroupSortBy::Name);
    /// ```
    pub fn sort_by(mut self, value: GroupSortBy) -> Self {
        self.sort_by = Some(value);
        self
    }

    /// `sort-dir`.
    ///
    /// ```
    /// let f = ballchasing_api::GroupFilter::new().sort_dir(ballchasing_api::SortDir::Asc);
    /// ```
    pub fn sort_dir(mut self, value: SortDir) -> Self {
        self.sort_dir = Some(value);
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
