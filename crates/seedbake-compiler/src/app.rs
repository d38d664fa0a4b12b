//! `[app]`: the app a seed belongs to, checked so the binary can name it,
//! open its default database and know its production machines without a
//! word of any particular app in seedbake itself.

use crate::error::{ErrorKind, SeedError};
use crate::manifest::{At, Manifest};

/// `[app]` as the binary embeds it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CompiledApp {
    pub name: Option<String>,
    pub database: Option<String>,
    pub production_env: Vec<String>,
}

/// seedbake's own variable: it is always read, so an app need not (and
/// must not) list it.
const SEEDBAKE_ENV: &str = "SEEDBAKE_ENV";

pub(crate) fn app(manifest: &Manifest) -> Result<CompiledApp, SeedError> {
    let Some(spec) = &manifest.app else {
        return Ok(CompiledApp::default());
    };
    let bad = |at: &At<String>, msg: String| {
        Err(SeedError::new(
            ErrorKind::Manifest,
            manifest.origin(at),
            msg,
        ))
    };
    for (key, value) in [("name", &spec.name), ("database", &spec.database)] {
        if let Some(v) = value
            && v.trim().is_empty()
        {
            return bad(
                v,
                format!("[app] {key} is empty: give a value or leave the key out"),
            );
        }
    }
    let mut production_env = Vec::new();
    for var in &spec.production_env {
        let valid = !var.is_empty()
            && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !var.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return bad(
                var,
                format!(
                    "[app] production_env: {:?} is not an environment variable name (letters, digits and _)",
                    var.as_str()
                ),
            );
        }
        if var.as_str() == SEEDBAKE_ENV {
            return bad(
                var,
                format!(
                    "[app] production_env: {SEEDBAKE_ENV} is seedbake's own and always read \
                     (production or development); list only the app's variables"
                ),
            );
        }
        if production_env.iter().any(|v| v == var.as_str()) {
            return bad(
                var,
                format!("[app] production_env names {} twice", var.as_str()),
            );
        }
        production_env.push(var.as_str().to_owned());
    }
    Ok(CompiledApp {
        name: spec.name.as_ref().map(|n| n.trim().to_owned()),
        database: spec.database.as_ref().map(|d| d.trim().to_owned()),
        production_env,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse;

    const BASE: &str = "schema = \"s.sql\"\ndefault_profile = \"all\"\n[profiles]\nall = []\n";

    fn compiled(app: &str) -> Result<CompiledApp, SeedError> {
        app_of(&format!("{BASE}{app}"))
    }

    fn app_of(text: &str) -> Result<CompiledApp, SeedError> {
        app(&parse(text, "seed.toml").unwrap())
    }

    #[test]
    fn every_key_is_embedded_as_written() {
        let a = compiled(
            "[app]\nname = \"Bookshop\"\ndatabase = \"sqlite:///./shop.db\"\nproduction_env = [\"FLY_APP_NAME\", \"K_SERVICE\"]\n",
        )
        .unwrap();
        assert_eq!(
            a,
            CompiledApp {
                name: Some("Bookshop".into()),
                database: Some("sqlite:///./shop.db".into()),
                production_env: vec!["FLY_APP_NAME".into(), "K_SERVICE".into()],
            }
        );
    }

    #[test]
    fn without_the_section_the_binary_names_no_app() {
        assert_eq!(app_of(BASE).unwrap(), CompiledApp::default());
    }

    #[test]
    fn bad_values_name_their_line() {
        for (app, says) in [
            ("[app]\nname = \" \"\n", "seed.toml:6: [app] name is empty"),
            (
                "[app]\nproduction_env = [\"FLY-APP\"]\n",
                "seed.toml:6: [app] production_env: \"FLY-APP\" is not",
            ),
            (
                "[app]\nproduction_env = [\"SEEDBAKE_ENV\"]\n",
                "seed.toml:6: [app] production_env: SEEDBAKE_ENV is seedbake's own",
            ),
            (
                "[app]\nproduction_env = [\"A\", \"A\"]\n",
                "seed.toml:6: [app] production_env names A twice",
            ),
        ] {
            let e = compiled(app).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Manifest);
            assert!(e.to_string().starts_with(says), "{e}");
        }
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let e = parse(&format!("{BASE}[app]\nnmae = \"x\"\n"), "seed.toml").unwrap_err();
        assert!(e.to_string().contains("unknown field `nmae`"), "{e}");
    }
}
