//! The content fingerprint: a SHA-256 over a database's schema and rows in a
//! canonical order and encoding.
//!
//! The build computes it by running this very code on the in-memory database
//! it checked the seed in; `verify` runs it on the target. One function on
//! both sides means the fingerprint cannot disagree with itself.

use sha2::{Digest, Sha256};

use crate::hex::encode as hex;
use crate::schema::{self, Rows, TableScan};
use crate::value::encode_value;

/// Where seedbake records what it loaded; not part of the fingerprint.
pub const META_TABLE: &str = "_seedbake";

/// Where seedbake records the migrations a database has; not part of the
/// fingerprint either (a reset records them, a migrate adds to them).
pub const MIGRATIONS_TABLE: &str = "_seedbake_migrations";

/// Whether a table is seedbake's own bookkeeping rather than the app's.
pub fn is_seedbake_table(name: &str) -> bool {
    name == META_TABLE || name == MIGRATIONS_TABLE
}

/// The name under which the schema objects' digest is listed.
pub const SCHEMA_ENTRY: &str = "(schema)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Hex SHA-256 over every entry below.
    pub total: String,
    /// `(schema)` first, then every table by name, each with its hex digest.
    pub entries: Vec<(String, String)>,
}

impl Fingerprint {
    /// Names of the entries that differ between two fingerprints, including
    /// those only one of them has.
    pub fn differing(&self, other: &Fingerprint) -> Vec<String> {
        let mut names: Vec<&String> = self
            .entries
            .iter()
            .chain(other.entries.iter())
            .map(|(n, _)| n)
            .collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .filter(|n| self.entry(n) != other.entry(n))
            .cloned()
            .collect()
    }

    pub fn entry(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.as_str())
    }
}

fn put_str(h: &mut Sha256, s: &str) {
    h.update((s.len() as u64).to_le_bytes());
    h.update(s.as_bytes());
}

/// Fingerprints every application table of `conn` (all but the engine's own
/// and seedbake's metadata table). `excluded` lists `(table, column)` pairs
/// left out: credentials, which operators rotate after a reset.
pub async fn compute<R: Rows + ?Sized>(
    conn: &R,
    excluded: &[(&str, &str)],
) -> Result<Fingerprint, R::Error> {
    let mut entries = vec![(SCHEMA_ENTRY.to_owned(), schema_digest(conn).await?)];
    let tables = fingerprinted_tables(conn).await?;
    let kept: Vec<Vec<&schema::Column>> = tables.iter().map(|t| kept(t, excluded)).collect();
    let scans = table_scans(&tables, excluded);
    conn.prefetch(&scans).await?;
    let mut scans = scans.iter();
    for (table, columns) in tables.iter().zip(&kept) {
        // A table with no column left is read not at all.
        let scan = (!columns.is_empty()).then(|| scans.next()).flatten();
        entries.push((table.name.clone(), table_digest(conn, columns, scan).await?));
    }
    let mut h = Sha256::new();
    h.update(b"seedbake-fingerprint-v1");
    for (name, digest) in &entries {
        put_str(&mut h, name);
        put_str(&mut h, digest);
    }
    Ok(Fingerprint {
        total: hex(&h.finalize()),
        entries,
    })
}

/// The tables the fingerprint reads, by name: every application table
/// but seedbake's own.
pub async fn fingerprinted_tables<R: Rows + ?Sized>(
    conn: &R,
) -> Result<Vec<schema::Table>, R::Error> {
    let mut tables = schema::table_columns(conn).await?;
    tables.retain(|t| !is_seedbake_table(&t.name));
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(tables)
}

/// How the fingerprint reads `tables` (from [`fingerprinted_tables`]):
/// each one's covered columns in key order, a table with no column left
/// not at all. A server can be asked for them ahead, as they are here.
pub fn table_scans<'t>(
    tables: &'t [schema::Table],
    excluded: &[(&str, &str)],
) -> Vec<TableScan<'t>> {
    tables
        .iter()
        .map(|table| (table, kept(table, excluded)))
        .filter(|(_, columns)| !columns.is_empty())
        .map(|(table, columns)| TableScan {
            table: &table.name,
            columns: columns.iter().map(|c| c.name.as_str()).collect(),
            order: table.order_columns(),
        })
        .collect()
}

/// The schema as the fingerprint sees it: every application object's type,
/// name, table and SQL in canonical spelling, by type and name. Two
/// databases have the same schema exactly when these lists are equal (the
/// migrations are proven against `schema.sql` with it, and drift is found
/// with it; [`schema::first_difference`] names what differs).
pub async fn canonical_schema<R: Rows + ?Sized>(
    conn: &R,
) -> Result<Vec<schema::SchemaObject>, R::Error> {
    Ok(canonical_objects(schema::objects(conn).await?))
}

/// [`canonical_schema`] from objects already read with [`schema::objects`].
pub fn canonical_objects(mut objects: Vec<schema::SchemaObject>) -> Vec<schema::SchemaObject> {
    objects.retain(|o| !schema::is_internal(&o.name) && !is_seedbake_table(&o.table));
    objects.sort_by(|a, b| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)));
    for o in &mut objects {
        o.sql = schema::canonical_sql(&o.sql);
    }
    objects
}

