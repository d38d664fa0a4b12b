//! Reference rows as `status -v` and the migrate plan show them: per table,
//! each row that changes, column by column, with the value the database has
//! and the seed's, aligned as a terminal shows them.
//!
//! One rule for every value: a string as it is, unless it could be read as
//! something else (empty, leading or trailing blanks, control characters,
//! a number, `NULL`…): then quoted, with escapes. NULL as `NULL`, a blob as
//! `x'…'` (its first bytes), a credential as `(hidden)`, a column the
//! database does not have yet as `(no column yet)`. A cell wider than
//! [`CELL_WIDTH`] is cut with `…`. A blank cell means there is no row:
//! nothing in the database (an insert) or in the seed (a delete).

use seedbake::ops::{HIDDEN, Shown, TableSync};
use seedbake::value::Value;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The widest a cell is shown, in terminal columns.
const CELL_WIDTH: usize = 40;
/// A column the database does not have yet (pending migrations add it).
const ABSENT: &str = "(no column yet)";
/// How many of a blob's bytes are shown.
const BLOB_BYTES: usize = 8;

/// The lines (unindented) of `t`'s changes: a header, then each changed
/// row's columns, updates (`~`), inserts (`+`), deletes (`-`). Empty when
/// nothing changes.
pub(super) fn changes_table(t: &TableSync) -> Vec<String> {
    let mut rows: Vec<[String; 4]> = Vec::new();
    let mut row_lines = |marker: &str, key: &str, cells: Vec<(String, String, String)>| {
        for (i, (column, database, seed)) in cells.into_iter().enumerate() {
            let key = if i == 0 {
                format!("{marker} {key}")
            } else {
                String::new()
            };
            rows.push([key, column, database, seed]);
        }
    };
    for u in &t.updated {
        let cells = u
            .changes
            .iter()
            .map(|c| (c.column.clone(), text(&c.database), text(&c.seed)))
            .collect();
        row_lines("~", &u.key, cells);
    }
    // The key already names the row: its other columns say what it holds.
    let non_key = |r: &seedbake::ops::RowValues, inserted: bool| {
        let mut cells: Vec<(String, String, String)> = r
            .values
            .iter()
            .filter(|v| !t.key.contains(&v.column))
            .map(|v| {
                let value = text(&v.value);
                if inserted {
                    (v.column.clone(), String::new(), value)
                } else {
                    (v.column.clone(), value, String::new())
                }
            })
            .collect();
        if cells.is_empty() {
            cells.push(Default::default());
        }
        cells
    };
    for r in &t.inserted_rows {
        row_lines("+", &r.key, non_key(r, true));
    }
    for r in &t.deleted_rows {
        row_lines("-", &r.key, non_key(r, false));
    }
    if rows.is_empty() {
        return Vec::new();
    }
    rows.insert(0, ["key", "column", "database", "seed"].map(String::from));
    for row in &mut rows {
        for cell in row.iter_mut() {
            *cell = cut(cell);
        }
    }
    let widths: Vec<usize> = (0..4)
        .map(|c| rows.iter().map(|r| r[c].width()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            let mut line = String::new();
            for (c, cell) in r.iter().enumerate() {
                line.push_str(cell);
                if c + 1 < r.len() {
                    line.push_str(&" ".repeat(widths[c] - cell.width() + 2));
                }
            }
            line.trim_end().to_owned()
        })
        .collect()
}

/// A value as the table shows it (see the module's description).
fn text(v: &Shown) -> String {
    match v {
        Shown::Hidden => HIDDEN.to_owned(),
        Shown::Absent => ABSENT.to_owned(),
        Shown::Value(Value::Null) => "NULL".to_owned(),
        Shown::Value(Value::Integer(i)) => i.to_string(),
        Shown::Value(Value::Real(r)) => format!("{r:?}"),
        Shown::Value(Value::Text(t)) if ambiguous(t) => format!("{t:?}"),
        Shown::Value(Value::Text(t)) => t.clone(),
        Shown::Value(Value::RawText(b)) => format!("{} (not UTF-8)", blob(b)),
        Shown::Value(Value::Blob(b)) => blob(b),
    }
}

/// Whether a string shown as it is could be taken for another value, or
/// not be seen at all.
fn ambiguous(t: &str) -> bool {
    t.is_empty()
        || t.starts_with(char::is_whitespace)
        || t.ends_with(char::is_whitespace)
        || t.chars().any(char::is_control)
        || t.starts_with('"')
        || t.starts_with("x'")
        || t == "NULL"
        || t == HIDDEN
        || t == ABSENT
        || t.parse::<f64>().is_ok()
}

fn blob(b: &[u8]) -> String {
    let shown = seedbake::hex::encode(&b[..b.len().min(BLOB_BYTES)]);
    if b.len() > BLOB_BYTES {
        format!("x'{shown}…' ({} bytes)", b.len())
    } else {
        format!("x'{shown}'")
    }
}

/// `s`, cut with "…" to at most [`CELL_WIDTH`] terminal columns.
fn cut(s: &str) -> String {
    if s.width() <= CELL_WIDTH {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut width = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if width + w > CELL_WIDTH - 1 {
            break;
        }
        out.push(c);
        width += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_plain_unless_they_could_be_read_as_another() {
        let t = |s: &str| text(&Shown::Value(Value::Text(s.into())));
        assert_eq!(t("Bayerischer KV"), "Bayerischer KV");
        assert_eq!(t(""), "\"\"");
        assert_eq!(t(" Kassel"), "\" Kassel\"");
        assert_eq!(t("NULL"), "\"NULL\"");
        assert_eq!(t("34117"), "\"34117\"");
        assert_eq!(t("a\nb"), "\"a\\nb\"");
        assert_eq!(text(&Shown::Value(Value::Null)), "NULL");
        assert_eq!(text(&Shown::Value(Value::Integer(34117))), "34117");
        assert_eq!(text(&Shown::Value(Value::Real(3.0))), "3.0");
        assert_eq!(text(&Shown::Hidden), "(hidden)");
        assert_eq!(text(&Shown::Absent), "(no column yet)");
        assert_eq!(t("(no column yet)"), "\"(no column yet)\"");
        assert_eq!(text(&Shown::Value(Value::Blob(vec![0, 255]))), "x'00ff'");
        assert_eq!(
            text(&Shown::Value(Value::Blob(vec![1; 2048]))),
            "x'0101010101010101…' (2048 bytes)"
        );
    }

    #[test]
    fn long_cells_are_cut_to_the_width_a_terminal_shows() {
        let long = "ü".repeat(50);
        let cut_long = cut(&long);
        assert_eq!(cut_long.width(), CELL_WIDTH);
        assert!(cut_long.ends_with("ü…"));
        // Wide characters take two columns each.
        assert_eq!(cut(&"漢".repeat(30)).width(), CELL_WIDTH - 1);
        assert_eq!(cut("kurz"), "kurz");
    }
}
