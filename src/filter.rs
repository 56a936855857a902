//! Which complete replays to upload at all: match-type and length filters from the config.
//! The rest are recorded as skipped, with the rule that skipped them.

use std::time::Duration;

/// Which complete replays to upload; the rest are recorded as skipped, with the rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Upload only these match types (lower case); empty: all.
    pub only_match_types: Vec<String>,
    /// Never upload these match types (lower case).
    pub skip_match_types: Vec<String>,
    /// Skip replays shorter than this (replays whose length is unknown are kept).
    pub min_duration: Option<Duration>,
}

impl Filter {
    /// Why this replay is not uploaded, and how to upload it anyway; `None` to upload it.
    pub fn skip_reason(&self, info: &crate::replay::ReplayInfo) -> Option<String> {
        self.rule(info)
            .map(|rule| format!("{rule}; `autochase upload --force FILE` uploads it"))
    }

    /// The rule that leaves this replay out, if one does (each starts with `FILTERED`).
    fn rule(&self, info: &crate::replay::ReplayInfo) -> Option<String> {
        let kind = info
            .match_type
            .as_deref()
            .unwrap_or("")
            .to_ascii_lowercase();
        let shown = info.match_type.as_deref().unwrap_or("(none)");
        if !self.only_match_types.is_empty() && !self.only_match_types.contains(&kind) {
            return Some(format!(
                "{FILTERED}match type {shown} is not in only_match_types"
            ));
        }
        if self.skip_match_types.contains(&kind) {
            return Some(format!(
                "{FILTERED}match type {shown} is in skip_match_types"
            ));
        }
        if let (Some(min), Some(length)) = (self.min_duration, info.duration)
            && length < min.as_secs_f64()
        {
            return Some(format!(
                "{FILTERED}{length:.0} s long, shorter than min_duration ({} s)",
                min.as_secs()
            ));
        }
        None
    }
}

/// How every filter's skip reason starts.
pub const FILTERED: &str = "skipped by filter: ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_name_the_rule_that_skipped() {
        use crate::replay::ReplayInfo;
        let info = |kind: &str, secs: Option<f64>| ReplayInfo {
            match_type: Some(kind.into()),
            duration: secs,
            ..ReplayInfo::default()
        };
        let only = Filter {
            only_match_types: vec!["online".into(), "tournament".into()],
            ..Filter::default()
        };
        assert_eq!(only.skip_reason(&info("Online", None)), None);
        assert_eq!(
            only.skip_reason(&info("Private", None)).unwrap(),
            "skipped by filter: match type Private is not in only_match_types; `autochase upload --force FILE` uploads it"
        );
        let skip = Filter {
            skip_match_types: vec!["lan".into()],
            min_duration: Some(Duration::from_secs(60)),
            ..Filter::default()
        };
        assert!(
            skip.skip_reason(&info("LAN", Some(300.0)))
                .unwrap()
                .contains("skip_match_types")
        );
        assert!(
            skip.skip_reason(&info("Online", Some(20.0)))
                .unwrap()
                .contains("20 s long")
        );
        assert_eq!(
            skip.skip_reason(&info("Online", None)),
            None,
            "unknown length is kept"
        );
        assert_eq!(Filter::default().skip_reason(&info("", None)), None);
    }
}
