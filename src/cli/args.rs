//! The command line's arguments, as clap parses them and as the seed
//! shapes them (the app's name, its default database, the commands it has
//! a use for).

use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};

use seedbake::database;
use seedbake::seed::Seed;
use seedbake::{Error, Result};

/// The longest `--timeout` / `--lock-timeout`: a year, far beyond any use,
/// and far from where clocks overflow.
const MAX_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

#[derive(Parser)]
#[command(
    name = "seedbake",
    version,
    about = "Reset and seed a database from the seed compiled into this binary",
    after_help = super::exit::help()
)]
pub(super) struct Cli {
    /// The database: sqlite:///./app.db, sqlite:////abs/path.db, file:path, a plain path, or a server: libsql://host, https://host, http://host:port. The default, if any, is the seed's ([app] database).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub(super) database_url: Option<String>,

    /// Which part of the seed to load (see the info command); defaults to the seed's default.
    #[arg(long, global = true)]
    pub(super) profile: Option<String>,

    /// Print one JSON object on stdout instead of text.
    #[arg(long, global = true)]
    pub(super) json: bool,

    /// Say more about what happens.
    #[arg(short, long, global = true)]
    pub(super) verbose: bool,

    /// How long to wait for another process' lock on the database, in seconds.
    #[arg(long, default_value_t = 5.0, global = true, value_name = "SECONDS")]
    pub(super) lock_timeout: f64,

    /// The token for a libsql:// or https:// database (never printed). Prefer the TURSO_AUTH_TOKEN environment variable: a value given here is visible to every user of this machine (ps, /proc/*/cmdline).
    #[arg(
        long,
        env = "TURSO_AUTH_TOKEN",
        hide_env_values = true,
        global = true,
        value_name = "TOKEN"
    )]
    pub(super) auth_token: Option<String>,

    /// For servers: how long one request may take, in seconds.
    #[arg(long, default_value_t = 30.0, global = true, value_name = "SECONDS")]
    pub(super) timeout: f64,

    /// For servers: the most SQL text one request carries, in bytes (lower it for a server with a smaller body limit).
    #[arg(long, default_value_t = database::remote::REQUEST_BYTES, global = true, value_name = "BYTES")]
    pub(super) request_bytes: usize,

    /// For servers: do not prove a load (by default every row is re-read inside its transaction and the fingerprint compared with the build's before the commit).
    #[arg(long, global = true)]
    pub(super) no_verify: bool,

    /// The app's static folder: reset, seed and images write the seed's images to DIR/<the path their column holds>; verify checks them there. Else SEEDBAKE_STATIC_DIR, else the seed's default ([images] static_dir, relative to the working directory; verify checks only a folder given).
    #[arg(long, global = true, value_name = "DIR", conflicts_with = "no_images")]
    pub(super) static_dir: Option<std::path::PathBuf>,

    /// Leave the seed's images alone: reset and seed do not write them, verify does not check them.
    #[arg(long, global = true)]
    pub(super) no_images: bool,

    #[command(subcommand)]
    pub(super) command: Command,
}

/// Guards for commands that replace what is in the database.
#[derive(clap::Args, Clone, Default)]
pub(super) struct Guard {
    /// Skip the confirmation prompt (production, no terminal: required).
    #[arg(long)]
    pub(super) yes: bool,
    /// Show what would happen and change nothing.
    #[arg(long)]
    pub(super) dry_run: bool,
    /// Where to write the automatic backup (default ./exports/<db>-<UTC time>.sql).
    #[arg(long, value_name = "PATH", conflicts_with = "no_backup")]
    pub(super) backup: Option<std::path::PathBuf>,
    /// Do not back up first (production makes a backup unless told not to).
    #[arg(long)]
    pub(super) no_backup: bool,
}

#[derive(Subcommand)]
pub(super) enum Command {
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
pub(super) enum MigrationCommand {
    /// Write the next migration file, drafted from the difference between what the migrations make and schema.sql.
    New {
        /// The migration's name, e.g. add_notes (the file becomes <next version>_<name>.sql).
        name: String,
        /// The seed folder.
        #[arg(long, value_name = "DIR", default_value = "seed-data")]
        seed_dir: std::path::PathBuf,
    },
}

/// The arguments as `seed` makes them: the app's name in the description,
/// its default database, and no command or option the seed has no use for
/// (they still answer when typed, saying why they do nothing).
pub(super) fn command_for(seed: &Seed) -> clap::Command {
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
pub(super) fn wants_json() -> bool {
    std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json")
}

pub(super) fn seconds(value: f64, flag: &str, zero: bool) -> Result<Duration> {
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

impl Command {
    /// Whether the command changes the database (a dry run does not).
    pub(super) fn writes(&self) -> bool {
        match self {
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
}
