//! SQL literals that read back as exactly the same value and storage class.

use super::ValueRef;
use crate::hex;

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
        // before a newline when it reads a script. A NUL travels as char(0):
        // neither the shell nor the engine's C API reads SQL text past one.
        ValueRef::Text(t) if t.contains(['\r', '\0']) => write_spelled_text(out, t),
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
            hex::push(out, b);
            out.push('\'');
        }
        // The bytes as they are, read back as TEXT.
        ValueRef::RawText(b) => {
            out.push_str("CAST(X'");
            hex::push(out, b);
            out.push_str("' AS TEXT)");
        }
    }
}

/// Writes text holding CRs or NULs as quoted runs and `char(…)` calls for
/// the rest, concatenated as a balanced tree: the engine refuses an
/// expression more than 1000 deep, and a long CRLF text is thousands of
/// pieces.
fn write_spelled_text(out: &mut String, t: &str) {
    use std::fmt::Write as _;
    // The engine's default limit on a function's arguments is 127.
    const CODES_PER_CALL: usize = 100;
    let special = |c: char| c == '\r' || c == '\0';
    let mut pieces: Vec<String> = Vec::new();
    let mut rest = t;
    while !rest.is_empty() {
        let plain = rest.find(special).unwrap_or(rest.len());
        if plain > 0 {
            let mut piece = String::new();
            write_sql_literal(&mut piece, ValueRef::Text(&rest[..plain]));
            pieces.push(piece);
            rest = &rest[plain..];
            continue;
        }
        let run = rest.find(|c| !special(c)).unwrap_or(rest.len());
        for codes in rest.as_bytes()[..run].chunks(CODES_PER_CALL) {
            let mut piece = String::from("char(");
            for (i, c) in codes.iter().enumerate() {
                let _ = write!(piece, "{}{c}", if i > 0 { "," } else { "" });
            }
            piece.push(')');
            pieces.push(piece);
        }
        rest = &rest[run..];
    }
    fn balanced(out: &mut String, pieces: &[String]) {
        if let [one] = pieces {
            out.push_str(one);
            return;
        }
        let (left, right) = pieces.split_at(pieces.len() / 2);
        out.push('(');
        balanced(out, left);
        out.push_str("||");
        balanced(out, right);
        out.push(')');
    }
    balanced(out, &pieces);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Value, to_libsql};

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
            Value::Text("\r".into()),
            Value::Text("line\r\n".repeat(5000)),
            Value::Text("\r".repeat(250)),
            Value::Blob(vec![0, 1, 254, 255]),
        ];
        for v in values {
            let mut sql = String::from("SELECT ");
            write_sql_literal(&mut sql, v.as_ref());
            let mut rows = conn.query(&sql, ()).await.unwrap();
            let got = rows.next().await.unwrap().unwrap().get_value(0).unwrap();
            assert_eq!(got, to_libsql(v.as_ref()), "{sql}");
        }
        // Text holding NULs: the libsql crate reads text only up to the
        // first NUL, so the engine's own hex() shows what was stored.
        for t in ["a\0b\0\0\r\n'c'\0", "\0", &"x\0\r\n".repeat(3000)] {
            let mut sql = String::from("SELECT typeof(v), hex(v) FROM (SELECT ");
            write_sql_literal(&mut sql, ValueRef::Text(t));
            sql.push_str(" AS v)");
            let mut rows = conn.query(&sql, ()).await.unwrap();
            let row = rows.next().await.unwrap().unwrap();
            assert_eq!(row.get::<String>(0).unwrap(), "text", "{t:?}");
            let mut want = String::new();
            hex::push(&mut want, t.as_bytes());
            assert_eq!(row.get::<String>(1).unwrap(), want.to_uppercase(), "{t:?}");
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
