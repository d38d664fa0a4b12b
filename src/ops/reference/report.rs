//! What the sync does to each reference table, as reports carry it: rows
//! inserted, updated (column by column), deleted and kept, with values
//! shown so that no credential can be printed.

use serde::Serialize;

use crate::seed::migrations::ReferenceTable;
use crate::value::Value;

/// What reports show instead of a credential's value.
pub const HIDDEN: &str = "(hidden)";

/// What syncing one reference table does (or, for `status`, would do).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TableSync {
    pub table: String,
    /// The key columns rows are matched by.
    pub key: Vec<String>,
    /// Keys of rows the seed has and the database does not.
    pub inserted: Vec<String>,
    /// Rows whose values differ from the seed's, with the columns that do.
    pub updated: Vec<UpdatedRow>,
    /// Keys of rows the seed does not have, deleted.
    pub deleted: Vec<String>,
    /// The rows inserted, with their values (as `inserted`, in order).
    pub inserted_rows: Vec<RowValues>,
    /// The rows deleted, with the values they had (as `deleted`, in order).
    pub deleted_rows: Vec<RowValues>,
    /// Rows the seed does not have, kept, and why.
    pub kept: Vec<KeptRow>,
    /// Keys of updated rows whose unique values another row takes (a swap,
    /// or a chain): each is first given a temporary value, in the same
    /// transaction, so that no moment holds two rows with one value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub staged: Vec<String>,
    pub unchanged: usize,
    /// Why the table could not be compared (status only: a table the
    /// pending migrations create or change).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_compared: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UpdatedRow {
    pub key: String,
    pub columns: Vec<String>,
    /// Each of `columns` with the value the database has and the seed's.
    pub changes: Vec<ChangedValue>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChangedValue {
    pub column: String,
    pub database: Shown,
    pub seed: Shown,
}

/// A row's key and its values, every column but the surrogate id (which
/// the database assigns and the app's rows point at).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RowValues {
    pub key: String,
    pub values: Vec<ColumnValue>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ColumnValue {
    pub column: String,
    pub value: Shown,
}

/// A value as reports show it. A credential column's (a password hash,
/// one the fingerprint leaves out) is never carried, so that no report,
/// text or JSON, can print it.
///
/// In JSON: a string, a number or `null` as itself; anything JSON cannot
/// say plainly is an object naming what it is: `{"blob": "<hex>"}`,
/// `{"text_hex": "<hex>"}` (text that is not UTF-8), `{"real": "inf"}` or
/// `"-inf"`, `{"hidden": true}` for a credential, and `{"absent": true}`
/// for a column the database does not have yet.
#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    Value(Value),
    Hidden,
    /// No value: the database has no such column yet (the pending
    /// migrations add it).
    Absent,
}

impl Serialize for Shown {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (tag, tagged): (&str, serde_json::Value) = match self {
            Shown::Hidden => ("hidden", true.into()),
            Shown::Absent => ("absent", true.into()),
            Shown::Value(Value::Null) => return s.serialize_unit(),
            Shown::Value(Value::Integer(i)) => return s.serialize_i64(*i),
            Shown::Value(Value::Real(r)) if r.is_finite() => return s.serialize_f64(*r),
            // The engine stores no NaN (it reads back as NULL).
            Shown::Value(Value::Real(r)) if r.is_nan() => return s.serialize_unit(),
            Shown::Value(Value::Real(r)) => ("real", if *r > 0.0 { "inf" } else { "-inf" }.into()),
            Shown::Value(Value::Text(t)) => return s.serialize_str(t),
            Shown::Value(Value::RawText(b)) => ("text_hex", crate::hex::encode(b).into()),
            Shown::Value(Value::Blob(b)) => ("blob", crate::hex::encode(b).into()),
        };
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(tag, &tagged)?;
        m.end()
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct KeptRow {
    pub key: String,
    pub reason: String,
}

impl TableSync {
    /// Nothing planned yet.
    pub(crate) fn empty(spec: &ReferenceTable) -> TableSync {
        TableSync {
            table: spec.table.to_owned(),
            key: spec.key.iter().map(|k| (*k).to_owned()).collect(),
            inserted: Vec::new(),
            updated: Vec::new(),
            deleted: Vec::new(),
            inserted_rows: Vec::new(),
            deleted_rows: Vec::new(),
            kept: Vec::new(),
            staged: Vec::new(),
            unchanged: 0,
            not_compared: None,
        }
    }

    /// Whether syncing writes anything to this table.
    pub fn changes(&self) -> bool {
        !self.inserted.is_empty() || !self.updated.is_empty() || !self.deleted.is_empty()
    }
}
