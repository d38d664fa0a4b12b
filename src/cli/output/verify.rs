//! What `verify` found.

use seedbake::ops::VerifyReport;

use super::{Report, Text};

impl Report for VerifyReport {
    fn text(&self, o: &mut Text) {
        let r = self;
        if r.matches {
            say!(
                o,
                "{} matches the build (profile {}, fingerprint {})",
                r.target,
                r.profile,
                r.actual
            );
        } else {
            say!(
                o,
                "{} differs from the build (profile {})",
                r.target,
                r.profile
            );
            say!(o, "  expected {}", r.expected);
            say!(o, "  found    {}", r.actual);
            say!(o, "  differs in: {}", r.differing.join(", "));
            for d in &r.differences {
                let row = d
                    .row
                    .as_deref()
                    .map_or(String::new(), |r| format!(" row {r}"));
                let column = d
                    .column
                    .as_deref()
                    .map_or(String::new(), |c| format!(", column {c}"));
                say!(o, "    {}{row}{column}: {}", d.table, d.what);
            }
            if let Some(why) = &r.differences_unread {
                say!(o, "    (the rows that differ could not be read: {why})");
            }
        }
        match &r.recorded {
            Some(rec) => say!(
                o,
                "  last loaded {} by seedbake {} (profile {}, fingerprint {})",
                rec.applied_at,
                rec.seedbake_version,
                rec.profile,
                rec.fingerprint
            ),
            None => say!(o, "  no seedbake load is recorded in this database"),
        }
        if let Some(images) = &r.images {
            if images.matches() {
                say!(
                    o,
                    "  images: all {} match the build in {}",
                    images.files,
                    images.static_dir
                );
            } else {
                say!(
                    o,
                    "  images: {} of {} differ from the build in {}:",
                    images.mismatches.len(),
                    images.files,
                    images.static_dir
                );
                for m in &images.mismatches {
                    say!(o, "    {}", m.detail);
                }
            }
        }
    }
}
