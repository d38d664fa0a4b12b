//! UNIQUE indexes through the sync: two rows the plan would leave with
//! one value are refused beforehand; a value that only moves between rows
//! (a swap, a chain) is staged, the row giving it up moved aside first.
//!
//! An index over plain columns compared byte for byte is predicted here;
//! any other (partial, over expressions, another collation) is evaluated
//! by the engine itself (`evaluated`), which alone knows how it compares.

use std::collections::HashMap;

use super::Refusal;
use super::evaluated;
use super::live::{LiveTables, UniqueIndex};
use super::planned::{Planned, encoded};
use super::report::{HIDDEN, Shown};
use super::statements::literal;
use crate::database::{DbError, Target};
use crate::schema::quote_ident;
use crate::value::Value;

/// Per table, the live rows to move aside first and the columns to move.
pub(super) type Staged = Vec<Vec<(usize, Vec<usize>)>>;

/// Two rows of one table that would hold one value of a UNIQUE index.
pub(super) enum Meeting {
    /// Two of the seed's rows (by position in `seed_rows`), at the end.
    Seed(usize, usize),
    /// A seed row and a live row the seed does not have, which stays.
    Stays(usize, usize),
    /// A seed row and the live row that holds the value now, itself
    /// matched to another seed row (a swap, a chain).
    Holds(usize, usize),
}

/// Where the rows of a table meet on one index.
pub(super) struct Meetings {
    pub(super) index: String,
    pub(super) meetings: Vec<Meeting>,
    /// The columns the index is over, by position in the plan's columns
    /// (for moving a row aside); `None`: any of the row's changing ones.
    pub(super) columns: Option<Vec<usize>>,
    pub(super) shared: Shared,
}

/// Finds every clash the plan would meet: refused, or staged.
pub(super) async fn stage(
    target: &dyn Target,
    planned: &mut [Planned],
    deleted: &[Vec<usize>],
    live: &LiveTables,
) -> Result<Result<Staged, Refusal>, DbError> {
    let mut staged: Staged = Vec::new();
    let mut clashes = Vec::new();
    for (t, table) in planned.iter_mut().enumerate() {
        let remaining: Vec<usize> = table
            .extras
            .iter()
            .copied()
            .filter(|i| !deleted[t].contains(i))
            .collect();
        let mut found = Vec::new();
        for index in live.unique.iter().filter(|u| u.table == table.spec.table) {
            if index.plain() {
                found.extend(plain(table, &remaining, index));
            } else {
                found.extend(evaluated::meetings(target, table, &remaining, index).await?);
            }
        }
        match judge(table, &remaining, &found) {
            Ok(moved) => {
                table.sync.staged = moved
                    .iter()
                    .map(|(i, _)| table.key_of(&table.live_rows[*i]))
                    .collect();
                staged.push(moved);
            }
            Err(why) => {
                clashes.extend(why);
                staged.push(Vec::new());
            }
        }
    }
    if !clashes.is_empty() {
        return Ok(Err(Refusal(clashes.join("; "))));
    }
    Ok(Ok(staged))
}

/// Where rows meet on a plain index, found by comparing their values
/// (`None`: a column the sync does not compare, left to the engine).
fn plain(table: &Planned, remaining: &[usize], index: &UniqueIndex) -> Option<Meetings> {
    let columns: Vec<usize> = index
        .columns
        .iter()
        .map(|(c, _)| table.position(c.as_deref()?))
        .collect::<Option<_>>()?;
    // NULLs never clash in a UNIQUE index.
    let tuple = |row: &[Value]| -> Option<Vec<u8>> {
        let values: Vec<&Value> = columns.iter().map(|&c| &row[c]).collect();
        (!values.iter().any(|v| **v == Value::Null)).then(|| encoded(&values))
    };
    let mut meetings = Vec::new();
    let mut end: HashMap<Vec<u8>, usize> = HashMap::new();
    for (s, (row, _)) in table.seed_rows.iter().enumerate() {
        if let Some(t) = tuple(row)
            && let Some(other) = end.insert(t, s)
        {
            meetings.push(Meeting::Seed(other, s));
        }
    }
    for &i in remaining {
        if let Some(&s) = tuple(&table.live_rows[i]).and_then(|t| end.get(&t)) {
            meetings.push(Meeting::Stays(s, i));
        }
    }
    let now: HashMap<Vec<u8>, usize> = table
        .seed_rows
        .iter()
        .filter_map(|(_, live)| *live)
        .filter_map(|i| Some((tuple(&table.live_rows[i])?, i)))
        .collect();
    for (s, (row, _)) in table.seed_rows.iter().enumerate() {
        if let Some(&holder) = tuple(row).and_then(|t| now.get(&t)) {
            meetings.push(Meeting::Holds(s, holder));
        }
    }
    Some(Meetings {
        index: index.name.clone(),
        meetings,
        columns: Some(columns.clone()),
        shared: Shared::Columns(columns),
    })
}

