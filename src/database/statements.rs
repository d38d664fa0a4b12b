//! The seed's rows as SQL text, for servers, where statements travel as
//! text.

use crate::schema::quote_ident;
use crate::seed::TableData;
use crate::value::ValueRef;

/// A table's rows as statements, one at a time, each at most
/// `max_statement` bytes (memory holds one statement, not the table).
///
/// Thousands of literal values cost a client that parses what it sends (as
/// the libsql client did) far more than the network does, and seedbake's
/// own still scans a statement's text for its end. Tables whose values are
/// only integers, text and NULL therefore travel as one JSON text per
/// statement, bound to the short statement `INSERT … SELECT value->>0, …
/// FROM json_each(?1)`: the client scans a few dozen bytes, the server's
/// JSON decoder reads the rows, the
/// engine unpacks them (sqld spends the same on a JSON literal or a bound
/// one; measured, 1M rows: 2.66 s and 2.61 s of its CPU). Floats and blobs
/// cannot cross JSON exactly, so tables holding any go as multi-row
/// `VALUES` of exact literals.
pub struct Statements {
    table: &'static TableData,
    decoder: crate::value::Decoder<'static>,
    head: String,
    json: bool,
    max_statement: usize,
    left: usize,
    /// A rendered row that did not fit the previous statement.
    carry: Option<String>,
}

impl Statements {
    /// Statements of at most `max_literal` bytes when the rows travel as
    /// literals, `max_bound` when they travel as bound JSON (one pass over
    /// the table decides which).
    pub fn new(table: &'static TableData, max_literal: usize, max_bound: usize) -> Self {
        let cols = table.quoted_columns();
        let mut scan = table.decoder();
        let json = !(0..table.row_count * table.columns.len())
            .any(|_| matches!(scan.next_value(), ValueRef::Real(_) | ValueRef::Blob(_)));
        let head = if json {
            let picks: Vec<String> = (0..table.columns.len())
                .map(|i| format!("value->>{i}"))
                .collect();
            format!(
                "INSERT INTO {} ({cols}) SELECT {} FROM json_each(?1)",
                quote_ident(table.name),
                picks.join(", ")
            )
        } else {
            format!("INSERT INTO {} ({cols}) VALUES ", quote_ident(table.name))
        };
        Statements {
            table,
            decoder: table.decoder(),
            head,
            json,
            max_statement: if json { max_bound } else { max_literal },
            left: table.row_count,
            carry: None,
        }
    }

    fn render_row(&mut self) -> String {
        let mut row = String::from(if self.json { "[" } else { "(" });
        for i in 0..self.table.columns.len() {
            if i > 0 {
                row.push(',');
            }
            let value = self.decoder.next_value();
            if self.json {
                push_json(&mut row, value);
            } else {
                crate::value::write_sql_literal(&mut row, value);
            }
        }
        row.push(if self.json { ']' } else { ')' });
        self.left -= 1;
        row
    }
}

/// A JSON value.
fn push_json(out: &mut String, value: ValueRef<'_>) {
    use std::fmt::Write as _;
    match value {
        ValueRef::Null => out.push_str("null"),
        ValueRef::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        ValueRef::Text(t) => {
            out.push_str(&serde_json::to_string(t).expect("strings serialise"));
        }
        ValueRef::Real(_) | ValueRef::Blob(_) => unreachable!("such tables go as VALUES"),
        ValueRef::RawText(_) => {
            unreachable!("seed text is UTF-8: the build read it from UTF-8 files")
        }
    }
}

/// The length of `text` inside a JSON string.
fn escaped_len(text: &str) -> usize {
    text.len()
        + text
            .bytes()
            .map(|b| match b {
                b'"' | b'\\' => 1,
                0..=0x1f => 5,
                _ => 0,
            })
            .sum::<usize>()
}

/// One statement of a table's rows.
pub struct Statement {
    pub sql: String,
    /// The rows as JSON, bound to `?1`; none when `sql` holds them.
    pub rows_json: Option<String>,
    pub rows: usize,
}

impl Statement {
    /// The statement with its bound JSON written in as a literal, to travel
    /// packed with others.
    pub fn inlined(&self) -> String {
        match &self.rows_json {
            Some(json) => {
                let head = self
                    .sql
                    .strip_suffix("?1)")
                    .expect("a bound statement ends so");
                let mut sql = head.to_owned();
                crate::value::write_sql_literal(&mut sql, ValueRef::Text(json));
                sql.push(')');
                sql
            }
            None => self.sql.clone(),
        }
    }
}

