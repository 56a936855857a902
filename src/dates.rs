//! Dates as the game writes them in replay headers (`2025-03-15 16-54-25`, or
//! `2016-08-07:11-27` in 2015–16 replays): naive local times, as seconds on a naive clock.

/// A header `Date` as seconds on a naive clock (the game's local time), in either format.
pub fn parse_date(raw: &str) -> Option<i64> {
    let (day, time) = raw.split_once([' ', ':'])?;
    let mut ymd = day.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (ymd.next()??, ymd.next()??, ymd.next()??);
    let mut hms = time.split('-').map(|p| p.parse::<i64>().ok());
    let (h, min) = (hms.next()??, hms.next()??);
    let s = hms.next().flatten().unwrap_or(0);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || h > 23 || min > 59 {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400 + h * 3600 + min * 60 + s)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` and `HH:MM` of a naive time.
pub fn civil(at: i64) -> (String, String) {
    let days = at.div_euclid(86_400);
    let secs = at.rem_euclid(86_400);
    // Inverse of days_from_civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{:02}:{:02}", secs / 3600, secs % 3600 / 60),
    )
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
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(parse_date("garbage"), None);
        assert_eq!(parse_date("2025-13-01 10-00-00"), None);
    }
}
