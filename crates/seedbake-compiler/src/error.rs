//! Seed-data errors: each one names where (file and line, or JSON path), what
//! field, and why, because its `Display` is the whole message a developer
//! sees when the build refuses their seed.

use std::fmt;

/// The class of a seed-data error, so tests (and tools) can tell them apart
/// without matching on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// `seed.toml` is malformed or names something that does not exist.
    Manifest,
    /// `schema.sql` does not run.
    Schema,
    /// A file is missing or unreadable.
    Io,
    /// A CSV file is malformed (ragged rows, bad quoting, not UTF-8).
    MalformedCsv,
    /// A JSON file is malformed or not shaped as the manifest says.
    MalformedJson,
    /// A source field that no column or mapping uses.
    UnknownColumn,
    /// A NOT NULL column without a value.
    MissingValue,
    /// A value that does not fit the column's declared type.
    Type,
    /// A UNIQUE index or primary key violated.
    Unique,
    /// A CHECK constraint violated.
    Check,
    /// A foreign key that points at no row.
    ForeignKey,
    /// A natural-key reference that matches no row (or a duplicate key).
    Reference,
    /// An image file the seed names is missing.
    MissingImage,
    /// An image path that cannot be delivered below the static folder, or
    /// two different images for one path.
    ImagePath,
    /// A profile that leaves out a table its tables refer to.
    Profile,
    /// A file in `migrations/` that is not a `<version>_<name>.sql` file.
    MigrationFile,
    /// Two migrations with the same version.
    MigrationVersion,
    /// A migration that does not run (its line named).
    MigrationSql,
    /// The migrations do not make the schema `schema.sql` declares.
    MigrationDrift,
    /// A `[[reference]]` table that cannot be synced by its key.
    ReferenceData,
    /// Loading the seed would evaluate a clock or randomness (a DEFAULT the
    /// seed gives no value, a trigger the load fires).
    Nondeterministic,
}

/// Where in the seed a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    File,
    Line(u64),
    /// A JSONPath-like location such as `$.figuren[3].name`.
    JsonPath(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file as the user knows it, e.g. `seed-data/verbaende.csv`.
    pub file: String,
    pub position: Position,
}

impl Origin {
    pub fn file(file: impl Into<String>) -> Self {
        Origin {
            file: file.into(),
            position: Position::File,
        }
    }

    pub fn line(file: impl Into<String>, line: u64) -> Self {
        Origin {
            file: file.into(),
            position: Position::Line(line),
        }
    }

    /// The same place, one field deeper (JSON only; CSV fields share a line).
    pub fn field(&self, name: &str) -> Origin {
        match &self.position {
            Position::JsonPath(p) => Origin {
                file: self.file.clone(),
                position: Position::JsonPath(format!("{p}.{name}")),
            },
            _ => self.clone(),
        }
    }

    /// How another place in the same file is named in a message ("line 2").
    pub fn short(&self) -> String {
        match &self.position {
            Position::File => self.file.clone(),
            Position::Line(l) => format!("line {l}"),
            Position::JsonPath(p) => p.clone(),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.position {
            Position::File => write!(f, "{}", self.file),
            Position::Line(l) => write!(f, "{}:{l}", self.file),
            Position::JsonPath(p) => write!(f, "{} {p}", self.file),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct SeedError {
    pub kind: ErrorKind,
    pub origin: Origin,
    /// `table.column` the error is about, when there is one.
    pub field: Option<String>,
    pub message: String,
}

impl SeedError {
    pub fn new(kind: ErrorKind, origin: Origin, message: impl Into<String>) -> Self {
        SeedError {
            kind,
            origin,
            field: None,
            message: message.into(),
        }
    }

    pub fn with_field(mut self, table: &str, column: &str) -> Self {
        self.field = Some(format!("{table}.{column}"));
        self
    }
}

/// An engine failure that is no fault of the seed, placed at `origin`.
pub(crate) fn internal(origin: Origin, e: libsql::Error) -> SeedError {
    SeedError::new(
        ErrorKind::Schema,
        origin,
        seedbake_core::schema::engine_message(&e),
    )
}
