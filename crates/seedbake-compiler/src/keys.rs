//! A table's rows by natural key, hashed once per table so that a reference
//! resolves in constant time however many rows the table has.

use std::cell::Cell;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::error::{ErrorKind, MAX_ERRORS, Origin, SeedError};
use crate::suggest::closest;

#[derive(Debug)]
pub(crate) struct KeyIndex {
    table: String,
    /// The natural key's source fields, and the file its rows come from.
    fields: Vec<String>,
    file: String,
    /// Each key's row; `None` for a row the build refused: its key still
    /// resolves, so a reference to it is not reported as a second error.
    rows: HashMap<Vec<String>, Option<usize>>,
    /// A did-you-mean scans every key: only the first unresolved keys, the
    /// ones a refused build shows, get one, so that a file of wrong
    /// references still costs time linear in its rows.
    hints_left: Cell<usize>,
}

impl KeyIndex {
    pub fn new(table: &str, fields: &[String], file: &str) -> Self {
        KeyIndex {
            table: table.to_owned(),
            fields: fields.to_vec(),
            file: file.to_owned(),
            rows: HashMap::new(),
            hints_left: Cell::new(MAX_ERRORS),
        }
    }

    /// Gives `key` to `row`; if another row has it already, returns that row.
    pub fn insert(&mut self, key: Vec<String>, row: usize) -> Option<usize> {
        match self.rows.entry(key) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                e.insert(Some(row));
                None
            }
        }
    }

    /// Renumbers the rows once some are refused: `kept[row]` is the row's
    /// place among the rows kept, `None` for a refused one.
    pub fn renumber(&mut self, kept: &[Option<usize>]) {
        for row in self.rows.values_mut() {
            *row = row.and_then(|r| kept[r]);
        }
    }

    /// The row whose natural key is `key` (`None` for a refused row), or the
    /// error for `table.column` at `origin`, with the closest key when one
    /// is a plausible typo.
    pub fn resolve(
        &self,
        key: &[String],
        table: &str,
        column: &str,
        origin: Origin,
    ) -> Result<Option<usize>, SeedError> {
        if let Some(&row) = self.rows.get(key) {
            return Ok(row);
        }
        let shown = key.join(" ");
        let hint = match self.hints_left.get() {
            0 => None,
            n => {
                self.hints_left.set(n - 1);
                // Sorted, so that of equally close keys the same one is named
                // in every build.
                let mut keys: Vec<String> = self.rows.keys().map(|k| k.join(" ")).collect();
                keys.sort_unstable();
                closest(&shown, keys.into_iter())
            }
        };
        let hint = hint
            .map(|c| format!("; did you mean {c:?}?"))
            .unwrap_or_default();
        Err(SeedError::new(
            ErrorKind::Reference,
            origin,
            format!(
                "{table}.{column}: no {} row has the key {} = {shown:?} (keys are in {}){hint}",
                self.table,
                self.fields.join(", "),
                self.file
            ),
        )
        .with_field(table, column))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_resolve_and_only_the_first_misses_get_a_hint() {
        let mut index = KeyIndex::new("verband", &["abkuerzung".to_owned()], "verband.csv");
        let key = |k: &str| vec![k.to_owned()];
        assert_eq!(index.insert(key("BKFD"), 0), None);
        assert_eq!(index.insert(key("LKNW"), 1), None);
        assert_eq!(index.insert(key("BKFD"), 2), Some(0));
        index.renumber(&[None, Some(0), None]);
        let at = Origin::line("kind.csv", 2);
        assert_eq!(
            index.resolve(&key("BKFD"), "kind", "v", at.clone()),
            Ok(None)
        );
        assert_eq!(
            index.resolve(&key("LKNW"), "kind", "v", at.clone()),
            Ok(Some(0))
        );
        for _ in 0..MAX_ERRORS {
            let e = index
                .resolve(&key("LKNV"), "kind", "v", at.clone())
                .unwrap_err();
            assert!(e.message.ends_with("did you mean \"LKNW\"?"), "{e}");
        }
        let e = index.resolve(&key("LKNV"), "kind", "v", at).unwrap_err();
        assert_eq!(
            e.message,
            "kind.v: no verband row has the key abkuerzung = \"LKNV\" (keys are in verband.csv)"
        );
    }
}