impl Iterator for Statements {
    type Item = Statement;

    fn next(&mut self) -> Option<Statement> {
        let mut body = String::new();
        // What the body costs in the request: a bound JSON text travels
        // inside a JSON string, its quotes and backslashes escaped.
        let mut size = if self.json { 2 } else { self.head.len() };
        let mut rows = 0;
        let (open, tail) = if self.json { ("[", "]") } else { ("", "") };
        loop {
            let row = match self.carry.take() {
                Some(r) => r,
                None if self.left > 0 => self.render_row(),
                None => break,
            };
            let cost = 1 + if self.json {
                escaped_len(&row)
            } else {
                row.len()
            };
            if rows > 0 && size + cost > self.max_statement {
                self.carry = Some(row);
                break;
            }
            size += cost;
            if rows == 0 {
                body.push_str(open);
            } else {
                body.push(',');
            }
            body.push_str(&row);
            rows += 1;
        }
        if rows == 0 {
            return None;
        }
        body.push_str(tail);
        Some(if self.json {
            Statement {
                sql: self.head.clone(),
                rows_json: Some(body),
                rows,
            }
        } else {
            Statement {
                sql: format!("{}{body}", self.head),
                rows_json: None,
                rows,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Column;
    use crate::value::{Value, encode_value, to_libsql};

    fn table(rows: &[Vec<Value>]) -> &'static TableData {
        let mut data = Vec::new();
        for row in rows {
            for v in row {
                encode_value(&mut data, v.as_ref());
            }
        }
        let columns: &'static [Column] = Box::leak(Box::new([
            Column {
                name: "a",
                declared_type: "",
                not_null: false,
                primary_key: false,
            },
            Column {
                name: "b",
                declared_type: "",
                not_null: false,
                primary_key: false,
            },
        ]));
        Box::leak(Box::new(TableData {
            name: "t",
            columns,
            row_count: rows.len(),
            rows: Box::leak(data.into_boxed_slice()),
            key_fields: &[],
            keys: &[],
            unfingerprinted: &[],
        }))
    }

    async fn round_trip(rows: Vec<Vec<Value>>, expect_json: bool) {
        let t = table(&rows);
        let db = libsql::Builder::new_local(":memory:")
            .build()
            .await
            .unwrap();
        let conn = db.connect().unwrap();
        conn.execute("CREATE TABLE t (a, b)", ()).await.unwrap();
        // Small statements, to cross statement boundaries.
        for st in Statements::new(t, 60, 60) {
            assert_eq!(st.rows_json.is_some(), expect_json, "{}", st.sql);
            match st.rows_json {
                Some(json) => conn.execute(&st.sql, [json]).await.unwrap(),
                None => conn.execute(&st.sql, ()).await.unwrap(),
            };
        }
        let mut got = conn
            .query("SELECT a, b FROM t ORDER BY rowid", ())
            .await
            .unwrap();
        for row in &rows {
            let r = got.next().await.unwrap().unwrap();
            for (i, v) in row.iter().enumerate() {
                assert_eq!(r.get_value(i as i32).unwrap(), to_libsql(v.as_ref()));
            }
        }
        assert!(got.next().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn integers_and_text_travel_as_json_and_come_back_exactly() {
        let text = |s: &str| Value::Text(s.into());
        round_trip(
            vec![
                vec![
                    Value::Integer(i64::MIN),
                    text("it's \"quoted\" \\ back\nslash 🏊"),
                ],
                vec![Value::Integer(i64::MAX), Value::Null],
                vec![Value::Null, text("")],
                vec![Value::Integer(7), text("123")],
                vec![Value::Integer(-1), text("\r\n\t\u{1}")],
            ],
            true,
        )
        .await;
    }

    #[tokio::test]
    async fn floats_and_blobs_travel_as_exact_literals() {
        round_trip(
            vec![
                vec![Value::Integer(1), Value::Real(1.1910593176322933e-240)],
                vec![Value::Blob(vec![0, 255]), Value::Real(0.1)],
            ],
            false,
        )
        .await;
    }
}
