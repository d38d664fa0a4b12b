//! Arguments, dispatch and exit codes.

mod output;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use seedbake::ops::{self, LoadOptions};
use seedbake::seed::{Profile, SEED};
use seedbake::target::{self, Target};
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
}

#[derive(Parser)]
#[command(
    name = "seedbake",
    version,
    about = "Reset and seed the Aquarius database from the seed compiled into this binary",
    after_help = "Exit codes: 0 success, 1 verify found drift, 2 usage error, 3 database unavailable or locked, \
                  4 failed and rolled back, 5 seed refused a non-empty database."
)]
struct Cli {
    /// The database: sqlite:///./aquarius.db, sqlite:////abs/path.db, file:path or a plain path.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, default_value = target::DEFAULT_URL, global = true)]
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

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Drop everything in the database, create the schema and load the seed, in one transaction.
    Reset,
    /// Load the seed into an empty database; refuses one that holds anything.
    Seed,
    /// Recompute the fingerprint from the database's rows and compare it with the build's.
    Verify,
    /// Describe the embedded seed: tables, row counts, profiles, fingerprints. Touches no database.
    Info,
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
        Error::Open { .. } | Error::Locked { .. } => exit::UNAVAILABLE,
        Error::NotEmpty { .. } => exit::NOT_EMPTY,
        Error::RolledBack { .. } | Error::Database { .. } | Error::Password(_) => exit::FAILED,
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

async fn open(cli: &Cli) -> Result<Target> {
    if !(cli.lock_timeout.is_finite() && cli.lock_timeout >= 0.0) {
        return Err(Error::Usage(
            "--lock-timeout takes a number of seconds, 0 or more".into(),
        ));
    }
    let location = target::parse_url(&cli.database_url)?;
    Target::open(location, Duration::from_secs_f64(cli.lock_timeout)).await
}

/// `INITIAL_ADMIN_PASSWORD`, if set. The value is never printed.
fn admin_password() -> Result<Option<String>> {
    match std::env::var("INITIAL_ADMIN_PASSWORD") {
        Ok(p) if p.is_empty() => Err(Error::Usage(
            "INITIAL_ADMIN_PASSWORD is set but empty; unset it to keep the development default, or give a password".into(),
        )),
        Ok(p) => Ok(Some(p)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(Error::Usage("INITIAL_ADMIN_PASSWORD is not valid UTF-8".into()))
        }
    }
}

async fn run(cli: &Cli, out: &Output) -> Result<u8> {
    match cli.command {
        Command::Info => {
            out.info();
            Ok(exit::OK)
        }
        Command::Reset | Command::Seed => {
            let profile = profile(cli.profile.as_deref())?;
            let password = admin_password()?;
            let target = open(cli).await?;
            let opts = LoadOptions {
                profile,
                admin_password: password.as_deref(),
            };
            let show_bar =
                !cli.json && std::io::stderr().is_terminal() && profile.row_count() >= 50_000;
            let mut progress = output::Progress::new(profile.row_count() as u64, show_bar);
            let report = if matches!(cli.command, Command::Reset) {
                ops::reset(&target, &opts, &mut progress).await
            } else {
                ops::seed(&target, &opts, &mut progress).await
            };
            progress.finish();
            out.load(&report?);
            Ok(exit::OK)
        }
        Command::Verify => {
            let profile = cli
                .profile
                .as_deref()
                .map(|p| profile(Some(p)))
                .transpose()?;
            let target = open(cli).await?;
            let report = ops::verify(&target, profile).await?;
            out.verify(&report);
            Ok(if report.matches {
                exit::OK
            } else {
                exit::DRIFT
            })
        }
    }
}
