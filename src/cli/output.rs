//! The one place that writes to the terminal: text or `--json` on stdout,
//! warnings and errors on stderr, a progress bar only on a terminal.

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use seedbake::ops::{AdminPassword, LoadReport, Observer, VerifyReport};
use seedbake::seed::SEED;

pub struct Output {
    json: bool,
    verbose: bool,
}

impl Output {
    pub fn new(json: bool, verbose: bool) -> Self {
        Output { json, verbose }
    }

    pub fn error(&self, message: &str) {
        if self.json {
            println!("{}", json!({ "ok": false, "error": message }));
        }
        eprintln!("error: {message}");
    }

    pub fn warn(&self, message: &str) {
        eprintln!("warning: {message}");
    }

    pub fn load(&self, r: &LoadReport) {
        if r.admin_password == AdminPassword::Locked
            && let Some(admin) = SEED.admin
        {
            self.warn(&format!(
                "the {} account {:?} has no usable password (production, and INITIAL_ADMIN_PASSWORD is not set): \
                 run `seedbake init-admin` to set one",
                admin.table, admin.key
            ));
        }
        if r.admin_password == AdminPassword::SeedDefault
            && let Some(admin) = SEED.admin
        {
            self.warn(&format!(
                "the {} account {:?} has the seed's development password; set INITIAL_ADMIN_PASSWORD before a reset \
                 anywhere but on your own machine",
                admin.table, admin.key
            ));
        }
        if self.json {
            return print_json(r, true);
        }
        let verb = match r.mode {
            seedbake::ops::Mode::Reset => "reset",
            seedbake::ops::Mode::Seed => "seeded",
        };
        println!("{verb} {} with profile {}", r.target, r.profile);
        if !r.dropped.is_empty() {
            let names: Vec<String> = r
                .dropped
                .iter()
                .map(|o| format!("{} {}", o.kind, o.name))
                .collect();
            if self.verbose {
                println!("  dropped {}", names.join(", "));
            } else {
                println!("  dropped {} objects", names.len());
            }
        }
        println!("  loaded {} rows into {} tables", r.rows, r.tables.len());
        if self.verbose {
            for (t, n) in &r.tables {
                println!("    {t:<24} {n:>9}");
            }
        }
        if r.verified {
            println!("  fingerprint {} (verified before commit)", r.fingerprint);
        } else {
            println!("  fingerprint {} recorded", r.fingerprint);
        }
        if let Some(t) = &r.traffic {
            println!(
                "  {} requests, {} bytes sent, {} received",
                t.requests, t.bytes_sent, t.bytes_received
            );
        }
        if r.admin_password == AdminPassword::Provided {
            println!("  admin password set from INITIAL_ADMIN_PASSWORD");
        }
        if self.verbose {
            let phases: Vec<String> = r
                .phases
                .iter()
                .map(|(n, ms)| format!("{n} {ms:.1}"))
                .collect();
            println!("  phases (ms): {}", phases.join(", "));
        }
        println!("  done in {:.1} ms", r.elapsed.as_secs_f64() * 1000.0);
    }

    pub fn verify(&self, r: &VerifyReport) {
        if self.json {
            return print_json(r, r.matches);
        }
        if r.matches {
            println!(
                "{} matches the build (profile {}, fingerprint {})",
                r.target, r.profile, r.actual
            );
        } else {
            println!(
                "{} differs from the build (profile {})",
                r.target, r.profile
            );
            println!("  expected {}", r.expected);
            println!("  found    {}", r.actual);
            println!("  differs in: {}", r.differing.join(", "));
        }
        match &r.recorded {
            Some(rec) => println!(
                "  last loaded {} by seedbake {} (profile {}, fingerprint {})",
                rec.applied_at, rec.seedbake_version, rec.profile, rec.fingerprint
            ),
            None => println!("  no seedbake load is recorded in this database"),
        }
    }

