//! Arguments, dispatch and exit codes: the whole command line, for
//! seedbake's own binary and for an app's (README, "Your own app"). What
//! it says about the app (its name, its default database, whether it has
//! an admin account or images) comes from the seed it is given.

mod guard;
mod output;
mod schema;
mod signals;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use seedbake::database::{self, Location, Target};
use seedbake::ops::paths::Written;
use seedbake::ops::{self, LoadOptions};
use seedbake::seed::migrations::Build;
use seedbake::seed::{self, Profile, Seed};
use seedbake::{Error, Result};

use output::Output;

/// Documented in the README and `--help`; scripts rely on them.
pub mod exit {
    pub const OK: u8 = 0;
    /// `verify` found the database differs from the build.
    pub const DRIFT: u8 = 1;
    /// Bad arguments, URL or profile; nothing was touched.
    pub const USAGE: u8 = 2;
    /// The database could not be reached, opened or read, or stayed
    /// locked; nothing changed.
    pub const UNAVAILABLE: u8 = 3;
    /// The operation failed and was rolled back; nothing changed.
    pub const FAILED: u8 = 4;
    /// `seed` refused a database that is not empty; nothing changed.
    pub const NOT_EMPTY: u8 = 5;
    /// The server got the commit but its answer was lost (it may or may
    /// not have applied it). `seedbake verify` tells.
    pub const OUTCOME_UNKNOWN: u8 = 6;
    /// Standard output could not be written (a full disk, an I/O error);
    /// a closed pipe is not an error.
    pub const OUTPUT: u8 = 7;
    /// The seed's images could not be written to (or read from) the app's
    /// static folder. After `reset`/`seed` the database WAS committed.
    pub const IMAGES: u8 = 8;
    /// (as 1) The operator did not confirm a destructive command in
    /// production, or there was no terminal to ask on; nothing changed.
    pub const ABORTED: u8 = 1;
    /// Stopped by SIGINT (128 + 2); what was started was undone.
    pub const INTERRUPTED: u8 = 130;
    /// Stopped by SIGTERM (128 + 15); what was started was undone.
    pub const TERMINATED: u8 = 143;
    /// (as 1) `status` found the database out of step with the build.
    pub const NOT_IN_STEP: u8 = 1;
    /// `migrate` refused the database as it is (a changed or unknown
    /// migration, schema drift, nothing to adopt it at, records seedbake
    /// did not write, rows that already dangle, reference rows that cannot
    /// be synced); nothing changed. `status` exits so too when it finds
    /// that `migrate` would.
    pub const REFUSED: u8 = 9;
}

/// The longest `--timeout` / `--lock-timeout`: a year, far beyond any use,
/// and far from where clocks overflow.
const MAX_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

#[derive(Parser)]
#[command(
    name = "seedbake",
    version,
    about = "Reset and seed a database from the seed compiled into this binary",
    after_help = "Exit codes: 0 success; 1 verify found drift or a production command \
                  was not confirmed; 2 usage error; 3 database unreachable, unreadable or locked; 4 failed and rolled \
                  back (or the backup failed); 5 seed refused a non-empty database; 6 outcome unknown: the answer to \
                  the commit was lost (run verify); 7 standard output could not \
                  be written; 8 the images could not be written to the static folder (after reset/seed the database \
                  WAS committed; `seedbake images` writes them); 9 migrate refused the database as it is, \
                  or status found it would (status says why); 130 interrupted (SIGINT), 143 terminated (SIGTERM), \
                  what was started undone. With codes 2 to 5, 9, 130 and 143 nothing was changed."
)]
struct Cli {
    /// The database: sqlite:///./app.db, sqlite:////abs/path.db, file:path, a plain path, or a server: libsql://host, https://host, http://host:port. The default, if any, is the seed's ([app] database).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    database_url: Option<String>,

    /// Which part of the seed to load (see the info command); defaults to the seed's default.
    #[arg(long, global = true)]
    profile: Option<String>,

    /// Print one JSON object on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,

    /// Say more about what happens.
    #[arg(short, long, global = true)]
    verbose: bool,

    /// How long to wait for another process' lock on the database, in seconds.
    #[arg(long, default_value_t = 5.0, global = true, value_name = "SECONDS")]
    lock_timeout: f64,

