//! One database value as a seed cell: what the compiler reads back as the
//! same value and storage class, or why no cell can say it.

use crate::value::{ColumnKind, Value};

/// A source cell before it is spelled as CSV or JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Integer(i64),
    Real(f64),
    /// A real in the spelling the engine was seen to read back as the same
    /// double (see [`RealSpeller`]).
    Number(String),
}

/// Finds, for a double, a decimal spelling the engine converts back to
/// exactly that double. The engine's conversion is not correctly rounded
/// at the ends of the range (a subnormal's shortest spelling may come back
/// one unit off), so the spelling is tried in the engine itself, in memory:
/// the shortest one first, then longer ones.
pub struct RealSpeller {
    conn: libsql::Connection,
    known: std::collections::HashMap<u64, Option<String>>,
}

impl RealSpeller {
    pub async fn new() -> Result<RealSpeller, String> {
        let db = libsql::Builder::new_local(":memory:")
            .build()
            .await
            .map_err(|e| e.to_string())?;
        let conn = db.connect().map_err(|e| e.to_string())?;
        Ok(RealSpeller {
            conn,
            known: Default::default(),
        })
    }

    /// The spelling, or `None` when no decimal text reads back as `r`.
    pub async fn spell(&mut self, r: f64) -> Result<Option<String>, String> {
        if let Some(known) = self.known.get(&r.to_bits()) {
            return Ok(known.clone());
        }
        let candidates =
            std::iter::once(real_text(r)).chain((16..=24).map(|p| format!("{r:.p$e}")));
        let mut found = None;
        for text in candidates {
            let mut rows = self
                .conn
                .query("SELECT CAST(?1 AS REAL)", [text.as_str()])
                .await
                .map_err(|e| e.to_string())?;
            let back = rows
                .next()
                .await
                .map_err(|e| e.to_string())?
                .and_then(|row| row.get_value(0).ok());
            if matches!(back, Some(libsql::Value::Real(b)) if b.to_bits() == r.to_bits()) {
                found = Some(text);
                break;
            }
        }
        self.known.insert(r.to_bits(), found.clone());
        Ok(found)
    }
}

/// SQLite's affinity of a declared type (its documented rules, in order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Affinity {
    Integer,
    Text,
    Blob,
    Real,
    Numeric,
}

fn affinity(declared: &str) -> Affinity {
    let upper = declared.to_ascii_uppercase();
    if upper.contains("INT") {
        Affinity::Integer
    } else if upper.contains("CHAR") || upper.contains("CLOB") || upper.contains("TEXT") {
        Affinity::Text
    } else if upper.contains("BLOB") || upper.trim().is_empty() {
        Affinity::Blob
    } else if upper.contains("REAL") || upper.contains("FLOA") || upper.contains("DOUB") {
        Affinity::Real
    } else {
        Affinity::Numeric
    }
}

