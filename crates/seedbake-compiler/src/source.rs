//! Reading a table's records from CSV or JSON, each with the place it came
//! from.

use std::path::Path;

use crate::error::{ErrorKind, Origin, Position, SeedError};

/// One raw field value before it is checked against its column.
#[derive(Debug, Clone)]
pub enum Cell {
    /// A CSV field with nothing in it, not even quotes: NULL (PostgreSQL's
    /// CSV convention; a quoted `""` is the empty string, a `Text`).
    Null,
    Text(String),
    Json(serde_json::Value),
}

impl Cell {
    /// The text a natural key or reference compares: CSV text as written,
    /// JSON strings unquoted, other JSON values in their JSON form.
    pub fn key_text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Text(t) => t.clone(),
            Cell::Json(serde_json::Value::String(s)) => s.clone(),
            Cell::Json(serde_json::Value::Null) => String::new(),
            Cell::Json(v) => v.to_string(),
        }
    }

    /// NULL, or text with nothing in it: what names no file and no row.
    pub fn is_empty(&self) -> bool {
        self.is_null() || matches!(self, Cell::Text(t) if t.is_empty())
    }

    /// NULL as the source writes it: an unquoted empty CSV field, JSON null.
    pub fn is_null(&self) -> bool {
        matches!(self, Cell::Null | Cell::Json(serde_json::Value::Null))
    }
}

#[derive(Debug)]
pub struct Record {
    pub origin: Origin,
    pub fields: Vec<(String, Cell)>,
}

impl Record {
    pub fn get(&self, name: &str) -> Option<&Cell> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }
}

pub struct Source {
    /// Every field name the source provides (the CSV header, or the union of
    /// the JSON records' keys).
    pub header: Vec<String>,
    /// Where the header is: line 1 of a CSV file, the list in a JSON file.
    pub header_origin: Origin,
    pub records: Vec<Record>,
}

/// How a table's file is read, as its `[[table]]` entry says.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shape<'a> {
    /// JSON: the pointer to the list of records.
    pub records: Option<&'a str>,
    /// CSV: the field delimiter (a comma unless the manifest says).
    pub delimiter: Option<u8>,
}

pub fn read(path: &Path, display: &str, shape: Shape<'_>) -> Result<Source, SeedError> {
    let records = shape.records;
    let bytes = std::fs::read(path).map_err(|e| {
        SeedError::new(
            ErrorKind::Io,
            Origin::file(display),
            format!("cannot read the file: {e}"),
        )
    })?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        read_json(&bytes, display, records.unwrap_or(""))
    } else if records.is_some() {
        Err(SeedError::new(
            ErrorKind::Manifest,
            Origin::file(display),
            "`records` (a JSON pointer) is given, but the file is not .json",
        ))
    } else {
        read_csv(&bytes, display, shape.delimiter.unwrap_or(b','))
    }
}

fn read_csv(bytes: &[u8], display: &str, delimiter: u8) -> Result<Source, SeedError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .delimiter(delimiter)
        .from_reader(bytes);
    let csv_error = |e: csv::Error| {
        let line = e.position().map(|p| p.line()).unwrap_or(1);
        let message = match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!("the row has {len} fields, the header has {expected_len}"),
            csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8".to_owned(),
            _ => format!("malformed CSV: {e}"),
        };
        SeedError::new(
            ErrorKind::MalformedCsv,
            Origin::line(display, line),
            message,
        )
    };
    let header: Vec<String> = reader
        .headers()
        .map_err(csv_error)?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let header_origin = Origin::line(display, 1);
    if header.iter().all(String::is_empty) {
        return Err(SeedError::new(
            ErrorKind::MalformedCsv,
            header_origin,
            "the file has no header row",
        ));
    }
    for (i, h) in header.iter().enumerate() {
        if h.is_empty() {
            return Err(SeedError::new(
                ErrorKind::MalformedCsv,
                header_origin,
                format!("header field {} is empty", i + 1),
            ));
        }
        if header[..i].contains(h) {
            return Err(SeedError::new(
                ErrorKind::MalformedCsv,
                header_origin,
                format!("header field {h:?} appears twice"),
            ));
        }
    }
    let mut records = Vec::new();
    let mut row = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {
                // After a CRLF the reader places a record at the LF that
                // ends the previous line (and counts its line from there).
                let (mut line, mut start) = row
                    .position()
                    .map_or((0, 0), |p| (p.line(), p.byte() as usize));
                while let Some(b @ (b'\r' | b'\n')) = bytes.get(start) {
                    line += u64::from(*b == b'\n');
                    start += 1;
                }
                // The reader drops the quotes: an empty field is looked at
                // again in the raw bytes, to tell `""` from nothing.
                let quoted = if row.iter().any(str::is_empty) {
                    quoted_fields(&bytes[start..], delimiter, row.len())
                } else {
                    Vec::new()
                };
                records.push(Record {
                    origin: Origin::line(display, line),
                    fields: header
                        .iter()
                        .zip(row.iter())
                        .enumerate()
                        .map(|(i, (h, v))| {
                            let cell = if v.is_empty() && !quoted.get(i).copied().unwrap_or(false) {
                                Cell::Null
                            } else {
                                Cell::Text(v.to_owned())
                            };
                            (h.clone(), cell)
                        })
                        .collect(),
                });
            }
            Err(e) => return Err(csv_error(e)),
        }
    }
    Ok(Source {
        header,
        header_origin,
        records,
    })
}

