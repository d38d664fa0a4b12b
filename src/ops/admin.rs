//! The admin account: its password at reset, and `init-admin`, the app's
//! bootstrap for a real one.

use serde::Serialize;

use super::tx::{Failure, Tx, sql_text, step};
use super::{AdminPassword, LoadOptions, TrafficReport};
pub use crate::credentials::hash_password;
use crate::error::{Error, Result};
use crate::schema::quote_ident;
use crate::seed::SEED;
use crate::target::Target;
use crate::value::write_sql_literal;

/// The shortest password `init-admin` accepts.
pub const MIN_ADMIN_PASSWORD: usize = 12;

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
    let hash = hash_password(&password)
        .map_err(|e| Failure::Step("hashing the admin password".into(), e))?;
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

/// Creates or updates the account `username` with `password` (hashed here)
/// and the seed's admin grants (for Aquarius: role ROOT, active), in one
/// transaction.
pub async fn init_admin(target: &Target, username: &str, password: &str) -> Result<AdminOutcome> {
    let Some(admin) = SEED.admin else {
        return Err(Error::Usage(
            "this seed names no admin account ([admin] in seed.toml)".into(),
        ));
    };
    if username.trim().is_empty() {
        return Err(Error::Usage("the username is empty".into()));
    }
    if password.chars().count() < MIN_ADMIN_PASSWORD {
        return Err(Error::Usage(format!(
            "the password is too short: at least {MIN_ADMIN_PASSWORD} characters"
        )));
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

    let mut tx = Tx::begin(target).await?;
    let outcome = async {
        let existed = tx.count(&format!("SELECT count(*) FROM {table} WHERE {user_col} = {user}")).await
            .map_err(step("looking up the account"))? > 0;
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
    match tx.finish(outcome).await? {
        Ok(created) => Ok(AdminOutcome {
            target: target.location.to_string(),
            username: username.to_owned(),
            created,
            traffic: target.traffic.as_ref().map(TrafficReport::from),
        }),
        Err(failure) => Err(failure.into_error(target)),
    }
}
