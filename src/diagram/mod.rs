//! The schema as an entity-relationship diagram, drawn from what the engine
//! reports (never from a hand-kept drawing, so it cannot drift): every
//! table with its columns, every foreign key as an edge, each table's row
//! count. Pure functions from a [`Model`] to text; reading a model from
//! the embedded seed or a live database is [`crate::ops::diagram_of_build`]
//! and [`crate::ops::diagram_of`]'s.

mod dbml;
mod layout;
mod mermaid;
mod svg;

use crate::schema::{Column, Table};

/// What a diagram shows.
#[derive(Debug, Clone)]
pub struct Model {
    /// What was drawn: the build's schema, or a database.
    pub title: String,
    pub tables: Vec<Entity>,
    /// A database's: the build's tables it does not have.
    pub missing_tables: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Entity {
    pub table: Table,
    pub rows: u64,
    /// A database's table compared with the build's: drawn marked.
    pub drift: Drift,
}

/// How a database's table differs from the build's, by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Drift {
    /// The build has no such table.
    pub new_table: bool,
    /// Columns the build's table does not have.
    pub new_columns: Vec<String>,
    /// The build's columns this table does not have.
    pub missing_columns: Vec<String>,
}

impl Drift {
    /// Compares a database's table with the build's (`None`: it has none).
    pub fn of(table: &Table, build: Option<&Table>) -> Drift {
        let Some(build) = build else {
            return Drift {
                new_table: true,
                ..Drift::default()
            };
        };
        let lacks =
            |t: &Table, name: &str| !t.columns.iter().any(|c| c.name.eq_ignore_ascii_case(name));
        Drift {
            new_table: false,
            new_columns: table
                .columns
                .iter()
                .filter(|c| lacks(build, &c.name))
                .map(|c| c.name.clone())
                .collect(),
            missing_columns: build
                .columns
                .iter()
                .filter(|c| lacks(table, &c.name))
                .map(|c| c.name.clone())
                .collect(),
        }
    }

    pub fn is_new(&self, column: &str) -> bool {
        self.new_table || self.new_columns.iter().any(|c| c == column)
    }
}

/// What differs from the build, one sentence each (none for the build's
/// own diagram): every renderer lists them.
pub(crate) fn drift_lines(model: &Model) -> Vec<String> {
    let mut out = Vec::new();
    for e in &model.tables {
        let name = &e.table.name;
        if e.drift.new_table {
            out.push(format!("table {name} is not in the build"));
        }
        for c in &e.drift.new_columns {
            out.push(format!("column {name}.{c} is not in the build"));
        }
        for c in &e.drift.missing_columns {
            out.push(format!("the build's column {name}.{c} is missing here"));
        }
    }
    for t in &model.missing_tables {
        out.push(format!("the build's table {t} is missing here"));
    }
    out
}

/// What marks a drawn table or column the build does not have.
pub(crate) const NOT_IN_BUILD: &str = "not in the build";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Mermaid `erDiagram` (rendered by GitHub and other Markdown viewers).
    Mermaid,
    /// DBML (imports into dbdiagram.io).
    Dbml,
    /// A standalone SVG image drawn by seedbake.
    Svg,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Mermaid => "mermaid",
            Format::Dbml => "dbml",
            Format::Svg => "svg",
        }
    }
}

pub fn render(model: &Model, format: Format) -> String {
    match format {
        Format::Mermaid => mermaid::render(model),
        Format::Dbml => dbml::render(model),
        Format::Svg => svg::render(model),
    }
}

/// One foreign-key constraint (all its columns), between two tables of
/// the model.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Relation {
    /// Indexes into [`Model::tables`].
    pub child: usize,
    pub parent: usize,
    pub columns: Vec<String>,
    pub parent_columns: Vec<String>,
    /// Every child row has a parent (the key's columns are NOT NULL).
    pub required: bool,
    /// At most one child row per parent (the key's columns are the child's
    /// primary key, or unique).
    pub one: bool,
    /// The key is part of the child's primary key.
    pub identifying: bool,
}

/// The model's foreign keys, one per constraint, in table order. A key
/// naming a table the model does not have (SQLite allows it) has no edge
/// to draw and is left out.
pub(crate) fn relations(model: &Model) -> Vec<Relation> {
    let mut out = Vec::new();
    for (child, entity) in model.tables.iter().enumerate() {
        let table = &entity.table;
        let mut ids: Vec<i64> = table.foreign_keys.iter().map(|k| k.id).collect();
        // SQLite numbers a table's keys last declared first.
        ids.sort_unstable_by(|a, b| b.cmp(a));
        ids.dedup();
        for id in ids {
            let keys: Vec<_> = table.foreign_keys.iter().filter(|k| k.id == id).collect();
            let Some(parent) = model
                .tables
                .iter()
                .position(|t| t.table.name.eq_ignore_ascii_case(&keys[0].parent_table))
            else {
                continue;
            };
            let parent_table = &model.tables[parent].table;
            let columns: Vec<String> = keys.iter().map(|k| k.column.clone()).collect();
            // `REFERENCES p` without columns names p's primary key.
            let parent_columns = if keys.iter().all(|k| k.parent_column == "rowid")
                && parent_table.column("rowid").is_none()
            {
                primary_key(parent_table)
                    .iter()
                    .map(|c| c.name.clone())
                    .collect()
            } else {
                keys.iter().map(|k| k.parent_column.clone()).collect()
            };
            let of_child = |name: &String| table.column(name);
            let pk: Vec<String> = primary_key(table).iter().map(|c| c.name.clone()).collect();
            let same_set =
                |a: &[String], b: &[String]| a.len() == b.len() && a.iter().all(|x| b.contains(x));
            out.push(Relation {
                child,
                parent,
                required: columns
                    .iter()
                    .all(|c| of_child(c).is_some_and(|c| c.not_null || c.pk > 0)),
                one: same_set(&columns, &pk)
                    || table.unique.iter().any(|(_, u)| same_set(&columns, u)),
                identifying: columns.iter().all(|c| pk.contains(c)),
                columns,
                parent_columns,
            });
        }
    }
    out
}

