//! A draft migration from one schema to another (`seedbake migration new`):
//! what can be derived safely. New tables, indexes, views and triggers are
//! created; columns appended to a table are added with `ALTER TABLE … ADD
//! COLUMN`; any other change to a table becomes SQLite's table rebuild
//! (create under another name, copy the rows with their ids, drop, rename,
//! create its indexes again). Nothing that would lose data is written as
//! SQL: a dropped table, or a rebuild that leaves columns behind, is written
//! commented out, with a note.

use fallible_iterator::FallibleIterator;
use libsql_sqlite3_parser::ast::{Cmd, ColumnConstraint, CreateTableBody, Name, Stmt};
use libsql_sqlite3_parser::lexer::sql::Parser;

use super::canonical::canonical_sql;
use super::{SchemaObject, quote_ident, unquoted};

/// A draft and what the developer must look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// The statements, each ending with `;` and a line break; commented out
    /// where they would lose data.
    pub sql: String,
    /// One line per thing to check by hand.
    pub notes: Vec<String>,
}

/// The statements that turn schema `from` into schema `to`, both as
/// `sqlite_schema` holds them (application objects only, in creation
/// order; their SQL as written, which the draft reuses).
pub fn draft_migration(from: &[SchemaObject], to: &[SchemaObject]) -> Draft {
    let mut sql = String::new();
    let mut notes = Vec::new();
    let find = |list: &'_ [SchemaObject], kind: &str, name: &str| -> Option<SchemaObject> {
        list.iter()
            .find(|o| o.kind == kind && o.name.eq_ignore_ascii_case(name))
            .cloned()
    };
    let same = |a: &SchemaObject, b: &SchemaObject| canonical_sql(&a.sql) == canonical_sql(&b.sql);
    let mut rebuilt: Vec<String> = Vec::new();

    for table in to.iter().filter(|o| o.kind == "table") {
        match find(from, "table", &table.name) {
            None => {
                statement(&mut sql, &table.sql);
            }
            Some(old) if same(&old, table) => {}
            Some(old) => match added_columns(&old.sql, &table.sql) {
                Some(added) => {
                    for column in added {
                        statement(
                            &mut sql,
                            &format!(
                                "ALTER TABLE {} ADD COLUMN {}",
                                quote_ident(&table.name),
                                column.definition
                            ),
                        );
                        if column.not_null_without_default {
                            notes.push(format!(
                                "{}.{} is NOT NULL without a DEFAULT, which ALTER TABLE … ADD COLUMN cannot add: \
                                 give it a DEFAULT (in schema.sql too)",
                                table.name, column.name
                            ));
                        }
                    }
                }
                None => {
                    rebuild(&mut sql, &mut notes, &old, table, to);
                    rebuilt.push(table.name.to_ascii_lowercase());
                }
            },
        }
    }
    for table in from.iter().filter(|o| o.kind == "table") {
        if find(to, "table", &table.name).is_none() {
            notes.push(format!(
                "schema.sql no longer declares table {}: the draft does not drop it (its rows would go); \
                 uncomment the DROP TABLE if they may",
                table.name
            ));
            commented(
                &mut sql,
                &format!("DROP TABLE {}", quote_ident(&table.name)),
            );
        }
    }

    let on_rebuilt = |o: &SchemaObject| rebuilt.contains(&o.table.to_ascii_lowercase());
    for kind in ["index", "view", "trigger"] {
        let keyword = kind.to_ascii_uppercase();
        for old in from.iter().filter(|o| o.kind == kind && !on_rebuilt(o)) {
            let gone_with_table = old.kind != "view"
                && find(to, "table", &old.table).is_none()
                && find(from, "table", &old.table).is_some();
            match find(to, kind, &old.name) {
                Some(new) if same(old, &new) => {}
                _ if gone_with_table => {}
                _ => statement(
                    &mut sql,
                    &format!("DROP {keyword} {}", quote_ident(&old.name)),
                ),
            }
        }
        for new in to.iter().filter(|o| o.kind == kind && !o.sql.is_empty()) {
            let created_by_rebuild = on_rebuilt(new) && kind != "view";
            match find(from, kind, &new.name) {
                _ if created_by_rebuild => {}
                Some(old) if same(&old, new) => {}
                _ => statement(&mut sql, &new.sql),
            }
        }
    }
    Draft { sql, notes }
}

fn statement(out: &mut String, sql: &str) {
    out.push_str(sql.trim().trim_end_matches(';'));
    out.push_str(";\n");
}

