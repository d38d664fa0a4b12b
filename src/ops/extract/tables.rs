//! The database's rows as the seed folder's files: a known table in its
//! manifest entry's own shape (file, fields, mappings), any other table as
//! a CSV of its columns with a new manifest entry.

use std::collections::HashMap;

use seedbake_compiler::manifest::{BlobEncoding, Mapping, TableSpec};

use super::cells::{self, Cell};
use crate::schema::Table;
use crate::seed::Seed;
use crate::value::{Decoder, Value, ValueRef};

/// The plaintext every `bcrypt` field is written with. A hash cannot be
/// turned back into its password, and production's hashes do not belong in
/// a seed folder: each account's seed password is the team's to set again.
pub const PASSWORD_PLACEHOLDER: &str = "change-me";

/// One table as the snapshot held it: every stored column, rows in the
/// primary key's order.
pub struct DbTable {
    pub schema: Table,
    pub rows: Vec<Vec<Value>>,
}

impl DbTable {
    fn value<'r>(&self, row: &'r [Value], column: &str) -> Option<&'r Value> {
        self.schema
            .columns
            .iter()
            .position(|c| c.name == column)
            .map(|i| &row[i])
    }

    /// How messages name a row: its position and primary key.
    fn row_name(&self, i: usize) -> String {
        let pk: Vec<String> = self
            .schema
            .columns
            .iter()
            .zip(&self.rows[i])
            .filter(|(c, _)| c.pk > 0)
            .map(|(c, v)| format!("{} = {}", c.name, cells::literal(v)))
            .collect();
        if pk.is_empty() {
            format!("table {}, row {}", self.schema.name, i + 1)
        } else {
            format!(
                "table {}, row {} ({})",
                self.schema.name,
                i + 1,
                pk.join(", ")
            )
        }
    }
}