    pub fn info(&self) {
        if self.json {
            let tables: Vec<_> = SEED
                .tables
                .iter()
                .map(|t| json!({ "name": t.name, "rows": t.row_count, "columns": t.columns.len() }))
                .collect();
            let profiles: Vec<_> = SEED
                .profiles
                .iter()
                .map(|p| json!({ "name": p.name, "tables": p.tables, "rows": p.row_count(), "fingerprint": p.fingerprint }))
                .collect();
            let images: Vec<_> = SEED
                .images
                .iter()
                .map(|i| json!({ "path": i.path, "media_type": i.media_type, "bytes": i.bytes.len() }))
                .collect();
            println!(
                "{}",
                json!({
                    "ok": true,
                    "seedbake_version": env!("CARGO_PKG_VERSION"),
                    "default_profile": SEED.default_profile,
                    "tables": tables,
                    "profiles": profiles,
                    "images": images,
                })
            );
            return;
        }
        println!("seedbake {} — embedded seed", env!("CARGO_PKG_VERSION"));
        println!("tables (insert order):");
        for t in SEED.tables {
            println!("  {:<24} {:>9} rows", t.name, t.row_count);
        }
        println!("profiles:");
        for p in SEED.profiles {
            let default = if p.name == SEED.default_profile {
                " (default)"
            } else {
                ""
            };
            println!(
                "  {}{default}: {} tables, {} rows",
                p.name,
                p.tables.len(),
                p.row_count()
            );
            println!("    fingerprint {}", p.fingerprint);
        }
        if !SEED.images.is_empty() {
            println!(
                "images: {} embedded ({} bytes)",
                SEED.images.len(),
                SEED.images.iter().map(|i| i.bytes.len()).sum::<usize>()
            );
        }
    }
}

/// A progress bar for long loads; invisible otherwise.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(total: u64, visible: bool) -> Self {
        let bar = visible.then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{msg:20} [{bar:40}] {pos}/{len} rows ({eta})")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar
        });
        Progress { bar }
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Observer for Progress {
    fn table_started(&mut self, table: &str, _rows: usize) {
        if let Some(bar) = &self.bar {
            bar.set_message(table.to_owned());
        }
    }

    fn rows_loaded(&mut self, _table: &str, rows: usize) -> Result<(), String> {
        if let Some(bar) = &self.bar {
            bar.inc(rows as u64);
        }
        Ok(())
    }
}

impl Output {
    pub fn note(&self, message: &str) {
        eprintln!("{message}");
    }

    pub fn plan(
        &self,
        plan: &seedbake::ops::Plan,
        env: &seedbake::ops::Environment,
        verb: &str,
        what: &str,
        backup: Option<&std::path::Path>,
        dry_run: bool,
    ) {
        if self.json && dry_run {
            println!(
                "{}",
                json!({ "ok": true, "dry_run": true, "command": verb, "environment": env, "plan": plan,
                        "will": what, "backup": backup.map(|b| b.display().to_string()) })
            );
            return;
        }
        let (kind, why) = match env {
            seedbake::ops::Environment::Production(w) => ("PRODUCTION", w),
            seedbake::ops::Environment::Development(w) => ("development", w),
        };
        eprintln!("{verb} {} — {kind} ({why})", plan.target);
        if plan.existing.is_empty() {
            eprintln!("  it is empty now");
        } else {
            // migrate changes what it planned and keeps the rest.
            let (fate, holding) = if verb == "migrate" {
                ("now holds", "with")
            } else {
                ("will drop", "holding")
            };
            eprintln!(
                "  {fate} {} objects {holding} {} rows:",
                plan.existing.len(),
                plan.rows()
            );
            for (k, name, rows) in &plan.existing {
                match rows {
                    Some(n) => eprintln!("    {k:<8} {name:<28} {n:>9} rows"),
                    None => eprintln!("    {k:<8} {name}"),
                }
            }
        }
        eprintln!("  will {what}");
        match backup {
            Some(b) => eprintln!("  backup first to {}", b.display()),
            None => eprintln!("  no backup"),
        }
        if dry_run {
            eprintln!("dry run: nothing was changed");
        }
    }

    pub fn dumped(&self, r: &seedbake::ops::DumpReport, file: Option<&std::path::Path>) {
        if let Some(file) = file {
            if self.json {
                let mut v = serde_json::to_value(r).expect("reports serialise");
                v["ok"] = true.into();
                v["file"] = file.display().to_string().into();
                println!("{v}");
            } else {
                println!(
                    "dumped {} ({} rows, {} tables) to {} ({} bytes)",
                    r.target,
                    r.rows,
                    r.tables.len(),
                    file.display(),
                    r.bytes
                );
            }
        } else if self.verbose {
            eprintln!("dumped {} rows, {} bytes", r.rows, r.bytes);
        }
    }

