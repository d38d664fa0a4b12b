//! The comparison: every difference between the app's schema and the seed's,
//! named as a reviewer would say it.

use super::*;

/// Every difference between the app's shape and the seed's, one readable
/// line each; empty when they agree.
pub(super) fn differences(app: &Shape, seed: &Shape) -> Vec<String> {
    let mut out = Vec::new();
    for name in app.tables.keys().filter(|t| !seed.tables.contains_key(*t)) {
        out.push(format!("table {name}: missing in the seed"));
    }
    for name in seed.tables.keys().filter(|t| !app.tables.contains_key(*t)) {
        out.push(format!("table {name}: in the seed, not in the app"));
    }
    for (name, a) in &app.tables {
        if let Some(s) = seed.tables.get(name) {
            table_differences(name, a, s, &mut out);
        }
    }
    for (key, a) in &app.indexes {
        match seed.indexes.get(key) {
            None => out.push(format!("{key}: missing in the seed")),
            Some(s) => index_differences(key, a, s, &mut out),
        }
    }
    for key in seed
        .indexes
        .keys()
        .filter(|k| !app.indexes.contains_key(*k))
    {
        out.push(format!("{key}: in the seed, not in the app"));
    }
    for o in app.others.difference(&seed.others) {
        out.push(format!("{o}: missing in the seed"));
    }
    for o in seed.others.difference(&app.others) {
        out.push(format!("{o}: in the seed, not in the app"));
    }
    out
}

fn table_differences(name: &str, app: &Table, seed: &Table, out: &mut Vec<String>) {
    let flag = |on: bool, what: &str| {
        if on {
            what.to_owned()
        } else {
            format!("not {what}")
        }
    };
    if app.without_rowid != seed.without_rowid {
        out.push(format!(
            "table {name}: {} in the app, {} in the seed",
            flag(app.without_rowid, "WITHOUT ROWID"),
            flag(seed.without_rowid, "WITHOUT ROWID")
        ));
    }
    if app.strict != seed.strict {
        out.push(format!(
            "table {name}: {} in the app, {} in the seed",
            flag(app.strict, "STRICT"),
            flag(seed.strict, "STRICT")
        ));
    }
    let find = |cols: &[Column], n: &str| cols.iter().find(|c| c.name == n).cloned();
    for a in &app.columns {
        let Some(s) = find(&seed.columns, &a.name) else {
            out.push(format!("{name}.{}: missing in the seed", a.name));
            continue;
        };
        let col = format!("{name}.{}", a.name);
        if a.affinity != s.affinity {
            out.push(format!(
                "{col}: affinity {} vs {} (declared {:?} in the app, {:?} in the seed)",
                a.affinity, s.affinity, a.declared, s.declared
            ));
        }
        if a.not_null != s.not_null {
            let n = |nn: bool| if nn { "NOT NULL" } else { "nullable" };
            out.push(format!(
                "{col}: {} in the app, {} in the seed",
                n(a.not_null),
                n(s.not_null)
            ));
        }
        if a.pk != s.pk {
            let p = |pk: i64| {
                if pk == 0 {
                    "not in the primary key".to_owned()
                } else {
                    format!("primary key column {pk}")
                }
            };
            out.push(format!(
                "{col}: {} in the app, {} in the seed",
                p(a.pk),
                p(s.pk)
            ));
        }
        if a.hidden != s.hidden {
            let h = |h: i64| match h {
                0 => "an ordinary column",
                2 => "a generated (virtual) column",
                3 => "a generated (stored) column",
                _ => "a hidden column",
            };
            out.push(format!(
                "{col}: {} in the app, {} in the seed",
                h(a.hidden),
                h(s.hidden)
            ));
        }
    }
    for s in &seed.columns {
        if find(&app.columns, &s.name).is_none() {
            out.push(format!("{name}.{}: in the seed, not in the app", s.name));
        }
    }
    let order = |cols: &[Column], other: &[Column]| -> Vec<String> {
        cols.iter()
            .filter(|c| find(other, &c.name).is_some())
            .map(|c| c.name.clone())
            .collect()
    };
    let (a_order, s_order) = (
        order(&app.columns, &seed.columns),
        order(&seed.columns, &app.columns),
    );
    if a_order != s_order {
        out.push(format!(
            "table {name}: column order ({}) in the app, ({}) in the seed",
            a_order.join(", "),
            s_order.join(", ")
        ));
    }
    for fk in app.foreign_keys.difference(&seed.foreign_keys) {
        out.push(format!("{name}: foreign key {fk} missing in the seed"));
    }
    for fk in seed.foreign_keys.difference(&app.foreign_keys) {
        out.push(format!(
            "{name}: foreign key {fk} in the seed, not in the app"
        ));
    }
}

fn index_differences(key: &str, app: &Index, seed: &Index, out: &mut Vec<String>) {
    if app.table != seed.table {
        out.push(format!(
            "{key}: on table {} in the app, {} in the seed",
            app.table, seed.table
        ));
    }
    if app.unique != seed.unique {
        let u = |u: bool| if u { "unique" } else { "not unique" };
        out.push(format!(
            "{key}: {} in the app, {} in the seed",
            u(app.unique),
            u(seed.unique)
        ));
    }
    if app.columns != seed.columns {
        out.push(format!(
            "{key}: columns ({}) in the app, ({}) in the seed",
            app.columns.join(", "),
            seed.columns.join(", ")
        ));
    }
    if app.partial != seed.partial {
        let p = |p: bool| if p { "partial" } else { "not partial" };
        out.push(format!(
            "{key}: {} in the app, {} in the seed",
            p(app.partial),
            p(seed.partial)
        ));
    }
}
