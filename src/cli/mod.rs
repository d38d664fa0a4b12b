//! Arguments, dispatch and exit codes.

mod guard;
mod output;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use seedbake::database::{self, Target};
use seedbake::ops::{self, LoadOptions};
use seedbake::seed::migrations::Build;
use seedbake::seed::{Profile, SEED};
use seedbake::{Error, Result};

use output::Output;

/// Documented in the README; scripts rely on them.
pub mod exit {
    pub const OK: u8 = 0;
    /// `verify` found the database differs from the build.
    pub const DRIFT: u8 = 1;
    /// Bad arguments, URL or profile; nothing was touched.
    pub const USAGE: u8 = 2;
    /// The database could not be opened, or stayed locked; nothing changed.
    pub const UNAVAILABLE: u8 = 3;
    /// The operation failed and was rolled back; nothing changed.
    pub const FAILED: u8 = 4;
    /// `seed` refused a database that is not empty; nothing changed.
    pub const NOT_EMPTY: u8 = 5;
    /// The server got the commit but its answer was lost: it may or may
    /// not have applied it. `seedbake verify` tells.
    pub const OUTCOME_UNKNOWN: u8 = 6;
    /// (as 1) The operator did not confirm a destructive command in
    /// production, or there was no terminal to ask on; nothing changed.
    pub const ABORTED: u8 = 1;
    /// (as 1) `status` found the database out of step with the build.
    pub const NOT_IN_STEP: u8 = 1;
    /// `migrate` refused the database as it is (a changed or unknown
    /// migration, schema drift, nothing to adopt it at); nothing changed.
    pub const REFUSED: u8 = 7;
}

#[derive(Parser)]
#[command(
    name = "seedbake",
    version,
    about = "Reset and seed the Aquarius database from the seed compiled into this binary",
    after_help = "Exit codes: 0 success, 1 verify found drift or a production command was not confirmed, \
                  2 usage error, 3 database unreachable or locked, 4 failed and rolled back (or the backup failed), \
                  5 seed refused a non-empty database, 6 the server's answer to the commit was lost (run verify), \
                  7 migrate refused the database as it is (status says why). \
                  With codes 2 to 5 and 7 nothing was changed."
)]
struct Cli {
    /// The database: sqlite:///./aquarius.db, sqlite:////abs/path.db, file:path, a plain path, or a server: libsql://host, https://host, http://host:port.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, default_value = database::DEFAULT_URL, global = true)]
    database_url: String,

    /// Which part of the seed to load (see `seedbake info`); defaults to the seed's default.
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

    /// The token for a libsql:// or https:// database (never printed).
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

    /// For servers: skip re-reading the rows after a reset to prove the fingerprint.
    #[arg(long, global = true)]
    no_verify: bool,

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
    /// Replace everything in the database with a SQL dump, in one transaction.
    Restore {
        /// The dump (from `seedbake dump`, an automatic backup, or sqlite3's .dump).
        file: std::path::PathBuf,
        #[command(flatten)]
        guard: Guard,
    },
    /// Create or update the admin account (role ROOT, active) with a password you choose.
    InitAdmin {
        /// The account's username; asked for when omitted on a terminal.
        #[arg(long)]
        username: Option<String>,
        /// Read the password from the first line of standard input instead of asking.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Recompute the fingerprint from the database's rows and compare it with the build's.
    Verify,
    /// Describe the embedded seed: tables, row counts, profiles, fingerprints. Touches no database.
    Info,
    /// Apply the pending migrations and bring the reference data to the seed's, in one transaction; the app's own rows stay as they are.
    Migrate {
        #[command(flatten)]
        guard: Guard,
        /// Adopt a database made without migrations (an earlier reset, the old seeder) at this version; its schema must be that version's.
        #[arg(long, value_name = "VERSION")]
        baseline: Option<i64>,
    },
    /// Show what differs between the database and the build: migrations, schema drift, reference data. Changes nothing; exit 0 when in step, 1 when not.
    Status,
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
        /// The migration's name, e.g. kind_notiz (the file becomes <next version>_<name>.sql).
        name: String,
        /// The seed folder.
        #[arg(long, value_name = "DIR", default_value = "seed-data")]
        seed_dir: std::path::PathBuf,
    },
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let out = Output::new(cli.json, cli.verbose);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            out.error(&format!("cannot start: {e}"));
            return ExitCode::from(exit::FAILED);
        }
    };
    match runtime.block_on(run(&cli, &out)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            out.error(&e.to_string());
            ExitCode::from(exit_code(&e))
        }
    }
}

fn exit_code(e: &Error) -> u8 {
    match e {
        Error::InvalidUrl { .. } | Error::UnknownProfile { .. } | Error::Usage(_) => exit::USAGE,
        Error::Open { .. } | Error::Locked { .. } | Error::Unreachable { .. } => exit::UNAVAILABLE,
        Error::NotEmpty { .. } => exit::NOT_EMPTY,
        Error::OutcomeUnknown { .. } => exit::OUTCOME_UNKNOWN,
        Error::RolledBack { .. }
        | Error::Database { .. }
        | Error::Password(_)
        | Error::Output { .. }
        | Error::Backup { .. } => exit::FAILED,
        Error::Aborted(_) => exit::ABORTED,
        Error::Refused { .. } => exit::REFUSED,
    }
}

