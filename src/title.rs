//! Replay titles from a template such as `"{match_type} {team_size}v{team_size}
//! {team0_score}-{team1_score} {map} {date}"`, filled from the validated replay's header.
//! Templates are checked when the config loads, so a typo never waits for an upload.

use std::collections::BTreeMap;
use std::fmt;

use crate::replay::ReplayInfo;

/// The placeholders a template may use, with what they become.
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    (
        "match_type",
        "Online, Private, Tournament, Lan, … (as the game wrote it)",
    ),
    ("team_size", "players per team (1, 2, 3, 4)"),
    ("team0_score", "blue goals (0 when the header has none)"),
    ("team1_score", "orange goals (0 when the header has none)"),
    (
        "map",
        "the map's name, e.g. DFH Stadium (its code when ballchasing does not know it)",
    ),
    (
        "date",
        "the match date as YYYY-MM-DD HH:MM (local time, as the game wrote it)",
    ),
    ("duration", "the replay's length as M:SS"),
    ("name", "the name given in the game, when there is one"),
    ("id", "the replay's header Id"),
];

/// ballchasing shows titles in lists; a longer one is cut here rather than refused there.
const MAX_LEN: usize = 120;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(&'static str),
}

/// A parsed title template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

/// Why a template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateError {}

impl Template {
    /// Parses `{placeholder}`s and text; `{{` and `}}` are literal braces.
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = source.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => {
                                return Err(TemplateError(format!(
                                    "`{{{name}` is not closed; write `{{{{` for a literal brace"
                                )));
                            }
                        }
                    }
                    let Some((known, _)) = PLACEHOLDERS.iter().find(|(p, _)| *p == name.trim())
                    else {
                        let all: Vec<_> = PLACEHOLDERS.iter().map(|(p, _)| *p).collect();
                        return Err(TemplateError(format!(
                            "has an unknown placeholder {{{name}}}; use {}",
                            all.join(", ")
                        )));
                    };
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Field(known));
                }
                '}' => {
                    return Err(TemplateError(
                        "has a `}` without its `{`; write `}}` for a literal brace".into(),
                    ));
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template {
            source: source.to_owned(),
            parts,
        })
    }

    /// The template as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// True when the template shows the map (whose name ballchasing's `/maps` gives).
    pub fn uses_map(&self) -> bool {
        self.parts.contains(&Part::Field("map"))
    }

    /// The title for a replay; `{map}` is the map's name from `map_names` (code → name, as
    /// ballchasing's `/maps` gives them), else its code. Missing values become empty; runs of
    /// spaces left behind collapse to one. `None` when nothing but spaces and punctuation
    /// would remain.
    pub fn render(
        &self,
        info: &ReplayInfo,
        map_names: &BTreeMap<String, String>,
    ) -> Option<String> {
        // Each field's value; `None` for text.
        let values: Vec<Option<String>> = self
            .parts
            .iter()
            .map(|part| match part {
                Part::Text(_) => None,
                Part::Field("map") => Some(map_name(info, map_names)),
                Part::Field(f) => Some(value(f, info)),
            })
            .collect();
        let mut out = String::new();
        for (i, part) in self.parts.iter().enumerate() {
            match part {
                // Text between fields that all came out empty (the `v` of `{team_size}v
                // {team_size}`) goes with them, but for the space that parted them.
                Part::Text(_) if only_empty_fields_beside(&values, i) => out.push(' '),
                Part::Text(t) => out.push_str(t),
                Part::Field(_) => out.push_str(values[i].as_deref().unwrap_or_default()),
            }
        }
        for empty in ["()", "[]", "( )", "[ ]"] {
            out = out.replace(empty, " ");
        }
        let mut title = out.split_whitespace().collect::<Vec<_>>().join(" ");
        // Separators left at either end by a missing value (`Online -`).
        let separator = |c: char| c.is_whitespace() || "-–—|/:,;·.".contains(c);
        title = title
            .trim_start_matches(|c| separator(c) || ")]".contains(c))
            .trim_end_matches(|c| separator(c) || "([".contains(c))
            .to_owned();
        if !title.chars().any(char::is_alphanumeric) {
            return None;
        }
        if title.chars().count() > MAX_LEN {
            title = title.chars().take(MAX_LEN).collect();
        }
        Some(title)
    }
}

/// True when the text at `i` has a field on at least one side and every field beside it
/// rendered empty.
fn only_empty_fields_beside(values: &[Option<String>], i: usize) -> bool {
    let before = i.checked_sub(1).and_then(|j| values[j].as_ref());
    let after = values.get(i + 1).and_then(Option::as_ref);
    let beside: Vec<&String> = before.into_iter().chain(after).collect();
    !beside.is_empty() && beside.iter().all(|v| v.is_empty())
}

/// The map's name when ballchasing knows its code (in any case), else the code.
fn map_name(info: &ReplayInfo, names: &BTreeMap<String, String>) -> String {
    let Some(code) = &info.map else {
        return String::new();
    };
    names
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(code))
        .map_or_else(|| code.clone(), |(_, name)| name.clone())
}

