//! ISO dates and date-times, checked down to the calendar day.

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `YYYY-MM-DD` naming a real calendar day.
pub fn is_iso_date(s: &str) -> bool {
    let mut parts = s.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let (Some(y), Some(m), Some(d)) = (digits(y, 4), digits(m, 2), digits(d, 2)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// ISO 8601 as exports write it: a date alone, or a date, `T` or a space,
/// `HH:MM[:SS[.fff…]]`, and optionally `Z` or an offset (`±HH:MM`, `±HHMM`,
/// `±HH`). Every part is checked: a real calendar day, a real time.
pub fn is_iso_datetime(s: &str) -> bool {
    let Some((date, time)) = s.split_once([' ', 'T']) else {
        return is_iso_date(s);
    };
    let (time, zone) = match time.find(['Z', 'z', '+', '-']) {
        Some(at) => (&time[..at], &time[at..]),
        None => (time, ""),
    };
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut parts = hms.split(':');
    let h = parts.next().and_then(|p| digits(p, 2));
    let m = parts.next().and_then(|p| digits(p, 2));
    let sec = parts.next().map_or(Some(0), |p| digits(p, 2));
    is_iso_date(date)
        && parts.next().is_none()
        && matches!((h, m, sec), (Some(h), Some(m), Some(s)) if h < 24 && m < 60 && s < 60)
        && !frac.is_empty()
        && frac.bytes().all(|b| b.is_ascii_digit())
        && is_zone(zone)
}

/// `""`, `Z`, or `±HH[:MM]` / `±HHMM` with HH ≤ 23 and MM < 60.
fn is_zone(zone: &str) -> bool {
    let Some(offset) = zone.strip_prefix(['+', '-']) else {
        return zone.is_empty() || zone.eq_ignore_ascii_case("z");
    };
    if !offset.is_ascii() {
        return false;
    }
    let (h, m) = match offset.len() {
        2 => (digits(offset, 2), Some(0)),
        4 => (digits(&offset[..2], 2), digits(&offset[2..], 2)),
        5 if offset.as_bytes()[2] == b':' => (digits(&offset[..2], 2), digits(&offset[3..], 2)),
        _ => return false,
    };
    matches!((h, m), (Some(h), Some(m)) if h < 24 && m < 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times_as_exports_write_them() {
        for ok in [
            "2025-01-01",
            "2025-01-01 00:00",
            "2025-01-01T23:59:59.123456",
            "2025-01-01T08:00:00Z",
            "2025-01-01 08:00:00.5+02:00",
            "2025-01-01T08:00:00-0530",
            "2025-01-01T08:00+01",
        ] {
            assert!(is_iso_datetime(ok), "{ok}");
        }
        for bad in [
            "2025-02-29",
            "2025-01-01 24:00:00",
            "2025-01-01T08:00:00+24:00",
            "2025-01-01T08:00:00+02:60",
            "2025-01-01T08:00:00ZZ",
            "2025-01-01T08:00:00+2",
            "2025-01-01T08:00:00+ä1",
            "2025-01-01T",
            "8.12.2025",
        ] {
            assert!(!is_iso_datetime(bad), "{bad}");
        }
    }
}