    /// The token for a libsql:// or https:// database (never printed). Prefer the TURSO_AUTH_TOKEN environment variable: a value given here is visible to every user of this machine (ps, /proc/*/cmdline).
    #[arg(
        long,
        env = "TURSO_AUTH_TOKEN",
        hide_env_values = true,
        global = true,
        value_name = "TOKEN"
    )]
    auth_token: Option<String>,

    /// For servers: how long one request may take, in seconds.
    #[arg(long, default_value_t = 30.0, global = true, value_name = "SECONDS")]
    timeout: f64,

    /// For servers: the most SQL text one request carries, in bytes (lower it for a server with a smaller body limit).
    #[arg(long, default_value_t = database::remote::REQUEST_BYTES, global = true, value_name = "BYTES")]
    request_bytes: usize,

    /// For servers: do not prove a load (by default every row is re-read inside its transaction and the fingerprint compared with the build's before the commit).
    #[arg(long, global = true)]
    no_verify: bool,

    /// The app's static folder: reset, seed and images write the seed's images to DIR/<the path their column holds>; verify checks them there. Else SEEDBAKE_STATIC_DIR, else the seed's default ([images] static_dir, relative to the working directory; verify checks only a folder given).
    #[arg(long, global = true, value_name = "DIR", conflicts_with = "no_images")]
    static_dir: Option<std::path::PathBuf>,

    /// Leave the seed's images alone: reset and seed do not write them, verify does not check them.
    #[arg(long, global = true)]
    no_images: bool,

    #[command(subcommand)]
    command: Command,
}

