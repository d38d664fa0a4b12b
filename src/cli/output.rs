//! The one place that writes to the terminal: text or `--json` on stdout,
//! warnings and errors on stderr, a progress bar only on a terminal.
//!
//! Nothing here panics on a failed write (`println!` would). Standard
//! output failing is remembered and decides the exit code in
//! [`Output::finish`]: a closed pipe (`seedbake dump | head`) only stops the
//! printing, quietly; anything else (a full disk) is an error, exit 7.
//! With `--json`, exactly one JSON object is printed, at the end, whatever
//! happened: the command's report, or `{"ok": false, "error": …}`, or both.

use std::cell::RefCell;
use std::io::Write;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use seedbake::ops::{AdminPassword, LoadReport, Observer, VerifyReport};
use seedbake::seed;

use super::exit;

/// A line on standard output (text mode), never panicking.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => { $out.line(format_args!($($arg)*)) };
}

/// A line on standard error, never panicking.
macro_rules! tell {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

pub struct Output {
    json: bool,
    verbose: bool,
    /// `--json`: the object printed at the end.
    object: RefCell<Option<Value>>,
    /// The first failure writing standard output.
    stdout_error: RefCell<Option<std::io::Error>>,
}

/// A clap error (or `--help`, `--version`): printed as clap prints it, plus
/// the one JSON object when `--json` was asked for. Returns the exit code.
/// What the user typed (an unexpected argument, a refused value) is shown
/// as [`seedbake::database::display_url`] shows a URL: a database URL put
/// where it does not belong must not bring its password along.
pub fn arguments_refused(mut e: clap::Error, json: bool) -> u8 {
    use clap::error::ContextValue;
    let typed: Vec<_> = e
        .context()
        .filter_map(|(kind, value)| match value {
            ContextValue::String(s) => Some((kind, ContextValue::String(shown(s)))),
            ContextValue::Strings(v) => Some((
                kind,
                ContextValue::Strings(v.iter().map(|s| shown(s)).collect()),
            )),
            _ => None,
        })
        .collect();
    for (kind, value) in typed {
        e.insert(kind, value);
    }
    if !e.use_stderr() {
        // --help and --version: their text is the output.
        return match e.print() {
            Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
                tell!("error: cannot write to standard output: {err}");
                exit::OUTPUT
            }
            _ => exit::OK,
        };
    }
    let _ = e.print();
    if json {
        let rendered = e.render().to_string();
        let first = rendered.lines().next().unwrap_or("").trim();
        let message = first.strip_prefix("error: ").unwrap_or(first);
        let _ = writeln!(
            std::io::stdout().lock(),
            "{}",
            json!({ "ok": false, "error": message })
        );
    }
    exit::USAGE
}

fn shown(typed: &str) -> String {
    seedbake::database::display_url(typed)
}

impl Output {
    pub fn new(json: bool, verbose: bool) -> Self {
        Output {
            json,
            verbose,
            object: RefCell::new(None),
            stdout_error: RefCell::new(None),
        }
    }

    /// One line on standard output; after a failure, nothing more.
    fn line(&self, args: std::fmt::Arguments<'_>) {
        self.raw(format_args!("{args}\n"));
    }

    /// Text on standard output as it is (lines of its own), its failure
    /// kept like a line's.
    fn raw(&self, args: std::fmt::Arguments<'_>) {
        if self.stdout_error.borrow().is_some() {
            return;
        }
        if let Err(e) = std::io::stdout().lock().write_fmt(args) {
            *self.stdout_error.borrow_mut() = Some(e);
        }
    }