/// The cell for a value the seed gives as it is (a plain field), or why it
/// cannot: the compiler binds every cell as text and lets the column's
/// affinity convert it, so text that affinity would turn into a number, a
/// number in a column that keeps text as text, and bytes cannot be said.
pub fn plain(value: &Value, declared: &str) -> Result<Cell, String> {
    let affinity = affinity(declared);
    match value {
        Value::Null => Ok(Cell::Null),
        Value::Integer(i) if affinity != Affinity::Blob => Ok(Cell::Integer(*i)),
        // The engine reads the text "-0.0" as 0.0: the sign is lost.
        Value::Real(r) if *r == 0.0 && r.is_sign_negative() => Err(
            "holds -0.0, which a seed cell gives only as 0.0 (the engine drops the sign of a zero read from text)"
                .into(),
        ),
        Value::Real(r) if matches!(ColumnKind::from_declared(declared), ColumnKind::Integer) => {
            Err(format!(
                "holds the real number {} in a column of type {declared}, which the seed gives integers only",
                real_text(*r)
            ))
        }
        Value::Real(r) if affinity != Affinity::Blob => Ok(Cell::Real(*r)),
        Value::Integer(_) | Value::Real(_) => Err(format!(
            "holds the number {} in a column without a numeric type ({declared:?}): a seed cell is text there, \
             so it would come back as text",
            literal(value)
        )),
        Value::Text(t) => {
            let numeric = matches!(
                affinity,
                Affinity::Integer | Affinity::Real | Affinity::Numeric
            );
            if numeric && looks_numeric(t) {
                return Err(format!(
                    "holds the text {t:?}, which the column's type ({declared}) turns into a number when the seed \
                     loads it: the seed cannot give this value as text"
                ));
            }
            if matches!(
                ColumnKind::from_declared(declared),
                ColumnKind::Integer | ColumnKind::Real
            ) {
                return Err(format!(
                    "holds the text {t:?} in a column of type {declared}, which the seed accepts only numbers for"
                ));
            }
            Ok(Cell::Text(t.clone()))
        }
        Value::RawText(_) => {
            Err("holds text that is not UTF-8, which no seed file can carry".into())
        }
        Value::Blob(_) => Err(
            "holds binary data (a BLOB), which a seed cell gives only through a mapping: \
             map the column with `{ blob = \"hex\" }` in seed.toml [table.columns]"
                .into(),
        ),
    }
}

/// Whether the engine's numeric affinities would convert this text: a
/// decimal integer or real literal, spaces around it allowed.
fn looks_numeric(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty()
        && t.bytes().any(|b| b.is_ascii_digit())
        && t.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
        && t.parse::<f64>().is_ok()
}

/// A value as SQL spells it, for messages.
pub fn literal(value: &Value) -> String {
    let mut out = String::new();
    crate::value::write_sql_literal(&mut out, value.as_ref());
    out
}

/// The shortest text that parses back to exactly this number, with a
/// decimal point or exponent so that no reader takes it for an integer.
pub fn real_text(r: f64) -> String {
    format!("{r:?}")
}

/// A CSV line of cells. An unquoted empty field is NULL and a quoted one
/// the empty string, as the compiler reads them; anything else is quoted
/// only where CSV needs it.
pub fn csv_line(out: &mut String, cells: &[Cell], delimiter: u8) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(delimiter as char);
        }
        match cell {
            Cell::Null => {}
            Cell::Integer(n) => out.push_str(&n.to_string()),
            Cell::Real(r) => out.push_str(&real_text(*r)),
            Cell::Number(n) => out.push_str(n),
            Cell::Text(t) => csv_text(out, t, delimiter),
        }
    }
    out.push('\n');
}

fn csv_text(out: &mut String, text: &str, delimiter: u8) {
    let quote = text.is_empty()
        || text
            .bytes()
            .any(|b| b == delimiter || matches!(b, b'"' | b'\n' | b'\r'))
        || text.starts_with(char::is_whitespace)
        || text.ends_with(char::is_whitespace);
    if quote {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(text);
    }
}