    pub fn restored(&self, r: &seedbake::ops::RestoreReport) {
        if self.json {
            return print_json(r, true);
        }
        println!(
            "restored {}: dropped {} objects, ran {} statements",
            r.target,
            r.dropped.len(),
            r.statements
        );
    }

    pub fn admin(&self, r: &seedbake::ops::AdminOutcome) {
        if self.json {
            return print_json(r, true);
        }
        let verb = if r.created { "created" } else { "updated" };
        println!(
            "{verb} the admin account {:?} on {} (role and password set)",
            r.username, r.target
        );
    }
}

/// One report as one JSON object on stdout, with `ok` added.
fn print_json(report: &impl serde::Serialize, ok: bool) {
    let mut v = serde_json::to_value(report).expect("reports serialise");
    v["ok"] = ok.into();
    println!("{v}");
}

/// How many keys a migrate report lists per kind of change (all with -v).
const LISTED_KEYS: usize = 10;

impl Output {
    /// A migrate's plan (a dry run: the migration done and rolled back).
    /// Text goes to stdout for a dry run; otherwise to stderr, before the
    /// confirmation, so that stdout keeps only the result.
    pub fn migrate_plan(&self, r: &seedbake::ops::MigrateReport, dry_run: bool) {
        if self.json && dry_run {
            return print_json(r, true);
        }
        let text = self.migrate_text(r, true);
        if dry_run {
            print!("{text}");
            println!("dry run: nothing was changed");
        } else {
            eprint!("{text}");
        }
    }

    /// What a migrate did.
    pub fn migrated(&self, r: &seedbake::ops::MigrateReport) {
        if self.json {
            return print_json(r, true);
        }
        print!("{}", self.migrate_text(r, false));
    }

    fn migrate_text(&self, r: &seedbake::ops::MigrateReport, plan: bool) -> String {
        use std::fmt::Write;
        let mut o = String::new();
        let version = |v: Option<i64>| v.map_or("none".to_owned(), |v| v.to_string());
        let head = if plan { "plan: migrate" } else { "migrated" };
        if !r.changes {
            let _ = writeln!(
                o,
                "{} is up to date (version {}): no pending migration, reference data as the seed's; nothing to do",
                r.target,
                version(r.to)
            );
            return o;
        }
        match r.from {
            Some(from) => {
                let _ = writeln!(
                    o,
                    "{head} {}: version {from} -> {}",
                    r.target,
                    version(r.to)
                );
            }
            None => {
                let _ = writeln!(
                    o,
                    "{head} {} (made without migrations): -> version {}",
                    r.target,
                    version(r.to)
                );
            }
        }
        if let Some(a) = &r.adopted {
            let how = if a.by_baseline {
                "by --baseline"
            } else {
                "automatically"
            };
            let _ = writeln!(
                o,
                "  adopt{} at version {} ({}) {how}: {}",
                if plan { "" } else { "ed" },
                a.version,
                a.migration,
                a.reason
            );
        }
        for m in &r.applied {
            let _ = writeln!(
                o,
                "  {} migration {:04}_{}",
                if plan { "apply" } else { "applied" },
                m.version,
                m.name
            );
        }
        if r.applied.is_empty() {
            let _ = writeln!(o, "  no pending migration");
        }
        if !r.reference.is_empty() {
            let _ = writeln!(o, "  reference data (matched by natural key):");
        }
        for t in &r.reference {
            if !t.changes() && t.kept.is_empty() {
                let _ = writeln!(
                    o,
                    "    {:<16} as the seed's ({} rows)",
                    t.table, t.unchanged
                );
                continue;
            }
            let _ = writeln!(
                o,
                "    {:<16} {} inserted, {} updated, {} deleted, {} kept, {} unchanged",
                t.table,
                t.inserted.len(),
                t.updated.len(),
                t.deleted.len(),
                t.kept.len(),
                t.unchanged
            );
            let limit = if self.verbose {
                usize::MAX
            } else {
                LISTED_KEYS
            };
            let mut lines: Vec<String> = Vec::new();
            lines.extend(t.inserted.iter().map(|k| format!("+ {k}")));
            lines.extend(
                t.updated
                    .iter()
                    .map(|u| format!("~ {} ({})", u.key, u.columns.join(", "))),
            );
            lines.extend(t.deleted.iter().map(|k| format!("- {k}")));
            lines.extend(
                t.kept
                    .iter()
                    .map(|k| format!("= {}: kept, {}", k.key, k.reason)),
            );
            let total = lines.len();
            for line in lines.into_iter().take(limit) {
                let _ = writeln!(o, "        {line}");
            }
            if total > limit {
                let _ = writeln!(o, "        … and {} more (-v lists all)", total - limit);
            }
        }
        if let Some(t) = &r.traffic {
            let _ = writeln!(
                o,
                "  {} requests, {} bytes sent, {} received",
                t.requests, t.bytes_sent, t.bytes_received
            );
        }
        if !plan {
            let _ = writeln!(o, "  done in {:.1} ms", r.elapsed.as_secs_f64() * 1000.0);
        }
        o
    }

