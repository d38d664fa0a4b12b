//! The admin account: its password at reset, and `init-admin`, the app's
//! bootstrap for a real one.

use serde::Serialize;

use super::tx::{Failure, Tx, sql_text, step};
use super::{AdminPassword, LoadOptions, TrafficReport};
pub use crate::credentials::hash_password;
use crate::database::{DbError, Kind, Target};
use crate::error::{Error, Result};
use crate::schema::quote_ident;
use crate::seed::SEED;
use crate::value::{ValueRef, write_sql_literal};

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

/// Sets the seeded admin's password inside a reset's transaction.
pub(crate) async fn set_seeded_admin_password(
    tx: &mut Tx<'_>,
    opts: &LoadOptions<'_>,
) -> std::result::Result<AdminPassword, Failure> {
    let Some(admin) = SEED.admin.filter(|a| opts.profile.includes(a.table)) else {
        return Ok(AdminPassword::NotSeeded);
    };
    let (password, outcome) = match opts.admin_password {
        Some(p) => (p.to_owned(), AdminPassword::Provided),
        None if opts.lock_admin => (random_secret(), AdminPassword::Locked),
        None => return Ok(AdminPassword::SeedDefault),
    };
    let hash = hash_password(&password).map_err(|e| {
        Failure::Step(
            "hashing the admin password".into(),
            DbError::new(Kind::Engine, e),
        )
    })?;
    // The row exists: the compiler resolved the admin's key to this id.
    let sql = format!(
        "UPDATE {} SET {} = {} WHERE {} = {}",
        quote_ident(admin.table),
        quote_ident(admin.password_column),
        sql_text(&hash),
        quote_ident(admin.id_column),
        admin.id
    );
    tx.exec(&sql)
        .await
        .map_err(step("setting the admin password"))?;
    Ok(outcome)
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
    let Some(admin) = SEED.admin else {
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
    for (col, value) in admin.grant {
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
    for default in SEED.defaults_of(admin.table) {
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
            return Err(Failure::Refused(format!(
                "there is already an account {other:?}, which differs from {username:?} only in case; \
                 give its name exactly as it is to update it"
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
        traffic: target.traffic(),
    })
}