/// A table's source rows: the fields in file order and one cell per field.
pub struct SourceRows {
    pub fields: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A written table's natural keys, found by any column's value: what the
/// tables referring to it write instead of the id.
pub struct Keyed {
    keys: Vec<Vec<Cell>>,
    /// What a foreign key naming no parent column refers to.
    primary_key: Option<String>,
    by_column: HashMap<String, HashMap<String, usize>>,
}

impl Keyed {
    fn new(db: &DbTable, keys: Vec<Vec<Cell>>) -> Keyed {
        let mut by_column: HashMap<String, HashMap<String, usize>> = HashMap::new();
        for (ci, c) in db.schema.columns.iter().enumerate() {
            let index = by_column.entry(c.name.clone()).or_default();
            for (ri, row) in db.rows.iter().enumerate() {
                index.entry(cells::literal(&row[ci])).or_insert(ri);
            }
        }
        Keyed {
            keys,
            primary_key: db.schema.rowid_alias().map(|c| c.name.clone()),
            by_column,
        }
    }
}

/// What writing the tables gathers besides the rows.
#[derive(Default)]
pub struct Gathered {
    /// Image files the rows name: path in the folder, bytes.
    pub images: Vec<(String, &'static [u8])>,
    pub passwords: usize,
}

/// A known table in its manifest entry's shape. `keyed` holds the tables
/// written before (the manifest orders parents first).
pub fn known(
    seed: &Seed,
    spec: &TableSpec,
    db: &DbTable,
    keyed: &HashMap<String, Keyed>,
    maintained: &[(String, String)],
    gathered: &mut Gathered,
) -> Result<(SourceRows, Keyed), String> {
    let name = &spec.name;
    let kept_by_trigger = |column: &str| {
        maintained
            .iter()
            .any(|(t, c)| t.eq_ignore_ascii_case(name) && c.eq_ignore_ascii_case(column))
    };
    let origin = seedbake_compiler::Origin::file(seedbake_compiler::manifest::MANIFEST_FILE);
    let embedded: Vec<&str> = seed
        .table(name)
        .map(|t| t.columns.iter().map(|c| c.name).collect())
        .unwrap_or_default();
    let mut mappings: Vec<(&str, Mapping)> = Vec::new();
    for col in &db.schema.columns {
        let spec_mapping = match spec.columns.get(&col.name) {
            Some(s) => Some(
                s.mapping(&origin, name, &col.name)
                    .map_err(|e| e.to_string())?,
            ),
            None => None,
        };
        let mapping = match spec_mapping {
            Some(m) => m,
            // An id the manifest does not map: left to the build's
            // numbering (1, 2, 3…, as a source without the field gets)
            // while the ids are exactly that, written otherwise.
            None if db.schema.rowid_alias().is_some_and(|a| a.name == col.name)
                && numbered_in_order(db, &col.name).is_ok() =>
            {
                Mapping::Auto
            }
            None if embedded.contains(&col.name.as_str()) && !spec.ignore.contains(&col.name) => {
                Mapping::Field(col.name.clone())
            }
            None if db.schema.rowid_alias().is_some_and(|a| a.name == col.name) => Mapping::Auto,
            // A column the seed leaves out but the app filled: written as a
            // field of the same name (the build takes a source field that
            // names a column), or the rows would not come back; unless a
            // trigger keeps it, which it does again as the seed loads.
            None if !kept_by_trigger(&col.name) && filled_beyond_default(db, &col.name) => {
                Mapping::Field(col.name.clone())
            }
            None => continue,
        };
        mappings.push((&col.name, mapping));
    }
    if let Some((auto, _)) = mappings.iter().find(|(_, m)| *m == Mapping::Auto) {
        numbered_in_order(db, auto)?;
    }

    let mut fields: Vec<String> = Vec::new();
    let add = |f: &str, fields: &mut Vec<String>| {
        if !fields.iter().any(|x| x == f) {
            fields.push(f.to_owned());
        }
    };
    let produced: Vec<&str> = mappings.iter().flat_map(|(_, m)| m.fields()).collect();
    for k in spec.key.iter().filter(|k| !produced.contains(&k.as_str())) {
        add(k, &mut fields);
    }
    for f in &produced {
        add(f, &mut fields);
    }
    for f in &spec.ignore {
        add(f, &mut fields);
    }

    let defaulted: Vec<&str> = seed.defaults_of(name).map(|d| d.column).collect();
    let source_dir = spec
        .file
        .rsplit_once('/')
        .map(|(d, _)| format!("{d}/"))
        .unwrap_or_default();
    let mut rows: Vec<HashMap<String, Cell>> = Vec::with_capacity(db.rows.len());
    let mut self_refs: Vec<(usize, &str, &[String])> = Vec::new();
    for (ri, row) in db.rows.iter().enumerate() {
        let mut cells_of: HashMap<String, Cell> = HashMap::new();
        for (col, mapping) in &mappings {
            let value = db.value(row, col).expect("a column of the table");
            let declared = &db.schema.column(col).expect("listed").declared_type;
            let at = |why: String| format!("{}, column {col}: {why}", db.row_name(ri));
            match mapping {
                Mapping::Field(f) => {
                    if *value == Value::Null && defaulted.contains(col) {
                        return Err(at(format!(
                            "holds NULL, which the seed cannot give: an empty cell takes the [defaults.{name}] value"
                        )));
                    }
                    cells_of.insert(f.clone(), cells::plain(value, declared).map_err(at)?);
                }
                Mapping::Ref { table, from } if table == name => {
                    self_refs.push((ri, col, from));
                }
                Mapping::Ref { table, from } => {
                    let parent = keyed.get(table).ok_or_else(|| {
                        at(format!("refers to table {table}, which is not extracted with it: add it to --tables"))
                    })?;
                    let keys = referenced(db, col, value, table, parent).map_err(at)?;
                    for (f, cell) in from.iter().zip(keys) {
                        cells_of.insert(f.clone(), cell);
                    }
                }
                Mapping::Bcrypt(f) => {
                    let cell = match value {
                        Value::Null => Cell::Null,
                        _ => {
                            gathered.passwords += 1;
                            Cell::Text(PASSWORD_PLACEHOLDER.into())
                        }
                    };
                    cells_of.insert(f.clone(), cell);
                }
                Mapping::Image { field, prefix } => {
                    let cell =
                        image_cell(seed, value, prefix, &source_dir, gathered).map_err(at)?;
                    cells_of.insert(field.clone(), cell);
                }
                Mapping::Blob { field, encoding } => {
                    cells_of.insert(field.clone(), blob_cell(value, *encoding).map_err(at)?);
                }
                // Numbered by the build (checked above) or a constant of the
                // manifest: no source field.
                Mapping::Auto | Mapping::Const(_) => {}
            }
        }
        rows.push(cells_of);
    }

    let keys = natural_keys(seed, spec, db, &mut rows)?;
    let index = Keyed::new(db, keys);
    for (ri, col, from) in self_refs {
        let value = db.value(&db.rows[ri], col).expect("a column of the table");
        let keys = referenced(db, col, value, name, &index)
            .map_err(|why| format!("{}, column {col}: {why}", db.row_name(ri)))?;
        for (f, cell) in from.iter().zip(keys) {
            rows[ri].insert(f.clone(), cell);
        }
    }
    let rows = rows
        .into_iter()
        .map(|mut r| {
            fields
                .iter()
                .map(|f| r.remove(f).unwrap_or(Cell::Null))
                .collect()
        })
        .collect();
    Ok((SourceRows { fields, rows }, index))
}

/// Whether some row holds a value in `column` that its DEFAULT (or NULL,
/// without one) would not give.
fn filled_beyond_default(db: &DbTable, column: &str) -> bool {
    let Some(ci) = db.schema.columns.iter().position(|c| c.name == column) else {
        return false;
    };
    let default = db.schema.columns[ci].default_sql.as_deref();
    db.rows.iter().any(|r| match (&r[ci], default) {
        (Value::Null, _) => false,
        (v, Some(d)) => cells::literal(v) != d.trim(),
        (_, None) => true,
    })
}

/// An image column's cell: the stored path without the prefix; the file
/// itself comes from the binary, which is the only place its bytes are.
fn image_cell(
    seed: &Seed,
    value: &Value,
    prefix: &str,
    source_dir: &str,
    gathered: &mut Gathered,
) -> Result<Cell, String> {
    let path = match value {
        Value::Null => return Ok(Cell::Null),
        Value::Text(path) => path,
        other => {
            return Err(format!(
                "holds {} where an image path belongs",
                cells::literal(other)
            ));
        }
    };
    let rel = path.strip_prefix(prefix).ok_or_else(|| {
        format!("the image path {path:?} does not start with the prefix {prefix:?}")
    })?;
    let image = seed.image(path).ok_or_else(|| {
        format!(
            "names the image {path:?}, which this binary does not embed: its bytes are not in the database, \
             so the seed folder cannot have the file"
        )
    })?;
    let file = format!("{source_dir}{rel}");
    if !gathered.images.iter().any(|(p, _)| *p == file) {
        gathered.images.push((file, image.bytes));
    }
    Ok(Cell::Text(rel.to_owned()))
}

/// A BLOB column's cell in the spelling seed.toml maps it with.
fn blob_cell(value: &Value, encoding: BlobEncoding) -> Result<Cell, String> {
    match (value, encoding) {
        (Value::Null, _) => Ok(Cell::Null),
        (Value::Blob(b), BlobEncoding::Hex) => Ok(Cell::Text(crate::hex::encode(b))),
        (Value::Blob(b), BlobEncoding::Base64) => {
            use base64::Engine;
            Ok(Cell::Text(
                base64::engine::general_purpose::STANDARD.encode(b),
            ))
        }
        (Value::Blob(_), BlobEncoding::File) => Err(
            "is mapped `blob = \"file\"`: extract writes bytes as hex or base64 only; map the column \
             `blob = \"hex\"` to extract it"
                .into(),
        ),
        (other, _) => Err(format!(
            "holds {}, not bytes, in a column seed.toml maps as a BLOB",
            cells::literal(other)
        )),
    }
}

/// The parent's natural key a foreign key value points at.
fn referenced(
    db: &DbTable,
    col: &str,
    value: &Value,
    parent: &str,
    keyed: &Keyed,
) -> Result<Vec<Cell>, String> {
    if *value == Value::Null {
        return Ok(vec![Cell::Null; keyed.keys.first().map_or(1, Vec::len)]);
    }
    let parent_column = db
        .schema
        .foreign_keys
        .iter()
        .find(|fk| fk.column == col && fk.parent_table == parent)
        .map(|fk| fk.parent_column.clone())
        .filter(|c| !c.is_empty())
        .or_else(|| keyed.primary_key.clone())
        .unwrap_or_else(|| "rowid".to_owned());
    keyed
        .by_column
        .get(&parent_column)
        .and_then(|index| index.get(&cells::literal(value)))
        .map(|&i| keyed.keys[i].clone())
        .ok_or_else(|| {
            format!(
                "refers to {parent}.{parent_column} = {}, which no row has",
                cells::literal(value)
            )
        })
}

/// Each row's natural key. A key field no column stores (the catalogue's
/// `F01`) is the embedded seed's for the row with the same id, and
/// `<table>-<id>` for a row the seed does not have.
fn natural_keys(
    seed: &Seed,
    spec: &TableSpec,
    db: &DbTable,
    rows: &mut [HashMap<String, Cell>],
) -> Result<Vec<Vec<Cell>>, String> {
    let missing: Vec<&String> = spec
        .key
        .iter()
        .filter(|k| rows.first().is_some_and(|r| !r.contains_key(*k)))
        .collect();
    if !missing.is_empty() {
        let alias = db.schema.rowid_alias().ok_or_else(|| {
            format!(
                "table {}: the key field {} is stored in no column and the table has no id to find the seed's row by",
                spec.name, missing[0]
            )
        })?;
        let seeded = seed_keys_by_id(seed, &spec.name, &alias.name);
        for (ri, row) in rows.iter_mut().enumerate() {
            let id = match db.value(&db.rows[ri], &alias.name) {
                Some(Value::Integer(id)) => *id,
                _ => continue,
            };
            for k in &missing {
                let position = spec.key.iter().position(|x| x == *k).expect("a key field");
                let cell = match seeded.get(&id) {
                    Some(key) => Cell::Text(key[position].clone()),
                    None => Cell::Text(format!("{}-{id}", spec.name)),
                };
                row.insert((*k).clone(), cell);
            }
        }
    }
    Ok(rows
        .iter()
        .map(|r| {
            spec.key
                .iter()
                .map(|k| r.get(k).cloned().unwrap_or(Cell::Null))
                .collect()
        })
        .collect())
}

/// The embedded seed's natural keys by row id: the id column's value, or
/// the position (1, 2, 3…) when the build numbered the rows.
fn seed_keys_by_id(seed: &Seed, table: &str, id_column: &str) -> HashMap<i64, Vec<String>> {
    let Some(data) = seed.table(table) else {
        return HashMap::new();
    };
    let width = data.key_fields.len();
    let mut keys = Vec::with_capacity(data.row_count);
    let mut decoder = Decoder::new(data.keys);
    while width > 0 && !decoder.is_empty() {
        let key: Vec<String> = (0..width)
            .map(|_| match decoder.next_value() {
                ValueRef::Text(t) => t.to_owned(),
                other => crate::schema::text(&other),
            })
            .collect();
        keys.push(key);
    }
    let ids: Vec<i64> = match data.column_index(id_column) {
        Some(ci) => data
            .rows()
            .map(|r| match r[ci] {
                ValueRef::Integer(i) => i,
                _ => 0,
            })
            .collect(),
        None => (1..=keys.len() as i64).collect(),
    };
    ids.into_iter().zip(keys).collect()
}

/// A column the build numbers 1, 2, 3… can only give back ids that are
/// exactly that.
fn numbered_in_order(db: &DbTable, column: &str) -> Result<(), String> {
    for (i, row) in db.rows.iter().enumerate() {
        let expected = i as i64 + 1;
        if db.value(row, column) != Some(&Value::Integer(expected)) {
            return Err(format!(
                "{}: seed.toml numbers the {column} of table {} 1, 2, 3… (`auto`), but the database's ids are not \
                 1 to {} without gaps, so a seed could not give these rows their ids; give the ids in the source \
                 (drop `auto`) to extract it",
                db.row_name(i),
                db.schema.name,
                db.rows.len()
            ));
        }
    }
    Ok(())
}

/// A table the seed does not know: every stored column as a field, and
/// the columns holding bytes, which the new manifest entry maps as hex.
pub fn unknown(db: &DbTable) -> Result<(SourceRows, Vec<String>), String> {
    let blob_columns: Vec<usize> = (0..db.schema.columns.len())
        .filter(|&ci| db.rows.iter().any(|r| matches!(r[ci], Value::Blob(_))))
        .collect();
    let mut rows = Vec::with_capacity(db.rows.len());
    for (ri, row) in db.rows.iter().enumerate() {
        let mut cells_of = Vec::with_capacity(row.len());
        for (ci, (col, value)) in db.schema.columns.iter().zip(row).enumerate() {
            let at = |why: String| format!("{}, column {}: {why}", db.row_name(ri), col.name);
            let cell = if blob_columns.contains(&ci) {
                match value {
                    Value::Null => Cell::Null,
                    Value::Blob(b) => Cell::Text(crate::hex::encode(b)),
                    other => {
                        return Err(at(format!(
                            "holds {} in a column other rows hold bytes in: a seed column gives one or the other",
                            cells::literal(other)
                        )));
                    }
                }
            } else {
                cells::plain(value, &col.declared_type).map_err(at)?
            };
            cells_of.push(cell);
        }
        rows.push(cells_of);
    }
    let fields = db.schema.columns.iter().map(|c| c.name.clone()).collect();
    let blobs = blob_columns
        .iter()
        .map(|&ci| db.schema.columns[ci].name.clone())
        .collect();
    Ok((SourceRows { fields, rows }, blobs))
}
