//! The admin account: its password at reset, and `init-admin`, the app's
//! bootstrap for a real one.

use serde::Serialize;
use tokio::sync::watch;

use super::tx::{Failure, Tx, sql_text, step};
use super::{AdminPassword, LoadOptions, TrafficReport};
use crate::credentials::Salted;
pub use crate::credentials::hash_password;
use crate::database::Target;
use crate::error::{Error, Result};
use crate::schema::quote_ident;
use crate::seed::{self, TableData};
use crate::value::{Decoder, ValueRef, write_sql_literal};

/// The shortest password seedbake accepts.
pub const MIN_ADMIN_PASSWORD: usize = 12;
/// bcrypt reads at most this many bytes; a longer password would be cut
/// without a word, so it is refused.
pub const MAX_PASSWORD_BYTES: usize = 72;
const MAX_USERNAME_CHARS: usize = 150;

/// The one rule for every password seedbake sets (`init-admin`,
/// `INITIAL_ADMIN_PASSWORD`): what is wrong with it, if anything. The
/// message never holds the password.
pub fn password_problem(password: &str) -> Option<String> {
    if password.chars().count() < MIN_ADMIN_PASSWORD {
        Some(format!(
            "the password is too short: at least {MIN_ADMIN_PASSWORD} characters"
        ))
    } else if password.len() > MAX_PASSWORD_BYTES {
        Some(format!(
            "the password is too long: bcrypt uses at most {MAX_PASSWORD_BYTES} bytes of a password; choose a shorter one"
        ))
    } else if password.chars().any(char::is_control) {
        Some("the password holds a control character (a NUL, a tab, a line break…); use printable characters only".into())
    } else if password.trim().chars().count() < MIN_ADMIN_PASSWORD {
        Some(format!(
            "the password is mostly spaces: at least {MIN_ADMIN_PASSWORD} characters besides leading and trailing spaces"
        ))
    } else {
        None
    }
}

/// The one rule for the usernames seedbake creates or updates.
pub fn username_problem(username: &str) -> Option<String> {
    if username.trim().is_empty() {
        Some("the username is empty".into())
    } else if username.trim() != username {
        Some(format!(
            "the username {username:?} starts or ends with a space; give it without"
        ))
    } else if username.chars().any(char::is_control) {
        Some("the username holds a control character".into())
    } else if username.chars().count() > MAX_USERNAME_CHARS {
        Some(format!(
            "the username is longer than {MAX_USERNAME_CHARS} characters"
        ))
    } else {
        None
    }
}

/// A seeded account whose published development password was replaced by
/// one nobody knows. Never the password itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockedAccount {
    pub table: String,
    /// The row's natural key (for Aquarius: the username).
    pub account: String,
}

/// What a load did to the seeded credentials.
pub(crate) struct SeededCredentials {
    pub admin: AdminPassword,
    pub locked: Vec<LockedAccount>,
}

/// The hashes a load writes. They start on threads of their own before the
/// load's first request and are waited for only when its transaction
/// writes them, so the requests in between hide them (bcrypt at cost 12 is
/// a fixed stretch of one core per hash). A local load gets there before
/// the hash is done and waits out the rest holding the write lock: the
/// reset ends sooner, but holds the lock up to one hash longer than when
/// the hashing came first.
pub(crate) struct CredentialHashes {
    /// For every seeded credential (production).
    locked: Option<Hashing>,
    /// For the admin (`INITIAL_ADMIN_PASSWORD`).
    admin: Option<Hashing>,
}

/// One bcrypt hash being computed on a thread of its own.
struct Hashing(watch::Receiver<Option<String>>);

impl Hashing {
    fn start(password: Salted) -> Hashing {
        let (done, hash) = watch::channel(None);
        std::thread::spawn(move || {
            // Nobody waits any more when the load failed before it needed
            // the hash.
            let _ = done.send(Some(password.hash()));
        });
        Hashing(hash)
    }

    async fn wait(&self) -> String {
        let mut hash = self.0.clone();
        let done = hash
            .wait_for(Option::is_some)
            .await
            .expect("hashing does not panic");
        done.clone().expect("waited until it was there")
    }
}

/// In production no seeded account keeps a password published in the seed:
/// every credential column (those the fingerprint leaves out: `{ bcrypt = … }`
/// and the admin's password column) gets the hash of one random secret
/// nobody knows, except the admin's when `INITIAL_ADMIN_PASSWORD` is given.
/// In development only `INITIAL_ADMIN_PASSWORD` changes anything. Both
/// hashes start here, side by side; what can be refused is refused here.
pub(crate) fn hash_credentials(opts: &LoadOptions<'_>) -> Result<CredentialHashes> {
    let admin = seed::get().admin.filter(|a| opts.profile.includes(a.table));
    let provided = opts.admin_password.filter(|_| admin.is_some());
    let lock = opts.production && credential_tables(opts).next().is_some();
    let salted = |password: &str| Salted::new(password).map_err(Error::Password);
    let admin = provided.map(salted).transpose()?;
    let locked = lock.then(|| salted(&random_secret())).transpose()?;
    Ok(CredentialHashes {
        locked: locked.map(Hashing::start),
        admin: admin.map(Hashing::start),
    })
}