fn profile(name: Option<&str>) -> Result<&'static Profile> {
    match name {
        None => Ok(SEED.default_profile()),
        Some(n) => SEED.profile(n).ok_or_else(|| Error::UnknownProfile {
            name: n.to_owned(),
            known: SEED
                .profiles
                .iter()
                .map(|p| p.name)
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

fn seconds(value: f64, flag: &str) -> Result<Duration> {
    if value.is_finite() && value >= 0.0 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(Error::Usage(format!(
            "{flag} takes a number of seconds, 0 or more"
        )))
    }
}

/// Opens the database; `create`: a missing local file is created (only
/// the commands that fill a database ask for that).
async fn open(cli: &Cli, create: bool) -> Result<Box<dyn Target>> {
    let lock_timeout = seconds(cli.lock_timeout, "--lock-timeout")?;
    let request_timeout = seconds(cli.timeout, "--timeout")?;
    let (location, url_token) = database::parse_url_with_token(&cli.database_url)?;
    let settings = database::Settings {
        lock_timeout,
        auth_token: cli
            .auth_token
            .clone()
            .filter(|t| !t.is_empty())
            .or(url_token),
        request_timeout,
        request_bytes: cli.request_bytes.max(1024),
        create,
    };
    database::open(location, settings).await
}

/// `INITIAL_ADMIN_PASSWORD`, if set. The value is never printed.
fn admin_password() -> Result<Option<String>> {
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
    match &cli.command {
        Command::Info => {
            out.info();
            Ok(exit::OK)
        }
        Command::Reset(guard) => {
            let profile = profile(cli.profile.as_deref())?;
            let password = admin_password()?;
            let target = open(cli, true).await?;
            let target = target.as_ref();
            let env = guard::environment(target)?;
            let what = format!(
                "load the {} seed: {} rows in {} tables",
                profile.name,
                profile.row_count(),
                profile.tables.len()
            );
            if !guard::confirm(cli, out, guard, target, &env, "reset", &what).await? {
                return Ok(exit::OK);
            }
            let opts = LoadOptions {
                profile,
                admin_password: password.as_deref(),
                lock_admin: env.is_production(),
            };
            load(cli, out, target, &opts, true).await
        }
        Command::Seed => {
            let profile = profile(cli.profile.as_deref())?;
            let password = admin_password()?;
            let target = open(cli, true).await?;
            let target = target.as_ref();
            let env = guard::environment(target)?;
            let opts = LoadOptions {
                profile,
                admin_password: password.as_deref(),
                lock_admin: env.is_production(),
            };
            load(cli, out, target, &opts, false).await
        }
        Command::Verify => {
            let profile = cli
                .profile
                .as_deref()
                .map(|p| profile(Some(p)))
                .transpose()?;
            let target = open(cli, false).await?;
            let report = ops::verify(target.as_ref(), profile).await?;
            out.verify(&report);
            Ok(if report.matches {
                exit::OK
            } else {
                exit::DRIFT
            })
        }
        Command::Dump { output } => {
            let target = open(cli, false).await?;
            let report = match output {
                Some(path) => ops::dump_to_file(target.as_ref(), path).await?,
                None => {
                    let stdout = std::io::stdout();
                    let mut lock = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
                    ops::dump(target.as_ref(), &mut lock).await?
                }
            };
            out.dumped(&report, output.as_deref());
            Ok(exit::OK)
        }
        Command::Restore { file, guard } => {
            let shown = file.display().to_string();
            let text = std::fs::read_to_string(file)
                .map_err(|e| Error::Usage(format!("cannot read {shown}: {e}")))?;
            let statements = ops::dump_statements(&text, &shown)?;
            let target = open(cli, true).await?;
            let target = target.as_ref();
            let env = guard::environment(target)?;
            let what = format!("load {shown}: {} statements", statements.len());
            if !guard::confirm(cli, out, guard, target, &env, "restore", &what).await? {
                return Ok(exit::OK);
            }
            let report = ops::restore(target, &statements).await?;
            out.restored(&report);
            Ok(exit::OK)
        }
        Command::InitAdmin {
            username,
            password_stdin,
        } => {
            let (username, password) =
                guard::admin_credentials(username.as_deref(), *password_stdin)?;
            let target = open(cli, false).await?;
            let report = ops::init_admin(target.as_ref(), &username, &password).await?;
            out.admin(&report);
            Ok(exit::OK)
        }
        Command::Migrate { guard, baseline } => migrate(cli, out, guard, *baseline).await,
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
            Ok(if report.in_step {
                exit::OK
            } else {
                exit::NOT_IN_STEP
            })
        }
    }
}

/// `migrate`: in production (or with --dry-run) the whole migration is
/// first run and rolled back to show its plan; then the guard asks and
/// backs up as for reset, and the migration runs for real, refusing if the
/// database changed since the plan was shown.
async fn migrate(cli: &Cli, out: &Output, guard: &Guard, baseline: Option<i64>) -> Result<u8> {
    let target = open(cli, false).await?;
    let target = target.as_ref();
    let env = guard::environment(target)?;
    let build = Build::embedded();
    let mut opts = ops::MigrateOptions {
        baseline,
        dry_run: true,
        confirmed: None,
    };
    let plan = if env.is_production() || guard.dry_run {
        let plan = ops::migrate(target, &build, &opts).await?;
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
    if !guard::confirm(cli, out, &confirm, target, &env, "migrate", &what).await? {
        return Ok(exit::OK);
    }
    opts.dry_run = false;
    opts.confirmed = plan.as_ref();
    let report = ops::migrate(target, &build, &opts).await?;
    out.migrated(&report);
    Ok(exit::OK)
}

async fn load(
    cli: &Cli,
    out: &Output,
    target: &dyn Target,
    opts: &LoadOptions<'_>,
    reset: bool,
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
    let report = report?;
    out.load(&report);
    if report.verified || cli.no_verify {
        return Ok(exit::OK);
    }
    // A server's rows are proven after the commit, from what it returns.
    let check = ops::verify(target, Some(opts.profile)).await?;
    out.verify(&check);
    Ok(if check.matches { exit::OK } else { exit::DRIFT })
}
