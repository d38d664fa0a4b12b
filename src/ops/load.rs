//! Loading embedded rows into an open transaction.

use crate::target::raw::RawConn;

use crate::schema::quote_ident;
use crate::seed::TableData;

/// Rows per INSERT statement: enough to amortise the statement's cost,
/// and never more bound values than SQLite's default limit (32766).
const ROWS_PER_STATEMENT: usize = 64;
const MAX_VARIABLES: usize = 32_766;

/// Told what happens while rows load; may stop the load by returning an
/// error (the transaction then rolls back).
pub trait Observer {
    fn table_started(&mut self, _table: &str, _rows: usize) {}
    fn rows_loaded(&mut self, _table: &str, _rows: usize) -> Result<(), String> {
        Ok(())
    }
}

/// Observes nothing.
pub struct Quiet;
impl Observer for Quiet {}

fn insert_sql(table: &TableData, rows: usize) -> String {
    let cols: Vec<String> = table.columns.iter().map(|c| quote_ident(c.name)).collect();
    let one = format!("({})", vec!["?"; cols.len()].join(", "));
    format!(
        "INSERT INTO {} ({}) VALUES {}",
        quote_ident(table.name),
        cols.join(", "),
        vec![one; rows].join(", ")
    )
}

/// Inserts every row of `table` through prepared multi-row statements,
/// binding the embedded values in place.
pub fn load_table(
    conn: &RawConn,
    table: &'static TableData,
    observer: &mut dyn Observer,
) -> Result<(), String> {
    observer.table_started(table.name, table.row_count);
    if table.row_count == 0 {
        return Ok(());
    }
    let fail = |e: String| format!("inserting into {}: {e}", table.name);
    let width = table.columns.len();
    let per_statement = ROWS_PER_STATEMENT.min(MAX_VARIABLES / width.max(1)).max(1);
    let mut full = conn
        .prepare(&insert_sql(table, per_statement.min(table.row_count)))
        .map_err(fail)?;
    let mut decoder = table.decoder();
    let mut done = 0;
    while done < table.row_count {
        let n = per_statement.min(table.row_count - done);
        if n == per_statement || (done == 0 && n == table.row_count) {
            for i in 0..n * width {
                full.bind_static(i as i32 + 1, decoder.next_value())
                    .map_err(fail)?;
            }
            full.run().map_err(fail)?;
        } else {
            let mut tail = conn.prepare(&insert_sql(table, n)).map_err(fail)?;
            for i in 0..n * width {
                tail.bind_static(i as i32 + 1, decoder.next_value())
                    .map_err(fail)?;
            }
            tail.run().map_err(fail)?;
        }
        done += n;
        observer
            .rows_loaded(table.name, n)
            .map_err(|reason| format!("loading {}: {reason}", table.name))?;
    }
    Ok(())
}

/// The seed's rows as SQL text: multi-row INSERT statements of at most
/// `max_statement` bytes each, one at a time (for servers, where statements
/// travel as text; memory holds one statement, not the table).
pub struct Statements {
    table: &'static TableData,
    decoder: crate::value::Decoder<'static>,
    head: String,
    max_statement: usize,
    left: usize,
    /// A rendered row that did not fit the previous statement.
    carry: Option<String>,
}

impl Statements {
    pub fn new(table: &'static TableData, max_statement: usize) -> Self {
        let cols: Vec<String> = table.columns.iter().map(|c| quote_ident(c.name)).collect();
        Statements {
            table,
            decoder: table.decoder(),
            head: format!(
                "INSERT INTO {} ({}) VALUES ",
                quote_ident(table.name),
                cols.join(", ")
            ),
            max_statement,
            left: table.row_count,
            carry: None,
        }
    }

    fn render_row(&mut self) -> String {
        let mut row = String::from("(");
        for i in 0..self.table.columns.len() {
            if i > 0 {
                row.push(',');
            }
            crate::value::write_sql_literal(&mut row, self.decoder.next_value());
        }
        row.push(')');
        self.left -= 1;
        row
    }
}

impl Iterator for Statements {
    /// The statement and how many rows it carries.
    type Item = (String, usize);

    fn next(&mut self) -> Option<(String, usize)> {
        let mut sql = String::new();
        let mut rows = 0;
        loop {
            let row = match self.carry.take() {
                Some(r) => r,
                None if self.left > 0 => self.render_row(),
                None => break,
            };
            if rows > 0 && sql.len() + 1 + row.len() > self.max_statement {
                self.carry = Some(row);
                break;
            }
            if rows == 0 {
                sql.push_str(&self.head);
            } else {
                sql.push(',');
            }
            sql.push_str(&row);
            rows += 1;
        }
        (rows > 0).then_some((sql, rows))
    }
}
