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

/// `YYYY-MM-DD HH:MM[:SS[.fff…]]`, with a space or `T` between date and time.
pub fn is_iso_datetime(s: &str) -> bool {
    let Some((date, time)) = s.split_once([' ', 'T']) else {
        return false;
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
}
