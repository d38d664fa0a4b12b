//! Seed values, the column kinds they are checked against, and the compact
//! binary row encoding embedded in the binary.
//!
//! Shared by the build-time compiler and the runtime, so both sides read and
//! write exactly the same bytes.

use std::fmt;

/// An owned seed value, as the compiler produces it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// A value borrowed from an embedded row blob.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl Value {
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Text(t) => ValueRef::Text(t),
            Value::Blob(b) => ValueRef::Blob(b),
        }
    }
}

impl fmt::Display for ValueRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueRef::Null => f.write_str("NULL"),
            ValueRef::Integer(i) => write!(f, "{i}"),
            ValueRef::Real(r) => write!(f, "{r:?}"),
            ValueRef::Text(t) => write!(f, "{t:?}"),
            ValueRef::Blob(b) => write!(f, "<{} bytes>", b.len()),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_ref().fmt(f)
    }
}

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

// --- the row encoding -------------------------------------------------------
//
// A table's rows are one byte string: for every row, for every column, a tag
// byte and its payload. Integers are zigzag LEB128, so small ids and flags
// take one or two bytes; text and blobs are length-prefixed. This keeps a
// million-row seed close to its CSV size and costs the compiler nothing to
// embed (`include_bytes!`), unlike a million struct literals.

const TAG_NULL: u8 = 0;
const TAG_INTEGER: u8 = 1;
const TAG_REAL: u8 = 2;
const TAG_TEXT: u8 = 3;
const TAG_BLOB: u8 = 4;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub fn encode_value(out: &mut Vec<u8>, value: ValueRef<'_>) {
    match value {
        ValueRef::Null => out.push(TAG_NULL),
        ValueRef::Integer(i) => {
            out.push(TAG_INTEGER);
            put_varint(out, ((i << 1) ^ (i >> 63)) as u64);
        }
        ValueRef::Real(r) => {
            out.push(TAG_REAL);
            out.extend_from_slice(&r.to_bits().to_le_bytes());
        }
        ValueRef::Text(t) => {
            out.push(TAG_TEXT);
            put_varint(out, t.len() as u64);
            out.extend_from_slice(t.as_bytes());
        }
        ValueRef::Blob(b) => {
            out.push(TAG_BLOB);
            put_varint(out, b.len() as u64);
            out.extend_from_slice(b);
        }
    }
}

/// Reads values back from an encoded blob. The blob was written by
/// [`encode_value`] at build time and embedded unchanged, so malformed input
/// is a bug in seedbake, not a user error: it panics with a clear message.
#[derive(Debug, Clone)]
pub struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Decoder { data, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn byte(&mut self) -> u8 {
        let b = *self
            .data
            .get(self.pos)
            .expect("embedded seed data is truncated (seedbake bug)");
        self.pos += 1;
        b
    }

    fn varint(&mut self) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = self.byte();
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return v;
            }
            shift += 7;
        }
    }

    fn bytes(&mut self) -> &'a [u8] {
        let len = self.varint() as usize;
        let start = self.pos;
        self.pos += len;
        self.data
            .get(start..self.pos)
            .expect("embedded seed data is truncated (seedbake bug)")
    }

    pub fn next_value(&mut self) -> ValueRef<'a> {
        match self.byte() {
            TAG_NULL => ValueRef::Null,
            TAG_INTEGER => {
                let z = self.varint();
                ValueRef::Integer(((z >> 1) as i64) ^ -((z & 1) as i64))
            }
            TAG_REAL => {
                let mut raw = [0u8; 8];
                for b in &mut raw {
                    *b = self.byte();
                }
                ValueRef::Real(f64::from_bits(u64::from_le_bytes(raw)))
            }
            TAG_TEXT => ValueRef::Text(
                std::str::from_utf8(self.bytes())
                    .expect("embedded seed text is not UTF-8 (seedbake bug)"),
            ),
            TAG_BLOB => ValueRef::Blob(self.bytes()),
            tag => panic!("unknown value tag {tag} in embedded seed data (seedbake bug)"),
        }
    }
}

/// Writes a value as an SQL literal that reads back as exactly the same
/// value and storage class (used where statements travel as text: remote
/// batches).
pub fn write_sql_literal(out: &mut String, value: ValueRef<'_>) {
    use std::fmt::Write as _;
    match value {
        ValueRef::Null => out.push_str("NULL"),
        // "-9223372036854775808" would parse as minus a too-large integer,
        // which SQLite turns into a REAL.
        ValueRef::Integer(i64::MIN) => out.push_str("(-9223372036854775807-1)"),
        ValueRef::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        ValueRef::Real(r) if r.is_nan() => out.push_str("NULL"),
        ValueRef::Real(r) if r.is_infinite() => {
            out.push_str(if r > 0.0 { "9e999" } else { "-9e999" })
        }
        ValueRef::Real(r) => write_real(out, r),
        // A carriage return travels as char(13): the sqlite3 shell drops a CR
        // before a newline when it reads a script.
        ValueRef::Text(t) if t.contains('\r') => {
            out.push('(');
            for (i, part) in t.split('\r').enumerate() {
                if i > 0 {
                    out.push_str("||char(13)||");
                }
                write_sql_literal(out, ValueRef::Text(part));
            }
            out.push(')');
        }
        ValueRef::Text(t) => {
            out.push('\'');
            for c in t.chars() {
                if c == '\'' {
                    out.push('\'');
                }
                out.push(c);
            }
            out.push('\'');
        }
        ValueRef::Blob(b) => {
            out.push_str("X'");
            push_hex(out, b);
            out.push('\'');
        }
    }
}

