//! The source rows as file text: CSV, or the JSON document the records
//! go back into.

use super::cells::{self, Cell};
use super::tables::SourceRows;

/// The rows as a CSV file.
pub fn csv(rows: &SourceRows, delimiter: u8) -> String {
    let mut out = String::new();
    let header: Vec<Cell> = rows.fields.iter().map(|f| Cell::Text(f.clone())).collect();
    cells::csv_line(&mut out, &header, delimiter);
    for row in &rows.rows {
        cells::csv_line(&mut out, row, delimiter);
    }
    out
}

/// The records as the JSON list put into `document` at `pointer` (the
/// embedded document with its list emptied), one record per block, fields
/// in the source's order; every other byte of the document as written.
pub fn json_document(rows: &SourceRows, document: Option<&str>, pointer: &str) -> String {
    let document = document.unwrap_or("[]");
    let span =
        seedbake_core::json_span::pointer_span(document, pointer).unwrap_or(0..document.len());
    let line_start = document[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let indent: String = document[line_start..span.start]
        .chars()
        .take_while(|c| c.is_whitespace())
        .collect();
    // A field null in some records is left out of those (as the catalogue
    // leaves out a picture a figure does not have); one null in every
    // record stays, so that the source still has the field.
    let sometimes: Vec<bool> = (0..rows.fields.len())
        .map(|j| rows.rows.iter().any(|r| r[j] != Cell::Null))
        .collect();
    let mut list = String::from("[");
    for (i, row) in rows.rows.iter().enumerate() {
        list.push_str(if i == 0 { "\n" } else { ",\n" });
        list.push_str(&format!("{indent}  {{\n"));
        let present: Vec<(&String, &Cell)> = rows
            .fields
            .iter()
            .zip(row)
            .zip(&sometimes)
            .filter(|((_, c), sometimes)| **c != Cell::Null || !**sometimes)
            .map(|(pair, _)| pair)
            .collect();
        for (j, (f, cell)) in present.iter().enumerate() {
            let sep = if j + 1 < present.len() { "," } else { "" };
            list.push_str(&format!(
                "{indent}    {}: {}{sep}\n",
                serde_json::Value::from(f.as_str()),
                cells::json(cell)
            ));
        }
        list.push_str(&format!("{indent}  }}"));
    }
    if !rows.rows.is_empty() {
        list.push_str(&format!("\n{indent}"));
    }
    list.push(']');
    format!("{}{list}{}", &document[..span.start], &document[span.end..])
}
