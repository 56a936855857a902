//! Request parameters: the list filters and the PATCH bodies.

mod filters;
mod patch;

pub use filters::{GroupFilter, MAX_PAGE_SIZE, ReplayFilter};
pub use patch::{GroupPatch, ReplayPatch};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enums::{MatchResult, Platform, Playlist, Rank, ReplaySortBy, SortDir};

    #[test]
    fn every_replay_filter_reaches_the_query() {
        let ts = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        let filter = ReplayFilter::new()
            .title("final")
            .player_name("a")
            .player_name("b")
            .player_id(Platform::Steam, "7656")
            .player_id(Platform::Other("psn".into()), "x")
            .playlist(Playlist::RankedDoubles)
            .playlist(Playlist::Other("space-race".into()))
            .season("f9")
            .match_result(MatchResult::Win)
            .min_rank(Rank::Diamond1)
            .max_rank(Rank::GrandChampion)
            .pro(true)
            .uploader("me")
            .group("g1")
            .map("stadium_p")
            .created_before(ts("2026-01-02T00:00:00Z"))
            .created_after(ts("2026-01-01T00:00:00Z"))
            .replay_date_before(ts("2026-02-02T00:00:00Z"))
            .replay_date_after(ts("2026-02-01T10:30:00+02:00"))
            .count(200)
            .sort_by(ReplaySortBy::ReplayDate)
            .sort_dir(SortDir::Asc)
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
                "replay-date-after=2026-02-01T08:30:00Z",
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
