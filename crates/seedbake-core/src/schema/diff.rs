//! Naming the first difference between two schemas as the fingerprint sees
//! them ([`crate::fingerprint::canonical_schema`]): whether they differ is
//! decided by comparing those lists; this only says how, in words a
//! developer can act on ("kind has no column notiz that schema.sql
//! declares").

use std::fmt;

use fallible_iterator::FallibleIterator;
use libsql_sqlite3_parser::ast::{Cmd, ColumnDefinition, CreateTableBody, Stmt, ToTokens};
use libsql_sqlite3_parser::lexer::sql::Parser;

use super::SchemaObject;
use super::canonical::canonical_sql;

/// The first difference between `actual` and `expected` (both as
/// [`crate::fingerprint::canonical_schema`] gives them), or `None` when they
/// are equal. Tables come first, then indexes, views and triggers.
///
/// The labels place the sides in the sentence: `actual` opens it ("after
/// the migrations", "in the database"), `expected` is what declares the
/// schema ("schema.sql", "version 3").
pub fn first_difference(
    actual: &[SchemaObject],
    expected: &[SchemaObject],
    actual_label: &str,
    expected_label: &str,
) -> Option<String> {
    let (a, e) = (actual_label, expected_label);
    for kind in ["table", "index", "view", "trigger"] {
        let mut names: Vec<&str> = actual
            .iter()
            .chain(expected)
            .filter(|o| o.kind == kind)
            .map(|o| o.name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            let find = |list: &[SchemaObject]| {
                list.iter()
                    .find(|o| o.kind == kind && o.name == name)
                    .cloned()
            };
            match (find(actual), find(expected)) {
                (None, Some(_)) => {
                    return Some(format!("{a}, there is no {kind} {name} that {e} declares"));
                }
                (Some(_), None) => {
                    let article = if kind == "index" { "an" } else { "a" };
                    return Some(format!(
                        "{a}, there is {article} {kind} {name} that {e} does not declare"
                    ));
                }
                (Some(x), Some(y)) if x != y => {
                    if kind == "table"
                        && let Some(said) = table_difference(name, &x.sql, &y.sql, a, e)
                    {
                        return Some(said);
                    }
                    return Some(format!(
                        "{a}, {kind} {name} is `{}` where {e} declares `{}`",
                        x.sql, y.sql
                    ));
                }
                _ => {}
            }
        }
    }
    None
}

/// What differs between two CREATE TABLE statements, column by column;
/// `None` when the columns are the same (a constraint or option differs).
fn table_difference(table: &str, actual: &str, expected: &str, a: &str, e: &str) -> Option<String> {
    let got = columns(actual)?;
    let want = columns(expected)?;
    for (name, def) in &want {
        match got.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            None => {
                return Some(format!(
                    "{a}, {table} has no column {name} that {e} declares"
                ));
            }
            Some((_, other)) if other != def => {
                return Some(format!(
                    "{a}, {table}.{name} is `{other}` where {e} declares `{def}`"
                ));
            }
            Some(_) => {}
        }
    }
    for (name, _) in &got {
        if !want.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            return Some(format!(
                "{a}, {table} has a column {name} that {e} does not declare"
            ));
        }
    }
    let order = |cols: &[(String, String)]| {
        cols.iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if order(&got) != order(&want) {
        return Some(format!(
            "{a}, the columns of {table} are in the order ({}) where {e} has ({})",
            order(&got),
            order(&want)
        ));
    }
    None
}

/// A CREATE TABLE statement's columns: each name and its definition, both
/// in canonical spelling.
fn columns(sql: &str) -> Option<Vec<(String, String)>> {
    let mut parser = Parser::new(sql.as_bytes());
    let Ok(Some(Cmd::Stmt(Stmt::CreateTable {
        body: CreateTableBody::ColumnsAndConstraints { columns, .. },
        ..
    }))) = parser.next()
    else {
        return None;
    };
    Some(
        columns
            .iter()
            .map(|c| {
                let name = super::unquoted(&c.col_name.0);
                (name, canonical_sql(&Rendered(c).to_string()))
            })
            .collect(),
    )
}

/// A column's definition as the parser renders it.
pub(super) struct Rendered<'a>(pub(super) &'a ColumnDefinition);

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.to_fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(kind: &str, name: &str, sql: &str) -> SchemaObject {
        SchemaObject {
            kind: kind.into(),
            name: name.into(),
            table: name.into(),
            sql: canonical_sql(sql),
        }
    }

    fn differ(actual: Vec<SchemaObject>, expected: Vec<SchemaObject>) -> Option<String> {
        first_difference(&actual, &expected, "after the migrations", "schema.sql")
    }

    #[test]
    fn names_the_first_difference() {
        let kind = object(
            "table",
            "kind",
            "CREATE TABLE kind (id INTEGER NOT NULL, vorname VARCHAR, notiz TEXT, PRIMARY KEY (id))",
        );
        let without = object(
            "table",
            "kind",
            "CREATE TABLE \"kind\" (id INTEGER NOT NULL, vorname VARCHAR, PRIMARY KEY (id))",
        );
        assert_eq!(differ(vec![kind.clone()], vec![kind.clone()]), None);
        assert_eq!(
            differ(vec![without.clone()], vec![kind.clone()]).unwrap(),
            "after the migrations, kind has no column notiz that schema.sql declares"
        );
        assert_eq!(
            differ(vec![kind.clone()], vec![without.clone()]).unwrap(),
            "after the migrations, kind has a column notiz that schema.sql does not declare"
        );
        let typed = object(
            "table",
            "kind",
            "CREATE TABLE kind (id INTEGER NOT NULL, vorname VARCHAR(20), notiz TEXT, PRIMARY KEY (id))",
        );
        assert_eq!(
            differ(vec![typed], vec![kind.clone()]).unwrap(),
            "after the migrations, kind.vorname is `vorname VARCHAR (20)` where schema.sql declares `vorname VARCHAR`"
        );
        let reordered = object(
            "table",
            "kind",
            "CREATE TABLE kind (id INTEGER NOT NULL, notiz TEXT, vorname VARCHAR, PRIMARY KEY (id))",
        );
        assert!(
            differ(vec![reordered], vec![kind.clone()])
                .unwrap()
                .contains(
                    "in the order (id, notiz, vorname) where schema.sql has (id, vorname, notiz)"
                )
        );
        let index = object(
            "index",
            "ix_kind_notiz",
            "CREATE INDEX ix_kind_notiz ON kind (notiz)",
        );
        assert_eq!(
            differ(vec![kind.clone()], vec![kind.clone(), index.clone()]).unwrap(),
            "after the migrations, there is no index ix_kind_notiz that schema.sql declares"
        );
        assert_eq!(
            differ(vec![kind.clone(), index], vec![kind.clone()]).unwrap(),
            "after the migrations, there is an index ix_kind_notiz that schema.sql does not declare"
        );
        // A difference beyond the columns shows both statements.
        let unique = object(
            "table",
            "kind",
            "CREATE TABLE kind (id INTEGER NOT NULL, vorname VARCHAR, notiz TEXT, PRIMARY KEY (id), UNIQUE (vorname))",
        );
        let said = differ(vec![unique], vec![kind]).unwrap();
        assert!(
            said.starts_with("after the migrations, table kind is `CREATE TABLE"),
            "{said}"
        );
    }
}
