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
            return print_json(r, !r.images.as_ref().is_some_and(|i| i.failed()));
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
        if let Some(images) = &r.images {
            println!("  images: {}", images_line(images));
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
            return print_json(r, r.clean());
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
        if let Some(images) = &r.images {
            if images.matches() {
                println!(
                    "  images: all {} match the build in {}",
                    images.files, images.static_dir
                );
            } else {
                println!(
                    "  images: {} of {} differ from the build in {}:",
                    images.mismatches.len(),
                    images.files,
                    images.static_dir
                );
                for m in &images.mismatches {
                    println!("    {}", m.detail);
                }
            }
        }
    }

    /// `seedbake images`: what was written where.
    pub fn images(&self, d: &seedbake::ops::images::Delivery) {
        if self.json {
            let mut v = serde_json::to_value(d).expect("reports serialise");
            v["ok"] = (!d.failed()).into();
            println!("{v}");
        } else if !d.failed() {
            println!("images: {}", images_line(d));
        }
        if let seedbake::ops::images::Delivery::Failed { error, .. } = d {
            eprintln!("error: {error}");
        }
    }

    /// After a committed load whose images could not be written: one line
    /// that says the database stays as committed, and how to finish.
    pub fn images_failed(&self, r: &LoadReport) {
        let Some(seedbake::ops::images::Delivery::Failed {
            static_dir, error, ..
        }) = &r.images
        else {
            return;
        };
        let verb = match r.mode {
            seedbake::ops::Mode::Reset => "reset",
            seedbake::ops::Mode::Seed => "seeded",
        };
        eprintln!(
            "error: {} was {verb} and committed (fingerprint {}), but the images were not written: {error}. \
             The database keeps the new seed (nothing was rolled back); write the images with \
             `seedbake images --static-dir {static_dir}` once the folder is writable",
            r.target, r.fingerprint
        );
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
            eprintln!(
                "  will drop {} objects holding {} rows:",
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

/// How the images of a load or of `seedbake images` went, in one line.
fn images_line(d: &seedbake::ops::images::Delivery) -> String {
    use seedbake::ops::images::Delivery;
    match d {
        Delivery::Delivered {
            static_dir,
            written,
            unchanged,
            ..
        } => format!("{written} written, {unchanged} unchanged in {static_dir}"),
        Delivery::Skipped { reason } => format!("not written ({reason})"),
        Delivery::Failed { static_dir, .. } => {
            format!("NOT written to {static_dir} (see the error below)")
        }
    }
}

/// One report as one JSON object on stdout, with `ok` added.
fn print_json(report: &impl serde::Serialize, ok: bool) {
    let mut v = serde_json::to_value(report).expect("reports serialise");
    v["ok"] = ok.into();
    println!("{v}");
}