/// The profile's seeded tables that hold credentials.
fn credential_tables(opts: &LoadOptions<'_>) -> impl Iterator<Item = &'static TableData> {
    opts.profile
        .seeded_tables()
        .filter(|t| !t.unfingerprinted.is_empty())
}

/// Writes the hashes into the rows the load just inserted, inside its
/// transaction.
pub(crate) async fn set_seeded_credentials(
    tx: &mut Tx<'_>,
    opts: &LoadOptions<'_>,
    hashes: &CredentialHashes,
) -> std::result::Result<SeededCredentials, Failure> {
    let admin = seed::get().admin.filter(|a| opts.profile.includes(a.table));
    let locked_hash = match &hashes.locked {
        Some(hashing) => Some(hashing.wait().await),
        None => None,
    };
    let admin_hash = match &hashes.admin {
        Some(hashing) => Some(hashing.wait().await),
        None => None,
    };
    let mut locked = Vec::new();
    if let Some(hash) = &locked_hash {
        for table in credential_tables(opts) {
            for column in table.unfingerprinted {
                let column = quote_ident(column);
                let sql = format!(
                    "UPDATE {} SET {column} = {} WHERE {column} IS NOT NULL",
                    quote_ident(table.name),
                    sql_text(hash)
                );
                tx.exec(&sql)
                    .await
                    .map_err(step("replacing the seeded passwords"))?;
            }
            // The admin given INITIAL_ADMIN_PASSWORD is not locked (its
            // password is set below).
            let skip = admin
                .filter(|a| a.table == table.name && admin_hash.is_some())
                .and_then(|a| table.find_key(&[a.key]));
            locked.extend(
                accounts_with_credentials(table, skip)
                    .into_iter()
                    .map(|account| LockedAccount {
                        table: table.name.to_owned(),
                        account,
                    }),
            );
        }
    }
    let Some(admin) = admin else {
        return Ok(SeededCredentials {
            admin: AdminPassword::NotSeeded,
            locked,
        });
    };
    let outcome = match &admin_hash {
        Some(hash) => {
            // The row exists: the compiler resolved the admin's key to this id.
            let sql = format!(
                "UPDATE {} SET {} = {} WHERE {} = {}",
                quote_ident(admin.table),
                quote_ident(admin.password_column),
                sql_text(hash),
                quote_ident(admin.id_column),
                admin.id
            );
            tx.exec(&sql)
                .await
                .map_err(step("setting the admin password"))?;
            AdminPassword::Provided
        }
        None if locked_hash.is_some() => AdminPassword::Locked,
        None => AdminPassword::SeedDefault,
    };
    Ok(SeededCredentials {
        admin: outcome,
        locked,
    })
}

/// The names of the seeded rows of `table` that hold a credential, by their
/// natural key (or their position, for a table without one), but the row at
/// position `skip`.
fn accounts_with_credentials(table: &TableData, skip: Option<usize>) -> Vec<String> {
    let columns: Vec<usize> = table
        .unfingerprinted
        .iter()
        .filter_map(|c| table.column_index(c))
        .collect();
    let mut keys = Decoder::new(table.keys);
    let width = table.key_fields.len();
    table
        .rows()
        .enumerate()
        .filter_map(|(i, row)| {
            let key: Vec<String> = (0..width)
                .map(|_| match keys.next_value() {
                    ValueRef::Text(t) => t.to_owned(),
                    other => format!("{other:?}"),
                })
                .collect();
            let holds = Some(i) != skip && columns.iter().any(|&c| row[c] != ValueRef::Null);
            holds.then(|| {
                if key.is_empty() {
                    format!("row {}", i + 1)
                } else {
                    key.join(" / ")
                }
            })
        })
        .collect()
}

/// 32 random bytes as hex, from the operating system; nobody ever sees it.
fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    crate::hex::encode(&bytes)
}

#[derive(Debug, Clone, Serialize)]
pub struct AdminOutcome {
    pub target: String,
    pub username: String,
    /// A new account, rather than an existing one updated.
    pub created: bool,
    /// Only the password was set (`--password-only`): no role, no defaults.
    pub password_only: bool,
    pub traffic: Option<TrafficReport>,
}

/// Creates or updates the account `username` with `password` (hashed here),
/// the seed's admin grants (for Aquarius: role ADMIN, active) and the values
/// the app fills in itself (`[defaults]`), in one transaction.
pub async fn init_admin(
    target: &dyn Target,
    username: &str,
    password: &str,
) -> Result<AdminOutcome> {
    write_account(target, username, password, Grant::Admin).await
}

