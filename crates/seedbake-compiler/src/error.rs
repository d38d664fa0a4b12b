//! Seed-data errors: each one names where (file and line, or JSON path), what
//! field, and why, because its `Display` is the whole message a developer
//! sees when the build refuses their seed.

use std::cmp::Ordering;
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

/// How many errors one build reports; the rest are only counted, so a file
/// that is wrong throughout still gives a message one can read.
pub const MAX_ERRORS: usize = 50;

/// A seed-data error. A build that finds several bad cells refuses them
/// together: the first (by file, place and field) is this error itself, the
/// others follow it in [`errors`](Self::errors), and `Display` shows them
/// all, one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SeedError {
    pub kind: ErrorKind,
    pub origin: Origin,
    /// `table.column` the error is about, when there is one.
    pub field: Option<String>,
    pub message: String,
    /// Boxed: an error travels in every `Result` of the compiler, mostly
    /// alone.
    more: Option<Box<More>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct More {
    /// The build's other errors, in order, up to [`MAX_ERRORS`] in all.
    errors: Vec<SeedError>,
    /// How many errors the build found beyond those kept.
    left_out: usize,
}

impl fmt::Display for SeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, e) in self.errors().enumerate() {
            let sep = if n == 0 { "" } else { "\n" };
            write!(f, "{sep}{}: {}", e.origin, e.message)?;
        }
        match self.left_out() {
            0 => Ok(()),
            n => write!(f, "\nand {n} more"),
        }
    }
}

impl SeedError {
    pub fn new(kind: ErrorKind, origin: Origin, message: impl Into<String>) -> Self {
        SeedError {
            kind,
            origin,
            field: None,
            message: message.into(),
            more: None,
        }
    }

    /// Every error the build reports, this one first, in order.
    pub fn errors(&self) -> impl Iterator<Item = &SeedError> {
        let more = self.more.iter().flat_map(|m| &m.errors);
        std::iter::once(self).chain(more)
    }

    /// How many errors the build found beyond [`MAX_ERRORS`], unreported.
    pub fn left_out(&self) -> usize {
        self.more.as_ref().map_or(0, |m| m.left_out)
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

/// A build's errors as one: sorted by file, place in the file and field,
/// the first [`MAX_ERRORS`] kept and the rest counted. `None` for none.
pub(crate) fn gathered(errors: Vec<SeedError>) -> Option<SeedError> {
    let mut all: Vec<SeedError> = Vec::with_capacity(errors.len());
    let mut left_out = 0;
    for mut e in errors {
        let more = e.more.take();
        all.push(e);
        if let Some(more) = more {
            left_out += more.left_out;
            all.extend(more.errors);
        }
    }
    all.sort_by(|a, b| {
        a.origin
            .file
            .cmp(&b.origin.file)
            .then_with(|| place_order(&a.origin.position, &b.origin.position))
            .then_with(|| a.field.cmp(&b.field))
    });
    left_out += all.len().saturating_sub(MAX_ERRORS);
    all.truncate(MAX_ERRORS);
    let mut kept = all.into_iter();
    let mut first = kept.next()?;
    let errors: Vec<SeedError> = kept.collect();
    if !errors.is_empty() || left_out > 0 {
        first.more = Some(Box::new(More { errors, left_out }));
    }
    Some(first)
}

/// The file as a whole first, then lines by number, then JSON paths with
/// their indices compared as numbers (`[9]` before `[10]`), as they stand
/// in the file.
fn place_order(a: &Position, b: &Position) -> Ordering {
    let rank = |p: &Position| match p {
        Position::File => 0,
        Position::Line(_) => 1,
        Position::JsonPath(_) => 2,
    };
    match (a, b) {
        (Position::Line(x), Position::Line(y)) => x.cmp(y),
        (Position::JsonPath(x), Position::JsonPath(y)) => natural_order(x, y),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn natural_order(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, ra) = a.split_at(digits(a));
                let (nb, rb) = b.split_at(digits(b));
                let na = &na[na.iter().take_while(|&&c| c == b'0').count()..];
                let nb = &nb[nb.iter().take_while(|&&c| c == b'0').count()..];
                match na.len().cmp(&nb.len()).then_with(|| na.cmp(nb)) {
                    Ordering::Equal => (a, b) = (ra, rb),
                    other => return other,
                }
            }
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            _ => (a, b) = (&a[1..], &b[1..]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(origin: Origin, field: &str) -> SeedError {
        SeedError::new(ErrorKind::Type, origin, "bad").with_field("t", field)
    }

    #[test]
    fn errors_are_sorted_by_file_place_and_field() {
        let json = |p: &str| Origin {
            file: "b.json".into(),
            position: Position::JsonPath(p.into()),
        };
        let e = gathered(vec![
            at(json("$.x[10].a"), "a"),
            at(Origin::line("a.csv", 12), "z"),
            at(json("$.x[9].b"), "b"),
            at(Origin::line("a.csv", 3), "y"),
            at(Origin::line("a.csv", 3), "b"),
            at(json("$.x[9]"), "a"),
        ])
        .unwrap();
        let places: Vec<String> = e
            .errors()
            .map(|e| format!("{} {}", e.origin, e.field.as_deref().unwrap()))
            .collect();
        assert_eq!(
            places,
            [
                "a.csv:3 t.b",
                "a.csv:3 t.y",
                "a.csv:12 t.z",
                "b.json $.x[9] t.a",
                "b.json $.x[9].b t.b",
                "b.json $.x[10].a t.a",
            ]
        );
        assert_eq!(e.left_out(), 0);
        assert_eq!(e.to_string().lines().count(), 6, "{e}");
        assert!(gathered(Vec::new()).is_none());
    }

    #[test]
    fn beyond_the_cap_errors_are_counted() {
        let many: Vec<SeedError> = (1..=MAX_ERRORS as u64 + 7)
            .rev()
            .map(|l| at(Origin::line("a.csv", l), "c"))
            .collect();
        let e = gathered(many).unwrap();
        assert_eq!(e.errors().count(), MAX_ERRORS);
        assert_eq!(e.left_out(), 7);
        assert_eq!(e.origin, Origin::line("a.csv", 1));
        assert!(e.to_string().ends_with("\nand 7 more"), "{e}");
        // Gathering again (a later error joins) keeps the count.
        let again = gathered(vec![e, at(Origin::line("0.csv", 1), "c")]).unwrap();
        assert_eq!(again.errors().count(), MAX_ERRORS);
        assert_eq!(again.left_out(), 8);
        assert_eq!(again.origin.file, "0.csv");
    }
}