    /// Standard output for bulk text (a dump), buffered; its failures are
    /// remembered like those of every other line.
    pub fn stdout_writer(&self) -> StdoutWriter<'_> {
        StdoutWriter {
            out: self,
            inner: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()),
        }
    }

    pub fn stdout_failed(&self) -> bool {
        self.stdout_error.borrow().is_some()
    }

    /// `--json`: the command's report becomes the object printed at the end.
    fn set(&self, report: &impl serde::Serialize) {
        let v = serde_json::to_value(report).unwrap_or_else(|e| json!({ "report": e.to_string() }));
        *self.object.borrow_mut() = Some(v);
    }

    /// Ends the run: the error line, the JSON object, and the exit code,
    /// which standard output's failure may change.
    pub fn finish(&self, code: u8, error: Option<&str>) -> u8 {
        if let Some(message) = error {
            tell!("error: {message}");
        }
        if self.json {
            let mut object = self.object.borrow_mut().take().unwrap_or_else(|| json!({}));
            if !object.is_object() {
                object = json!({ "report": object });
            }
            object["ok"] = (code == exit::OK).into();
            if let Some(message) = error {
                object["error"] = message.into();
            }
            say!(self, "{object}");
        }
        if self.stdout_error.borrow().is_none()
            && let Err(e) = std::io::stdout().lock().flush()
        {
            *self.stdout_error.borrow_mut() = Some(e);
        }
        match self.stdout_error.borrow_mut().take() {
            None => code,
            Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => code,
            // A failed command has said why already, on one line.
            Some(_) if error.is_some() => code,
            Some(e) => {
                tell!(
                    "error: cannot write to standard output: {e}; what was printed there is incomplete"
                );
                if code == exit::OK { exit::OUTPUT } else { code }
            }
        }
    }

    pub fn warn(&self, message: &str) {
        tell!("warning: {message}");
    }

    pub fn load(&self, r: &LoadReport) {
        self.backed_up(r.backup.as_ref());
        self.locked_accounts(&r.locked_accounts);
        if r.admin_password == AdminPassword::SeedDefault
            && let Some(admin) = seed::get().admin
        {
            self.warn(&format!(
                "the {} account {:?} has the seed's development password; set INITIAL_ADMIN_PASSWORD before a reset \
                 anywhere but on your own machine",
                admin.table, admin.key
            ));
        }
        if self.json {
            return self.set(r);
        }
        let verb = match r.mode {
            seedbake::ops::Mode::Reset => "reset",
            seedbake::ops::Mode::Seed => "seeded",
        };
        say!(self, "{verb} {} with profile {}", r.target, r.profile);
        if !r.dropped.is_empty() {
            let names: Vec<String> = r
                .dropped
                .iter()
                .map(|o| format!("{} {}", o.kind, o.name))
                .collect();
            if self.verbose {
                say!(self, "  dropped {}", names.join(", "));
            } else {
                say!(self, "  dropped {} objects", names.len());
            }
        }
        say!(
            self,
            "  loaded {} rows into {} tables",
            r.rows,
            r.tables.len()
        );
        if self.verbose {
            for (t, n) in &r.tables {
                say!(self, "    {t:<24} {n:>9}");
            }
        }
        if r.verified {
            say!(
                self,
                "  fingerprint {} (verified before commit)",
                r.fingerprint
            );
        } else {
            say!(self, "  fingerprint {} recorded", r.fingerprint);
        }
        if let Some(t) = &r.traffic {
            say!(
                self,
                "  {} requests, {} bytes sent, {} received",
                t.requests,
                t.bytes_sent,
                t.bytes_received
            );
        }
        if r.admin_password == AdminPassword::Provided {
            say!(self, "  admin password set from INITIAL_ADMIN_PASSWORD");
        }
        if let Some(images) = &r.images {
            say!(self, "  images: {}", images_line(images));
        }
        if self.verbose {
            let phases: Vec<String> = r
                .phases
                .iter()
                .map(|(n, ms)| format!("{n} {ms:.1}"))
                .collect();
            say!(self, "  phases (ms): {}", phases.join(", "));
        }
        say!(self, "  done in {:.1} ms", r.elapsed.as_secs_f64() * 1000.0);
    }

    pub fn verify(&self, r: &VerifyReport) {
        if self.json {
            return self.set(r);
        }
        if r.matches {
            say!(
                self,
                "{} matches the build (profile {}, fingerprint {})",
                r.target,
                r.profile,
                r.actual
            );
        } else {
            say!(
                self,
                "{} differs from the build (profile {})",
                r.target,
                r.profile
            );
            say!(self, "  expected {}", r.expected);
            say!(self, "  found    {}", r.actual);
            say!(self, "  differs in: {}", r.differing.join(", "));
            for d in &r.differences {
                let row = d
                    .row
                    .as_deref()
                    .map_or(String::new(), |r| format!(" row {r}"));
                let column = d
                    .column
                    .as_deref()
                    .map_or(String::new(), |c| format!(", column {c}"));
                say!(self, "    {}{row}{column}: {}", d.table, d.what);
            }
            if let Some(why) = &r.differences_unread {
                say!(self, "    (the rows that differ could not be read: {why})");
            }
        }
        match &r.recorded {
            Some(rec) => say!(
                self,
                "  last loaded {} by seedbake {} (profile {}, fingerprint {})",
                rec.applied_at,
                rec.seedbake_version,
                rec.profile,
                rec.fingerprint
            ),
            None => say!(self, "  no seedbake load is recorded in this database"),
        }
        if let Some(images) = &r.images {
            if images.matches() {
                say!(
                    self,
                    "  images: all {} match the build in {}",
                    images.files,
                    images.static_dir
                );
            } else {
                say!(
                    self,
                    "  images: {} of {} differ from the build in {}:",
                    images.mismatches.len(),
                    images.files,
                    images.static_dir
                );
                for m in &images.mismatches {
                    say!(self, "    {}", m.detail);
                }
            }
        }
    }

    /// `seedbake images`: what was written where.
    pub fn images(&self, d: &seedbake::ops::images::Delivery) {
        if self.json {
            self.set(d);
        } else if !d.failed() {
            say!(self, "images: {}", images_line(d));
        }
        if let seedbake::ops::images::Delivery::Failed { error, .. } = d {
            tell!("error: {error}");
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
        tell!(
            "error: {} was {verb} and committed (fingerprint {}), but the images were not written: {error}. \
             The database keeps the new seed (nothing was rolled back); write the images with \
             `{} images --static-dir {static_dir}` once the folder is writable",
            r.target,
            r.fingerprint,
            seedbake::program::name()
        );
    }

    pub fn info(&self) {
        if self.json {
            let tables: Vec<_> = seed::get()
                .tables
                .iter()
                .map(|t| json!({ "name": t.name, "rows": t.row_count, "columns": t.columns.len() }))
                .collect();
            let profiles: Vec<_> = seed::get()
                .profiles
                .iter()
                .map(|p| json!({ "name": p.name, "tables": p.tables, "rows": p.row_count(), "fingerprint": p.fingerprint }))
                .collect();
            let images: Vec<_> = seed::get()
                .images
                .iter()
                .map(|i| json!({ "path": i.path, "media_type": i.media_type, "bytes": i.bytes.len() }))
                .collect();
            let app = seed::get().app;
            self.set(&json!({
                "seedbake_version": env!("CARGO_PKG_VERSION"),
                "app": {
                    "name": app.name,
                    "database": app.database,
                    "production_env": app.production_env,
                },
                "admin": seed::get().admin.is_some(),
                "migrations": seed::get().migrations.versions.len(),
                "default_profile": seed::get().default_profile,
                "tables": tables,
                "profiles": profiles,
                "images": images,
            }));
            return;
        }
        let app = seed::get().app;
        match app.name {
            Some(name) => say!(
                self,
                "seedbake {} — embedded seed of {name}",
                env!("CARGO_PKG_VERSION")
            ),
            None => say!(
                self,
                "seedbake {} — embedded seed",
                env!("CARGO_PKG_VERSION")
            ),
        }
        if let Some(database) = app.database {
            say!(self, "default database: {database}");
        }
        if !app.production_env.is_empty() {
            say!(
                self,
                "production when set: {}",
                app.production_env.join(", ")
            );
        }
        say!(self, "tables (insert order):");
        for t in seed::get().tables {
            say!(self, "  {:<24} {:>9} rows", t.name, t.row_count);
        }
        say!(self, "profiles:");
        for p in seed::get().profiles {
            let default = if p.name == seed::get().default_profile {
                " (default)"
            } else {
                ""
            };
            say!(
                self,
                "  {}{default}: {} tables, {} rows",
                p.name,
                p.tables.len(),
                p.row_count()
            );
            say!(self, "    fingerprint {}", p.fingerprint);
        }
        if !seed::get().images.is_empty() {
            say!(
                self,
                "images: {} embedded ({} bytes)",
                seed::get().images.len(),
                seed::get()
                    .images
                    .iter()
                    .map(|i| i.bytes.len())
                    .sum::<usize>()
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
        tell!("{message}");
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
            self.set(
                &json!({ "dry_run": true, "command": verb, "environment": env, "plan": plan,
                              "will": what, "backup": backup.map(|b| b.display().to_string()) }),
            );
            return;
        }
        let (kind, why) = match env {
            seedbake::ops::Environment::Production(w) => ("PRODUCTION", w),
            seedbake::ops::Environment::Development(w) => ("development", w),
        };
        tell!("{verb} {} — {kind} ({why})", plan.target);
        if plan.existing.is_empty() {
            tell!("  it is empty now");
        } else {
            // migrate changes what it planned and keeps the rest.
            let (fate, holding) = if verb == "migrate" {
                ("now holds", "with")
            } else {
                ("will drop", "holding")
            };
            tell!(
                "  {fate} {} objects {holding} {} rows:",
                plan.existing.len(),
                plan.rows()
            );
            for (k, name, rows) in &plan.existing {
                match rows {
                    Some(n) => tell!("    {k:<8} {name:<28} {n:>9} rows"),
                    None => tell!("    {k:<8} {name}"),
                }
            }
        }
        tell!("  will {what}");
        match backup {
            Some(b) => tell!(
                "  backup to {}, taken under the write lock right before the change: no other write can come in between",
                b.display()
            ),
            None => tell!("  no backup"),
        }
        if dry_run {
            tell!("dry run: nothing was changed");
        }
    }

    pub fn extracted(&self, r: &seedbake::ops::ExtractReport) {
        if self.json {
            self.set(r);
            return;
        }
        say!(
            self,
            "extracted {} ({} rows, {} tables) to {}\nfingerprint: {}",
            r.target,
            r.rows,
            r.tables.len(),
            r.folder,
            r.fingerprint
        );
        if r.complete {
            say!(
                self,
                "a build of {} verifies this database as it was read",
                r.folder
            );
        } else {
            say!(
                self,
                "only the tables chosen were written: a build of {} has their rows and the schema, fingerprint {}",
                r.folder,
                r.folder_fingerprint
            );
        }
        if !r.new_tables.is_empty() {
            say!(
                self,
                "tables the seed did not know, added to seed.toml: {}",
                r.new_tables.join(", ")
            );
        }
        if r.manifest_rewritten {
            say!(
                self,
                "seed.toml was written anew (its comments are not kept)"
            );
        }
        if r.placeholder_passwords > 0 {
            say!(
                self,
                "{} passwords written as the placeholder {:?}: put the seed's own back before building",
                r.placeholder_passwords,
                seedbake::ops::extract::PASSWORD_PLACEHOLDER
            );
        }
    }

    pub fn dumped(&self, r: &seedbake::ops::DumpReport, file: Option<&std::path::Path>) {
        if let Some(file) = file {
            if self.json {
                self.set(r);
                if let Some(object) = self.object.borrow_mut().as_mut() {
                    object["file"] = file.display().to_string().into();
                }
            } else {
                say!(
                    self,
                    "dumped {} ({} rows, {} tables) to {} ({} bytes)",
                    r.target,
                    r.rows,
                    r.tables.len(),
                    file.display(),
                    r.bytes
                );
            }
        } else if self.verbose {
            tell!("dumped {} rows, {} bytes", r.rows, r.bytes);
        }
    }

    pub fn diagram_written(
        &self,
        file: &std::path::Path,
        format: &str,
        tables: usize,
        bytes: usize,
    ) {
        if self.json {
            self.set(&json!({
                "file": file.display().to_string(),
                "format": format,
                "tables": tables,
                "bytes": bytes,
            }));
        } else {
            say!(
                self,
                "wrote the {format} diagram of {tables} tables to {} ({bytes} bytes)",
                file.display()
            );
        }
    }

    pub fn restored(&self, r: &seedbake::ops::RestoreReport) {
        self.backed_up(r.backup.as_ref());
        if self.json {
            return self.set(r);
        }
        say!(
            self,
            "restored {}: dropped {} objects, ran {} statements",
            r.target,
            r.dropped.len(),
            r.statements
        );
    }

    pub fn admin(&self, r: &seedbake::ops::AdminOutcome) {
        if self.json {
            return self.set(r);
        }
        if r.password_only {
            return say!(
                self,
                "set the password of the account {:?} on {} (nothing else changed)",
                r.username,
                r.target
            );
        }
        let verb = if r.created { "created" } else { "updated" };
        say!(
            self,
            "{verb} the admin account {:?} on {} (role and password set)",
            r.username,
            r.target
        );
    }
}

impl Output {
    /// Where the backup taken under the write lock went.
    fn backed_up(&self, backup: Option<&seedbake::ops::BackupReport>) {
        if let Some(b) = backup {
            self.note(&format!(
                "backup written to {} under the write lock ({} rows in {} tables, {} bytes): the database as it was \
                 before this command; restore it with `{} restore {}`",
                b.path,
                b.rows,
                b.tables,
                b.bytes,
                seedbake::program::name(),
                b.path
            ));
        }
    }

    /// The seeded accounts left without a usable password, and how to give
    /// each one (never the passwords themselves).
    fn locked_accounts(&self, locked: &[seedbake::ops::LockedAccount]) {
        if locked.is_empty() {
            return;
        }
        let names: Vec<&str> = locked.iter().map(|a| a.account.as_str()).collect();
        self.warn(&format!(
            "{} seeded accounts have no usable password ({}): this is production, and their development passwords \
             are published in the seed, so each got a random password nobody knows. Set a password with:",
            locked.len(),
            names.join(", ")
        ));
        let admin = seed::get().admin;
        for a in locked {
            match admin {
                // The seed's admin account: init-admin grants it its role.
                Some(admin) if admin.table == a.table && admin.key == a.account => {
                    tell!(
                        "  {} init-admin --username {}",
                        seedbake::program::name(),
                        a.account
                    )
                }
                // Any other account keeps its role: only its password is set.
                Some(admin) if admin.table == a.table => tell!(
                    "  {} init-admin --username {} --password-only",
                    seedbake::program::name(),
                    a.account
                ),
                _ => tell!(
                    "  ({} {}: not an account init-admin manages; set its credentials yourself)",
                    a.table,
                    a.account
                ),
            }
        }
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

/// Standard output as a writer for bulk text; see [`Output::stdout_writer`].
pub struct StdoutWriter<'o> {
    out: &'o Output,
    inner: std::io::BufWriter<std::io::Stdout>,
}

impl StdoutWriter<'_> {
    fn remember<T>(&mut self, result: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &result {
            let mut seen = self.out.stdout_error.borrow_mut();
            if seen.is_none() {
                *seen = Some(std::io::Error::new(e.kind(), e.to_string()));
            }
        }
        result
    }
}

impl Write for StdoutWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let result = self.inner.write(buf);
        self.remember(result)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let result = self.inner.flush();
        self.remember(result)
    }
}

