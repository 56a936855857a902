//! Every stat of a replay or a group, typed: core, boost, movement, positioning, demo and
//! ball. Each number is an `Option<f64>`: the API sends counts as integers in a replay and as
//! fractions in group averages, teams lack the per-player rates, and any stat may be missing
//! in an older answer; `None` means "not in this answer", never 0. Fields this version does
//! not know are kept in `extra`.

use serde::{Deserialize, Serialize};

use super::Extra;

/// Declares a stats section: every listed field an optional lenient number, plus `extra`.
macro_rules! stats {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident,)+ } $($(#[$xmeta:meta])* $xfield:ident : $xty:ty = $xde:literal,)*) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[serde(default, deserialize_with = "super::num::opt_f64", skip_serializing_if = "Option::is_none")]
                pub $field: Option<f64>,
            )+
            $(
                $(#[$xmeta])*
                #[serde(default, deserialize_with = $xde, skip_serializing_if = "Option::is_none")]
                pub $xfield: $xty,
            )*
            /// Everything else.
            #[serde(flatten)]
            pub extra: Extra,
        }
    };
}

stats! {
    /// Core stats (`stats.core`) of a player or a team in one replay.
    Core {
        /// Shots taken.
        shots,
        /// Shots faced.
        shots_against,
        /// Goals scored.
        goals,
        /// Goals conceded.
        goals_against,
        /// Saves.
        saves,
        /// Assists.
        assists,
        /// In-game score.
        score,
        /// Goals per shot, in percent.
        shooting_percentage,
    }
    /// MVP: 1 or 0 for a player in one replay (sent as `true`/`false`), the number of MVPs
    /// (group `cumulative`) or MVPs per game (group `game_average`); teams have none.
    mvp: Option<f64> = "super::num::opt_flag_or_f64",
}

stats! {
    /// Boost stats (`stats.boost`). Teams carry the amounts and times, players also the per-minute rates and percentages; group answers carry them summed or averaged.
    Boost {
        /// Boost used per minute.
        bpm,
        /// Boost collected per minute.
        bcpm,
        /// Average boost amount held.
        avg_amount,
        /// Boost collected.
        amount_collected,
        /// Boost collected on the opponents' half.
        amount_stolen,
        /// Boost collected from big pads.
        amount_collected_big,
        /// Big-pad boost stolen.
        amount_stolen_big,
        /// Boost collected from small pads.
        amount_collected_small,
        /// Small-pad boost stolen.
        amount_stolen_small,
        /// Big pads taken.
        count_collected_big,
        /// Big pads stolen.
        count_stolen_big,
        /// Small pads taken.
        count_collected_small,
        /// Small pads stolen.
        count_stolen_small,
        /// Boost wasted by collecting above 100.
        amount_overfill,
        /// Overfill on stolen pads.
        amount_overfill_stolen,
        /// Boost used while already supersonic.
        amount_used_while_supersonic,
        /// Seconds with no boost.
        time_zero_boost,
        /// Share of time with no boost, in percent.
        percent_zero_boost,
        /// Seconds with full boost.
        time_full_boost,
        /// Share of time with full boost, in percent.
        percent_full_boost,
        /// Seconds with 0–25 boost.
        time_boost_0_25,
        /// Seconds with 25–50 boost.
        time_boost_25_50,
        /// Seconds with 50–75 boost.
        time_boost_50_75,
        /// Seconds with 75–100 boost.
        time_boost_75_100,
        /// Share of time with 0–25 boost, in percent.
        percent_boost_0_25,
        /// Share of time with 25–50 boost, in percent.
        percent_boost_25_50,
        /// Share of time with 50–75 boost, in percent.
        percent_boost_50_75,
        /// Share of time with 75–100 boost, in percent.
        percent_boost_75_100,
    }
}

