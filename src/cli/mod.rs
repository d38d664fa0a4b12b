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
    #[arg(long, default_value_t = seedbake::ops::REMOTE_REQUEST_BYTES, global = true, value_name = "BYTES")]
    request_bytes: usize,

    /// For servers: skip re-reading the rows after a reset to prove the fingerprint.
    #[arg(long, global = true)]
    no_verify: bool,

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
        Error::Open { .. } | Error::Locked { .. } | Error::Unreachable { .. } => exit::UNAVAILABLE,
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

fn seconds(value: f64, flag: &str) -> Result<Duration> {
    if value.is_finite() && value >= 0.0 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(Error::Usage(format!(
            "{flag} takes a number of seconds, 0 or more"
        )))
    }
}

async fn open(cli: &Cli) -> Result<Target> {
    let lock_timeout = seconds(cli.lock_timeout, "--lock-timeout")?;
    let request_timeout = seconds(cli.timeout, "--timeout")?;
    let (location, url_token) = target::parse_url_with_token(&cli.database_url)?;
    let settings = target::Settings {
        lock_timeout,
        auth_token: cli
            .auth_token
            .clone()
            .filter(|t| !t.is_empty())
            .or(url_token),
        request_timeout,
        request_bytes: cli.request_bytes.max(1024),
    };
    Target::open(location, settings).await
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
            let report = report?;
            out.load(&report);
            if report.verified || cli.no_verify {
                return Ok(exit::OK);
            }
            // A server's rows are proven after the commit, from what it returns.
            let check = ops::verify(&target, Some(profile)).await?;
            out.verify(&check);
            Ok(if check.matches { exit::OK } else { exit::DRIFT })
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