/// What the rows of a meeting share, as said of a row.
pub(super) enum Shared {
    /// The index's columns (positions in the plan's): `name = "Nord"`.
    Columns(Vec<usize>),
    /// The index's keys as the engine computes them: `the same lower(ort)`.
    Keys(String),
}

impl Shared {
    fn said(&self, table: &Planned, row: &[Value]) -> String {
        match self {
            Shared::Keys(keys) => format!("the same {keys}"),
            Shared::Columns(columns) => columns
                .iter()
                .map(|&c| {
                    let value = match table.shown(c, &row[c]) {
                        Shown::Value(v) => v.to_string(),
                        Shown::Hidden | Shown::Absent => HIDDEN.to_owned(),
                    };
                    format!("{} = {value}", table.columns[c].0)
                })
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// The refusals (an end state with two rows on one value) or else the
/// live rows to move aside first, each with the columns to move.
fn judge(
    table: &Planned,
    remaining: &[usize],
    found: &[Meetings],
) -> Result<Vec<(usize, Vec<usize>)>, Vec<String>> {
    let name = table.spec.table;
    let mut refused = Vec::new();
    let mut moved: Vec<(usize, Vec<usize>)> = Vec::new();
    for m in found {
        let index = &m.index;
        for meeting in &m.meetings {
            match *meeting {
                Meeting::Seed(a, b) => refused.push(format!(
                    "the seed's {name} rows {} and {} both have {} (UNIQUE index {index})",
                    table.key_of(&table.seed_rows[a].0),
                    table.key_of(&table.seed_rows[b].0),
                    m.shared.said(table, &table.seed_rows[b].0)
                )),
                Meeting::Stays(s, i) if remaining.contains(&i) => {
                    let other = &table.seed_rows[s].0;
                    let key = table.key_of(&table.live_rows[i]);
                    let why = table
                        .sync
                        .kept
                        .iter()
                        .find(|k| k.key == key)
                        .map_or(String::new(), |k| format!(" ({})", k.reason));
                    refused.push(format!(
                        "the seed's {name} row {} would have {}, which the row {key} has, and it stays{why}: \
                         the UNIQUE index {index} allows one such row. If {} is {key} renamed, change the key of \
                         {key} in the database first (the rows that refer to it then follow); otherwise change or \
                         remove {key}",
                        table.key_of(other),
                        m.shared.said(table, other),
                        table.key_of(other),
                    ));
                }
                Meeting::Stays(..) => {}
                Meeting::Holds(s, holder) => {
                    if table.seed_rows[s].1 == Some(holder) {
                        continue;
                    }
                    // The holder is updated too (else the end state would
                    // clash, refused above), so it gives the value up: it
                    // moves aside first.
                    let Some((end_row, _)) =
                        table.seed_rows.iter().find(|(_, l)| *l == Some(holder))
                    else {
                        continue;
                    };
                    let before = &table.live_rows[holder];
                    let changing: Vec<usize> = table
                        .differing(end_row, before)
                        .into_iter()
                        .filter(|c| m.columns.as_ref().is_none_or(|cs| cs.contains(c)))
                        .collect();
                    if changing.is_empty() {
                        continue;
                    }
                    match moved.iter_mut().find(|(i, _)| *i == holder) {
                        Some((_, cs)) => {
                            for c in changing {
                                if !cs.contains(&c) {
                                    cs.push(c);
                                }
                            }
                        }
                        None => moved.push((holder, changing)),
                    }
                }
            }
        }
    }
    if refused.is_empty() {
        Ok(moved)
    } else {
        Err(refused)
    }
}

/// A value for column `c` that no row has, of the type it holds now, for
/// a row moved aside: the update after it sets the row's own value.
pub(super) fn temporary(table: &Planned, c: usize, now: &Value, n: usize) -> String {
    let column = quote_ident(&table.columns[c].0);
    match now {
        Value::Integer(_) | Value::Real(_) => format!(
            "(SELECT coalesce(min({column}), 0) - 1 FROM {})",
            quote_ident(table.spec.table)
        ),
        Value::Blob(_) => "randomblob(16)".into(),
        _ => literal(&Value::Text(format!(
            "(seedbake: moved aside {n}, set again in this transaction)"
        ))),
    }
}