/// Sets the password of the existing account `username` and nothing else:
/// its role, activity and every other column stay. For the seeded accounts
/// a production reset left without a usable password (granting them the
/// admin's role, as `init_admin` does, would promote a read-only account).
pub async fn set_password(
    target: &dyn Target,
    username: &str,
    password: &str,
) -> Result<AdminOutcome> {
    write_account(target, username, password, Grant::PasswordOnly).await
}

/// What writing an account grants besides its password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    /// The seed's admin grants and the app's defaults; made if missing.
    Admin,
    /// The password alone, of an account that exists.
    PasswordOnly,
}

async fn write_account(
    target: &dyn Target,
    username: &str,
    password: &str,
    grant: Grant,
) -> Result<AdminOutcome> {
    let Some(admin) = seed::get().admin else {
        return Err(Error::Usage(
            "this seed names no admin account ([admin] in seed.toml)".into(),
        ));
    };
    if let Some(problem) = username_problem(username).or_else(|| password_problem(password)) {
        return Err(Error::Usage(problem));
    }
    let hash = hash_password(password).map_err(Error::Password)?;
    let table = quote_ident(admin.table);
    let user_col = quote_ident(admin.username_column);
    let user = sql_text(username);

    let mut sets = vec![format!(
        "{} = {}",
        quote_ident(admin.password_column),
        sql_text(&hash)
    )];
    let mut cols = vec![user_col.clone(), quote_ident(admin.password_column)];
    let mut vals = vec![user.clone(), sql_text(&hash)];
    let grants: &[(&str, ValueRef<'static>)] = match grant {
        Grant::Admin => admin.grant,
        Grant::PasswordOnly => &[],
    };
    for (col, value) in grants {
        let mut literal = String::new();
        write_sql_literal(&mut literal, *value);
        sets.push(format!("{} = {literal}", quote_ident(col)));
        cols.push(quote_ident(col));
        vals.push(literal);
    }
    // The values the app fills in itself (`[defaults]`): a new account gets
    // them, an existing one only where it has none, so nothing is cleared
    // and an account an older tool left incomplete becomes one the app reads.
    let now = time::OffsetDateTime::now_utc();
    let defaults = seed::get()
        .defaults_of(admin.table)
        .filter(|_| grant == Grant::Admin);
    for default in defaults {
        let col = default.column;
        if col == admin.username_column
            || col == admin.password_column
            || admin.grant.iter().any(|(g, _)| *g == col)
        {
            continue;
        }
        let mut literal = String::new();
        write_sql_literal(&mut literal, default.value.at(now).as_ref());
        let quoted = quote_ident(col);
        sets.push(format!("{quoted} = coalesce({quoted}, {literal})"));
        cols.push(quoted);
        vals.push(literal);
    }

    let mut tx = Tx::begin(target).await?;
    let outcome: std::result::Result<bool, Failure> = async {
        // One query: whether the account exists, and any other account
        // whose name differs only in case (a second "Admin" beside "admin"
        // would be an account nobody meant to make).
        let mut existed = false;
        let mut lookalike = None;
        tx.target
            .query(
                &format!(
                    "SELECT (SELECT count(*) FROM {table} WHERE {user_col} = {user}), \
                     (SELECT {user_col} FROM {table} WHERE lower({user_col}) = lower({user}) AND {user_col} <> {user} LIMIT 1)"
                ),
                &mut |r| {
                    existed = matches!(r.first(), Some(ValueRef::Integer(n)) if *n > 0);
                    if let Some(ValueRef::Text(other)) = r.get(1) {
                        lookalike = Some((*other).to_owned());
                    }
                    Ok(())
                },
            )
            .await
            .map_err(step("looking up the account"))?;
        if let Some(other) = lookalike.filter(|_| !existed) {
            return Err(Failure::Usage(format!(
                "there is already an account {other:?}, which differs from {username:?} only in case; \
                 give its name exactly as it is to update it"
            )));
        }
        if grant == Grant::PasswordOnly && !existed {
            return Err(Failure::Usage(format!(
                "there is no account {username:?} to set the password of; \
                 `{} init-admin --username {username}` makes an admin account",
                crate::program::name()
            )));
        }
        let sql = format!(
            "UPDATE {table} SET {} WHERE {user_col} = {user};\n\
             INSERT INTO {table} ({}) SELECT {} WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {user_col} = {user})",
            sets.join(", "),
            cols.join(", "),
            vals.join(", ")
        );
        tx.exec(&sql).await.map_err(step("writing the account"))?;
        Ok(!existed)
    }
    .await;
    let created = tx.finish(outcome).await?;
    Ok(AdminOutcome {
        target: target.location().to_string(),
        username: username.to_owned(),
        created,
        password_only: grant == Grant::PasswordOnly,
        traffic: target.traffic(),
    })
}
