//! `reset` and `seed`: the seed loaded in one transaction, then its images
//! delivered.

use std::io::IsTerminal;

use seedbake::Result;
use seedbake::ops::images::ForLoad;
use seedbake::ops::{self, LoadOptions, images};
use seedbake::seed;

use super::output::{Output, Progress};
use super::{Context, Error, Guard, exit, guard, profile};

pub(super) async fn reset(cx: &Context<'_>, guard: &Guard) -> Result<u8> {
    let (cli, out) = (cx.cli, cx.out);
    let profile = profile(cli.profile.as_deref())?;
    let password = admin_password(out)?;
    let images = images_for_load(cx, profile)?;
    cx.check_writes(Some(guard), images.writes(profile))?;
    let mut what = format!(
        "load the {} seed: {} rows in {} tables",
        profile.name,
        profile.row_count(),
        profile.tables.len()
    );
    if let ForLoad::Write(dir) = &images {
        what.push_str(&format!(
            "; after the commit, write {} images into {}",
            images::files(profile).len(),
            dir.path.display()
        ));
    }
    if guard.dry_run
        && let Some(location) = cx.missing_local_file()
    {
        // Nothing to read, and a dry run creates nothing.
        let env = ops::environment(location, |k| std::env::var(k).ok())?;
        let plan = ops::Plan {
            target: location.to_string(),
            database_name: location.database_name(),
            existing: Vec::new(),
        };
        let what = format!("create the file (it does not exist yet) and {what}");
        out.plan(&plan, &env, "reset", &what, None, true);
        return Ok(exit::OK);
    }
    let target = cx.open(true).await?;
    let target = target.as_ref();
    let env = guard::environment(target)?;
    let Some(go) = guard::confirm(out, guard, target, &env, ("reset", &what), true).await? else {
        return Ok(exit::OK);
    };
    let opts = LoadOptions {
        profile,
        admin_password: password.as_deref(),
        production: env.is_production(),
        backup: go.backup.as_deref(),
    };
    let show = |plan: &ops::Plan| out.plan(plan, &env, "reset", &what, opts.backup, false);
    let run = Run::Reset(go.plan_unshown.then_some(&show as &dyn Fn(&ops::Plan)));
    guard::after_failure(out, &go, load(cx, target, &opts, run, &images).await)
}

pub(super) async fn seed(cx: &Context<'_>) -> Result<u8> {
    let profile = profile(cx.cli.profile.as_deref())?;
    let password = admin_password(cx.out)?;
    let images = images_for_load(cx, profile)?;
    cx.check_writes(None, images.writes(profile))?;
    let target = cx.open(true).await?;
    let target = target.as_ref();
    let env = guard::environment(target)?;
    let opts = LoadOptions {
        profile,
        admin_password: password.as_deref(),
        production: env.is_production(),
        backup: None,
    };
    load(cx, target, &opts, Run::Seed, &images).await
}

/// Where a load's images go, checked before anything changes.
fn images_for_load(cx: &Context<'_>, profile: &seed::Profile) -> Result<ForLoad> {
    ForLoad::choose(
        cx.cli.no_images,
        cx.cli.static_dir.as_deref(),
        std::env::var_os(images::STATIC_DIR_VAR),
        profile,
    )
}

/// Which load runs: a reset, with where a plan read under its lock goes,
/// or a seed.
enum Run<'s> {
    Reset(Option<&'s dyn Fn(&ops::Plan)>),
    Seed,
}

async fn load(
    cx: &Context<'_>,
    target: &dyn seedbake::database::Target,
    opts: &LoadOptions<'_>,
    run: Run<'_>,
    images: &ForLoad,
) -> Result<u8> {
    let (cli, out) = (cx.cli, cx.out);
    let rows = opts.profile.row_count();
    let show_bar = !cli.json && std::io::stderr().is_terminal() && rows >= 50_000;
    let mut progress = Progress::new(rows as u64, show_bar);
    let report = match run {
        Run::Reset(Some(show)) => ops::reset_showing_plan(target, opts, &mut progress, show).await,
        Run::Reset(None) => ops::reset(target, opts, &mut progress).await,
        Run::Seed => ops::seed(target, opts, &mut progress).await,
    };
    progress.finish();
    let mut report = report?;
    if let ForLoad::Skip(reason) = images
        && !cli.no_images
    {
        out.warn(&format!("the images were not written: {reason}"));
    }
    // Only now, with the database committed.
    report.images = images.deliver(opts.profile);
    out.print(&report);
    let images_failed = report.images.as_ref().is_some_and(|i| i.failed());
    if images_failed {
        out.images_failed(&report);
    }
    Ok(if images_failed {
        exit::IMAGES
    } else {
        exit::OK
    })
}

/// `INITIAL_ADMIN_PASSWORD`, if set. The value is never printed. A seed
/// without an admin account has no use for it: said, and ignored.
fn admin_password(out: &Output) -> Result<Option<String>> {
    if seed::get().admin.is_none() {
        if std::env::var_os("INITIAL_ADMIN_PASSWORD").is_some() {
            out.warn(
                "INITIAL_ADMIN_PASSWORD is set, but this seed has no admin account ([admin] in seed.toml): it is ignored",
            );
        }
        return Ok(None);
    }
    match std::env::var("INITIAL_ADMIN_PASSWORD") {
        Ok(p) if p.is_empty() => Err(Error::Usage(
            "INITIAL_ADMIN_PASSWORD is set but empty; unset it to keep the development default, or give a password".into(),
        )),
        Ok(p) => match ops::password_problem(&p) {
            Some(problem) => Err(Error::Usage(format!("INITIAL_ADMIN_PASSWORD: {problem}"))),
            None => Ok(Some(p)),
        },
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(Error::Usage("INITIAL_ADMIN_PASSWORD is not valid UTF-8".into()))
        }
    }
}