/// The primary key's columns, in key order.
pub(crate) fn primary_key(table: &Table) -> Vec<&Column> {
    let mut pk: Vec<&Column> = table.columns.iter().filter(|c| c.pk > 0).collect();
    pk.sort_by_key(|c| c.pk);
    pk
}

/// Whether a column is (part of) a foreign key.
pub(crate) fn is_foreign(table: &Table, column: &str) -> bool {
    table.foreign_keys.iter().any(|k| k.column == column)
}

/// A column's NOT NULL as the engine enforces it: SQLite's primary key
/// columns other than an INTEGER rowid alias may hold NULL unless declared
/// NOT NULL, so only the declaration (or the alias) counts.
pub(crate) fn not_null(table: &Table, column: &Column) -> bool {
    column.not_null
        || table
            .rowid_alias()
            .is_some_and(|alias| alias.name == column.name)
}

/// "1 row", "12 rows".
pub(crate) fn rows_label(rows: u64) -> String {
    if rows == 1 {
        "1 row".into()
    } else {
        format!("{rows} rows")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::schema::ForeignKey;

    pub fn column(name: &str, ty: &str, pk: i64, not_null: bool) -> Column {
        Column {
            name: name.into(),
            declared_type: ty.into(),
            not_null,
            has_default: false,
            default_sql: None,
            pk,
        }
    }

    pub fn fk(id: i64, column: &str, parent: &str, parent_column: &str) -> ForeignKey {
        ForeignKey {
            id,
            column: column.into(),
            parent_table: parent.into(),
            parent_column: parent_column.into(),
        }
    }

    pub fn table(name: &str, columns: Vec<Column>, keys: Vec<ForeignKey>) -> Table {
        Table {
            name: name.into(),
            columns,
            foreign_keys: keys,
            unique: Vec::new(),
        }
    }

    /// A self-reference, a composite primary key referenced by a
    /// composite foreign key, names that need quoting, a type with a comma.
    pub fn small() -> Model {
        let person = table(
            "person",
            vec![
                column("id", "INTEGER", 1, false),
                column("name", "VARCHAR(20)", 0, true),
                column("mentor_id", "INTEGER", 0, false),
            ],
            vec![fk(0, "mentor_id", "person", "id")],
        );
        let course = table(
            "course run",
            vec![
                column("code", "TEXT", 1, true),
                column("year", "INTEGER", 2, true),
                column("fee", "DECIMAL(10, 2)", 0, false),
            ],
            vec![],
        );
        let enrolment = table(
            "enrolment",
            vec![
                column("person_id", "INTEGER", 1, true),
                column("course code", "TEXT", 2, true),
                column("course_year", "INTEGER", 3, true),
                column("note", "", 0, false),
            ],
            vec![
                fk(0, "course code", "course run", "code"),
                fk(0, "course_year", "course run", "year"),
                fk(1, "person_id", "person", "rowid"),
            ],
        );
        Model {
            title: "test <schema> & \"co\"".into(),
            tables: vec![
                Entity {
                    table: person,
                    rows: 3,
                    drift: Drift::default(),
                },
                Entity {
                    table: course,
                    rows: 1,
                    drift: Drift::default(),
                },
                Entity {
                    table: enrolment,
                    rows: 0,
                    drift: Drift::default(),
                },
            ],
            missing_tables: Vec::new(),
        }
    }

    #[test]
    fn relations_are_one_per_constraint_with_the_parent_key_resolved() {
        let r = relations(&small());
        assert_eq!(r.len(), 3, "{r:?}");
        assert_eq!((r[0].child, r[0].parent), (0, 0));
        assert_eq!(
            (r[1].child, r[1].parent),
            (2, 0),
            "declared first, numbered last"
        );
        assert!(!r[0].required && !r[0].identifying);
        let composite = r.iter().find(|r| r.parent == 1).unwrap();
        assert_eq!(composite.columns, ["course code", "course_year"]);
        assert_eq!(composite.parent_columns, ["code", "year"]);
        assert!(composite.required && composite.identifying && !composite.one);
        let implicit = r.iter().find(|r| r.child == 2 && r.parent == 0).unwrap();
        assert_eq!(implicit.parent_columns, ["id"]);
    }

    /// [`small`] as a database that drifted from a build: a table and a
    /// column added, a column and a table gone.
    pub fn drifted() -> Model {
        let mut m = small();
        let build = m.tables[0].table.clone();
        m.tables[0].table.columns.remove(1);
        m.tables[0]
            .table
            .columns
            .push(column("nickname", "TEXT", 0, false));
        m.tables[0].drift = Drift::of(&m.tables[0].table, Some(&build));
        m.tables[1].drift = Drift::of(&m.tables[1].table, None);
        m.missing_tables = vec!["room".into()];
        m
    }

    #[test]
    fn drift_names_what_is_added_and_what_is_missing() {
        assert_eq!(
            drift_lines(&drifted()),
            [
                "column person.nickname is not in the build",
                "the build's column person.name is missing here",
                "table course run is not in the build",
                "the build's table room is missing here",
            ]
        );
        assert!(drift_lines(&small()).is_empty());
    }

    #[test]
    fn a_key_to_a_missing_table_draws_no_edge() {
        let mut m = small();
        m.tables[0].table.foreign_keys[0].parent_table = "gone".into();
        assert!(relations(&m).iter().all(|r| r.child != 0));
    }
}
