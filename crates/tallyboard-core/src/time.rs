//! RFC 3339 timestamps in UTC (`2026-05-10T20:15:00Z`) to and from POSIX
//! seconds, with no dependency and no clock: the days-from-civil algorithm of
//! H. Hinnant's `chrono`-compatible date algorithms.
//!
//! Every time in a tallyboard object is POSIX seconds; this module is how
//! they are shown to people (rule messages, the CLI, reports) and read from
//! human-edited input.

use core::fmt;

/// Why a timestamp was refused: the text is not an RFC 3339 UTC time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeError(String);

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not an RFC 3339 UTC time like 2026-05-10T20:15:00Z",
            self.0
        )
    }
}

impl core::error::Error for TimeError {}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let d = i64::from(d);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m as u32, d as u32)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` (upper- or lower-case `T` and `Z`; the
/// offset `+00:00` is accepted for `Z`). No fractional seconds, no leap
/// second, no other offset, not before 1970.
pub fn parse_rfc3339(s: &str) -> Result<u64, TimeError> {
    let err = || TimeError(s.chars().take(64).collect());
    let b = s.as_bytes();
    let rest = match b.len() {
        20 => &b[19..],
        25 => &b[19..],
        _ => return Err(err()),
    };
    if !(rest == b"Z" || rest == b"z" || rest == b"+00:00") {
        return Err(err());
    }
    let digits = |r: core::ops::Range<usize>| -> Result<u32, TimeError> {
        let part = &b[r];
        if !part.iter().all(u8::is_ascii_digit) {
            return Err(err());
        }
        Ok(part
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
    };
    let seps = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if seps.iter().any(|&(i, c)| b[i] != c) || !(b[10] == b'T' || b[10] == b't') {
        return Err(err());
    }
    let (y, mo, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (h, mi, se) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let y = i64::from(y);
    if y < 1970 || !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
        return Err(err());
    }
    if h > 23 || mi > 59 || se > 59 {
        return Err(err());
    }
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(se);
    u64::try_from(secs).map_err(|_| err())
}

/// Formats POSIX seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_rfc3339(t: u64) -> String {
    let days = i64::try_from(t / 86_400).unwrap_or(i64::MAX / 2);
    let secs = t % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_instants() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339("2000-03-01T00:00:00Z"), Ok(951_868_800));
        assert_eq!(parse_rfc3339("2026-05-10T20:15:00Z"), Ok(1_778_444_100));
        assert_eq!(
            parse_rfc3339("2024-02-29T23:59:59+00:00"),
            Ok(1_709_251_199)
        );
    }

    #[test]
    fn round_trips_across_centuries() {
        for t in (0..5_000_000_000u64).step_by(86_399 * 37 + 11) {
            assert_eq!(parse_rfc3339(&format_rfc3339(t)), Ok(t), "{t}");
        }
    }

    #[test]
    fn rejects_malformed_or_non_utc() {
        for s in [
            "2026-05-10 20:15:00Z",
            "2026-05-10T20:15:00",
            "2026-05-10T20:15:00+01:00",
            "2026-05-10T20:15:00.5Z",
            "2026-02-30T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-05-10T24:00:00Z",
            "2026-05-10T23:60:00Z",
            "2026-05-10T23:59:60Z",
            "1969-12-31T23:59:59Z",
            "+026-05-10T20:15:00Z",
            "",
        ] {
            assert!(parse_rfc3339(s).is_err(), "{s}");
        }
    }
}
