//! Knowing whether seedbake runs against production, and what a
//! destructive command would replace there, before it does it: the facts
//! the command line's guard (`cli/guard.rs`) shows before it asks.

use serde::Serialize;

use super::schema_objects;
use super::tx::read_failed;
use crate::database::{DbError, Location, Target};
use crate::error::{Error, Result};
use crate::schema::quote_ident;
use crate::value::ValueRef;

/// Development or production, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "environment", content = "because", rename_all = "lowercase")]
pub enum Environment {
    Development(String),
    Production(String),
}

impl Environment {
    pub fn is_production(&self) -> bool {
        matches!(self, Environment::Production(_))
    }
}

/// Production is: one of the seed's `[app] production_env` variables set
/// (for Aquarius `FLY_APP_NAME`: the app's fly.io machine), or
/// `SEEDBAKE_ENV=production`, or a server target unless
/// `SEEDBAKE_ENV=development` says otherwise. Local files are development.
pub fn environment(
    location: &Location,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Environment> {
    environment_of(location, crate::seed::get().app.production_env, var)
}

/// [`environment`] with the app's production variables given.
pub fn environment_of(
    location: &Location,
    production_env: &[&str],
    var: impl Fn(&str) -> Option<String>,
) -> Result<Environment> {
    let declared = var("SEEDBAKE_ENV").filter(|v| !v.is_empty());
    match declared.as_deref() {
        None | Some("production") | Some("development") => {}
        Some(other) => {
            return Err(Error::Usage(format!(
                "SEEDBAKE_ENV is {other:?}; it takes production or development"
            )));
        }
    }
    // The app's own word outranks SEEDBAKE_ENV: a production machine stays one.
    if let Some((name, value)) = production_env
        .iter()
        .find_map(|name| Some((name, var(name).filter(|v| !v.is_empty())?)))
    {
        return Ok(Environment::Production(format!(
            "{name} is set ({value}): the seed's [app] production_env says that means production"
        )));
    }
    Ok(match (declared.as_deref(), location.is_remote()) {
        (Some("production"), _) => Environment::Production("SEEDBAKE_ENV=production".into()),
        (Some("development"), _) => Environment::Development("SEEDBAKE_ENV=development".into()),
        (_, true) => Environment::Production("the database is on a server".into()),
        (_, false) => Environment::Development("the database is a local file".into()),
    })
}

/// What a destructive command would replace.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub target: String,
    /// The name an operator types to confirm.
    pub database_name: String,
    /// Every application object now in the database, with row counts for tables.
    pub existing: Vec<(String, String, Option<u64>)>,
}

impl Plan {
    pub fn rows(&self) -> u64 {
        self.existing.iter().filter_map(|(_, _, n)| *n).sum()
    }
}

/// Reads what is in the database now: two queries whatever its size.
pub async fn plan(target: &dyn Target) -> Result<Plan> {
    read_plan(target, None)
        .await
        .map_err(|e| read_failed(target, PLAN_STEP, e))
}

/// What reading the plan is called when it fails.
pub(crate) const PLAN_STEP: &str = "reading what the database holds";

/// [`plan`], its failure as the database's; `counted`: each table's rows
/// where they were just counted (a backup under the same lock), so that
/// only the schema is read.
pub(crate) async fn read_plan(
    target: &dyn Target,
    counted: Option<&[(String, u64)]>,
) -> std::result::Result<Plan, DbError> {
    let objects = schema_objects(target).await?;
    let tables = tables_of(&objects);
    let mut counts: std::collections::HashMap<&str, u64> = counted
        .unwrap_or_default()
        .iter()
        .map(|(t, n)| (t.as_str(), *n))
        .collect();
    if let Some(sql) = counts_sql(&tables).filter(|_| counted.is_none()) {
        target
            .query(&sql, &mut |r| {
                if let [ValueRef::Integer(i), ValueRef::Integer(n)] = r {
                    counts.insert(tables[*i as usize], *n as u64);
                }
                Ok(())
            })
            .await?;
    }
    Ok(Plan {
        target: target.location().to_string(),
        database_name: target.location().database_name(),
        existing: objects
            .iter()
            .map(|o| {
                (
                    o.kind.clone(),
                    o.name.clone(),
                    counts.get(o.name.as_str()).copied(),
                )
            })
            .collect(),
    })
}

fn tables_of(objects: &[crate::schema::SchemaObject]) -> Vec<&str> {
    objects
        .iter()
        .filter(|o| o.kind == "table")
        .map(|o| o.name.as_str())
        .collect()
}

/// One query that counts every table's rows: a row `(i, count)` for the
/// `i`th of `tables`.
fn counts_sql(tables: &[&str]) -> Option<String> {
    (!tables.is_empty()).then(|| {
        tables
            .iter()
            .enumerate()
            .map(|(i, t)| format!("SELECT {i}, count(*) FROM {}", quote_ident(t)))
            .collect::<Vec<_>>()
            .join(" UNION ALL ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn env_of(location: &Location, vars: &[(&str, &str)]) -> Result<Environment> {
        environment_of(location, &["FLY_APP_NAME", "K_SERVICE"], |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn production_is_fly_or_declared_or_a_server() {
        let local = Location::Local(PathBuf::from("aquarius.db"));
        let remote = Location::Remote {
            url: "https://db.example".into(),
            host: "db.example".into(),
        };
        assert!(!env_of(&local, &[]).unwrap().is_production());
        assert!(
            env_of(&local, &[("FLY_APP_NAME", "aquarius")])
                .unwrap()
                .is_production()
        );
        assert!(
            env_of(&local, &[("SEEDBAKE_ENV", "production")])
                .unwrap()
                .is_production()
        );
        assert!(env_of(&remote, &[]).unwrap().is_production());
        assert!(
            !env_of(&remote, &[("SEEDBAKE_ENV", "development")])
                .unwrap()
                .is_production()
        );
        // A fly.io machine is production whatever SEEDBAKE_ENV says.
        assert!(
            env_of(
                &remote,
                &[("SEEDBAKE_ENV", "development"), ("FLY_APP_NAME", "x")]
            )
            .unwrap()
            .is_production()
        );
        assert!(env_of(&local, &[("SEEDBAKE_ENV", "prod")]).is_err());
        // Any variable the app lists counts; one set empty does not.
        assert!(
            env_of(&local, &[("FLY_APP_NAME", ""), ("K_SERVICE", "shop")])
                .unwrap()
                .is_production()
        );
        assert!(
            !env_of(&local, &[("FLY_APP_NAME", "")])
                .unwrap()
                .is_production()
        );
    }

    #[test]
    fn an_app_that_lists_no_variable_has_only_seedbakes_own() {
        let local = Location::Local(PathBuf::from("shop.db"));
        let env = |vars: &[(&str, &str)]| {
            environment_of(&local, &[], |k| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            })
            .unwrap()
        };
        assert!(!env(&[("FLY_APP_NAME", "aquarius")]).is_production());
        assert!(env(&[("SEEDBAKE_ENV", "production")]).is_production());
    }
}
