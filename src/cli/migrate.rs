//! `migrate`: the plan shown (in production, or as a dry run), the
//! operator asked, the migration run.

use seedbake::Result;
use seedbake::ops;
use seedbake::seed::migrations::Build;

use super::output;
use super::{Context, Guard, exit, guard};

/// `migrate`: in production (or with --dry-run) the whole migration is
/// first run and rolled back to show its plan; then the guard asks and
/// backs up as for reset, and the migration runs for real, refusing if the
/// database changed since the plan was shown.
pub(super) async fn run(cx: &Context<'_>, guard: &Guard, baseline: Option<i64>) -> Result<u8> {
    let out = cx.out;
    cx.check_writes(Some(guard), Vec::new())?;
    let target = cx.open(false).await?;
    let target = target.as_ref();
    let env = guard::environment(target)?;
    let build = Build::embedded();
    let mut opts = ops::MigrateOptions {
        baseline,
        dry_run: true,
        confirmed: None,
        backup: None,
    };
    let plan = if env.is_production() || guard.dry_run {
        // The plan is the whole migration, run and rolled back where it
        // cannot change the database (see `ops::migrate_plan`).
        let plan = ops::migrate_plan(target, &build, &opts).await?;
        let shown = output::MigratePlan {
            report: &plan,
            dry_run: guard.dry_run,
        };
        // With nothing to do, the plan is all that happens: `--json` prints
        // it as the result.
        if guard.dry_run || (cx.cli.json && !plan.changes) {
            out.print(&shown);
        } else {
            // Before the question: standard output keeps only the result.
            out.print_before_asking(&shown);
        }
        if guard.dry_run || !plan.changes {
            return Ok(exit::OK);
        }
        Some(plan)
    } else {
        None
    };
    let what = output::confirmation(plan.as_ref());
    let confirm = Guard {
        dry_run: false,
        ..guard.clone()
    };
    let Some(go) = guard::confirm(out, &confirm, target, &env, ("migrate", &what), false).await?
    else {
        return Ok(exit::OK);
    };
    opts.dry_run = false;
    opts.confirmed = plan.as_ref();
    opts.backup = go.backup.as_deref();
    let migrated = ops::migrate(target, &build, &opts).await;
    let report = guard::after_failure(out, &go, migrated)?;
    out.print(&report);
    Ok(exit::OK)
}
