//! The name of a migration file, the one rule the build (which embeds
//! them) and `seedbake migration new` (which runs them to draft the next
//! one) read it by.

/// The longest name a migration may have: its file name (version, `_`,
/// name, `.sql`) then stays far below every file system's 255-byte limit.
pub const MAX_NAME: usize = 100;

/// Why `name` cannot be a migration's name, if it cannot.
pub fn name_problem(name: &str) -> Option<String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) || !name.chars().all(plain) {
        return Some(
            "use letters, digits, _ or -, starting with a letter or digit (e.g. add_notes)".into(),
        );
    }
    (name.len() > MAX_NAME).then(|| {
        format!(
            "it is {} characters long; a migration's name has at most {MAX_NAME}",
            name.len()
        )
    })
}

/// `0002_kind_notiz.sql` → (2, "kind_notiz"); `None` for any other name.
pub fn parse_file_name(file: &str) -> Option<(i64, String)> {
    let stem = file.strip_suffix(".sql")?;
    let (digits, name) = stem.split_once('_')?;
    if digits.is_empty()
        || !digits.chars().all(|c| c.is_ascii_digit())
        || name_problem(name).is_some()
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
        let long = "a".repeat(MAX_NAME + 1);
        assert_eq!(parse_file_name(&format!("0002_{long}.sql")), None);
        assert!(name_problem(&long).unwrap().contains("at most 100"));
        assert_eq!(name_problem(&long[1..]), None);
    }
}
