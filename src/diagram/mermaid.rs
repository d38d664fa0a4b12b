//! Mermaid `erDiagram` text.
//!
//! Mermaid's attribute words are narrower than SQL's names and types: a
//! letter first, then letters, digits, `_`, `-`, `(`, `)`, `[`, `]` (every
//! grammar version since 9 accepts these), and a word reading `PK`, `FK`
//! or `UK` (any case) is taken for a key. Anything else is mapped to `_`,
//! and the exact name or type is then kept in the attribute's comment.

use std::collections::BTreeSet;

use super::{
    Model, NOT_IN_BUILD, Relation, drift_lines, is_foreign, not_null, relations, rows_label,
};

pub fn render(model: &Model) -> String {
    let mut out = format!("---\ntitle: {}\n---\nerDiagram\n", title(&model.title));
    for line in drift_lines(model) {
        out.push_str(&format!("    %% differs from the build: {line}\n"));
    }
    let ids = entity_ids(model);
    for (entity, id) in model.tables.iter().zip(&ids) {
        let t = &entity.table;
        let new = if entity.drift.new_table {
            format!(", {NOT_IN_BUILD}")
        } else {
            String::new()
        };
        out.push_str(&format!(
            "    {id}[\"{}: {}{new}\"] {{\n",
            comment(&t.name),
            rows_label(entity.rows)
        ));
        for c in &t.columns {
            let declared = if c.declared_type.is_empty() {
                "untyped"
            } else {
                &c.declared_type
            };
            let ty = word(declared);
            let name = word(&c.name);
            let mut keys = Vec::new();
            if c.pk > 0 {
                keys.push("PK");
            }
            if is_foreign(t, &c.name) {
                keys.push("FK");
            }
            let mut notes = Vec::new();
            if not_null(t, c) {
                notes.push("NOT NULL".to_owned());
            }
            if name != c.name {
                notes.push(format!("name: {}", c.name));
            }
            if ty != declared {
                notes.push(format!("type: {declared}"));
            }
            if !entity.drift.new_table && entity.drift.is_new(&c.name) {
                notes.push(NOT_IN_BUILD.to_owned());
            }
            out.push_str(&format!("        {ty} {name}"));
            if !keys.is_empty() {
                out.push_str(&format!(" {}", keys.join(", ")));
            }
            if !notes.is_empty() {
                out.push_str(&format!(" \"{}\"", comment(&notes.join("; "))));
            }
            out.push('\n');
        }
        out.push_str("    }\n");
    }
    for r in relations(model) {
        out.push_str(&format!(
            "    {} {} {} : \"{}\"\n",
            ids[r.parent],
            cardinality(&r),
            ids[r.child],
            comment(&r.columns.join(", "))
        ));
    }
    out
}

/// Parent end, line, child end: a required key has exactly one parent, an
/// optional one zero or one; a key that is part of the child's primary
/// key identifies it (solid line), any other does not (dashed).
fn cardinality(r: &Relation) -> String {
    let parent = if r.required { "||" } else { "|o" };
    let line = if r.identifying { "--" } else { ".." };
    let child = if r.one { "o|" } else { "o{" };
    format!("{parent}{line}{child}")
}

/// Each table's entity id: its name when Mermaid reads it as one plain
/// word, else a made-up one (the label shows the real name either way).
fn entity_ids(model: &Model) -> Vec<String> {
    const KEYWORDS: &[&str] = &[
        "erdiagram",
        "style",
        "classdef",
        "class",
        "direction",
        "title",
        "acctitle",
        "accdescr",
        "end",
    ];
    let mut taken = BTreeSet::new();
    model
        .tables
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let name = &e.table.name;
            let plain = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !KEYWORDS.contains(&name.to_ascii_lowercase().as_str());
            let mut id = if plain {
                name.clone()
            } else {
                format!("table_{}", i + 1)
            };
            while !taken.insert(id.to_ascii_lowercase()) {
                id.push('_');
            }
            id
        })
        .collect()
}

/// A name or type as one attribute word.
fn word(text: &str) -> String {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_-()[]".contains(c);
    let mut w: String = text
        .chars()
        .map(|c| if allowed(c) { c } else { '_' })
        .collect();
    if !w.starts_with(|c: char| c.is_ascii_alphabetic()) {
        w.insert(0, 'x');
    }
    let lower = w.to_ascii_lowercase();
    if ["pk", "fk", "uk"].iter().any(|k| lower.starts_with(k))
        && !w[2..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    {
        w.insert(2, '_');
    }
    w
}

/// Text inside Mermaid's double quotes, which cannot hold one.
fn comment(text: &str) -> String {
    text.replace('"', "'")
        .replace(['\n', '\r'], " ")
        .replace('\\', "/")
}

/// The front matter's title: YAML, so quoted.
fn title(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagram::tests::small;

    #[test]
    fn entities_attributes_and_relationships() {
        let text = render(&small());
        let expected = "\
---
title: \"test <schema> & \\\"co\\\"\"
---
erDiagram
    person[\"person: 3 rows\"] {
        INTEGER id PK \"NOT NULL\"
        VARCHAR(20) name \"NOT NULL\"
        INTEGER mentor_id FK
    }
    table_2[\"course run: 1 row\"] {
        TEXT code PK \"NOT NULL\"
        INTEGER year PK \"NOT NULL\"
        DECIMAL(10__2) fee \"type: DECIMAL(10, 2)\"
    }
    enrolment[\"enrolment: 0 rows\"] {
        INTEGER person_id PK, FK \"NOT NULL\"
        TEXT course_code PK, FK \"NOT NULL; name: course code\"
        INTEGER course_year PK, FK \"NOT NULL\"
        untyped note
    }
    person |o..o{ person : \"mentor_id\"
    person ||--o{ enrolment : \"person_id\"
    table_2 ||--o{ enrolment : \"course code, course_year\"
";
        assert_eq!(text, expected);
    }

    #[test]
    fn a_database_that_drifted_is_marked() {
        let text = render(&crate::diagram::tests::drifted());
        assert!(text.contains("erDiagram\n    %% differs from the build: column person.nickname is not in the build\n"), "{text}");
        assert!(
            text.contains(
                "    %% differs from the build: the build's table room is missing here\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("        TEXT nickname \"not in the build\"\n"),
            "{text}"
        );
        assert!(
            text.contains("    table_2[\"course run: 1 row, not in the build\"] {\n"),
            "{text}"
        );
        assert!(
            !text.contains("TEXT code PK \"NOT NULL; not in the build"),
            "{text}"
        );
    }

    #[test]
    fn words_mermaid_would_misread_are_mapped() {
        assert_eq!(word("VARCHAR(20)"), "VARCHAR(20)");
        assert_eq!(word("pk"), "pk_");
        assert_eq!(word("FK-x"), "FK_-x");
        assert_eq!(word("pk_id"), "pk_id");
        assert_eq!(word("2nd"), "x2nd");
        assert_eq!(word("double precision"), "double_precision");
        assert_eq!(comment("a \"b\""), "a 'b'");
    }

    #[test]
    fn entity_ids_are_unique_whatever_the_names() {
        let mut m = small();
        m.tables[0].table.name = "table_2".into();
        m.tables[2].table.name = "style".into();
        let ids = entity_ids(&m);
        assert_eq!(ids, ["table_2", "table_2_", "table_3"]);
    }
}
