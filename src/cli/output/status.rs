//! `status`: what differs between the database and the build.

use seedbake::ops::StatusReport;
use seedbake::seed::migrations::label;

use super::values;
use super::{Report, Text};

impl Report for StatusReport {
    fn text(&self, o: &mut Text) {
        let r = self;
        if r.in_step && r.latest.is_none() {
            say!(
                o,
                "{} is in step with the build (its schema is schema.sql's)",
                r.target
            );
        } else if r.in_step {
            say!(
                o,
                "{} is in step with the build (version {})",
                r.target,
                r.recorded.unwrap_or(0)
            );
        } else {
            say!(o, "{} differs from the build", r.target);
        }
        match (r.recorded, r.latest) {
            _ if r.records_untrusted => say!(
                o,
                "  migrations: its records cannot be read as seedbake writes them (see below)"
            ),
            (_, None) => say!(
                o,
                "  migrations: {}",
                r.start_migrations.unwrap_or("this build has none")
            ),
            (Some(v), Some(latest)) => say!(
                o,
                "  migrations: at version {v}, the build's latest is {latest} ({} applied)",
                r.applied.len()
            ),
            (None, Some(latest)) if r.empty => say!(
                o,
                "  migrations: the database is empty; `seedbake migrate` creates the schema (up to version {latest})"
            ),
            (None, Some(_)) => say!(o, "  migrations: none recorded (made without migrations)"),
        }
        for m in &r.pending {
            say!(o, "    pending   {}", label(m.version, &m.name));
        }
        for m in &r.out_of_order {
            say!(
                o,
                "    skipped   {} (not applied, yet a later version is)",
                label(m.version, &m.name)
            );
        }
        for m in &r.unknown {
            say!(
                o,
                "    unknown   {} (applied {} by seedbake {}; this build does not have it)",
                label(m.version, &m.name),
                m.applied_at,
                m.seedbake_version
            );
        }
        for m in &r.modified {
            say!(
                o,
                "    modified  {} (applied {} with checksum {}…, the build's is {}…)",
                label(m.version, &m.name),
                m.applied_at,
                &m.recorded_checksum[..m.recorded_checksum.len().min(12)],
                &m.build_checksum[..m.build_checksum.len().min(12)]
            );
        }
        if let Some(a) = &r.adoptable {
            say!(
                o,
                "  `{} migrate` adopts it at version {} ({}): {}",
                seedbake::program::name(),
                a.version,
                a.migration,
                a.reason
            );
        }
        if let Some(why) = &r.not_adoptable {
            say!(o, "  cannot be adopted: {why}");
        }
        if let Some(d) = &r.drift {
            say!(o, "  schema drift: {d}");
        }
        for why in &r.refusals {
            // Drift and a database that cannot be adopted are told above.
            let told = [&r.drift, &r.not_adoptable]
                .into_iter()
                .flatten()
                .any(|t| why.starts_with(t.as_str()));
            say!(
                o,
                "  `{} migrate` would refuse it (exit 9): {}",
                seedbake::program::name(),
                if told { "see above" } else { why }
            );
        }
        for why in &r.after_migrations {
            say!(
                o,
                "  `{} migrate` would refuse it (exit 9) after the pending migrations, unless they change these rows: {why}",
                seedbake::program::name()
            );
        }
        if !r.reference.is_empty() {
            say!(o, "  reference data:");
        }
        for t in &r.reference {
            match &t.not_compared {
                Some(why) => say!(o, "    {:<16} not compared: {why}", t.table),
                None if !t.changes() && t.kept.is_empty() => {
                    say!(
                        o,
                        "    {:<16} as the seed's ({} rows)",
                        t.table,
                        t.unchanged
                    )
                }
                None => {
                    say!(
                        o,
                        "    {:<16} {} missing, {} changed, {} extra ({} to delete, {} kept)",
                        t.table,
                        t.inserted.len(),
                        t.updated.len(),
                        t.deleted.len() + t.kept.len(),
                        t.deleted.len(),
                        t.kept.len()
                    );
                    if o.verbose {
                        for line in values::changes_table(t) {
                            say!(o, "        {line}");
                        }
                        for k in &t.kept {
                            say!(o, "        kept    {}: {}", k.key, k.reason);
                        }
                    }
                }
            }
        }
    }
}
