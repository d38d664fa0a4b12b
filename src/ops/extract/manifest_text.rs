//! seed.toml for a folder whose tables are not the seed's: tables the seed
//! did not know added (each to every profile that loads all the seed's
//! tables, and to the default one), tables not extracted left out.

use toml::{Table, Value};

pub struct NewTable {
    pub name: String,
    pub file: String,
    /// Columns holding bytes, mapped `{ blob = "hex" }`.
    pub blobs: Vec<String>,
}

/// The manifest as a new document. TOML has no round trip for comments,
/// so this one has none but its first line, which says where it came from.
pub fn rewrite(manifest: &str, left_out: &[&str], added: &[NewTable]) -> Result<String, String> {
    let mut doc: Table = manifest
        .parse()
        .map_err(|e| format!("this binary's seed.toml does not parse: {e}"))?;
    let seeded: Vec<String> = table_names(&doc);
    let keep = |v: &Value| !v.as_str().is_some_and(|n| left_out.contains(&n));
    if let Some(Value::Array(tables)) = doc.get_mut("table") {
        tables.retain(|t| t.get("name").is_none_or(keep));
        for t in added {
            let mut entry = Table::new();
            entry.insert("name".into(), t.name.clone().into());
            entry.insert("file".into(), t.file.clone().into());
            if !t.blobs.is_empty() {
                let mut columns = Table::new();
                for c in &t.blobs {
                    let mut map = Table::new();
                    map.insert("blob".into(), "hex".into());
                    columns.insert(c.clone(), Value::Table(map));
                }
                entry.insert("columns".into(), Value::Table(columns));
            }
            tables.push(Value::Table(entry));
        }
    }
    let default = doc
        .get("default_profile")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if let Some(Value::Table(profiles)) = doc.get_mut("profiles") {
        for (name, list) in profiles.iter_mut() {
            let Value::Array(list) = list else { continue };
            let whole = seeded
                .iter()
                .all(|t| list.iter().any(|v| v.as_str() == Some(t)));
            list.retain(keep);
            if whole || *name == default {
                list.extend(added.iter().map(|t| Value::from(t.name.clone())));
            }
        }
    }
    if let Some(Value::Array(references)) = doc.get_mut("reference") {
        references.retain(|r| r.get("table").is_none_or(keep));
    }
    if doc
        .get("admin")
        .and_then(|a| a.get("table"))
        .is_some_and(|t| !keep(t))
    {
        doc.remove("admin");
    }
    let text = toml::to_string(&doc).map_err(|e| format!("cannot write seed.toml: {e}"))?;
    Ok(format!(
        "# Written by `seedbake extract` from a database: the seed's manifest with its tables as extracted.\n\n{text}"
    ))
}

fn table_names(doc: &Table) -> Vec<String> {
    match doc.get("table") {
        Some(Value::Array(tables)) => tables
            .iter()
            .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}
