//! What a declared SQL type accepts in the seed: [`ColumnKind`], and checking
//! CSV cells and JSON values against it.

use super::Value;
use super::date::{is_iso_date, is_iso_datetime};

/// What a declared SQL type accepts in the seed. SQLite itself would store
/// `"abc"` in an INTEGER column or six characters in a VARCHAR(5); the seed
/// compiler is stricter so that the app never reads a value it cannot parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Integer,
    Boolean,
    Real,
    /// Text with an optional maximum length in characters (`VARCHAR(5)`).
    Text(Option<usize>),
    /// ISO date, `YYYY-MM-DD`.
    Date,
    /// ISO date and time, `YYYY-MM-DD HH:MM:SS[.ffffff]` (a `T` separator is accepted).
    DateTime,
    Blob,
}

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
            "NUMERIC" | "DECIMAL" => ColumnKind::Real,
            // No declared type (BLOB affinity) or something exotic: keep text.
            _ => ColumnKind::Text(None),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            ColumnKind::Integer => "an integer".into(),
            ColumnKind::Boolean => "a boolean (0 or 1)".into(),
            ColumnKind::Real => "a number".into(),
            ColumnKind::Text(Some(n)) => format!("text of at most {n} characters"),
            ColumnKind::Text(None) => "text".into(),
            ColumnKind::Date => "an ISO date (YYYY-MM-DD)".into(),
            ColumnKind::DateTime => "an ISO date-time (YYYY-MM-DD HH:MM:SS)".into(),
            ColumnKind::Blob => "binary data".into(),
        }
    }

    /// Parses a CSV cell. The empty cell is NULL (the caller decides whether
    /// NULL is allowed).
    pub fn parse_text(&self, cell: &str) -> Result<Value, String> {
        if cell.is_empty() {
            return Ok(Value::Null);
        }
        match self {
            ColumnKind::Integer => cell
                .trim()
                .parse::<i64>()
                .map(Value::Integer)
                .map_err(|_| format!("{cell:?} is not {}", self.describe())),
            ColumnKind::Boolean => match cell.trim().to_ascii_lowercase().as_str() {
                "0" | "false" => Ok(Value::Integer(0)),
                "1" | "true" => Ok(Value::Integer(1)),
                _ => Err(format!("{cell:?} is not {}", self.describe())),
            },
            ColumnKind::Real => cell
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|r| r.is_finite())
                .map(Value::Real)
                .ok_or_else(|| format!("{cell:?} is not {}", self.describe())),
            ColumnKind::Blob => Ok(Value::Blob(cell.as_bytes().to_vec())),
            _ => self.check_text(cell).map(|()| Value::Text(cell.to_owned())),
        }
    }

    /// Converts a JSON value. Booleans become 0/1, numbers must fit the kind.
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
            (ColumnKind::Real, J::Number(n)) => n
                .as_f64()
                .map(Value::Real)
                .ok_or_else(|| format!("{n} is not {}", self.describe())),
            (ColumnKind::Text(_) | ColumnKind::Date | ColumnKind::DateTime, J::String(s)) => {
                self.check_text(s).map(|()| Value::Text(s.clone()))
            }
            (ColumnKind::Blob, J::String(s)) => Ok(Value::Blob(s.as_bytes().to_vec())),
            (ColumnKind::Integer | ColumnKind::Boolean | ColumnKind::Real, J::String(s)) => {
                self.parse_text(s)
            }
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
    fn cells_are_checked_against_their_kind() {
        assert_eq!(ColumnKind::Integer.parse_text("42"), Ok(Value::Integer(42)));
        assert!(ColumnKind::Integer.parse_text("4x").is_err());
        assert_eq!(ColumnKind::Integer.parse_text(""), Ok(Value::Null));
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
