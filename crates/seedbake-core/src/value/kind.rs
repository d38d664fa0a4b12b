//! What a declared SQL type accepts in the seed: [`ColumnKind`], and checking
//! CSV cells and JSON values against it.

use super::Value;
use super::date::{is_iso_date, is_iso_datetime};

/// What a declared SQL type accepts in the seed. SQLite itself would store
/// `"abc"` in an INTEGER column or six characters in a VARCHAR(5); the seed
/// compiler is stricter so that the app never reads a value it cannot parse.
///
/// Checking is all a kind does to a text cell: the cell is then bound as
/// the text it is, so the engine applies the column's affinity exactly as
/// the sqlite3 shell's `.import` would (a NUMERIC integer beyond 2^53 stays
/// exact, text that is not a number stays text). Booleans are the one
/// conversion of our own: `t`, `yes`, `true` … become 1 and 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Integer,
    Boolean,
    Real,
    /// NUMERIC or DECIMAL: any number, stored as the engine converts it.
    Numeric,
    /// Text with an optional maximum length in characters (`VARCHAR(5)`).
    Text(Option<usize>),
    /// ISO date, `YYYY-MM-DD`.
    Date,
    /// ISO 8601 date and time as exports write it (see [`is_iso_datetime`]).
    DateTime,
    Blob,
}

/// The spellings a BOOLEAN cell may take (any case), and what each stores.
const BOOLEANS: &[(&str, i64)] = &[
    ("1", 1),
    ("0", 0),
    ("true", 1),
    ("false", 0),
    ("t", 1),
    ("f", 0),
    ("yes", 1),
    ("no", 0),
];

impl ColumnKind {
    /// Classifies a declared type the way the app's ORM means it, falling
    /// back to SQLite's affinity rules for anything unfamiliar.
    pub fn from_declared(declared: &str) -> ColumnKind {
        let upper = declared.trim().to_ascii_uppercase();
        let base = upper.split('(').next().unwrap_or("").trim();
        let length = upper
            .split_once('(')
            .and_then(|(_, rest)| rest.trim_end_matches(')').split(',').next())
            .and_then(|n| n.trim().parse::<usize>().ok());
        match base {
            "BOOLEAN" | "BOOL" => ColumnKind::Boolean,
            "DATE" => ColumnKind::Date,
            "DATETIME" | "TIMESTAMP" => ColumnKind::DateTime,
            _ if base.contains("INT") => ColumnKind::Integer,
            _ if base.contains("CHAR") || base.contains("CLOB") || base.contains("TEXT") => {
                ColumnKind::Text(length)
            }
            _ if base.contains("BLOB") => ColumnKind::Blob,
            _ if base.contains("REAL") || base.contains("FLOA") || base.contains("DOUB") => {
                ColumnKind::Real
            }
            "NUMERIC" | "DECIMAL" => ColumnKind::Numeric,
            // No declared type or something exotic: no check; the engine's
            // affinity decides what the text becomes.
            _ => ColumnKind::Text(None),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            ColumnKind::Integer => "an integer".into(),
            ColumnKind::Boolean => "a boolean (1, 0, true, false, t, f, yes or no, in any case)".into(),
            ColumnKind::Real => "a number".into(),
            ColumnKind::Numeric => "a number".into(),
            ColumnKind::Text(Some(n)) => format!("text of at most {n} characters"),
            ColumnKind::Text(None) => "text".into(),
            ColumnKind::Date => "an ISO date (YYYY-MM-DD)".into(),
            ColumnKind::DateTime => {
                "an ISO 8601 date-time (YYYY-MM-DD, then optionally T or a space, HH:MM[:SS[.fff]] and Z or ±HH:MM)".into()
            }
            ColumnKind::Blob => "binary data".into(),
        }
    }

    /// Checks a text cell and gives the value to bind: the text itself
    /// (the engine's affinity converts it), or 1/0 for a boolean. The empty
    /// string is a value here (a quoted `""` in CSV); NULL is decided by
    /// the caller before.
    pub fn parse_text(&self, cell: &str) -> Result<Value, String> {
        let refuse = || {
            if cell.is_empty() {
                format!(
                    "the empty string (a quoted \"\") is not {}; leave the cell empty, unquoted, for NULL",
                    self.describe()
                )
            } else {
                format!("{cell:?} is not {}", self.describe())
            }
        };
        match self {
            ColumnKind::Integer => {
                cell.trim().parse::<i64>().map_err(|_| refuse())?;
            }
            ColumnKind::Boolean => {
                let lower = cell.trim().to_ascii_lowercase();
                return BOOLEANS
                    .iter()
                    .find(|(spelling, _)| *spelling == lower)
                    .map(|(_, v)| Value::Integer(*v))
                    .ok_or_else(refuse);
            }
            ColumnKind::Real | ColumnKind::Numeric => {
                let t = cell.trim();
                let number = t.parse::<i64>().is_ok()
                    || t.parse::<f64>().is_ok_and(f64::is_finite)
                        && t.bytes().any(|b| b.is_ascii_digit())
                        && !t
                            .bytes()
                            .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E');
                if !number {
                    return Err(refuse());
                }
            }
            ColumnKind::Date | ColumnKind::DateTime if cell.is_empty() => return Err(refuse()),
            _ => {}
        }
        self.check_text(cell)?;
        Ok(Value::Text(cell.to_owned()))
    }

