//! What `reset` and `seed` did, and the images they wrote.

use std::io::Write;

use seedbake::ops::images::Delivery;
use seedbake::ops::{AdminPassword, LoadReport, LockedAccount, Mode};
use seedbake::seed;

use super::{Output, Report, Text};

impl Report for LoadReport {
    fn notes(&self, out: &Output) {
        out.backed_up(self.backup.as_ref());
        locked_accounts(out, &self.locked_accounts);
        if self.admin_password == AdminPassword::SeedDefault
            && let Some(admin) = seed::get().admin
        {
            out.warn(&format!(
                "the {} account {:?} has the seed's development password; set INITIAL_ADMIN_PASSWORD before a reset \
                 anywhere but on your own machine",
                admin.table, admin.key
            ));
        }
    }

    fn text(&self, o: &mut Text) {
        let r = self;
        say!(
            o,
            "{} {} with profile {}",
            verb(r.mode),
            r.target,
            r.profile
        );
        if !r.dropped.is_empty() {
            let names: Vec<String> = r
                .dropped
                .iter()
                .map(|d| format!("{} {}", d.kind, d.name))
                .collect();
            if o.verbose {
                say!(o, "  dropped {}", names.join(", "));
            } else {
                say!(o, "  dropped {} objects", names.len());
            }
        }
        say!(o, "  loaded {} rows into {} tables", r.rows, r.tables.len());
        if o.verbose {
            for (t, n) in &r.tables {
                say!(o, "    {t:<24} {n:>9}");
            }
        }
        if r.verified {
            say!(
                o,
                "  fingerprint {} (verified before commit)",
                r.fingerprint
            );
        } else {
            say!(o, "  fingerprint {} recorded", r.fingerprint);
        }
        o.traffic(r.traffic.as_ref());
        if r.admin_password == AdminPassword::Provided {
            say!(o, "  admin password set from INITIAL_ADMIN_PASSWORD");
        }
        if let Some(images) = &r.images {
            say!(o, "  images: {}", images_line(images));
        }
        if o.verbose {
            let phases: Vec<String> = r
                .phases
                .iter()
                .map(|(n, ms)| format!("{n} {ms:.1}"))
                .collect();
            say!(o, "  phases (ms): {}", phases.join(", "));
        }
        say!(o, "  done in {:.1} ms", r.elapsed.as_secs_f64() * 1000.0);
    }
}

fn verb(mode: Mode) -> &'static str {
    match mode {
        Mode::Reset => "reset",
        Mode::Seed => "seeded",
    }
}

/// `seedbake images`: what was written where.
impl Report for Delivery {
    fn notes(&self, _out: &Output) {
        if let Delivery::Failed { error, .. } = self {
            tell!("error: {error}");
        }
    }

    fn text(&self, o: &mut Text) {
        if !self.failed() {
            say!(o, "images: {}", images_line(self));
        }
    }
}

impl Output {
    /// After a committed load whose images could not be written: one line
    /// that says the database stays as committed, and how to finish.
    pub fn images_failed(&self, r: &LoadReport) {
        let Some(Delivery::Failed {
            static_dir, error, ..
        }) = &r.images
        else {
            return;
        };
        tell!(
            "error: {} was {} and committed (fingerprint {}), but the images were not written: {error}. \
             The database keeps the new seed (nothing was rolled back); write the images with \
             `{} images --static-dir {static_dir}` once the folder is writable",
            r.target,
            verb(r.mode),
            r.fingerprint,
            seedbake::program::name()
        );
    }
}

/// The seeded accounts left without a usable password, and how to give
/// each one (never the passwords themselves).
fn locked_accounts(out: &Output, locked: &[LockedAccount]) {
    if locked.is_empty() {
        return;
    }
    let names: Vec<&str> = locked.iter().map(|a| a.account.as_str()).collect();
    out.warn(&format!(
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

/// How the images of a load or of `seedbake images` went, in one line.
fn images_line(d: &Delivery) -> String {
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
