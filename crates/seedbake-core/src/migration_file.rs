//! The name of a migration file, the one rule the build (which embeds
//! them) and `seedbake migration new` (which runs them to draft the next
//! one) read it by.

/// `0002_kind_notiz.sql` → (2, "kind_notiz"); `None` for any other name.
pub fn parse_file_name(file: &str) -> Option<(i64, String)> {
    let stem = file.strip_suffix(".sql")?;
    let (digits, name) = stem.split_once('_')?;
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if digits.is_empty()
        || !digits.chars().all(|c| c.is_ascii_digit())
        || !name.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !name.chars().all(plain)
    {
        return None;
    }
    let version: i64 = digits.parse().ok()?;
    (version > 0).then(|| (version, name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(
            parse_file_name("0001_initial.sql"),
            Some((1, "initial".into()))
        );
        assert_eq!(
            parse_file_name("12_add-notiz_2.sql"),
            Some((12, "add-notiz_2".into()))
        );
        for bad in [
            "0001.sql",
            "initial.sql",
            "0001_initial.SQL",
            "0001_.sql",
            "0001__x.sql",
            "x001_initial.sql",
            "0000_zero.sql",
            "0001_in itial.sql",
            "99999999999999999999_big.sql",
        ] {
            assert_eq!(parse_file_name(bad), None, "{bad}");
        }
    }
}