fn value(field: &str, info: &ReplayInfo) -> String {
    let int = |v: Option<i32>| v.map(|v| v.to_string()).unwrap_or_default();
    match field {
        "match_type" => info.match_type.clone().unwrap_or_default(),
        "team_size" => int(info.team_size),
        // The game leaves a team's score out of the header when it is 0.
        "team0_score" => info.team0_score.unwrap_or(0).to_string(),
        "team1_score" => info.team1_score.unwrap_or(0).to_string(),
        "map" => info.map.clone().unwrap_or_default(),
        "date" => info.date.as_deref().map(pretty_date).unwrap_or_default(),
        "duration" => info
            .duration
            .map(|s| {
                let s = s.round() as u64;
                format!("{}:{:02}", s / 60, s % 60)
            })
            .unwrap_or_default(),
        "name" => info.name.clone().unwrap_or_default(),
        "id" => info.id.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

/// `2025-03-15 16-54-25` (current) or `2016-08-07:11-27` (2015–16) → `2025-03-15 16:54`;
/// a date it cannot read is kept as the game wrote it.
fn pretty_date(raw: &str) -> String {
    match crate::dates::parse_date(raw) {
        Some(at) => {
            let (day, time) = crate::dates::civil(at);
            format!("{day} {time}")
        }
        None => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lan() -> ReplayInfo {
        ReplayInfo {
            id: Some("C83E4E724DDA240B624949ABFB5BB964".into()),
            name: Some("2-1".into()),
            match_type: Some("LAN".into()),
            team_size: Some(4),
            team0_score: Some(3),
            team1_score: Some(2),
            map: Some("Stadium_p".into()),
            date: Some("2016-08-07:11-27".into()),
            duration: Some(246.6),
        }
    }

    #[test]
    fn every_placeholder_renders() {
        let t = Template::parse(
            "{match_type} {team_size}v{team_size} {team0_score}-{team1_score} {map} {date} ({duration}) {name} {id} {{x}}",
        )
        .unwrap();
        assert_eq!(
            t.render(&lan(), &BTreeMap::new()).unwrap(),
            "LAN 4v4 3-2 Stadium_p 2016-08-07 11:27 (4:07) 2-1 C83E4E724DDA240B624949ABFB5BB964 {x}"
        );
    }

    #[test]
    fn maps_show_their_names_when_ballchasing_gives_them() {
        let t = Template::parse("{map}").unwrap();
        let names = BTreeMap::from([("stadium_p".to_string(), "DFH Stadium".to_string())]);
        assert_eq!(t.render(&lan(), &names).unwrap(), "DFH Stadium");
        assert_eq!(t.render(&lan(), &BTreeMap::new()).unwrap(), "Stadium_p");
        assert!(t.uses_map());
    }

    #[test]
    fn missing_values_leave_no_holes() {
        let t = Template::parse("{match_type} {map} {team0_score}-{team1_score} {name}").unwrap();
        let info = ReplayInfo {
            match_type: Some("Online".into()),
            team1_score: Some(1),
            ..ReplayInfo::default()
        };
        assert_eq!(t.render(&info, &BTreeMap::new()).unwrap(), "Online 0-1");
        assert_eq!(
            Template::parse("{map} {name}")
                .unwrap()
                .render(&info, &BTreeMap::new()),
            None
        );
        assert_eq!(pretty_date("2025-03-15 16-54-25"), "2025-03-15 16:54");
        assert_eq!(pretty_date("odd"), "odd");
    }

    #[test]
    fn a_missing_value_takes_its_separators_with_it() {
        let info = ReplayInfo {
            match_type: Some("Online".into()),
            map: Some("Stadium_p".into()),
            ..ReplayInfo::default()
        };
        let none = BTreeMap::new();
        let table = [
            ("{team_size}v{team_size} {map}", "Stadium_p"),
            ("{match_type} - {name}", "Online"),
            ("{name} | {match_type}", "Online"),
            ("{map} ({duration})", "Stadium_p"),
            ("[{name}] {map}", "Stadium_p"),
            (
                "{match_type} {team_size}v{team_size} on {map}",
                "Online on Stadium_p",
            ),
            ("{match_type} - {map}", "Online - Stadium_p"),
        ];
        for (template, expected) in table {
            let t = Template::parse(template).unwrap();
            assert_eq!(
                t.render(&info, &none).as_deref(),
                Some(expected),
                "{template}"
            );
        }
    }

    #[test]
    fn bad_templates_say_what_is_wrong() {
        let unknown = Template::parse("{mode}").unwrap_err().to_string();
        assert!(
            unknown.contains("{mode}") && unknown.contains("match_type"),
            "{unknown}"
        );
        assert!(
            Template::parse("{map")
                .unwrap_err()
                .to_string()
                .contains("not closed")
        );
        assert!(
            Template::parse("a } b")
                .unwrap_err()
                .to_string()
                .contains("`}}`")
        );
        let long = Template::parse(&"x".repeat(300)).unwrap();
        assert_eq!(
            long.render(&lan(), &BTreeMap::new()).unwrap().len(),
            MAX_LEN
        );
    }
}
