//! UNIQUE indexes the sync cannot compare by itself (partial, over
//! expressions, under another collation than BINARY), evaluated by the
//! engine: the rows the plan would leave, and the live rows that hold
//! values now, are handed to one read-only query as a table of the index's
//! own name and columns, which computes each row's key with the index's
//! own expressions, WHERE clause and collations, and pairs the rows whose
//! keys are equal. Nothing is written, so `status` and a dry run on a
//! read-only connection ask the same.

use fallible_iterator::FallibleIterator;
use libsql_sqlite3_parser::ast::{Cmd, Stmt};
use libsql_sqlite3_parser::lexer::sql::Parser;

use super::live::UniqueIndex;
use super::planned::Planned;
use super::statements::literal;
use super::unique::{Meeting, Meetings, Shared};
use crate::database::{DbError, Kind, Target};
use crate::schema::quote_ident;
use crate::value::{Value, ValueRef};

/// The index's key expressions and its WHERE clause, as SQL text.
fn definition(index: &UniqueIndex) -> Option<(Vec<String>, Option<String>)> {
    let Some(sql) = &index.sql else {
        // A table's UNIQUE constraint: plain columns, each under the
        // collation the engine reports.
        let columns = index
            .columns
            .iter()
            .map(|(c, _)| c.as_deref().map(quote_ident))
            .collect::<Option<_>>()?;
        return Some((columns, None));
    };
    let mut parser = Parser::new(sql.as_bytes());
    match parser.next() {
        Ok(Some(Cmd::Stmt(Stmt::CreateIndex {
            columns,
            where_clause,
            ..
        }))) => Some((
            columns.iter().map(|c| c.expr.to_string()).collect(),
            where_clause.map(|w| w.to_string()),
        )),
        _ => None,
    }
}

/// An expression as people write it: the parser renders a call as
/// `lower (ort)`.
fn as_written(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        let call = c == ' '
            && chars.peek() == Some(&'(')
            && out
                .chars()
                .last()
                .is_some_and(|p: char| p.is_alphanumeric() || p == '_');
        if !call {
            out.push(c);
        }
    }
    out
}

/// Where rows meet on `index`, as the engine compares them. `None`: the
/// engine cannot evaluate it over the rows the sync knows (an expression
/// over a column the seed does not have): it is left to the engine at
/// write time, as before.
pub(super) async fn meetings(
    target: &dyn Target,
    table: &Planned,
    remaining: &[usize],
    index: &UniqueIndex,
) -> Result<Option<Meetings>, DbError> {
    let Some((keys, filter)) = definition(index) else {
        return Ok(None);
    };
    // Rows numbered: the seed's (as they will be), the live rows that stay
    // beside them, then the live rows matched to a seed row, as they are now.
    let seeds = table.seed_rows.len();
    let ends = seeds + remaining.len();
    let now: Vec<usize> = table.seed_rows.iter().filter_map(|(_, l)| *l).collect();
    let rows: Vec<&[Value]> = table
        .seed_rows
        .iter()
        .map(|(r, _)| r.as_slice())
        .chain(remaining.iter().map(|&i| table.live_rows[i].as_slice()))
        .chain(now.iter().map(|&i| table.live_rows[i].as_slice()))
        .collect();
    if rows.len() < 2 {
        return Ok(Some(empty(index, &keys)));
    }
    let n = "seedbake_row";
    let columns: Vec<String> = table.columns.iter().map(|(c, _)| quote_ident(c)).collect();
    let values: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let cells: Vec<String> = row.iter().map(literal).collect();
            format!("({i}, {})", cells.join(", "))
        })
        .collect();
    let computed: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(k, e)| format!("({e}) AS k{k}"))
        .collect();
    let equal: Vec<String> = index
        .columns
        .iter()
        .enumerate()
        .map(|(k, (_, coll))| format!("a.k{k} = b.k{k} COLLATE {}", quote_ident(coll)))
        .collect();
    let t = quote_ident(table.spec.table);
    let sql = format!(
        "WITH {t}({n}, {}) AS (VALUES {}), seedbake_keys AS (SELECT {n}, {} FROM {t}{}) \
         SELECT a.{n}, b.{n} FROM seedbake_keys AS a JOIN seedbake_keys AS b \
         ON a.{n} < b.{n} AND a.{n} < {ends} AND {}",
        columns.join(", "),
        values.join(", "),
        computed.join(", "),
        filter.map_or(String::new(), |w| format!(" WHERE {w}")),
        equal.join(" AND ")
    );
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let asked = target
        .query(&sql, &mut |r| {
            if let [ValueRef::Integer(a), ValueRef::Integer(b)] = r {
                pairs.push((*a as usize, *b as usize));
            }
            Ok(())
        })
        .await;
    match asked {
        Ok(()) => {}
        // The index names something the sync's rows do not carry.
        Err(e) if e.kind == Kind::Engine => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut m = empty(index, &keys);
    for (a, b) in pairs {
        m.meetings.push(match (a, b) {
            (a, b) if b < seeds => Meeting::Seed(a, b),
            (a, b) if a < seeds && b < ends => Meeting::Stays(a, remaining[b - seeds]),
            (a, b) if a < seeds => Meeting::Holds(a, now[b - ends]),
            // Two rows the database holds together now.
            _ => continue,
        });
    }
    Ok(Some(m))
}

fn empty(index: &UniqueIndex, keys: &[String]) -> Meetings {
    Meetings {
        index: index.name.clone(),
        meetings: Vec::new(),
        columns: None,
        shared: Shared::Keys(
            keys.iter()
                .map(|k| as_written(k))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    }
}