stats! {
    /// Movement stats (`stats.movement`).
    Movement {
        /// Average speed (unreal units per second).
        avg_speed,
        /// Distance travelled (unreal units).
        total_distance,
        /// Seconds at supersonic speed.
        time_supersonic_speed,
        /// Seconds at boost speed.
        time_boost_speed,
        /// Seconds at slow speed.
        time_slow_speed,
        /// Seconds on the ground.
        time_ground,
        /// Seconds in the air, low.
        time_low_air,
        /// Seconds in the air, high.
        time_high_air,
        /// Seconds powersliding.
        time_powerslide,
        /// Powerslides.
        count_powerslide,
        /// Average powerslide length in seconds.
        avg_powerslide_duration,
        /// Average speed as a percentage of the maximum.
        avg_speed_percentage,
        /// Share of time at slow speed, in percent.
        percent_slow_speed,
        /// Share of time at boost speed, in percent.
        percent_boost_speed,
        /// Share of time supersonic, in percent.
        percent_supersonic_speed,
        /// Share of time on the ground, in percent.
        percent_ground,
        /// Share of time low in the air, in percent.
        percent_low_air,
        /// Share of time high in the air, in percent.
        percent_high_air,
    }
}

stats! {
    /// Positioning stats (`stats.positioning`).
    Positioning {
        /// Average distance to the ball.
        avg_distance_to_ball,
        /// Average distance to the ball while the team has it.
        avg_distance_to_ball_possession,
        /// Average distance to the ball while the opponents have it.
        avg_distance_to_ball_no_possession,
        /// Average distance to team mates.
        avg_distance_to_mates,
        /// Seconds in the defensive third.
        time_defensive_third,
        /// Seconds in the neutral third.
        time_neutral_third,
        /// Seconds in the offensive third.
        time_offensive_third,
        /// Seconds in the defensive half.
        time_defensive_half,
        /// Seconds in the offensive half.
        time_offensive_half,
        /// Seconds behind the ball.
        time_behind_ball,
        /// Seconds in front of the ball.
        time_infront_ball,
        /// Seconds as the player furthest back.
        time_most_back,
        /// Seconds as the player furthest forward.
        time_most_forward,
        /// Goals conceded as the last defender.
        goals_against_while_last_defender,
        /// Seconds as the player closest to the ball.
        time_closest_to_ball,
        /// Seconds as the player farthest from the ball.
        time_farthest_from_ball,
        /// Share of time in the defensive third, in percent.
        percent_defensive_third,
        /// Share of time in the offensive third, in percent.
        percent_offensive_third,
        /// Share of time in the neutral third, in percent.
        percent_neutral_third,
        /// Share of time in the defensive half, in percent.
        percent_defensive_half,
        /// Share of time in the offensive half, in percent.
        percent_offensive_half,
        /// Share of time behind the ball, in percent.
        percent_behind_ball,
        /// Share of time in front of the ball, in percent.
        percent_infront_ball,
        /// Share of time furthest back, in percent.
        percent_most_back,
        /// Share of time furthest forward, in percent.
        percent_most_forward,
        /// Share of time closest to the ball, in percent.
        percent_closest_to_ball,
        /// Share of time farthest from the ball, in percent.
        percent_farthest_from_ball,
    }
}

stats! {
    /// Demolition stats (`stats.demo`).
    Demo {
        /// Demolitions made.
        inflicted,
        /// Demolitions suffered.
        taken,
    }
}

stats! {
    /// Team ball stats (`stats.ball`).
    Ball {
        /// Seconds the team had the ball.
        possession_time,
        /// Seconds the ball was in the team's half.
        time_in_side,
    }
}
impl Core {
    /// True when `mvp` says so (a player in one replay).
    ///
    /// ```
    /// let core: ballchasing_api::Core = serde_json::from_str(r#"{"goals":2,"mvp":true}"#).unwrap();
    /// assert!(core.is_mvp());
    /// assert_eq!(core.goals, Some(2.0));
    /// ```
    pub fn is_mvp(&self) -> bool {
        self.mvp.is_some_and(|m| m >= 1.0)
    }
}

/// A player's stats in one replay (`players[].stats`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlayerStats {
    /// Shots, goals, saves, score, MVP.
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

/// A team's stats in one replay (`blue.stats`, `orange.stats`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TeamStats {
    /// Possession and ball-side time.
    pub ball: Option<Ball>,
    /// Shots, goals, saves, score.
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
