//! Dates and times, with jiff: the dates the game writes in replay headers (naive local
//! times: `2025-03-15 16-54-25`, or `2016-08-07:11-27` in 2015–16 replays), the UTC times the
//! state keeps, and the local times people read.

use std::time::{Duration, SystemTime};

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{RoundMode, Timestamp, TimestampRound, Unit};

/// A header `Date` as a naive date and time (the game's local time), in either format.
pub fn parse_header_date(raw: &str) -> Option<DateTime> {
    DateTime::strptime("%Y-%m-%d %H-%M-%S", raw)
        .or_else(|_| DateTime::strptime("%Y-%m-%d:%H-%M", raw))
        .ok()
}

/// A header `Date` as seconds on a naive clock (the game's local time taken as UTC), for
/// grouping by day and by session.
pub fn parse_date(raw: &str) -> Option<i64> {
    parse_header_date(raw).map(naive_seconds)
}

/// A naive date and time as seconds on a naive clock.
pub fn naive_seconds(at: DateTime) -> i64 {
    at.to_zoned_datetime(TimeZone::UTC)
        .map_or(0, |z| z.timestamp().as_second())
}

/// `YYYY-MM-DD` and `HH:MM` of a time on the naive clock.
pub fn civil(at: i64) -> (String, String) {
    let at = Timestamp::from_second(at)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned_datetime(TimeZone::UTC);
    (
        at.strftime("%Y-%m-%d").to_string(),
        at.strftime("%H:%M").to_string(),
    )
}

/// Now, as the state writes times: RFC 3339, UTC, whole seconds (`2026-11-26T21:40:12Z`).
pub fn now_utc() -> String {
    utc(SystemTime::now())
}

/// A moment as the state writes times.
pub fn utc(at: SystemTime) -> String {
    let whole_seconds = TimestampRound::new()
        .smallest(Unit::Second)
        .mode(RoundMode::Trunc);
    Timestamp::try_from(at)
        .ok()
        .and_then(|t| t.round(whole_seconds).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_string()
}

/// A moment to the nanosecond, for the times that are compared with file times.
pub fn utc_precise(at: SystemTime) -> String {
    Timestamp::try_from(at)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_string()
}

/// A time the state wrote, as a moment; `None` if it does not read.
pub fn parse_utc(text: &str) -> Option<SystemTime> {
    let at = text.parse::<Timestamp>().ok()?;
    SystemTime::try_from(at).ok()
}

/// A time the state wrote, in this machine's time zone, for people: `2026-11-26 22:40`.
/// A time that does not read is shown as it is.
pub fn local(text: &str) -> String {
    local_in(text, &TimeZone::system())
}

/// A time the state wrote, in the time zone `tz`.
fn local_in(text: &str, tz: &TimeZone) -> String {
    match text.parse::<Timestamp>() {
        Ok(t) => t
            .to_zoned_datetime(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => text.to_owned(),
    }
}

/// A moment in this machine's time zone, for people.
pub fn local_at(at: SystemTime) -> String {
    local(&utc(at))
}

/// A moment soon after `now`, short, in this machine's time zone: `21:40` the same day,
/// `2026-11-30 09:15` another day.
pub fn clock(at: SystemTime, now: SystemTime) -> String {
    clock_in(at, now, &TimeZone::system())
}

fn clock_in(at: SystemTime, now: SystemTime, tz: &TimeZone) -> String {
    let zoned = |t: SystemTime| {
        Timestamp::try_from(t)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .to_zoned_datetime(tz.clone())
    };
    let (at, now) = (zoned(at), zoned(now));
    if at.date() == now.date() {
        at.strftime("%H:%M").to_string()
    } else {
        at.strftime("%Y-%m-%d %H:%M").to_string()
    }
}

/// A wait for people: `27m 12s`, `3h 5m`, `12s`.
pub fn wait(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m {s}s"),
        _ => format!("{h}h {m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_dates_of_both_formats_become_times() {
        let at = parse_date("2025-03-15 16-54-25").unwrap();
        assert_eq!(civil(at), ("2025-03-15".into(), "16:54".into()));
        let old = parse_date("2016-08-07:11-27").unwrap();
        assert_eq!(civil(old), ("2016-08-07".into(), "11:27".into()));
        assert_eq!(parse_date("1970-01-01 00-00-00"), Some(0));
        assert_eq!(parse_date("garbage"), None);
        assert_eq!(parse_date("2025-13-01 10-00-00"), None);
    }

    #[test]
    fn state_times_round_trip_in_utc_and_waits_read_well() {
        let t = parse_utc("2026-11-26T21:40:12Z").unwrap();
        assert_eq!(utc(t), "2026-11-26T21:40:12Z");
        assert!(now_utc().ends_with('Z'));
        assert_eq!(local("not a time"), "not a time");
        let paris = TimeZone::fixed(jiff::tz::offset(1));
        assert_eq!(local_in("2026-11-26T07:31:00Z", &paris), "2026-11-26 08:31");
        assert_eq!(wait(Duration::from_secs(12)), "12s");
        assert_eq!(wait(Duration::from_secs(27 * 60 + 12)), "27m 12s");
        assert_eq!(wait(Duration::from_secs(3 * 3600 + 5 * 60 + 9)), "3h 5m");
    }

    #[test]
    fn a_clock_shows_the_day_only_when_it_is_not_today() {
        let paris = TimeZone::fixed(jiff::tz::offset(1));
        let now = parse_utc("2026-11-29T20:10:00Z").unwrap();
        let soon = parse_utc("2026-11-29T20:40:59Z").unwrap();
        assert_eq!(clock_in(soon, now, &paris), "21:40");
        // 23:30 UTC is already tomorrow in Paris.
        let late = parse_utc("2026-11-29T23:30:00Z").unwrap();
        assert_eq!(clock_in(late, now, &paris), "2026-11-30 00:30");
    }
}
