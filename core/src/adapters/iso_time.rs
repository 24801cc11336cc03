//! ISO-8601 UTC timestamps (`2026-11-30T05:10:00.123Z`, what `JSON.stringify` makes
//! of a JavaScript `Date`) to and from ms since the epoch, for adapters whose servers
//! stamp records with dates.

use crate::value::{civil_from_days, days_from_civil};

/// The latest time a JavaScript `Date` holds, ms (year 275760; PostgreSQL's timestamps
/// reach it too): a `since` later than every record, so a server answers no change,
/// only its clock (the clock probes of changeLog and delta), and one that converts
/// `since` to a date does not fail on it.
pub const LATEST_DATE_MS: u64 = 8_640_000_000_000_000;

fn number(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z` (UTC only) into ms since the epoch; `None`
/// for anything else, or a time before 1970.
pub fn parse_iso_ms(text: &str) -> Option<u64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut d = date.splitn(3, '-');
    let (y, m, day) = (number(d.next()?)?, number(d.next()?)?, number(d.next()?)?);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.splitn(3, ':');
    let (h, min, s) = (number(t.next()?)?, number(t.next()?)?, number(t.next()?)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || s > 60 {
        return None;
    }
    let ms = match frac.len() {
        0 => 0,
        1..=9 => number(frac)? * 1000 / 10_i64.pow(frac.len() as u32),
        _ => return None,
    };
    let total = ((days_from_civil(y, m, day) * 24 + h) * 60 + min) * 60 + s;
    u64::try_from(total * 1000 + ms).ok()
}

/// Formats ms since the epoch as `JSON.stringify(new Date(ms))` does.
pub fn format_iso_ms(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_match_javascript() {
        // new Date(0).toJSON(), new Date(1798606200123).toJSON() (checked with node)
        assert_eq!(format_iso_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_iso_ms(1_798_606_200_123), "2026-12-30T04:50:00.123Z");
        assert_eq!(
            parse_iso_ms("2026-12-30T04:50:00.123Z"),
            Some(1_798_606_200_123)
        );
        assert_eq!(parse_iso_ms("2000-02-29T23:59:59Z"), Some(951_868_799_000));
        assert_eq!(
            parse_iso_ms("2000-02-29T23:59:59.5Z"),
            Some(951_868_799_500)
        );
        for ms in [0, 1, 951_868_799_999, 1_798_606_200_123, 4_102_444_800_000] {
            assert_eq!(parse_iso_ms(&format_iso_ms(ms)), Some(ms), "{ms}");
        }
    }

    #[test]
    fn anything_but_a_utc_date_is_none() {
        for bad in [
            "",
            "2026-12-30",
            "2026-12-30T05:30:00",
            "2026-12-30T05:30:00+01:00",
            "2026-13-30T05:30:00Z",
            "2026-12-30T24:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-12-30T05:30:00.1234567890Z",
            "x026-12-30T05:30:00Z",
        ] {
            assert_eq!(parse_iso_ms(bad), None, "{bad}");
        }
    }
}
