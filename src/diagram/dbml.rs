//! DBML text, as dbdiagram.io imports it: one `Table` per table (the row
//! count as its note), `Ref`s for the foreign keys.

use super::{Model, NOT_IN_BUILD, drift_lines, not_null, primary_key, relations, rows_label};

pub fn render(model: &Model) -> String {
    let mut out = format!("// {}\n", model.title.replace(['\n', '\r'], " "));
    for line in drift_lines(model) {
        out.push_str(&format!("// differs from the build: {line}\n"));
    }
    for entity in &model.tables {
        let t = &entity.table;
        out.push_str(&format!("\nTable {} {{\n", name(&t.name)));
        let pk = primary_key(t);
        for c in &t.columns {
            let mut settings = Vec::new();
            if c.pk > 0 && pk.len() == 1 {
                settings.push("pk".to_owned());
            }
            if not_null(t, c) {
                settings.push("not null".to_owned());
            }
            if !entity.drift.new_table && entity.drift.is_new(&c.name) {
                settings.push(format!("note: {}", string(NOT_IN_BUILD)));
            }
            out.push_str(&format!(
                "  {} {}",
                name(&c.name),
                column_type(&c.declared_type)
            ));
            if !settings.is_empty() {
                out.push_str(&format!(" [{}]", settings.join(", ")));
            }
            out.push('\n');
        }
        if pk.len() > 1 {
            let cols: Vec<String> = pk.iter().map(|c| name(&c.name)).collect();
            out.push_str(&format!(
                "\n  indexes {{\n    ({}) [pk]\n  }}\n",
                cols.join(", ")
            ));
        }
        let mut note = rows_label(entity.rows);
        if entity.drift.new_table {
            note = format!("{note}; {NOT_IN_BUILD}");
        }
        out.push_str(&format!("\n  Note: {}\n}}\n", string(&note)));
    }
    let rels = relations(model);
    if !rels.is_empty() {
        out.push('\n');
    }
    for r in rels {
        let child = &model.tables[r.child].table.name;
        let parent = &model.tables[r.parent].table.name;
        out.push_str(&format!(
            "Ref: {}.{} {} {}.{}\n",
            name(child),
            columns(&r.columns),
            if r.one { "-" } else { ">" },
            name(parent),
            columns(&r.parent_columns)
        ));
    }
    out
}

/// A table or column name, double-quoted unless it is one plain word that
/// DBML does not read as a keyword.
fn name(text: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "table",
        "ref",
        "note",
        "indexes",
        "enum",
        "project",
        "tablegroup",
        "checks",
        "as",
    ];
    let plain = text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&text.to_ascii_lowercase().as_str());
    if plain { text.to_owned() } else { quoted(text) }
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// One column, or a composite key's `(a, b)`.
fn columns(cols: &[String]) -> String {
    match cols {
        [one] => name(one),
        many => format!(
            "({})",
            many.iter().map(|c| name(c)).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// A declared type: bare when it is a word with an optional `(…)` of
/// numbers (`VARCHAR(20)`, `DECIMAL(10,2)`), else double-quoted.
fn column_type(declared: &str) -> String {
    if declared.is_empty() {
        return "untyped".into();
    }
    let (word, args) = match declared.split_once('(') {
        Some((w, rest)) => (w, Some(rest)),
        None => (declared, None),
    };
    let word_ok = word.starts_with(|c: char| c.is_ascii_alphabetic())
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let args_ok = args.is_none_or(|a| {
        a.strip_suffix(')')
            .is_some_and(|inner| inner.chars().all(|c| c.is_ascii_digit() || c == ','))
    });
    if word_ok && args_ok {
        declared.to_owned()
    } else {
        quoted(declared)
    }
}

/// A single-quoted DBML string.
fn string(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagram::tests::small;

    #[test]
    fn tables_keys_notes_and_refs() {
        let expected = "\
// test <schema> & \"co\"

Table person {
  id INTEGER [pk, not null]
  name VARCHAR(20) [not null]
  mentor_id INTEGER

  Note: '3 rows'
}

Table \"course run\" {
  code TEXT [not null]
  year INTEGER [not null]
  fee \"DECIMAL(10, 2)\"

  indexes {
    (code, year) [pk]
  }

  Note: '1 row'
}

Table enrolment {
  person_id INTEGER [not null]
  \"course code\" TEXT [not null]
  course_year INTEGER [not null]
  \"note\" untyped

  indexes {
    (person_id, \"course code\", course_year) [pk]
  }

  Note: '0 rows'
}

Ref: person.mentor_id > person.id
Ref: enrolment.person_id > person.id
Ref: enrolment.(\"course code\", course_year) > \"course run\".(code, year)
";
        assert_eq!(render(&small()), expected);
    }

    #[test]
    fn a_database_that_drifted_is_marked() {
        let text = render(&crate::diagram::tests::drifted());
        assert!(text.starts_with("// test <schema> & \"co\"\n// differs from the build: column person.nickname is not in the build\n"), "{text}");
        assert!(
            text.contains("  nickname TEXT [note: 'not in the build']\n"),
            "{text}"
        );
        assert!(
            text.contains("  Note: '1 row; not in the build'\n"),
            "{text}"
        );
        assert!(
            text.contains("// differs from the build: the build's table room is missing here\n"),
            "{text}"
        );
    }

    #[test]
    fn names_and_types_are_quoted_when_dbml_needs_it() {
        assert_eq!(name("Note"), "\"Note\"");
        assert_eq!(name("a\"b"), "\"a\\\"b\"");
        assert_eq!(column_type("VARCHAR(20)"), "VARCHAR(20)");
        assert_eq!(column_type("DECIMAL(10,2)"), "DECIMAL(10,2)");
        assert_eq!(column_type("double precision"), "\"double precision\"");
        assert_eq!(string("it's"), "'it\\'s'");
    }
}