fn commented(out: &mut String, sql: &str) {
    for line in sql.trim().trim_end_matches(';').lines() {
        out.push_str("-- ");
        out.push_str(line);
        out.push('\n');
    }
    out.pop();
    out.push_str(";\n");
}

struct Added {
    name: String,
    definition: String,
    not_null_without_default: bool,
}

fn create_table(sql: &str) -> Option<Stmt> {
    match Parser::new(sql.as_bytes()).next() {
        Ok(Some(Cmd::Stmt(stmt @ Stmt::CreateTable { .. }))) => Some(stmt),
        _ => None,
    }
}

/// The columns `new` adds at the end of `old`, when that is its only
/// difference (as `ALTER TABLE … ADD COLUMN` would make it).
fn added_columns(old: &str, new: &str) -> Option<Vec<Added>> {
    let Stmt::CreateTable {
        body:
            CreateTableBody::ColumnsAndConstraints {
                columns: old_columns,
                ..
            },
        ..
    } = create_table(old)?
    else {
        return None;
    };
    let new_stmt = create_table(new)?;
    let Stmt::CreateTable {
        body:
            CreateTableBody::ColumnsAndConstraints {
                columns: new_columns,
                ..
            },
        ..
    } = &new_stmt
    else {
        return None;
    };
    if new_columns.len() <= old_columns.len() {
        return None;
    }
    // The old table with the new columns appended must be the new table.
    let mut grown = create_table(old)?;
    let Stmt::CreateTable {
        body: CreateTableBody::ColumnsAndConstraints { columns, .. },
        ..
    } = &mut grown
    else {
        return None;
    };
    let extra = &new_columns[old_columns.len()..];
    columns.extend(extra.iter().cloned());
    let (Stmt::CreateTable { body: a, .. }, Stmt::CreateTable { body: b, .. }) =
        (&grown, &new_stmt)
    else {
        return None;
    };
    if a != b {
        return None;
    }
    Some(
        extra
            .iter()
            .map(|c| {
                let definition = super::diff::Rendered(c).to_string();
                let not_null = c.constraints.iter().any(|k| {
                    matches!(
                        k.constraint,
                        ColumnConstraint::NotNull {
                            nullable: false,
                            ..
                        }
                    )
                });
                let default = c
                    .constraints
                    .iter()
                    .any(|k| matches!(k.constraint, ColumnConstraint::Default(_)));
                Added {
                    name: unquoted(&c.col_name.0),
                    definition,
                    not_null_without_default: not_null && !default,
                }
            })
            .collect(),
    )
}

