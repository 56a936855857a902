//! Open enums for the API's string values: a known variant for each documented value and
//! `Other(String)` for everything else, so new tiers or playlists never break decoding.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares an open string enum: known variants map to fixed wire strings, anything else is
/// kept verbatim in `Other`, which is also the escape hatch for values the docs do not list.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* #[doc = concat!("`", $wire, "`")] $variant,)+
            /// A value this version does not know, sent and received verbatim.
            Other(String),
        }

        impl $name {
            /// Every documented value, in documentation order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant,)+];

            /// The value as the API spells it.
            ///
            /// ```
            /// assert_eq!(ballchasing_api::Playlist::RankedDoubles.as_str(), "ranked-doubles");
            /// ```
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Other(raw) => raw,
                }
            }

            /// Parses a wire value; case-insensitive for known values, never fails.
            ///
            /// ```
            /// assert_eq!(ballchasing_api::Tier::parse("GC"), ballchasing_api::Tier::Gc);
            /// assert_eq!(ballchasing_api::Tier::parse("mythic").as_str(), "mythic");
            /// ```
            pub fn parse(raw: &str) -> Self {
                $(if raw.eq_ignore_ascii_case($wire) { return $name::$variant; })+
                $name::Other(raw.to_owned())
            }

            /// True when the value is not one this version knows.
            ///
            /// ```
            /// assert!(ballchasing_api::Visibility::parse("public-team").is_other());
            /// ```
            pub fn is_other(&self) -> bool {
                matches!(self, $name::Other(_))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::parse(s))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = Cow::<'de, str>::deserialize(deserializer)?;
                Ok(Self::parse(&raw))
            }
        }
    };
}

open_enum! {
    /// The account's Patreon tier, as ping's `type` reports it.
    Tier {
        Regular => "regular",
        Gold => "gold",
        Diamond => "diamond",
        Champion => "champion",
        Gc => "gc",
        Legend => "legend",
        Org => "org",
    }
}

open_enum! {
    /// Who can see a replay.
    Visibility {
        Public => "public",
        Unlisted => "unlisted",
        Private => "private",
    }
}

open_enum! {
    /// A playlist filter value (`playlist=`).
    Playlist {
        UnrankedDuels => "unranked-duels",
        UnrankedDoubles => "unranked-doubles",
        UnrankedStandard => "unranked-standard",
        UnrankedChaos => "unranked-chaos",
        Private => "private",
        Season => "season",
        Offline => "offline",
        RankedDuels => "ranked-duels",
        RankedDoubles => "ranked-doubles",
        RankedSoloStandard => "ranked-solo-standard",
        RankedStandard => "ranked-standard",
        Snowday => "snowday",
        Rocketlabs => "rocketlabs",
        Hoops => "hoops",
        Rumble => "rumble",
        Tournament => "tournament",
        Dropshot => "dropshot",
        RankedHoops => "ranked-hoops",
        RankedRumble => "ranked-rumble",
        RankedDropshot => "ranked-dropshot",
        RankedSnowday => "ranked-snowday",
        DropshotRumble => "dropshot-rumble",
        Heatseeker => "heatseeker",
        LocalLobby => "local-lobby",
        Gridiron => "gridiron",
        SpookyCube => "spooky-cube",
    }
}

open_enum! {
    /// A rank filter value (`min-rank=`, `max-rank=`).
    Rank {
        Unranked => "unranked",
        Bronze1 => "bronze-1",
        Bronze2 => "bronze-2",
        Bronze3 => "bronze-3",
        Silver1 => "silver-1",
        Silver2 => "silver-2",
        Silver3 => "silver-3",
        Gold1 => "gold-1",
        Gold2 => "gold-2",
        Gold3 => "gold-3",
        Platinum1 => "platinum-1",
        Platinum2 => "platinum-2",
        Platinum3 => "platinum-3",
        Diamond1 => "diamond-1",
        Diamond2 => "diamond-2",
        Diamond3 => "diamond-3",
        Champion1 => "champion-1",
        Champion2 => "champion-2",
        Champion3 => "champion-3",
        GrandChampion => "grand-champion",
        GrandChampion1 => "grand-champion-1",
        GrandChampion2 => "grand-champion-2",
        GrandChampion3 => "grand-champion-3",
        SupersonicLegend => "supersonic-legend",
    }
}

open_enum! {
    /// The platform part of a `player-id` filter.
    Platform {
        Steam => "steam",
        Epic => "epic",
        Ps4 => "ps4",
        Xbox => "xbox",
        Switch => "switch",
    }
}

open_enum! {
    /// `match-result` filter.
    MatchResult {
        Win => "win",
        Loss => "loss",
    }
}

open_enum! {
    /// `sort-by` for replay lists.
    ReplaySortBy {
        UploadDate => "upload-date",
        ReplayDate => "replay-date",
    }
}

open_enum! {
    /// `sort-by` for group lists.
    GroupSortBy {
        Created => "created",
        Name => "name",
    }
}

open_enum! {
    /// `sort-dir` for lists.
    SortDir {
        Asc => "asc",
        Desc => "desc",
    }
}

open_enum! {
    /// A replay's processing state (`status` of `GET /replays/{id}`).
    ReplayStatus {
        Ok => "ok",
        Pending => "pending",
        Failed => "failed",
    }
}

open_enum! {
    /// A group's state (`status` of `GET /groups/{id}`).
    GroupStatus {
        Ok => "ok",
        PendingReplays => "pending_replays",
        FailedReplays => "failed_replays",
    }
}

open_enum! {
    /// How a group identifies players.
    PlayerIdentification {
        ById => "by-id",
        ByName => "by-name",
    }
}

open_enum! {
    /// How a group identifies teams.
    TeamIdentification {
        ByDistinctPlayers => "by-distinct-players",
        ByPlayerClusters => "by-player-clusters",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_round_trip_and_unknown_values_are_kept() {
        for tier in Tier::KNOWN {
            assert_eq!(&Tier::parse(tier.as_str()), tier);
        }
        assert_eq!(Tier::parse("GC"), Tier::Gc);
        assert_eq!(Tier::parse("mythic"), Tier::Other("mythic".into()));
        let decoded: Vec<Playlist> =
            serde_json::from_str(r#"["ranked-doubles","space-race"]"#).unwrap();
        assert_eq!(
            decoded,
            vec![
                Playlist::RankedDoubles,
                Playlist::Other("space-race".into())
            ]
        );
        assert_eq!(
            serde_json::to_string(&decoded).unwrap(),
            r#"["ranked-doubles","space-race"]"#
        );
    }
}
