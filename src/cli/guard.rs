//! What stands between an operator and an accidental production reset: the
//! plan, a typed confirmation, and an automatic backup. Also the prompts of
//! `init-admin`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use seedbake::database::{Location, Target};
use seedbake::ops::{self, Environment, MIN_ADMIN_PASSWORD};
use seedbake::{Error, Result, seed};

use super::Guard;
use super::output::Output;

pub fn environment(target: &dyn Target) -> Result<Environment> {
    ops::environment(target.location(), |k| std::env::var(k).ok())
}

/// Go ahead, with the backup (if any) the operation takes under its write
/// lock before it changes anything.
pub struct Confirmed {
    pub backup: Option<PathBuf>,
    /// The plan is still to be shown: by the operation, which reads it
    /// under its write lock (nobody is asked, so nothing waits for it).
    pub plan_unshown: bool,
}

/// Shows the plan where it matters, asks for the database's name in
/// production, and decides where the backup goes. All of this reads outside
/// the write transaction; the backup itself is taken inside it, by the
/// operation. `None`: a dry run, nothing to do. `shown_inside`: the
/// operation can show the plan itself, read with its lock, when nobody is
/// asked (`--yes`): one request fewer.
pub async fn confirm(
    out: &Output,
    guard: &Guard,
    target: &dyn Target,
    env: &Environment,
    (verb, what): (&str, &str),
    shown_inside: bool,
) -> Result<Option<Confirmed>> {
    let production = env.is_production();
    let backup = backup_path(guard, production, target.location());
    let plan_unshown = shown_inside && production && guard.yes && !guard.dry_run;
    if (production || guard.dry_run) && !plan_unshown {
        let plan = ops::plan(target).await?;
        out.plan(&plan, env, verb, what, backup.as_deref(), guard.dry_run);
    }
    if guard.dry_run {
        return Ok(None);
    }
    if production && !guard.yes {
        let name = target.location().database_name();
        if !std::io::stdin().is_terminal() {
            return Err(Error::Aborted(format!(
                "refusing to {verb} a production database without confirmation, and there is no terminal to ask on. \
                 Check the plan above, then run again with --yes (or --dry-run to see only the plan)"
            )));
        }
        eprint!("Type the database name ({name}) to {verb} it: ");
        let _ = std::io::stderr().flush();
        let mut typed = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut typed)
            .map_err(|e| Error::Aborted(format!("could not read the answer ({e})")))?;
        let typed = typed.trim();
        if typed != name {
            return Err(Error::Aborted(format!(
                "you typed {typed:?}, not {name:?}: {verb} aborted"
            )));
        }
        super::signals::arm();
    }
    if backup.is_none() && production {
        out.warn(&format!(
            "NO BACKUP: --no-backup was given; if this {verb} goes wrong or was a mistake, there is no copy of {} as it was",
            target.location()
        ));
    }
    Ok(Some(Confirmed {
        backup,
        plan_unshown,
    }))
}

/// Where the automatic backup goes: `--backup`, else in production the
/// default path, else none.
pub fn backup_path(guard: &Guard, production: bool, location: &Location) -> Option<PathBuf> {
    match (&guard.backup, production && !guard.no_backup) {
        (Some(path), _) => Some(path.clone()),
        (None, true) => Some(default_backup_path(&location.database_name())),
        (None, false) => None,
    }
}

/// After a failed operation: whether its backup was written before the
/// failure. The file gets its name only once complete, and never replaces
/// an existing one (that refusal is the backup's own error), so a file at
/// the path now is this run's complete backup of the database as it was.
pub fn after_failure<T>(out: &Output, confirmed: &Confirmed, result: Result<T>) -> Result<T> {
    if let (Err(e), Some(path)) = (&result, &confirmed.backup)
        && !matches!(e, Error::Backup { .. })
        && path.is_file()
    {
        out.note(&format!(
            "the backup {} was written before the failure, under the write lock: it holds the database as it was \
             before this command; restore it with `{} restore {}`",
            path.display(),
            seedbake::program::name(),
            path.display()
        ));
    }
    result
}

/// `./exports/<db>-<UTC time>.sql`; a second backup within the same second
/// (a restore right after a reset) gets `-2`, `-3`… rather than failing.
fn default_backup_path(db: &str) -> PathBuf {
    let stamp = utc_stamp();
    let dir = Path::new("exports");
    let mut path = dir.join(format!("{db}-{stamp}.sql"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{db}-{stamp}-{n}.sql"));
        n += 1;
    }
    path
}

/// Now in UTC as `20261125T183012Z`.
fn utc_stamp() -> String {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::OffsetDateTime::now_utc()
        .format(format)
        .expect("a UTC time always formats")
}

/// The username and password for `init-admin`, from flags and standard
/// input, or asked for on the terminal (the password twice, without echo).
pub fn admin_credentials(username: Option<&str>, password_stdin: bool) -> Result<(String, String)> {
    let default_user = seed::get().admin.map_or("admin", |a| a.key);
    let check = |p: &str| -> Result<()> {
        match ops::password_problem(p) {
            Some(problem) => Err(Error::Usage(problem)),
            None => Ok(()),
        }
    };
    if password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| {
            Error::Usage(format!("cannot read the password from standard input: {e}"))
        })?;
        let password = line.trim_end_matches(['\n', '\r']).to_owned();
        check(&password)?;
        return Ok((username.unwrap_or(default_user).to_owned(), password));
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "no terminal to ask for the password on: use --username NAME --password-stdin".into(),
        ));
    }
    let username = match username {
        Some(u) => u.to_owned(),
        None => {
            eprint!("Username [{default_user}]: ");
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| Error::Usage(format!("cannot read the username: {e}")))?;
            match line.trim() {
                "" => default_user.to_owned(),
                u => u.to_owned(),
            }
        }
    };
    loop {
        let first = rpassword::prompt_password(format!(
            "Password (at least {MIN_ADMIN_PASSWORD} characters): "
        ))
        .map_err(|e| Error::Usage(format!("cannot read the password: {e}")))?;
        if let Some(problem) = ops::password_problem(&first) {
            eprintln!("{problem}. Try again.");
            continue;
        }
        let second = rpassword::prompt_password("Repeat the password: ")
            .map_err(|e| Error::Usage(format!("cannot read the password: {e}")))?;
        if first != second {
            eprintln!("The passwords differ; try again.");
            continue;
        }
        return Ok((username, first));
    }
}