    /// Converts a JSON value. Booleans become 0/1, numbers must fit the kind;
    /// strings are cells, checked and bound as text.
    pub fn parse_json(&self, json: &serde_json::Value) -> Result<Value, String> {
        use serde_json::Value as J;
        match (self, json) {
            (_, J::Null) => Ok(Value::Null),
            (ColumnKind::Boolean | ColumnKind::Integer, J::Bool(b)) => {
                Ok(Value::Integer(i64::from(*b)))
            }
            (ColumnKind::Integer | ColumnKind::Boolean, J::Number(n)) => match n.as_i64() {
                Some(i) if *self == ColumnKind::Integer || i == 0 || i == 1 => {
                    Ok(Value::Integer(i))
                }
                _ => Err(format!("{n} is not {}", self.describe())),
            },
            (ColumnKind::Numeric, J::Number(n)) if n.as_i64().is_some() => {
                Ok(Value::Integer(n.as_i64().expect("checked")))
            }
            (ColumnKind::Real | ColumnKind::Numeric, J::Number(n)) => n
                .as_f64()
                .map(Value::Real)
                .ok_or_else(|| format!("{n} is not {}", self.describe())),
            (_, J::String(s)) => self.parse_text(s),
            (_, other) => Err(format!("{other} is not {}", self.describe())),
        }
    }

    fn check_text(&self, text: &str) -> Result<(), String> {
        if text.contains('\0') {
            // libSQL's clients read text up to the first NUL, so such a value
            // would not survive a round trip.
            return Err(format!(
                "{text:?} contains a NUL character, which libSQL clients cut text at"
            ));
        }
        match self {
            ColumnKind::Text(Some(max)) => {
                let len = text.chars().count();
                if len > *max {
                    return Err(format!(
                        "{text:?} is {len} characters long, the column allows {max}"
                    ));
                }
            }
            ColumnKind::Date if !is_iso_date(text) => {
                return Err(format!("{text:?} is not {}", self.describe()));
            }
            ColumnKind::DateTime if !is_iso_datetime(text) => {
                return Err(format!("{text:?} is not {}", self.describe()));
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_map_to_kinds() {
        assert_eq!(
            ColumnKind::from_declared("VARCHAR(5)"),
            ColumnKind::Text(Some(5))
        );
        assert_eq!(ColumnKind::from_declared("VARCHAR"), ColumnKind::Text(None));
        assert_eq!(ColumnKind::from_declared("INTEGER"), ColumnKind::Integer);
        assert_eq!(ColumnKind::from_declared("BOOLEAN"), ColumnKind::Boolean);
        assert_eq!(ColumnKind::from_declared("DATE"), ColumnKind::Date);
        assert_eq!(ColumnKind::from_declared("DATETIME"), ColumnKind::DateTime);
        assert_eq!(ColumnKind::from_declared("TEXT"), ColumnKind::Text(None));
    }

    #[test]
    fn booleans_take_every_common_spelling_and_nothing_else() {
        for (cell, v) in [
            ("t", 1),
            ("F", 0),
            ("Yes", 1),
            ("no", 0),
            ("TRUE", 1),
            ("0", 0),
        ] {
            assert_eq!(
                ColumnKind::Boolean.parse_text(cell),
                Ok(Value::Integer(v)),
                "{cell}"
            );
        }
        for cell in ["2", "y", "", "on"] {
            let e = ColumnKind::Boolean.parse_text(cell).unwrap_err();
            assert!(e.contains("t, f, yes or no"), "{e}");
        }
    }

    #[test]
    fn numbers_are_checked_and_bound_as_their_text() {
        let big = "9007199254740993";
        assert_eq!(
            ColumnKind::Numeric.parse_text(big),
            Ok(Value::Text(big.into()))
        );
        assert!(ColumnKind::Numeric.parse_text("12.50").is_ok());
        for bad in ["inf", "NaN", "1,5", "", "1e999", "x1"] {
            assert!(ColumnKind::Numeric.parse_text(bad).is_err(), "{bad}");
        }
        assert_eq!(
            ColumnKind::from_declared("DECIMAL(10,2)"),
            ColumnKind::Numeric
        );
    }

    #[test]
    fn cells_are_checked_against_their_kind() {
        assert_eq!(
            ColumnKind::Integer.parse_text("42"),
            Ok(Value::Text("42".into()))
        );
        assert!(ColumnKind::Integer.parse_text("4x").is_err());
        assert!(ColumnKind::Integer.parse_text("").is_err());
        assert_eq!(
            ColumnKind::Text(None).parse_text(""),
            Ok(Value::Text(String::new()))
        );
        assert!(ColumnKind::Boolean.parse_text("2").is_err());
        assert!(ColumnKind::Text(Some(5)).parse_text("BKFDXX").is_err());
        assert!(ColumnKind::Text(Some(5)).parse_text("Größe").is_ok());
        assert!(ColumnKind::Date.parse_text("2025-02-29").is_err());
        assert!(ColumnKind::Date.parse_text("2024-02-29").is_ok());
        assert!(ColumnKind::Date.parse_text("8.12.2025").is_err());
        assert!(
            ColumnKind::DateTime
                .parse_text("2025-01-01 00:00:00")
                .is_ok()
        );
        assert!(
            ColumnKind::DateTime
                .parse_text("2025-01-01T23:59:59.123")
                .is_ok()
        );
        assert!(
            ColumnKind::DateTime
                .parse_text("2025-01-01 24:00:00")
                .is_err()
        );
    }
}