/// SQLite's table rebuild: the new table under another name, the rows
/// copied (the columns both have), the old one dropped, the new one renamed
/// into place, its indexes and triggers created again.
fn rebuild(
    sql: &mut String,
    notes: &mut Vec<String>,
    old: &SchemaObject,
    new: &SchemaObject,
    to: &[SchemaObject],
) {
    let name = &new.name;
    let temporary = format!("{name}_new");
    let (Some(mut stmt), Some(old_stmt)) = (create_table(&new.sql), create_table(&old.sql)) else {
        notes.push(format!(
            "table {name} changed in a way the draft cannot parse: write its migration by hand"
        ));
        return;
    };
    let column_names = |s: &Stmt| match s {
        Stmt::CreateTable {
            body: CreateTableBody::ColumnsAndConstraints { columns, .. },
            ..
        } => columns
            .iter()
            .map(|c| unquoted(&c.col_name.0))
            .collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    let old_names = column_names(&old_stmt);
    let new_names = column_names(&stmt);
    let kept: Vec<&String> = new_names
        .iter()
        .filter(|n| old_names.iter().any(|o| o.eq_ignore_ascii_case(n)))
        .collect();
    let lost: Vec<&String> = old_names
        .iter()
        .filter(|o| !new_names.iter().any(|n| n.eq_ignore_ascii_case(o)))
        .collect();
    if let Stmt::CreateTable { tbl_name, .. } = &mut stmt {
        // The name as SQL: a table's name may need quotes, and the parser
        // renders a name token exactly as it holds it.
        tbl_name.name = Name(quote_ident(&temporary));
    }
    let mut steps = String::new();
    statement(
        &mut steps,
        &format!(
            "-- {name} is rebuilt: ALTER TABLE cannot make this change in place\n{}",
            Cmd::Stmt(stmt)
        ),
    );
    let columns: Vec<String> = kept.iter().map(|c| quote_ident(c)).collect();
    statement(
        &mut steps,
        &format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {}",
            quote_ident(&temporary),
            quote_ident(name),
            cols = columns.join(", ")
        ),
    );
    statement(&mut steps, &format!("DROP TABLE {}", quote_ident(name)));
    statement(
        &mut steps,
        &format!(
            "ALTER TABLE {} RENAME TO {}",
            quote_ident(&temporary),
            quote_ident(name)
        ),
    );
    for o in to.iter().filter(|o| {
        matches!(o.kind.as_str(), "index" | "trigger")
            && o.table.eq_ignore_ascii_case(name)
            && !o.sql.is_empty()
    }) {
        statement(&mut steps, &o.sql);
    }
    if lost.is_empty() {
        sql.push_str(&steps);
    } else {
        let lost: Vec<&str> = lost.iter().map(|s| s.as_str()).collect();
        notes.push(format!(
            "rebuilding {name} leaves out the column{} {} and with {} its data: the rebuild is commented out; \
             move the data first if it must stay, then uncomment it",
            if lost.len() == 1 { "" } else { "s" },
            lost.join(", "),
            if lost.len() == 1 { "it" } else { "them" }
        ));
        for line in steps.lines() {
            sql.push_str("-- ");
            sql.push_str(line);
            sql.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(sql: &str) -> Vec<SchemaObject> {
        let mut out = Vec::new();
        let mut parser = Parser::new(sql.as_bytes());
        while let Ok(Some(Cmd::Stmt(stmt))) = parser.next() {
            let (kind, name, table) = match &stmt {
                Stmt::CreateTable { tbl_name, .. } => {
                    ("table", tbl_name.name.0.clone(), tbl_name.name.0.clone())
                }
                Stmt::CreateIndex {
                    idx_name, tbl_name, ..
                } => ("index", idx_name.name.0.clone(), tbl_name.0.clone()),
                _ => continue,
            };
            out.push(SchemaObject {
                kind: kind.into(),
                name,
                table,
                sql: Cmd::Stmt(stmt).to_string(),
            });
        }
        out
    }

    const V1: &str =
        "CREATE TABLE kind (id INTEGER NOT NULL, vorname VARCHAR NOT NULL, PRIMARY KEY (id));
        CREATE INDEX ix_kind_id ON kind (id);
        CREATE TABLE alt (id INTEGER PRIMARY KEY);";

    #[test]
    fn appended_columns_are_added_and_new_objects_created() {
        let v2 = "CREATE TABLE kind (id INTEGER NOT NULL, vorname VARCHAR NOT NULL, notiz VARCHAR, PRIMARY KEY (id));
            CREATE INDEX ix_kind_id ON kind (id);
            CREATE INDEX ix_kind_vorname ON kind (vorname);
            CREATE TABLE alt (id INTEGER PRIMARY KEY);
            CREATE TABLE neu (id INTEGER PRIMARY KEY, name TEXT);";
        let d = draft_migration(&objects(V1), &objects(v2));
        assert_eq!(
            d.sql,
            "ALTER TABLE \"kind\" ADD COLUMN notiz VARCHAR;\n\
             CREATE TABLE neu (id INTEGER PRIMARY KEY, name TEXT);\n\
             CREATE INDEX ix_kind_vorname ON kind (vorname);\n"
        );
        assert!(d.notes.is_empty());
    }

    /// A column whose definition ends in a parenthesis keeps it.
    #[test]
    fn an_added_column_keeps_its_closing_parentheses() {
        let v2 = "CREATE TABLE kind (id INTEGER NOT NULL, vorname VARCHAR NOT NULL, \
            notiz VARCHAR(20), stufe INTEGER DEFAULT (1), PRIMARY KEY (id));
            CREATE INDEX ix_kind_id ON kind (id);
            CREATE TABLE alt (id INTEGER PRIMARY KEY);";
        let d = draft_migration(&objects(V1), &objects(v2));
        assert_eq!(
            d.sql,
            "ALTER TABLE \"kind\" ADD COLUMN notiz VARCHAR (20);\n\
             ALTER TABLE \"kind\" ADD COLUMN stufe INTEGER DEFAULT (1);\n"
        );
    }

    #[test]
    fn other_changes_rebuild_the_table_and_nothing_is_dropped_silently() {
        let v2 = "CREATE TABLE kind (id INTEGER NOT NULL, vorname VARCHAR(40) NOT NULL, PRIMARY KEY (id));
            CREATE INDEX ix_kind_id ON kind (id);";
        let d = draft_migration(&objects(V1), &objects(v2));
        assert!(d.sql.contains("CREATE TABLE \"kind_new\" (id INTEGER NOT NULL, vorname VARCHAR (40) NOT NULL, PRIMARY KEY (id));"), "{}", d.sql);
        assert!(d.sql.contains("INSERT INTO \"kind_new\" (\"id\", \"vorname\") SELECT \"id\", \"vorname\" FROM \"kind\";"), "{}", d.sql);
        assert!(d.sql.contains("DROP TABLE \"kind\";\nALTER TABLE \"kind_new\" RENAME TO \"kind\";\nCREATE INDEX ix_kind_id ON kind (id);"), "{}", d.sql);
        // The table schema.sql dropped is not dropped by the draft.
        assert!(d.sql.contains("-- DROP TABLE \"alt\";"), "{}", d.sql);
        assert!(
            d.notes[0].contains("schema.sql no longer declares table alt"),
            "{:?}",
            d.notes
        );

        // A rebuild that loses a column is written commented out.
        let v3 = "CREATE TABLE kind (id INTEGER NOT NULL, PRIMARY KEY (id)); CREATE TABLE alt (id INTEGER PRIMARY KEY);";
        let d = draft_migration(&objects(V1), &objects(v3));
        assert!(
            d.notes
                .iter()
                .any(|n| n.contains("leaves out the column vorname")),
            "{:?}",
            d.notes
        );
        assert!(
            d.sql
                .lines()
                .all(|l| l.starts_with("--") || l.starts_with("DROP INDEX")),
            "{}",
            d.sql
        );
    }

    /// Each draft, run on the old schema, makes the new one and keeps the
    /// rows, whatever quotes the names need.
    #[tokio::test]
    async fn a_draft_runs_and_makes_the_new_schema_whatever_its_names() {
        let old = r#"CREATE TABLE "my kind" (id INTEGER PRIMARY KEY, "first name" TEXT NOT NULL, [a"b] TEXT);
            CREATE INDEX "ix my kind" ON "my kind" ("first name");"#;
        let appended = r#"CREATE TABLE "my kind" (id INTEGER PRIMARY KEY, "first name" TEXT NOT NULL, [a"b] TEXT, "last name" VARCHAR(20));
            CREATE INDEX "ix my kind" ON "my kind" ("first name");"#;
        let retyped = r#"CREATE TABLE "my kind" (id INTEGER PRIMARY KEY, "first name" VARCHAR(40) NOT NULL, [a"b] TEXT);
            CREATE INDEX "ix my kind" ON "my kind" ("first name");"#;
        async fn engine(sql: &str) -> libsql::Connection {
            let db = libsql::Builder::new_local(":memory:")
                .build()
                .await
                .unwrap();
            let conn = db.connect().unwrap();
            conn.execute_batch(sql).await.unwrap();
            conn
        }
        async fn shape(conn: &libsql::Connection) -> Vec<(String, String)> {
            let mut out: Vec<(String, String)> = super::super::objects(conn)
                .await
                .unwrap()
                .into_iter()
                .filter(|o| !o.sql.is_empty())
                .map(|o| (o.kind, canonical_sql(&o.sql)))
                .collect();
            out.sort();
            out
        }
        for new in [appended, retyped] {
            let conn = engine(old).await;
            conn.execute(r#"INSERT INTO "my kind" VALUES (7, 'Ada', 'x')"#, ())
                .await
                .unwrap();
            let target = engine(new).await;
            let d = draft_migration(
                &super::super::objects(&conn).await.unwrap(),
                &super::super::objects(&target).await.unwrap(),
            );
            assert!(d.notes.is_empty(), "{:?}", d.notes);
            conn.execute_batch(&d.sql)
                .await
                .unwrap_or_else(|e| panic!("{e}\n{}", d.sql));
            assert_eq!(shape(&conn).await, shape(&target).await, "{}", d.sql);
            let mut rows = conn
                .query(r#"SELECT id, "first name", [a"b] FROM "my kind""#, ())
                .await
                .unwrap();
            let row = rows.next().await.unwrap().unwrap();
            assert_eq!(row.get::<i64>(0).unwrap(), 7);
            assert_eq!(row.get::<String>(1).unwrap(), "Ada");
            assert_eq!(row.get::<String>(2).unwrap(), "x");
        }
    }
}
