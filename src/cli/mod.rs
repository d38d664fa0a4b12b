//! The whole command line, for seedbake's own binary and for an app's
//! (README, "Your own app"): dispatch, exit codes, and the database URL,
//! parsed once; the arguments are in `args.rs`, the printing in
//! `output.rs`, the decisions in `ops`. What it says about the app (its
//! name, its default database, whether it has an admin account or images)
//! comes from the seed it is given.

mod args;
pub mod exit;
mod guard;
mod load;
mod migrate;
mod output;
mod schema;
mod signals;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::FromArgMatches;

use seedbake::database::{self, DatabaseUrl, Location, Target};
use seedbake::ops::paths::Written;
use seedbake::ops::{self, images};
use seedbake::seed::migrations::Build;
use seedbake::seed::{self, Profile, Seed};
use seedbake::{Error, Result};

use args::{Cli, Command, Guard, MigrationCommand, command_for, seconds, wants_json};
use output::Output;

/// The command line of a binary whose seed is `seed`: seedbake's own
/// passes its built-in seed; an app's binary passes the one its build
/// script compiled. Parses the arguments, runs one command and returns its
/// exit code.
pub fn main(seed: &'static Seed) -> ExitCode {
    if !seed::install(seed) {
        // Only a program that installed another seed first gets here.
        eprintln!("error: another seed is installed in this process already");
        return ExitCode::from(exit::USAGE);
    }
    crate::program::set_from_args();
    let mut command = command_for(seed);
    let parsed = command
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|mut m| Cli::from_arg_matches_mut(&mut m))
        .map_err(|e| e.format(&mut command));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(output::arguments_refused(e, wants_json())),
    };
    let out = Output::new(cli.json, cli.verbose);
    let result = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(async {
            signals::file_size_limit_fails_writes();
            run(&Context::new(&cli, &out)).await
        }),
        Err(e) => Err(Error::Database {
            target: "this machine".into(),
            step: "starting".into(),
            reason: e.to_string(),
        }),
    };
    let (code, message) = match result {
        Ok(code) => (code, None),
        Err(e) => (exit_code(&e), Some(e.to_string())),
    };
    ExitCode::from(out.finish(code, message.as_deref()))
}

/// One exit code per error, the same for every command.
fn exit_code(e: &Error) -> u8 {
    let code = match e {
        Error::InvalidUrl { .. }
        | Error::UnknownProfile { .. }
        | Error::Usage(_)
        | Error::BadDump(_) => exit::USAGE,
        Error::Open { .. }
        | Error::Locked { .. }
        | Error::Unreachable { .. }
        | Error::Unreadable { .. } => exit::UNAVAILABLE,
        Error::NotEmpty { .. } => exit::NOT_EMPTY,
        // These say what was committed: a signal does not change that.
        Error::OutcomeUnknown { .. } => return exit::OUTCOME_UNKNOWN,
        Error::RolledBack { .. }
        | Error::Database { .. }
        | Error::Password(_)
        | Error::Output { .. }
        | Error::Backup { .. } => exit::FAILED,
        Error::Interrupted { .. } => exit::INTERRUPTED,
        Error::Aborted(_) => exit::DIFFERS_OR_UNCONFIRMED,
        Error::StaticFolder(_) => exit::USAGE,
        Error::Images(_) => exit::IMAGES,
        Error::Unmigratable { .. } => exit::REFUSED,
        Error::Unextractable(_) => exit::REFUSED,
    };
    // Whatever a stopped operation reports (rolled back, a backup cut
    // short), it stopped because it was asked to.
    match seedbake::interrupt::requested() {
        Some(seedbake::interrupt::Signal::Interrupt) => exit::INTERRUPTED,
        Some(seedbake::interrupt::Signal::Terminate) => exit::TERMINATED,
        None => code,
    }
}

