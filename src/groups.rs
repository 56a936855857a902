//! Automatic groups: a child group per day or per play session under an optional parent,
//! chosen from the replay's own date, and remembered in the state so each is created once.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::dates::{civil, parse_date};
use crate::replay::ReplayInfo;

/// How replays are grouped automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// One group per calendar day of the match.
    Day,
    /// One group per play session: a gap longer than `session_gap` starts a new one.
    Session,
}

/// The automatic grouping rule from the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRule {
    /// Per day or per session.
    pub by: GroupBy,
    /// The parent group the children go under (`group` in the config), if any.
    pub parent: Option<String>,
    /// Longest pause inside one session.
    pub session_gap: Duration,
}

/// A group autochase created, as the state remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupEntry {
    /// `day:2026-11-26` or `session:<first match time>`.
    pub key: String,
    /// ballchasing's group id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Earliest match in it (seconds, the game's local time).
    pub first: i64,
    /// Latest match in it.
    pub last: i64,
}

/// Where a replay goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Into this existing group; the entry as it is after adding the replay.
    Existing(GroupEntry),
    /// Into a new group to create with this key and name.
    New {
        /// State key.
        key: String,
        /// Group name.
        name: String,
        /// The replay's time.
        at: i64,
    },
}

/// The match time from the header `Date` (the game's local time: `2025-03-15 16-54-25`, or
/// `2016-08-07:11-27` in 2015–16 replays) as seconds on a naive clock; `fallback` (the file's
/// modification time, UTC) when the header has no usable date.
pub fn match_time(info: &ReplayInfo, fallback: i64) -> i64 {
    info.date
        .as_deref()
        .and_then(parse_date)
        .unwrap_or(fallback)
}

impl GroupRule {
    /// Where a replay played at `at` goes, given the groups made so far.
    pub fn place<'a>(
        &self,
        groups: impl IntoIterator<Item = &'a GroupEntry>,
        at: i64,
    ) -> Placement {
        let (day, time) = civil(at);
        match self.by {
            GroupBy::Day => {
                let key = format!("day:{day}");
                match groups.into_iter().find(|g| g.key == key) {
                    Some(g) => Placement::Existing(extended(g, at)),
                    None => Placement::New { key, name: day, at },
                }
            }
            GroupBy::Session => {
                let gap = self.session_gap.as_secs() as i64;
                let near = groups
                    .into_iter()
                    .filter(|g| g.key.starts_with("session:"))
                    .filter(|g| at >= g.first - gap && at <= g.last + gap)
                    .min_by_key(|g| (at - g.last).abs().min((at - g.first).abs()));
                match near {
                    Some(g) => Placement::Existing(extended(g, at)),
                    None => Placement::New {
                        key: format!("session:{at}"),
                        name: format!("Session {day} {time}"),
                        at,
                    },
                }
            }
        }
    }
}

fn extended(g: &GroupEntry, at: i64) -> GroupEntry {
    let mut g = g.clone();
    g.first = g.first.min(at);
    g.last = g.last.max(at);
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, first: i64, last: i64) -> GroupEntry {
        GroupEntry {
            key: key.into(),
            id: format!("g-{key}"),
            name: key.into(),
            first,
            last,
        }
    }

    #[test]
    fn a_replay_without_a_date_falls_back_to_the_given_time() {
        assert_eq!(match_time(&ReplayInfo::default(), 42), 42);
    }

    #[test]
    fn days_and_sessions_are_placed() {
        let day = GroupRule {
            by: GroupBy::Day,
            parent: None,
            session_gap: Duration::from_secs(7200),
        };
        let t = parse_date("2025-03-15 16-54-25").unwrap();
        assert_eq!(
            day.place([], t),
            Placement::New {
                key: "day:2025-03-15".into(),
                name: "2025-03-15".into(),
                at: t
            }
        );
        let existing = entry("day:2025-03-15", t - 100, t - 50);
        assert!(matches!(day.place([&existing], t), Placement::Existing(g) if g.last == t));

        let session = GroupRule {
            by: GroupBy::Session,
            ..day
        };
        let s = entry("session:1", t - 3 * 3600, t - 2 * 3600 + 60);
        // 1 h 59 min after the session's last match: the same session.
        assert!(
            matches!(session.place([&s], t), Placement::Existing(g) if g.first == s.first && g.last == t)
        );
        // 2 h 1 min after: a new one, named after its first match.
        let later = t + 120;
        assert_eq!(
            session.place([&s], later),
            Placement::New {
                key: format!("session:{later}"),
                name: "Session 2025-03-15 16:56".into(),
                at: later
            }
        );
        // An older replay uploaded late joins the session it was played in.
        assert!(matches!(
            session.place([&s], t - 2 * 3600),
            Placement::Existing(_)
        ));
    }
}