/// Writes a finite float so that SQLite reads back exactly the same bits.
///
/// SQLite's decimal-to-double conversion is not correctly rounded: with
/// libSQL's engine about one random double in seven comes back one bit off
/// when written in its shortest form. Short decimals with small exponents
/// convert exactly (Clinger's fast path: at most 15 significant digits,
/// power of ten within ±22), and real data is mostly such; anything else is
/// written as its exact binary value, an integer times powers of two, which
/// SQLite evaluates without rounding.
fn write_real(out: &mut String, r: f64) {
    use std::fmt::Write as _;
    let shortest = format!("{r:e}");
    let (mantissa, exp10) = shortest
        .split_once('e')
        .expect("`{:e}` always has an exponent");
    let digits = mantissa.bytes().filter(u8::is_ascii_digit).count();
    let exp10: i32 = exp10.parse().expect("`{:e}` exponent is an integer");
    if digits <= 15 && (exp10 - digits as i32 + 1).abs() <= 22 && exp10.abs() <= 22 {
        // `{:?}` is that same shortest text, always marked as a float ("3.0", "1e20").
        let _ = write!(out, "{r:?}");
        return;
    }
    // r = m · 2^e with m odd (or zero), |m| < 2^53.
    let bits = r.to_bits();
    let negative = bits >> 63 == 1;
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    let (mut m, mut e) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), biased - 1075)
    };
    if m == 0 {
        out.push_str(if negative { "-0.0" } else { "0.0" });
        return;
    }
    let shift = m.trailing_zeros();
    m >>= shift;
    e += shift as i32;
    let _ = write!(out, "({}{m}.0", if negative { "-" } else { "" });
    let (op, mut left) = if e >= 0 { ('*', e) } else { ('/', -e) };
    while left >= 32 {
        let _ = write!(out, "{op}4294967296.0");
        left -= 32;
    }
    if left > 0 {
        let _ = write!(out, "{op}{}.0", 1u64 << left);
    }
    out.push(')');
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_the_encoding() {
        let values = [
            Value::Null,
            Value::Integer(0),
            Value::Integer(-1),
            Value::Integer(i64::MIN),
            Value::Integer(i64::MAX),
            Value::Real(-0.1),
            Value::Real(f64::MAX),
            Value::Text(String::new()),
            Value::Text("Größe; 'quoted'\n\"x\" 🏊".into()),
            Value::Blob(vec![0, 255, 10]),
        ];
        let mut out = Vec::new();
        for v in &values {
            encode_value(&mut out, v.as_ref());
        }
        let mut dec = Decoder::new(&out);
        for v in &values {
            assert_eq!(dec.next_value(), v.as_ref());
        }
        assert!(dec.is_empty());
    }

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

    #[tokio::test]
    async fn sql_literals_read_back_as_the_same_value() {
        let db = libsql::Builder::new_local(":memory:")
            .build()
            .await
            .unwrap();
        let conn = db.connect().unwrap();
        let values = [
            Value::Null,
            Value::Integer(i64::MIN),
            Value::Integer(i64::MAX),
            Value::Integer(-7),
            Value::Real(0.1),
            Value::Real(-1e300),
            Value::Real(5e-324),
            Value::Real(3.0),
            Value::Real(-0.0),
            Value::Real(1.7153739264319663e178),
            Value::Real(1.1910593176322933e-240),
            Value::Real(f64::MAX),
            Value::Real(f64::MIN_POSITIVE),
            Value::Text(String::new()),
            Value::Text("it's; a \"test\"\n-- not a comment 🏊".into()),
            Value::Text("\r\nline\r".into()),
            Value::Blob(vec![0, 1, 254, 255]),
        ];
        for v in values {
            let mut sql = String::from("SELECT ");
            write_sql_literal(&mut sql, v.as_ref());
            let mut rows = conn.query(&sql, ()).await.unwrap();
            let got = rows.next().await.unwrap().unwrap().get_value(0).unwrap();
            let expected = match &v {
                Value::Null => libsql::Value::Null,
                Value::Integer(i) => libsql::Value::Integer(*i),
                Value::Real(r) => libsql::Value::Real(*r),
                Value::Text(t) => libsql::Value::Text(t.clone()),
                Value::Blob(b) => libsql::Value::Blob(b.clone()),
            };
            assert_eq!(got, expected, "{sql}");
        }
        // Random bit patterns: every finite double reads back bit for bit.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut sql = String::from("SELECT ");
        let mut sent = Vec::new();
        while sent.len() < 2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = f64::from_bits(x);
            if f.is_finite() {
                if !sent.is_empty() {
                    sql.push(',');
                }
                write_sql_literal(&mut sql, ValueRef::Real(f));
                sent.push(f);
            }
        }
        let mut rows = conn.query(&sql, ()).await.unwrap();
        let row = rows.next().await.unwrap().unwrap();
        for (i, f) in sent.iter().enumerate() {
            match row.get_value(i as i32).unwrap() {
                libsql::Value::Real(g) => assert_eq!(g.to_bits(), f.to_bits(), "{f:?}"),
                other => panic!("{f:?} came back as {other:?}"),
            }
        }
    }
}