/// How many keys a migrate report lists per kind of change (with -v: all,
/// with their values).
const LISTED_KEYS: usize = 10;

mod values;

impl Output {
    /// A migrate's plan (a dry run: the migration done and rolled back).
    /// Text goes to stdout for a dry run; otherwise to stderr, before the
    /// confirmation, so that stdout keeps only the result.
    pub fn migrate_plan(&self, r: &seedbake::ops::MigrateReport, dry_run: bool) {
        // With nothing to do, the plan is all that happens.
        if self.json && (dry_run || !r.changes) {
            return self.set(r);
        }
        let text = self.migrate_text(r, true);
        if dry_run {
            self.raw(format_args!("{text}"));
            say!(self, "dry run: nothing was changed");
        } else {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
    }

    /// What a migrate did.
    pub fn migrated(&self, r: &seedbake::ops::MigrateReport) {
        self.backed_up(r.backup.as_ref());
        if self.json {
            return self.set(r);
        }
        self.raw(format_args!("{}", self.migrate_text(r, false)));
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
            if let Some(start) = r.start_migrations {
                let _ = writeln!(o, "  {start}");
            }
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
            if !t.staged.is_empty() {
                let _ = writeln!(
                    o,
                    "      {} give their unique values to one another: each moves aside to a temporary value first",
                    t.staged.join(", ")
                );
            }
            if self.verbose {
                for line in values::changes_table(t) {
                    let _ = writeln!(o, "        {line}");
                }
                for k in &t.kept {
                    let _ = writeln!(o, "        = {}: kept, {}", k.key, k.reason);
                }
                continue;
            }
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
            for line in lines.into_iter().take(LISTED_KEYS) {
                let _ = writeln!(o, "        {line}");
            }
            if total > LISTED_KEYS {
                let _ = writeln!(
                    o,
                    "        … and {} more (-v lists all, with their values)",
                    total - LISTED_KEYS
                );
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
            return self.set(r);
        }
        let label = |v: i64, name: &str| format!("{v:04}_{name}");
        if r.in_step && r.latest.is_none() {
            say!(
                self,
                "{} is in step with the build (its schema is schema.sql's)",
                r.target
            );
        } else if r.in_step {
            say!(
                self,
                "{} is in step with the build (version {})",
                r.target,
                r.recorded.unwrap_or(0)
            );
        } else {
            say!(self, "{} differs from the build", r.target);
        }
        match (r.recorded, r.latest) {
            _ if r.records_untrusted => say!(
                self,
                "  migrations: its records cannot be read as seedbake writes them (see below)"
            ),
            (_, None) => say!(
                self,
                "  migrations: {}",
                r.start_migrations.unwrap_or("this build has none")
            ),
            (Some(v), Some(latest)) => say!(
                self,
                "  migrations: at version {v}, the build's latest is {latest} ({} applied)",
                r.applied.len()
            ),
            (None, Some(latest)) if r.empty => say!(
                self,
                "  migrations: the database is empty; `seedbake migrate` creates the schema (up to version {latest})"
            ),
            (None, Some(_)) => say!(
                self,
                "  migrations: none recorded (made without migrations)"
            ),
        }
        for m in &r.pending {
            say!(self, "    pending   {}", label(m.version, &m.name));
        }
        for m in &r.out_of_order {
            say!(
                self,
                "    skipped   {} (not applied, yet a later version is)",
                label(m.version, &m.name)
            );
        }
        for m in &r.unknown {
            say!(
                self,
                "    unknown   {} (applied {} by seedbake {}; this build does not have it)",
                label(m.version, &m.name),
                m.applied_at,
                m.seedbake_version
            );
        }
        for m in &r.modified {
            say!(
                self,
                "    modified  {} (applied {} with checksum {}…, the build's is {}…)",
                label(m.version, &m.name),
                m.applied_at,
                &m.recorded_checksum[..m.recorded_checksum.len().min(12)],
                &m.build_checksum[..m.build_checksum.len().min(12)]
            );
        }
        if let Some(a) = &r.adoptable {
            say!(
                self,
                "  `{} migrate` adopts it at version {} ({}): {}",
                seedbake::program::name(),
                a.version,
                a.migration,
                a.reason
            );
        }
        if let Some(why) = &r.not_adoptable {
            say!(self, "  cannot be adopted: {why}");
        }
        if let Some(d) = &r.drift {
            say!(self, "  schema drift: {d}");
        }
        for why in &r.refusals {
            // Drift and a database that cannot be adopted are told above.
            let told = [&r.drift, &r.not_adoptable]
                .into_iter()
                .flatten()
                .any(|t| why.starts_with(t.as_str()));
            say!(
                self,
                "  `{} migrate` would refuse it (exit 9): {}",
                seedbake::program::name(),
                if told { "see above" } else { why }
            );
        }
        for why in &r.after_migrations {
            say!(
                self,
                "  `{} migrate` would refuse it (exit 9) after the pending migrations, unless they change these rows: {why}",
                seedbake::program::name()
            );
        }
        if !r.reference.is_empty() {
            say!(self, "  reference data:");
        }
        for t in &r.reference {
            match &t.not_compared {
                Some(why) => say!(self, "    {:<16} not compared: {why}", t.table),
                None if !t.changes() && t.kept.is_empty() => {
                    say!(
                        self,
                        "    {:<16} as the seed's ({} rows)",
                        t.table,
                        t.unchanged
                    )
                }
                None => {
                    say!(
                        self,
                        "    {:<16} {} missing, {} changed, {} extra ({} to delete, {} kept)",
                        t.table,
                        t.inserted.len(),
                        t.updated.len(),
                        t.deleted.len() + t.kept.len(),
                        t.deleted.len(),
                        t.kept.len()
                    );
                    if self.verbose {
                        for line in values::changes_table(t) {
                            say!(self, "        {line}");
                        }
                        for k in &t.kept {
                            say!(self, "        kept    {}: {}", k.key, k.reason);
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
            return self.set(r);
        }
        say!(
            self,
            "wrote {} (a draft: review it, then `cargo build` proves it)",
            r.file.display()
        );
        for line in r.sql.lines() {
            say!(self, "  {line}");
        }
        match &r.remaining {
            None => say!(
                self,
                "with it, the migrations make the schema schema.sql declares"
            ),
            Some(d) => say!(self, "not there yet: {d}; finish the draft by hand"),
        }
    }
}