/// A cell as a JSON value: numbers stay numbers (a real is bound as the
/// exact double it is), text stays a string.
pub fn json(cell: &Cell) -> serde_json::Value {
    match cell {
        Cell::Null => serde_json::Value::Null,
        Cell::Integer(n) => (*n).into(),
        Cell::Real(r) => serde_json::Number::from_f64(*r)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Cell::Text(t) | Cell::Number(t) => t.clone().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_the_empty_string_differ_in_csv() {
        let mut line = String::new();
        csv_line(
            &mut line,
            &[
                Cell::Null,
                Cell::Text(String::new()),
                Cell::Real(1.0),
                Cell::Text("a,\"b\"".into()),
            ],
            b',',
        );
        assert_eq!(line, ",\"\",1.0,\"a,\"\"b\"\"\"\n");
    }

    #[test]
    fn reals_keep_every_bit_and_a_point() {
        for r in [
            0.1,
            1.0,
            1e-7,
            1e300,
            -2.5,
            123_456_789.123_456_79,
            f64::MIN_POSITIVE,
        ] {
            let text = real_text(r);
            assert_eq!(
                text.parse::<f64>().unwrap().to_bits(),
                r.to_bits(),
                "{text}"
            );
            assert!(text.contains(['.', 'e']), "{text}");
        }
    }

    /// The engine itself converts the text the compiler binds: every
    /// exponent, with several mantissas and both signs, spelled as the
    /// speller chose, comes back from a REAL column as the same double, and
    /// from a NUMERIC one too unless it is a whole number the column would
    /// have stored as an integer in the first place.
    #[tokio::test]
    async fn the_engine_reads_every_spelled_real_back_as_the_same_double() {
        let db = libsql::Builder::new_local(":memory:")
            .build()
            .await
            .unwrap();
        let conn = db.connect().unwrap();
        conn.execute("CREATE TABLE t (r REAL, n NUMERIC)", ())
            .await
            .unwrap();
        let mut values = Vec::new();
        for exponent in 0..2047u64 {
            for mantissa in [
                0,
                1,
                0x8_0000_0000_0001,
                0xf_ffff_ffff_ffff,
                0x5_5555_5555_5555,
            ] {
                for sign in [0, 1u64 << 63] {
                    let f = f64::from_bits(sign | exponent << 52 | mantissa);
                    // A negative zero is refused before it is written.
                    if plain(&Value::Real(f), "REAL").is_ok() {
                        values.push(f);
                    }
                }
            }
        }
        let mut speller = RealSpeller::new().await.unwrap();
        let mut spelled = Vec::new();
        for f in &values {
            // None: refused by extract, with the row named.
            if let Some(text) = speller.spell(*f).await.unwrap() {
                conn.execute("INSERT INTO t VALUES (?1, ?1)", [text.as_str()])
                    .await
                    .unwrap();
                spelled.push((*f, text));
            }
        }
        // Most of them have a spelling (all that are neither huge nor tiny).
        assert!(spelled.len() > values.len() * 9 / 10, "{}", spelled.len());
        assert!(
            spelled.iter().any(|(_, t)| t.len() > 20),
            "a longer spelling was needed"
        );
        let mut rows = conn
            .query("SELECT r, n FROM t ORDER BY rowid", ())
            .await
            .unwrap();
        for (f, text) in &spelled {
            let row = rows.next().await.unwrap().unwrap();
            match row.get_value(0).unwrap() {
                libsql::Value::Real(r) => assert_eq!(r.to_bits(), f.to_bits(), "{text}"),
                other => panic!("{text} came back from REAL as {other:?}"),
            }
            match row.get_value(1).unwrap() {
                libsql::Value::Real(r) => assert_eq!(r.to_bits(), f.to_bits(), "{text}"),
                libsql::Value::Integer(i) => assert_eq!(i as f64, *f, "{text}"),
                other => panic!("{text} came back from NUMERIC as {other:?}"),
            }
        }
    }

    #[test]
    fn text_a_numeric_column_would_convert_is_refused() {
        assert!(plain(&Value::Text("12".into()), "INTEGER").is_err());
        assert!(plain(&Value::Text(" 1.5 ".into()), "NUMERIC").is_err());
        assert_eq!(
            plain(&Value::Text("12".into()), "VARCHAR(10)"),
            Ok(Cell::Text("12".into()))
        );
        assert_eq!(
            plain(&Value::Text("2024-01-01".into()), "DATE"),
            Ok(Cell::Text("2024-01-01".into()))
        );
        assert!(plain(&Value::Integer(3), "").is_err());
        assert!(plain(&Value::Real(-0.0), "REAL").is_err());
        assert!(plain(&Value::Blob(vec![1]), "BLOB").is_err());
    }
}
