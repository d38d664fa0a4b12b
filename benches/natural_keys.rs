//! What references by natural key cost the build: 100,000 rows naming one
//! of 40,000 parents by name, and 100,000 rows naming each other (listed in
//! any order), each compiled beside the same seed with the ids written in,
//! so that the difference is the lookups.
//!
//! Run: `cargo bench --bench natural_keys` (figures in the README).

use std::path::Path;
use std::time::Instant;

const PARENTS: u64 = 40_000;
const CHILDREN: u64 = 100_000;

/// A small deterministic generator, so every run benches the same seed.
struct XorShift(u64);
impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

const SCHEMA: &str = "CREATE TABLE verein (
    id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    PRIMARY KEY (id)
);
CREATE TABLE mitglied (
    id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    verein_id INTEGER NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(verein_id) REFERENCES verein (id)
);
CREATE TABLE kategorie (
    id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    ober_id INTEGER,
    PRIMARY KEY (id),
    FOREIGN KEY(ober_id) REFERENCES kategorie (id)
);
";

/// The seed in `dir`: `by_key` names the parents, otherwise their ids are
/// written in (the same rows either way).
fn write_seed(dir: &Path, by_key: bool) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("schema.sql"), SCHEMA).unwrap();
    let columns = if by_key {
        "[table.columns]\nverein_id = { ref = \"verein\", from = [\"verein\"] }\n"
    } else {
        ""
    };
    let self_columns = if by_key {
        "[table.columns]\nober_id = { ref = \"kategorie\", from = [\"ober\"] }\n"
    } else {
        ""
    };
    std::fs::write(
        dir.join("seed.toml"),
        format!(
            "schema = \"schema.sql\"\ndefault_profile = \"full\"\n\n[profiles]\n\
             full = [\"verein\", \"mitglied\", \"kategorie\"]\n\n\
             [[table]]\nname = \"verein\"\nfile = \"verein.csv\"\nkey = [\"name\"]\n\n\
             [[table]]\nname = \"mitglied\"\nfile = \"mitglied.csv\"\n{columns}\n\
             [[table]]\nname = \"kategorie\"\nfile = \"kategorie.csv\"\nkey = [\"name\"]\n{self_columns}"
        ),
    )
    .unwrap();

    let mut rng = XorShift(0x5eed_ba4e);
    let mut out = String::from("name\n");
    for p in 1..=PARENTS {
        out.push_str(&format!("Verein {p:05}\n"));
    }
    std::fs::write(dir.join("verein.csv"), out).unwrap();

    let mut out = String::from(if by_key {
        "name,verein\n"
    } else {
        "name,verein_id\n"
    });
    for c in 1..=CHILDREN {
        let p = 1 + rng.below(PARENTS);
        if by_key {
            out.push_str(&format!("Mitglied {c},Verein {p:05}\n"));
        } else {
            out.push_str(&format!("Mitglied {c},{p}\n"));
        }
    }
    std::fs::write(dir.join("mitglied.csv"), out).unwrap();

    // Three rows in ten name a parent listed after them.
    let mut out = String::from(if by_key {
        "name,ober\n"
    } else {
        "name,ober_id\n"
    });
    for c in 1..=CHILDREN {
        let parent = match rng.below(10) {
            0 => None,
            1..=3 if c < CHILDREN => Some(c + 1 + rng.below(CHILDREN - c)),
            _ if c > 1 => Some(1 + rng.below(c - 1)),
            _ => None,
        };
        match (parent, by_key) {
            (None, _) => out.push_str(&format!("Kategorie {c},\n")),
            (Some(p), true) => out.push_str(&format!("Kategorie {c},Kategorie {p}\n")),
            (Some(p), false) => out.push_str(&format!("Kategorie {c},{p}\n")),
        }
    }
    std::fs::write(dir.join("kategorie.csv"), out).unwrap();
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes filter flags; this harness takes none.
    let runs: usize = std::env::var("SEEDBAKE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let tmp = tempfile::tempdir().unwrap();
    let by_key = tmp.path().join("by-key/seed-data");
    let by_id = tmp.path().join("by-id/seed-data");
    write_seed(&by_key, true);
    write_seed(&by_id, false);

    let time = |dir: &Path| {
        let started = Instant::now();
        let compiled = seedbake_compiler::compile(dir).unwrap_or_else(|e| panic!("{e}"));
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        (elapsed, compiled)
    };
    // Both seeds hold the same rows, or the difference is not the lookups.
    let (_, a) = time(&by_key);
    let (_, b) = time(&by_id);
    for (ta, tb) in a.tables.iter().zip(&b.tables) {
        assert_eq!(ta.rows, tb.rows, "{} differs", ta.name());
    }
    drop((a, b));

    let (mut keyed, mut plain) = (Vec::new(), Vec::new());
    for i in 0..runs {
        eprintln!("run {}/{runs}", i + 1);
        keyed.push(time(&by_key).0);
        plain.push(time(&by_id).0);
    }
    let (k, p) = (median(keyed), median(plain));
    println!(
        "\n| compile (`seedbake_compiler::compile`, {PARENTS} verein + {CHILDREN} mitglied + {CHILDREN} kategorie rows) | median ms | runs |"
    );
    println!("|---|---|---|");
    println!(
        "| parents named by natural key (200,000 lookups, 100,000 of them into the table's own rows) | {k:.0} | {runs} |"
    );
    println!("| the same rows with the ids written in | {p:.0} | {runs} |");
    println!("| **the lookups' cost** | **{:.0}** | |", k - p);
}