fn profile(name: Option<&str>) -> Result<&'static Profile> {
    match name {
        None => Ok(seed::get().default_profile()),
        Some(n) => seed::get().profile(n).ok_or_else(|| Error::UnknownProfile {
            name: n.to_owned(),
            known: seed::get()
                .profiles
                .iter()
                .map(|p| p.name)
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// One run of the command line: the arguments, the printer, and the
/// database URL, parsed once for every step that reads it.
struct Context<'a> {
    cli: &'a Cli,
    out: &'a Output,
    url: Result<DatabaseUrl>,
}

impl<'a> Context<'a> {
    fn new(cli: &'a Cli, out: &'a Output) -> Self {
        let url = database_url(cli).and_then(database::parse_database_url);
        Context { cli, out, url }
    }

    /// The database URL, or why there is none to use.
    fn url(&self) -> Result<&DatabaseUrl> {
        self.url.as_ref().map_err(Clone::clone)
    }

    /// Opens the database; `create`: a missing local file is created (only
    /// the commands that fill a database ask for that, and never in a dry
    /// run).
    async fn open(&self, create: bool) -> Result<Box<dyn Target>> {
        let cli = self.cli;
        let lock_timeout = seconds(cli.lock_timeout, "--lock-timeout", true)?;
        let request_timeout = seconds(cli.timeout, "--timeout", false)?;
        let url = self.url()?;
        let writes = cli.command.writes();
        if url.read_only && writes {
            return Err(Error::Usage(
                "the database URL says mode=ro (read-only), and this command writes: remove ?mode=ro, \
                 or add --dry-run to see only what it would do"
                    .into(),
            ));
        }
        let settings = database::Settings {
            lock_timeout,
            auth_token: cli
                .auth_token
                .clone()
                .filter(|t| !t.is_empty())
                .or_else(|| url.token.clone()),
            request_timeout,
            request_bytes: cli.request_bytes.max(1024),
            create: create && writes && !url.must_exist,
            read_only: url.read_only,
            prove: !cli.no_verify,
        };
        database::open(url.location.clone(), settings).await
    }

    /// Refuses, before the database is opened (so nothing is created or
    /// changed), a run whose files would overwrite one another: the
    /// database and its journals, the backup `guard` asks for, and
    /// `writes`.
    fn check_writes(&self, guard: Option<&Guard>, writes: Vec<Written>) -> Result<()> {
        let location = &self.url()?.location;
        let production = ops::environment(location, |k| std::env::var(k).ok())?.is_production();
        let mut all = ops::paths::database_files(location);
        all.extend(writes);
        let backup = guard.and_then(|g| guard::backup_path(g, production, location));
        all.extend(backup.map(|b| Written::new("the backup", b)));
        ops::paths::check_distinct(&all)
    }

    /// For a dry run: the local file the URL names, when it does not exist
    /// yet (in a folder that does).
    fn missing_local_file(&self) -> Option<&Location> {
        let url = self.url.as_ref().ok()?;
        match &url.location {
            Location::Local(path)
                if !url.must_exist
                    && !path.exists()
                    && path
                        .parent()
                        .is_none_or(|p| p.as_os_str().is_empty() || p.is_dir()) =>
            {
                Some(&url.location)
            }
            _ => None,
        }
    }

    /// Whether the command will ask the operator something on the terminal
    /// (then signals are left to end it the ordinary way until it has
    /// asked).
    fn will_prompt(&self) -> bool {
        let guard = match &self.cli.command {
            Command::Reset(guard)
            | Command::Restore { guard, .. }
            | Command::Migrate { guard, .. } => guard,
            Command::InitAdmin { .. } => return true,
            _ => return false,
        };
        if guard.yes || guard.dry_run || !std::io::stdin().is_terminal() {
            return false;
        }
        self.url
            .as_ref()
            .ok()
            .and_then(|url| ops::environment(&url.location, |k| std::env::var(k).ok()).ok())
            .is_some_and(|env| env.is_production())
    }
}

/// The database the command works on: `--database-url`, `DATABASE_URL`, or
/// the seed's default; a seed without one makes the operator name it.
fn database_url(cli: &Cli) -> Result<&str> {
    cli.database_url.as_deref().ok_or_else(|| {
        Error::Usage(
            "no database named: give --database-url or set DATABASE_URL (this seed has no default: \
             [app] database in seed.toml)"
                .into(),
        )
    })
}

async fn run(cx: &Context<'_>) -> Result<u8> {
    let (cli, out) = (cx.cli, cx.out);
    if !matches!(cli.command, Command::Info) && !cx.will_prompt() {
        signals::arm();
    }
    match &cli.command {
        Command::Info => {
            out.print(&output::SeedInfo);
            Ok(exit::OK)
        }
        Command::Reset(guard) => load::reset(cx, guard).await,
        Command::Seed => load::seed(cx).await,
        Command::Verify => {
            let profile = cli
                .profile
                .as_deref()
                .map(|p| profile(Some(p)))
                .transpose()?;
            let images = if cli.no_images {
                None
            } else {
                images::chosen_for_check(
                    cli.static_dir.as_deref(),
                    std::env::var_os(images::STATIC_DIR_VAR),
                )?
            };
            let target = cx.open(false).await?;
            let mut report = ops::verify(target.as_ref(), profile).await?;
            if let Some(dir) = &images {
                let profile = seed::get()
                    .profile(&report.profile)
                    .unwrap_or(seed::get().default_profile());
                report.images = Some(images::check(dir, profile)?);
            }
            out.print(&report);
            Ok(if report.clean() {
                exit::OK
            } else {
                exit::DIFFERS_OR_UNCONFIRMED
            })
        }
        Command::Extract {
            out: dir,
            tables,
            replace,
        } => {
            // With --replace the folder goes: never one holding the database.
            cx.check_writes(None, vec![Written::new("the seed folder (--out)", dir)])?;
            let target = cx.open(false).await?;
            let opts = ops::ExtractOptions {
                out: dir,
                tables,
                replace: *replace,
            };
            let report = ops::extract(target.as_ref(), &opts).await?;
            out.print(&report);
            Ok(exit::OK)
        }
        Command::Dump { output } => {
            if cli.json && output.is_none() {
                return Err(Error::Usage(
                    "dump --json needs --output FILE: without it, the dump itself is what goes to standard output"
                        .into(),
                ));
            }
            let dump = output.iter().map(|p| Written::new("the dump", p)).collect();
            cx.check_writes(None, dump)?;
            let target = cx.open(false).await?;
            match output {
                Some(path) => {
                    let report = ops::dump_to_file(target.as_ref(), path).await?;
                    out.print(&output::Dumped {
                        report: &report,
                        file: path.display().to_string(),
                    });
                }
                None => {
                    let mut stdout = out.stdout_writer();
                    match ops::dump(target.as_ref(), &mut stdout).await {
                        Ok(report) => out.dumped_to_stdout(&report),
                        // Standard output failed (a closed pipe, a full
                        // disk): `finish` says so, once.
                        Err(_) if out.stdout_failed() => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Ok(exit::OK)
        }
        Command::Restore { file, guard } => {
            // The whole file is checked before the database is opened.
            let dump = ops::check_dump(file)?;
            cx.check_writes(
                Some(guard),
                vec![Written::new("the dump being restored", file)],
            )?;
            let target = cx.open(true).await?;
            let target = target.as_ref();
            let env = guard::environment(target)?;
            let what = format!("load {}: {} statements", file.display(), dump.statements());
            let Some(go) =
                guard::confirm(out, guard, target, &env, ("restore", &what), false).await?
            else {
                return Ok(exit::OK);
            };
            let restored = ops::restore(target, &dump, go.backup.as_deref()).await;
            let report = guard::after_failure(out, &go, restored)?;
            out.print(&report);
            Ok(exit::OK)
        }
        Command::Images => {
            if cli.no_images {
                return Err(Error::Usage(format!(
                    "`{} images` with --no-images would do nothing; leave one of them out",
                    crate::program::name()
                )));
            }
            let profile = profile(cli.profile.as_deref())?;
            let delivery = images::deliver_chosen(
                cli.static_dir.as_deref(),
                std::env::var_os(images::STATIC_DIR_VAR),
                profile,
            )?;
            out.print(&delivery);
            Ok(if delivery.failed() {
                exit::IMAGES
            } else {
                exit::OK
            })
        }
        Command::InitAdmin {
            username,
            password_stdin,
            password_only,
        } => {
            if seed::get().admin.is_none() {
                return Err(Error::Usage(
                    "this seed has no admin account ([admin] in seed.toml), so init-admin has nothing to \
                     create or update; nothing was changed"
                        .into(),
                ));
            }
            let (username, password) =
                guard::admin_credentials(username.as_deref(), *password_stdin)?;
            signals::arm();
            let target = cx.open(false).await?;
            let report = if *password_only {
                ops::set_password(target.as_ref(), &username, &password).await?
            } else {
                ops::init_admin(target.as_ref(), &username, &password).await?
            };
            out.print(&report);
            Ok(exit::OK)
        }
        Command::Migrate { guard, baseline } => migrate::run(cx, guard, *baseline).await,
        Command::Schema { format, output } => schema::run(cx, *format, output.as_deref()).await,
        Command::Migration {
            command: MigrationCommand::New { name, seed_dir },
        } => {
            let report = ops::migration_draft(seed_dir, name).await?;
            out.print(&report);
            Ok(exit::OK)
        }
        Command::Status => {
            let target = cx.open(false).await?;
            let report = ops::status(target.as_ref(), &Build::embedded()).await?;
            out.print(&report);
            Ok(if report.migrate_would_refuse() {
                exit::REFUSED
            } else if report.in_step {
                exit::OK
            } else {
                exit::DIFFERS_OR_UNCONFIRMED
            })
        }
    }
}