/// Guards for commands that replace what is in the database.
#[derive(clap::Args, Clone, Default)]
struct Guard {
    /// Skip the confirmation prompt (production, no terminal: required).
    #[arg(long)]
    yes: bool,
    /// Show what would happen and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Where to write the automatic backup (default ./exports/<db>-<UTC time>.sql).
    #[arg(long, value_name = "PATH", conflicts_with = "no_backup")]
    backup: Option<std::path::PathBuf>,
    /// Do not back up first (production makes a backup unless told not to).
    #[arg(long)]
    no_backup: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Drop everything in the database, create the schema and load the seed, in one transaction.
    Reset(#[command(flatten)] Guard),
    /// Load the seed into an empty database; refuses one that holds anything.
    Seed,
    /// Write the whole database as SQL text (the sqlite3 shell loads it; so does `restore`).
    Dump {
        /// Write to this file (atomically: complete or not at all) instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
    /// Write the database back as a seed folder (seed.toml, schema.sql, the seed's files) whose build has its fingerprint.
    Extract {
        /// The folder to write: new or empty (or see --replace); it appears only once complete.
        #[arg(long, value_name = "DIR")]
        out: std::path::PathBuf,
        /// Only these tables (comma-separated); default: the seed's tables and every other table with rows.
        #[arg(long, value_name = "TABLES", value_delimiter = ',')]
        tables: Vec<String>,
        /// Replace a folder that is not empty (only once the new one is complete and proven).
        #[arg(long)]
        replace: bool,
    },
    /// Replace everything in the database with a SQL dump, in one transaction.
    Restore {
        /// The dump (from `seedbake dump`, an automatic backup, or sqlite3's .dump).
        file: std::path::PathBuf,
        #[command(flatten)]
        guard: Guard,
    },
    /// Create or update an admin account (given what the seed's [admin] grant says) with a password you choose.
    InitAdmin {
        /// The account's username; asked for when omitted on a terminal.
        #[arg(long)]
        username: Option<String>,
        /// Read the password from the first line of standard input instead of asking.
        #[arg(long)]
        password_stdin: bool,
        /// Only set the password of an existing account; its role and every other column stay (for the seeded accounts a production reset left without a usable password).
        #[arg(long)]
        password_only: bool,
    },
    /// Recompute the fingerprint from every row of the database (a server's read in pages inside one snapshot) and compare it with the build's.
    Verify,
    /// Describe the embedded seed: tables, row counts, profiles, fingerprints. Touches no database.
    Info,
    /// Write the embedded images into the app's static folder (as reset does after its commit). Touches no database.
    Images,
    /// Apply the pending migrations and bring the reference data to the seed's, in one transaction; the app's own rows stay as they are.
    Migrate {
        #[command(flatten)]
        guard: Guard,
        /// Adopt a database made without migrations (an earlier reset, the old seeder) at this version; its schema must be that version's.
        #[arg(long, value_name = "VERSION")]
        baseline: Option<i64>,
    },
    /// Show what differs between the database and the build: migrations, schema drift, reference data, and why migrate would refuse it. Changes nothing; exit 0 when in step, 1 when migrate has something to do, 9 when it would refuse.
    Status,
    /// Draw the schema as an entity-relationship diagram (Mermaid, DBML or SVG). Touches no database unless --database-url is given.
    ///
    /// Every table with its columns and row count, every foreign key as an edge. The embedded schema (row counts: the profile's seed) unless --database-url is given on the command line (DATABASE_URL alone does not count): then that database's, read-only (row counts: count(*)), marked where it differs from the build.
    Schema {
        /// The diagram's format.
        #[arg(long, value_enum, default_value = "mermaid")]
        format: seedbake::diagram::Format,
        /// Write to this file (atomically; an existing file is replaced) instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
    /// Work on the seed folder's migrations (a developer's checkout; touches no database).
    Migration {
        #[command(subcommand)]
        command: MigrationCommand,
    },
}

#[derive(Subcommand)]
enum MigrationCommand {
    /// Write the next migration file, drafted from the difference between what the migrations make and schema.sql.
    New {
        /// The migration's name, e.g. add_notes (the file becomes <next version>_<name>.sql).
        name: String,
        /// The seed folder.
        #[arg(long, value_name = "DIR", default_value = "seed-data")]
        seed_dir: std::path::PathBuf,
    },
}

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
            run(&cli, &out).await
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

/// The arguments as `seed` makes them: the app's name in the description,
/// its default database, and no command or option the seed has no use for
/// (they still answer when typed, saying why they do nothing).
fn command_for(seed: &Seed) -> clap::Command {
    let mut command = Cli::command().about(match seed.app.name {
        Some(name) => {
            format!("Reset and seed the {name} database from the seed compiled into this binary")
        }
        None => "Reset and seed a database from the seed compiled into this binary".to_owned(),
    });
    if let Some(database) = seed.app.database {
        command = command.mut_arg("database_url", |a| a.default_value(database));
    }
    if seed.admin.is_none() {
        command = command.mut_subcommand("init-admin", |c| c.hide(true));
    }
    if seed.images.is_empty() {
        command = command
            .mut_subcommand("images", |c| c.hide(true))
            .mut_arg("static_dir", |a| a.hide(true))
            .mut_arg("no_images", |a| a.hide(true));
    }
    command
}

/// `--json` among the arguments, for errors found before they are parsed.
fn wants_json() -> bool {
    std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json")
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
        Error::Aborted(_) => exit::ABORTED,
        Error::StaticFolder(_) => exit::USAGE,
        Error::Images(_) => exit::IMAGES,
        Error::Refused { .. } => exit::REFUSED,
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

fn seconds(value: f64, flag: &str, zero: bool) -> Result<Duration> {
    let least = if zero { "0" } else { "more than 0" };
    if (0.0..=MAX_SECONDS).contains(&value) && (zero || value > 0.0) {
        // Within the bounds just checked, the conversion cannot fail.
        Duration::try_from_secs_f64(value).map_err(|e| Error::Usage(format!("{flag}: {e}")))
    } else {
        Err(Error::Usage(format!(
            "{flag} takes a number of seconds, {least} to {MAX_SECONDS} (a year)"
        )))
    }
}

/// Whether the command changes the database (a dry run does not).
fn writes(command: &Command) -> bool {
    match command {
        Command::Reset(guard) | Command::Restore { guard, .. } => !guard.dry_run,
        Command::Seed | Command::InitAdmin { .. } => true,
        Command::Migrate { guard, .. } => !guard.dry_run,
        Command::Verify
        | Command::Dump { .. }
        | Command::Info
        | Command::Images
        | Command::Status
        | Command::Schema { .. }
        | Command::Migration { .. }
        | Command::Extract { .. } => false,
    }
}

/// Opens the database; `create`: a missing local file is created (only
/// the commands that fill a database ask for that, and never in a dry run).
async fn open(cli: &Cli, create: bool) -> Result<Box<dyn Target>> {
    let lock_timeout = seconds(cli.lock_timeout, "--lock-timeout", true)?;
    let request_timeout = seconds(cli.timeout, "--timeout", false)?;
    let url = database::parse_database_url(database_url(cli)?)?;
    let writes = writes(&cli.command);
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
            .or(url.token),
        request_timeout,
        request_bytes: cli.request_bytes.max(1024),
        create: create && writes && !url.must_exist,
        read_only: url.read_only,
        prove: !cli.no_verify,
    };
    database::open(url.location, settings).await
}

/// For a dry run: the local file the URL names, when it does not exist yet
/// (in a folder that does).
fn missing_local_file(cli: &Cli) -> Option<Location> {
    let url = database::parse_database_url(database_url(cli).ok()?).ok()?;
    match &url.location {
        Location::Local(path)
            if !url.must_exist
                && !path.exists()
                && path
                    .parent()
                    .is_none_or(|p| p.as_os_str().is_empty() || p.is_dir()) =>
        {
            Some(url.location)
        }
        _ => None,
    }
}

/// Whether the command will ask the operator something on the terminal
/// (then signals are left to end it the ordinary way until it has asked).
fn will_prompt(cli: &Cli) -> bool {
    let guard = match &cli.command {
        Command::Reset(guard) | Command::Restore { guard, .. } | Command::Migrate { guard, .. } => {
            guard
        }
        Command::InitAdmin { .. } => return true,
        _ => return false,
    };
    if guard.yes || guard.dry_run || !std::io::stdin().is_terminal() {
        return false;
    }
    database_url(cli)
        .and_then(database::parse_url)
        .ok()
        .and_then(|location| ops::environment(&location, |k| std::env::var(k).ok()).ok())
        .is_some_and(|env| env.is_production())
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

async fn run(cli: &Cli, out: &Output) -> Result<u8> {
    if !matches!(cli.command, Command::Info) && !will_prompt(cli) {
        signals::arm();
    }
    match &cli.command {
        Command::Info => {
            out.info();
            Ok(exit::OK)
        }
        Command::Reset(guard) => {
            let profile = profile(cli.profile.as_deref())?;
            let password = admin_password(out)?;
            let images = images_folder(cli, profile)?;
            check_writes(cli, Some(guard), image_writes(&images, profile))?;
            let mut what = format!(
                "load the {} seed: {} rows in {} tables",
                profile.name,
                profile.row_count(),
                profile.tables.len()
            );
            if let ImagesPlan::Write(dir) = &images {
                what.push_str(&format!(
                    "; after the commit, write {} images into {}",
                    ops::images::files(profile).len(),
                    dir.path.display()
                ));
            }
            if guard.dry_run
                && let Some(location) = missing_local_file(cli)
            {
                // Nothing to read, and a dry run creates nothing.
                let env = ops::environment(&location, |k| std::env::var(k).ok())?;
                let plan = ops::Plan {
                    target: location.to_string(),
                    database_name: location.database_name(),
                    existing: Vec::new(),
                };
                let what = format!("create the file (it does not exist yet) and {what}");
                out.plan(&plan, &env, "reset", &what, None, true);
                return Ok(exit::OK);
            }
            let target = open(cli, true).await?;
            let target = target.as_ref();
            let env = guard::environment(target)?;
            let Some(go) = guard::confirm(out, guard, target, &env, "reset", &what).await? else {
                return Ok(exit::OK);
            };
            let opts = LoadOptions {
                profile,
                admin_password: password.as_deref(),
                production: env.is_production(),
                backup: go.backup.as_deref(),
            };
            guard::after_failure(out, &go, load(cli, out, target, &opts, true, &images).await)
        }
        Command::Seed => {
            let profile = profile(cli.profile.as_deref())?;
            let password = admin_password(out)?;
            let images = images_folder(cli, profile)?;
            check_writes(cli, None, image_writes(&images, profile))?;
            let target = open(cli, true).await?;
            let target = target.as_ref();
            let env = guard::environment(target)?;
            let opts = LoadOptions {
                profile,
                admin_password: password.as_deref(),
                production: env.is_production(),
                backup: None,
            };
            load(cli, out, target, &opts, false, &images).await
        }
        Command::Verify => {
            let profile = cli
                .profile
                .as_deref()
                .map(|p| profile(Some(p)))
                .transpose()?;
            let images = if cli.no_images {
                None
            } else {
                ops::images::chosen_for_check(
                    cli.static_dir.as_deref(),
                    std::env::var_os(ops::images::STATIC_DIR_VAR),
                )?
            };
            let target = open(cli, false).await?;
            let mut report = ops::verify(target.as_ref(), profile).await?;
            if let Some(dir) = &images {
                let profile = seed::get()
                    .profile(&report.profile)
                    .unwrap_or(seed::get().default_profile());
                report.images = Some(ops::images::check(dir, profile)?);
            }
            out.verify(&report);
            Ok(if report.clean() {
                exit::OK
            } else {
                exit::DRIFT
            })
        }
        Command::Extract {
            out: dir,
            tables,
            replace,
        } => {
            // With --replace the folder goes: never one holding the database.
            check_writes(
                cli,
                None,
                vec![Written::new("the seed folder (--out)", dir)],
            )?;
            let target = open(cli, false).await?;
            let opts = ops::ExtractOptions {
                out: dir,
                tables,
                replace: *replace,
            };
            let report = ops::extract(target.as_ref(), &opts).await?;
            out.extracted(&report);
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
            check_writes(cli, None, dump)?;
            let target = open(cli, false).await?;
            let report = match output {
                Some(path) => ops::dump_to_file(target.as_ref(), path).await?,
                None => {
                    let mut stdout = out.stdout_writer();
                    match ops::dump(target.as_ref(), &mut stdout).await {
                        Ok(report) => report,
                        // Standard output failed (a closed pipe, a full
                        // disk): `finish` says so, once.
                        Err(_) if out.stdout_failed() => return Ok(exit::OK),
                        Err(e) => return Err(e),
                    }
                }
            };
            out.dumped(&report, output.as_deref());
            Ok(exit::OK)
        }
        Command::Restore { file, guard } => {
            // The whole file is checked before the database is opened.
            let dump = ops::check_dump(file)?;
            check_writes(
                cli,
                Some(guard),
                vec![Written::new("the dump being restored", file)],
            )?;
            let target = open(cli, true).await?;
            let target = target.as_ref();
            let env = guard::environment(target)?;
            let what = format!("load {}: {} statements", file.display(), dump.statements());
            let Some(go) = guard::confirm(out, guard, target, &env, "restore", &what).await? else {
                return Ok(exit::OK);
            };
            let restored = ops::restore(target, &dump, go.backup.as_deref()).await;
            let report = guard::after_failure(out, &go, restored)?;
            out.restored(&report);
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
            let Some(dir) = ops::images::choose(
                cli.static_dir.as_deref(),
                std::env::var_os(ops::images::STATIC_DIR_VAR),
            )?
            else {
                out.images(&ops::images::Delivery::Skipped {
                    reason: "this seed embeds no images".into(),
                });
                return Ok(exit::OK);
            };
            ops::images::check_before(&dir, profile)?;
            let delivery = ops::images::deliver(&dir, profile);
            out.images(&delivery);
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
            let target = open(cli, false).await?;
            let report = if *password_only {
                ops::set_password(target.as_ref(), &username, &password).await?
            } else {
                ops::init_admin(target.as_ref(), &username, &password).await?
            };
            out.admin(&report);
            Ok(exit::OK)
        }
        Command::Migrate { guard, baseline } => migrate(cli, out, guard, *baseline).await,
        Command::Schema { format, output } => {
            schema::run(cli, out, *format, output.as_deref()).await
        }
        Command::Migration {
            command: MigrationCommand::New { name, seed_dir },
        } => {
            let report = ops::migration_draft(seed_dir, name).await?;
            out.drafted(&report);
            Ok(exit::OK)
        }
        Command::Status => {
            let target = open(cli, false).await?;
            let report = ops::status(target.as_ref(), &Build::embedded()).await?;
            out.status(&report);
            Ok(if report.migrate_would_refuse() {
                exit::REFUSED
            } else if report.in_step {
                exit::OK
            } else {
                exit::NOT_IN_STEP
            })
        }
    }
}

/// Where `reset`/`seed` write the images (`None`: they do not), checked
/// before anything changes.
/// Where a load's images go, or why they are left out. The seed's default
/// folder missing means seedbake does not run in the app's backend folder
/// (a developer's checkout, a one-off machine): the database is still
/// what was asked for, so the images are left out with a warning rather
/// than the reset refused; a folder the operator named must work.
fn images_folder(cli: &Cli, profile: &Profile) -> Result<ImagesPlan> {
    if cli.no_images {
        return Ok(ImagesPlan::Skip("--no-images".into()));
    }
    if ops::images::files(profile).is_empty() {
        return Ok(ImagesPlan::None);
    }
    let dir = ops::images::choose(
        cli.static_dir.as_deref(),
        std::env::var_os(ops::images::STATIC_DIR_VAR),
    )?;
    let Some(dir) = dir else {
        return Ok(ImagesPlan::None);
    };
    if dir.source == ops::images::Source::SeedDefault && !dir.path.is_dir() {
        return Ok(ImagesPlan::Skip(format!(
            "the app's static folder {} (the seed's default, relative to the working directory) is not here, \
             so this is not the app's backend folder; give --static-dir DIR, or write them later with \
             `{} images --static-dir DIR`",
            dir.path.display(),
            crate::program::name()
        )));
    }
    ops::images::check_before(&dir, profile)?;
    Ok(ImagesPlan::Write(dir))
}

/// Refuses, before the database is opened (so nothing is created or
/// changed), a run whose files would overwrite one another: the database
/// and its journals, the backup `guard` asks for, and `writes`.
fn check_writes(cli: &Cli, guard: Option<&Guard>, writes: Vec<Written>) -> Result<()> {
    let location = database::parse_database_url(database_url(cli)?)?.location;
    let production = ops::environment(&location, |k| std::env::var(k).ok())?.is_production();
    let mut all = ops::paths::database_files(&location);
    all.extend(writes);
    let backup = guard.and_then(|g| guard::backup_path(g, production, &location));
    all.extend(backup.map(|b| Written::new("the backup", b)));
    ops::paths::check_distinct(&all)
}

/// The files a load's images go to, for the check that no other file of
/// the run is among them.
fn image_writes(images: &ImagesPlan, profile: &Profile) -> Vec<Written> {
    let ImagesPlan::Write(dir) = images else {
        return Vec::new();
    };
    ops::images::files(profile)
        .iter()
        .map(|f| Written::new(format!("the image {}", f.path), dir.path.join(f.path)))
        .collect()
}

/// What a load does with the seed's images after its commit.
enum ImagesPlan {
    /// The seed has none.
    None,
    Write(ops::images::StaticDir),
    /// Left out, and why.
    Skip(String),
}

/// `migrate`: in production (or with --dry-run) the whole migration is
/// first run and rolled back to show its plan; then the guard asks and
/// backs up as for reset, and the migration runs for real, refusing if the
/// database changed since the plan was shown.
async fn migrate(cli: &Cli, out: &Output, guard: &Guard, baseline: Option<i64>) -> Result<u8> {
    check_writes(cli, Some(guard), Vec::new())?;
    let target = open(cli, false).await?;
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
        out.migrate_plan(&plan, guard.dry_run);
        if guard.dry_run || !plan.changes {
            return Ok(exit::OK);
        }
        Some(plan)
    } else {
        None
    };
    let what = match &plan {
        Some(p) => {
            let migrations: Vec<String> = p
                .applied
                .iter()
                .map(|m| format!("{:04}_{}", m.version, m.name))
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
        None => "migrate, keeping every row of the app's own tables".into(),
    };
    let confirm = Guard {
        dry_run: false,
        ..guard.clone()
    };
    let Some(go) = guard::confirm(out, &confirm, target, &env, "migrate", &what).await? else {
        return Ok(exit::OK);
    };
    opts.dry_run = false;
    opts.confirmed = plan.as_ref();
    opts.backup = go.backup.as_deref();
    let migrated = ops::migrate(target, &build, &opts).await;
    let report = guard::after_failure(out, &go, migrated)?;
    out.migrated(&report);
    Ok(exit::OK)
}

async fn load(
    cli: &Cli,
    out: &Output,
    target: &dyn Target,
    opts: &LoadOptions<'_>,
    reset: bool,
    images: &ImagesPlan,
) -> Result<u8> {
    let rows = opts.profile.row_count();
    let show_bar = !cli.json && std::io::stderr().is_terminal() && rows >= 50_000;
    let mut progress = output::Progress::new(rows as u64, show_bar);
    let report = if reset {
        ops::reset(target, opts, &mut progress).await
    } else {
        ops::seed(target, opts, &mut progress).await
    };
    progress.finish();
    let mut report = report?;
    // Only now, with the database committed: pictures of a seed that was
    // rolled back would name rows that are not there.
    report.images = match images {
        ImagesPlan::Write(dir) => Some(ops::images::deliver(dir, opts.profile)),
        ImagesPlan::Skip(reason) => {
            if !cli.no_images {
                out.warn(&format!("the images were not written: {reason}"));
            }
            Some(ops::images::Delivery::Skipped {
                reason: reason.clone(),
            })
        }
        ImagesPlan::None => None,
    };
    out.load(&report);
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
