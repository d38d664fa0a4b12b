//! What a destructive command is about to do, shown before it asks (or,
//! for a dry run, instead of doing it).

use std::io::Write;

use serde_json::json;

use seedbake::ops::{Environment, Plan};

use super::Output;

impl Output {
    pub fn plan(
        &self,
        plan: &Plan,
        env: &Environment,
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
            Environment::Production(w) => ("PRODUCTION", w),
            Environment::Development(w) => ("development", w),
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
}
