//! Reading a table's records from CSV or JSON, each with the place it came
//! from.

use std::path::Path;

use crate::error::{ErrorKind, Origin, Position, SeedError};

/// One raw field value before it is checked against its column.
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    Json(serde_json::Value),
}

impl Cell {
    /// The text a natural key or reference compares: CSV text as written,
    /// JSON strings unquoted, other JSON values in their JSON form.
    pub fn key_text(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Json(serde_json::Value::String(s)) => s.clone(),
            Cell::Json(serde_json::Value::Null) => String::new(),
            Cell::Json(v) => v.to_string(),
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, Cell::Text(t) if t.is_empty())
            || matches!(self, Cell::Json(serde_json::Value::Null))
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

pub fn read(path: &Path, display: &str, records: Option<&str>) -> Result<Source, SeedError> {
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
        read_csv(&bytes, display)
    }
}

fn read_csv(bytes: &[u8], display: &str) -> Result<Source, SeedError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
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
                let line = row.position().map_or(0, |p| p.line());
                records.push(Record {
                    origin: Origin::line(display, line),
                    fields: header
                        .iter()
                        .zip(row.iter())
                        .map(|(h, v)| (h.clone(), Cell::Text(v.to_owned())))
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
