//! `migrate`: its plan (the migration run and rolled back), what it did,
//! and what `migration new` drafted.

use serde::Serialize;

use seedbake::ops::{DraftReport, MigrateReport};
use seedbake::seed::migrations::label;

use super::values;
use super::{Output, Report, Text};

/// How many keys a migrate report lists per kind of change (with -v: all,
/// with their values).
const LISTED_KEYS: usize = 10;

/// What a migrate did.
impl Report for MigrateReport {
    fn notes(&self, out: &Output) {
        out.backed_up(self.backup.as_ref());
    }

    fn text(&self, o: &mut Text) {
        migrate_text(o, self, false);
    }
}

/// A migrate's plan: the whole migration, run and rolled back.
pub struct MigratePlan<'a> {
    pub report: &'a MigrateReport,
    pub dry_run: bool,
}

impl Serialize for MigratePlan<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.report.serialize(s)
    }
}

impl Report for MigratePlan<'_> {
    fn text(&self, o: &mut Text) {
        migrate_text(o, self.report, true);
        if self.dry_run {
            say!(o, "dry run: nothing was changed");
        }
    }
}

/// What the operator confirms: the planned migration in one line, or,
/// with no plan shown, what a migrate does.
pub fn confirmation(plan: Option<&MigrateReport>) -> String {
    let Some(p) = plan else {
        return "migrate, keeping every row of the app's own tables".into();
    };
    let migrations: Vec<String> = p
        .applied
        .iter()
        .map(|m| label(m.version, &m.name))
        .collect();
    let tables: Vec<&str> = p
        .reference
        .iter()
        .filter(|t| t.changes())
        .map(|t| t.table.as_str())
        .collect();
    format!(
        "{}, {} (as planned above); every other row stays as it is",
        if migrations.is_empty() {
            "apply no migration".to_owned()
        } else {
            format!("apply {}", migrations.join(", "))
        },
        if tables.is_empty() {
            "change no reference row".to_owned()
        } else {
            format!("change reference rows of {}", tables.join(", "))
        }
    )
}

fn migrate_text(o: &mut Text, r: &MigrateReport, plan: bool) {
    let version = |v: Option<i64>| v.map_or("none".to_owned(), |v| v.to_string());
    let head = if plan { "plan: migrate" } else { "migrated" };
    if !r.changes {
        say!(
            o,
            "{} is up to date (version {}): no pending migration, reference data as the seed's; nothing to do",
            r.target,
            version(r.to)
        );
        if let Some(on) = r.planned_on {
            say!(o, "  planned on a copy: {on}");
        }
        if let Some(start) = r.start_migrations {
            say!(o, "  {start}");
        }
        return;
    }
    match r.from {
        Some(from) => {
            say!(
                o,
                "{head} {}: version {from} -> {}",
                r.target,
                version(r.to)
            );
        }
        None => {
            say!(
                o,
                "{head} {} (made without migrations): -> version {}",
                r.target,
                version(r.to)
            );
        }
    }
    if let Some(on) = r.planned_on {
        say!(o, "  planned on a copy: {on}");
    }
    if let Some(a) = &r.adopted {
        let how = if a.by_baseline {
            "by --baseline"
        } else {
            "automatically"
        };
        say!(
            o,
            "  adopt{} at version {} ({}) {how}: {}",
            if plan { "" } else { "ed" },
            a.version,
            a.migration,
            a.reason
        );
    }
    for m in &r.applied {
        say!(
            o,
            "  {} migration {}",
            if plan { "apply" } else { "applied" },
            label(m.version, &m.name)
        );
    }
    if r.applied.is_empty() {
        say!(o, "  no pending migration");
    }
    if !r.reference.is_empty() {
        say!(o, "  reference data (matched by natural key):");
    }
    for t in &r.reference {
        if !t.changes() && t.kept.is_empty() {
            say!(
                o,
                "    {:<16} as the seed's ({} rows)",
                t.table,
                t.unchanged
            );
            continue;
        }
        say!(
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
            say!(
                o,
                "      {} give their unique values to one another: each moves aside to a temporary value first",
                t.staged.join(", ")
            );
        }
        if o.verbose {
            for line in values::changes_table(t) {
                say!(o, "        {line}");
            }
            for k in &t.kept {
                say!(o, "        = {}: kept, {}", k.key, k.reason);
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
            say!(o, "        {line}");
        }
        if total > LISTED_KEYS {
            say!(
                o,
                "        … and {} more (-v lists all, with their values)",
                total - LISTED_KEYS
            );
        }
    }
    o.traffic(r.traffic.as_ref());
    if !plan {
        say!(o, "  done in {:.1} ms", r.elapsed.as_secs_f64() * 1000.0);
    }
}

/// What `migration new` wrote.
impl Report for DraftReport {
    fn notes(&self, out: &Output) {
        for note in &self.notes {
            out.warn(note);
        }
    }

    fn text(&self, o: &mut Text) {
        say!(
            o,
            "wrote {} (a draft: review it, then `cargo build` proves it)",
            self.file.display()
        );
        for line in self.sql.lines() {
            say!(o, "  {line}");
        }
        match &self.remaining {
            None => say!(
                o,
                "with it, the migrations make the schema schema.sql declares"
            ),
            Some(d) => say!(o, "not there yet: {d}; finish the draft by hand"),
        }
    }
}