    pub fn status(&self, r: &seedbake::ops::StatusReport) {
        if self.json {
            return print_json(r, r.in_step);
        }
        let label = |v: i64, name: &str| format!("{v:04}_{name}");
        if r.in_step {
            println!(
                "{} is in step with the build (version {})",
                r.target,
                r.recorded.unwrap_or(0)
            );
        } else {
            println!("{} differs from the build", r.target);
        }
        match (r.recorded, r.latest) {
            (_, None) => println!("  this build has no migrations"),
            (Some(v), Some(latest)) => println!(
                "  migrations: at version {v}, the build's latest is {latest} ({} applied)",
                r.applied.len()
            ),
            (None, Some(latest)) if r.empty => println!(
                "  migrations: the database is empty; `seedbake migrate` creates the schema (up to version {latest})"
            ),
            (None, Some(_)) => println!("  migrations: none recorded (made without migrations)"),
        }
        for m in &r.pending {
            println!("    pending   {}", label(m.version, &m.name));
        }
        for m in &r.out_of_order {
            println!(
                "    skipped   {} (not applied, yet a later version is)",
                label(m.version, &m.name)
            );
        }
        for m in &r.unknown {
            println!(
                "    unknown   {} (applied {} by seedbake {}; this build does not have it)",
                label(m.version, &m.name),
                m.applied_at,
                m.seedbake_version
            );
        }
        for m in &r.modified {
            println!(
                "    modified  {} (applied {} with checksum {}…, the build's is {}…)",
                label(m.version, &m.name),
                m.applied_at,
                &m.recorded_checksum[..m.recorded_checksum.len().min(12)],
                &m.build_checksum[..m.build_checksum.len().min(12)]
            );
        }
        if let Some(a) = &r.adoptable {
            println!(
                "  `seedbake migrate` adopts it at version {} ({}): {}",
                a.version, a.migration, a.reason
            );
        }
        if let Some(why) = &r.not_adoptable {
            println!("  cannot be adopted: {why}");
        }
        if let Some(d) = &r.drift {
            println!("  schema drift: {d}");
        }
        if !r.reference.is_empty() {
            println!("  reference data:");
        }
        for t in &r.reference {
            match &t.not_compared {
                Some(why) => println!("    {:<16} not compared: {why}", t.table),
                None if !t.changes() && t.kept.is_empty() => {
                    println!("    {:<16} as the seed's ({} rows)", t.table, t.unchanged)
                }
                None => {
                    println!(
                        "    {:<16} {} missing, {} changed, {} extra ({} to delete, {} kept)",
                        t.table,
                        t.inserted.len(),
                        t.updated.len(),
                        t.deleted.len() + t.kept.len(),
                        t.deleted.len(),
                        t.kept.len()
                    );
                    if self.verbose {
                        for k in &t.inserted {
                            println!("        missing {k}");
                        }
                        for u in &t.updated {
                            println!("        changed {} ({})", u.key, u.columns.join(", "));
                        }
                        for k in &t.deleted {
                            println!("        extra   {k}");
                        }
                        for k in &t.kept {
                            println!("        kept    {}: {}", k.key, k.reason);
                        }
                    }
                }
            }
        }
    }
}

impl Output {
    /// What `migration new` wrote.
    pub fn drafted(&self, r: &seedbake::ops::DraftReport) {
        for note in &r.notes {
            self.warn(note);
        }
        if self.json {
            return print_json(r, true);
        }
        println!(
            "wrote {} (a draft: review it, then `cargo build` proves it)",
            r.file.display()
        );
        for line in r.sql.lines() {
            println!("  {line}");
        }
        match &r.remaining {
            None => println!("with it, the migrations make the schema schema.sql declares"),
            Some(d) => println!("not there yet: {d}; finish the draft by hand"),
        }
    }
}