/// For each of the first `n` fields of the CSV record at the start of
/// `raw` (a record the reader has already accepted), whether it was quoted.
fn quoted_fields(raw: &[u8], delimiter: u8, n: usize) -> Vec<bool> {
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while out.len() < n {
        let quoted = raw.get(i) == Some(&b'"');
        out.push(quoted);
        if quoted {
            i += 1;
            // Up to the closing quote; a doubled quote is a quote inside.
            while i < raw.len() {
                if raw[i] == b'"' {
                    if raw.get(i + 1) == Some(&b'"') {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                i += 1;
            }
        }
        while i < raw.len() && raw[i] != delimiter && raw[i] != b'\n' && raw[i] != b'\r' {
            i += 1;
        }
        if raw.get(i) != Some(&delimiter) {
            break;
        }
        i += 1;
    }
    out
}

fn pointer_to_path(pointer: &str) -> String {
    let mut path = String::from("$");
    for part in pointer.split('/').skip(1) {
        let part = part.replace("~1", "/").replace("~0", "~");
        if part.bytes().all(|b| b.is_ascii_digit()) && !part.is_empty() {
            path.push_str(&format!("[{part}]"));
        } else {
            path.push('.');
            path.push_str(&part);
        }
    }
    path
}

fn read_json(bytes: &[u8], display: &str, pointer: &str) -> Result<Source, SeedError> {
    let doc: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        SeedError::new(
            ErrorKind::MalformedJson,
            Origin::line(display, e.line() as u64),
            format!("malformed JSON: {e}"),
        )
    })?;
    let list_path = pointer_to_path(pointer);
    let list_origin = Origin {
        file: display.to_owned(),
        position: Position::JsonPath(list_path.clone()),
    };
    let list = doc
        .pointer(pointer)
        .ok_or_else(|| {
            SeedError::new(
                ErrorKind::MalformedJson,
                list_origin.clone(),
                format!("the records list `{pointer}` (seed.toml `records`) is not in the file"),
            )
        })?
        .as_array()
        .ok_or_else(|| {
            SeedError::new(
                ErrorKind::MalformedJson,
                list_origin.clone(),
                "the records (seed.toml `records`) are not a JSON list",
            )
        })?;
    let mut header: Vec<String> = Vec::new();
    let mut records = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let origin = Origin {
            file: display.to_owned(),
            position: Position::JsonPath(format!("{list_path}[{i}]")),
        };
        let object = item.as_object().ok_or_else(|| {
            SeedError::new(
                ErrorKind::MalformedJson,
                origin.clone(),
                format!("a record must be a JSON object, found {item}"),
            )
        })?;
        for key in object.keys() {
            if !header.contains(key) {
                header.push(key.clone());
            }
        }
        records.push(Record {
            origin,
            fields: object
                .iter()
                .map(|(k, v)| (k.clone(), Cell::Json(v.clone())))
                .collect(),
        });
    }
    Ok(Source {
        header,
        header_origin: list_origin,
        records,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(csv: &str, delimiter: u8) -> Vec<Vec<String>> {
        read_csv(csv.as_bytes(), "t.csv", delimiter)
            .unwrap()
            .records
            .iter()
            .map(|r| {
                r.fields
                    .iter()
                    .map(|(_, c)| match c {
                        Cell::Null => "NULL".to_owned(),
                        other => format!("[{}]", other.key_text()),
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn an_unquoted_empty_field_is_null_and_a_quoted_one_the_empty_string() {
        let got = cells(
            "a,b,c\n,\"\",x\n\"\",,\"say \"\"hi\"\"\"\r\n\"a,b\",\"\",\n",
            b',',
        );
        assert_eq!(
            got,
            vec![
                vec!["NULL", "[]", "[x]"],
                vec!["[]", "NULL", "[say \"hi\"]"],
                vec!["[a,b]", "[]", "NULL"],
            ]
        );
    }

    #[test]
    fn lines_are_counted_alike_after_lf_and_crlf() {
        for csv in ["a\n1\n2\n\n3\n", "a\r\n1\r\n2\r\n\r\n3\r\n"] {
            let lines: Vec<String> = read_csv(csv.as_bytes(), "t.csv", b',')
                .unwrap()
                .records
                .iter()
                .map(|r| r.origin.to_string())
                .collect();
            assert_eq!(lines, ["t.csv:2", "t.csv:3", "t.csv:5"], "{csv:?}");
        }
    }

    #[test]
    fn a_semicolon_export_reads_with_its_delimiter() {
        let got = cells("a;b\n1,5;\"\"\n;x\n", b';');
        assert_eq!(got, vec![vec!["[1,5]", "[]"], vec!["NULL", "[x]"]]);
    }
}