/// The digest of [`canonical_schema`].
async fn schema_digest<R: Rows + ?Sized>(conn: &R) -> Result<String, R::Error> {
    Ok(schema_objects_digest(&canonical_schema(conn).await?))
}

/// The digest of a schema as [`canonical_schema`] gives it.
pub fn schema_objects_digest(objects: &[schema::SchemaObject]) -> String {
    let mut h = Sha256::new();
    for o in objects {
        for part in [&o.kind, &o.name, &o.table, &o.sql] {
            put_str(&mut h, part);
        }
    }
    hex(&h.finalize())
}

/// The columns of `table` the fingerprint covers: all but the excluded.
fn kept<'t>(table: &'t schema::Table, excluded: &[(&str, &str)]) -> Vec<&'t schema::Column> {
    table
        .columns
        .iter()
        .filter(|c| !excluded.contains(&(table.name.as_str(), c.name.as_str())))
        .collect()
}

/// A table's digest: its covered `columns` (names and types), then the
/// rows `scan` reads, in key order (`None`: no column to read).
async fn table_digest<R: Rows + ?Sized>(
    conn: &R,
    columns: &[&schema::Column],
    scan: Option<&TableScan<'_>>,
) -> Result<String, R::Error> {
    let mut h = Sha256::new();
    for c in columns {
        put_str(&mut h, &c.name);
        put_str(&mut h, &schema::canonical_type(&c.declared_type));
    }
    let Some(scan) = scan else {
        return Ok(hex(&h.finalize()));
    };
    let mut blocks = Blocks::new(h);
    let mut buf = Vec::with_capacity(Blocks::SIZE + 256);
    let read = conn
        .each_table_row(scan, &mut |r| {
            for v in r {
                encode_value(&mut buf, *v);
            }
            if buf.len() >= Blocks::SIZE {
                blocks.hash(&mut buf);
            }
            Ok(())
        })
        .await;
    let h = blocks.finish(&buf);
    read?;
    Ok(hex(&h.finalize()))
}

/// Rows hashed in blocks (the digest is the same as row by row), and a big
/// table's blocks on a thread of their own, so the engine reads the next
/// rows while the last ones are hashed. A table of less than one block
/// never starts the thread.
struct Blocks {
    hasher: Option<Sha256>,
    worker: Option<Worker>,
    /// No thread could be started: every block is hashed here.
    inline: bool,
}

struct Worker {
    full: std::sync::mpsc::SyncSender<Vec<u8>>,
    empty: std::sync::mpsc::Receiver<Vec<u8>>,
    done: std::thread::JoinHandle<Sha256>,
}

impl Blocks {
    const SIZE: usize = 64 << 10;

    fn new(hasher: Sha256) -> Blocks {
        Blocks {
            hasher: Some(hasher),
            worker: None,
            inline: false,
        }
    }

    /// Hands a full block over and leaves an empty buffer in its place.
    fn hash(&mut self, buf: &mut Vec<u8>) {
        if self.worker.is_none() && !self.inline {
            self.start();
        }
        let Some(worker) = &self.worker else {
            self.hasher.as_mut().expect("hashing here").update(&*buf);
            buf.clear();
            return;
        };
        let next = worker
            .empty
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(Self::SIZE + 256));
        let block = std::mem::replace(buf, next);
        buf.clear();
        // A send fails only if the thread died; `finish` reports it.
        let _ = worker.full.send(block);
    }

    fn start(&mut self) {
        let mut h = self
            .hasher
            .take()
            .expect("a hasher until the worker has it");
        let kept = h.clone();
        let (full, blocks) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
        let (give_back, empty) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("fingerprint".into())
            .spawn(move || {
                for block in blocks {
                    h.update(&block);
                    let _ = give_back.send(block);
                }
                h
            });
        match spawned {
            Ok(done) => self.worker = Some(Worker { full, empty, done }),
            Err(_) => {
                self.hasher = Some(kept);
                self.inline = true;
            }
        }
    }

    /// The hasher, with the last partial block added.
    fn finish(self, rest: &[u8]) -> Sha256 {
        let mut h = match self.worker {
            None => self.hasher.expect("a hasher without a worker"),
            Some(Worker { full, done, .. }) => {
                drop(full);
                done.join().expect("the hasher thread panicked")
            }
        };
        h.update(rest);
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks on the thread, blocks hashed here (what happens when no thread
    /// can be had) and one plain hasher give the same digest.
    #[test]
    fn blocks_hash_as_one_stream_on_a_thread_or_here() {
        let rows: Vec<Vec<u8>> = (0..40_000u32)
            .map(|i| format!("row {i} {}", "x".repeat((i % 17) as usize)).into_bytes())
            .collect();
        let digest = |mut blocks: Blocks| {
            let mut buf = Vec::new();
            for r in &rows {
                buf.extend_from_slice(r);
                if buf.len() >= Blocks::SIZE {
                    blocks.hash(&mut buf);
                }
            }
            blocks.finish(&buf).finalize()
        };
        let mut plain = Sha256::new();
        for r in &rows {
            plain.update(r);
        }
        let plain = plain.finalize();
        let threaded = Blocks::new(Sha256::new());
        let here = Blocks {
            inline: true,
            ..Blocks::new(Sha256::new())
        };
        assert_eq!(digest(threaded), plain);
        assert_eq!(digest(here), plain);
    }
}
