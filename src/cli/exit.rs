//! The exit codes: documented in the README and `--help`, and relied on by
//! scripts. [`TABLE`] is the one place that says what each means; `--help`
//! is written from it (the README's table says the same in more words, and
//! `tests/exit_codes.rs` keeps the three in step).

pub const OK: u8 = 0;
/// `verify` found drift, `status` found the database out of step, or the
/// operator did not confirm a production command: one code, as scripts
/// read "not as wanted" from it alike.
pub const DIFFERS_OR_UNCONFIRMED: u8 = 1;
pub const USAGE: u8 = 2;
pub const UNAVAILABLE: u8 = 3;
pub const FAILED: u8 = 4;
pub const NOT_EMPTY: u8 = 5;
pub const OUTCOME_UNKNOWN: u8 = 6;
pub const OUTPUT: u8 = 7;
pub const IMAGES: u8 = 8;
pub const REFUSED: u8 = 9;
pub const INTERRUPTED: u8 = 130;
pub const TERMINATED: u8 = 143;

/// What one exit code means.
pub struct Meaning {
    pub code: u8,
    /// As `--help` says it.
    pub says: &'static str,
    /// Whether the database is as it was whenever this code is returned.
    pub nothing_changed: bool,
}

const fn meaning(code: u8, says: &'static str, nothing_changed: bool) -> Meaning {
    Meaning {
        code,
        says,
        nothing_changed,
    }
}

pub const TABLE: &[Meaning] = &[
    meaning(OK, "success", false),
    meaning(
        DIFFERS_OR_UNCONFIRMED,
        "verify found drift, status found the database out of step, or a production command was not confirmed",
        false,
    ),
    meaning(USAGE, "usage error", true),
    meaning(
        UNAVAILABLE,
        "database unreachable, unreadable or locked",
        true,
    ),
    meaning(
        FAILED,
        "failed and rolled back (or the backup failed)",
        true,
    ),
    meaning(NOT_EMPTY, "seed refused a non-empty database", true),
    meaning(
        OUTCOME_UNKNOWN,
        "outcome unknown: the answer to the commit was lost (run verify)",
        false,
    ),
    meaning(OUTPUT, "standard output could not be written", false),
    meaning(
        IMAGES,
        "the images could not be written to the static folder (after reset/seed the database \
         WAS committed; `seedbake images` writes them)",
        false,
    ),
    meaning(
        REFUSED,
        "extract or migrate refused the database as it is, or status found migrate would (status says why)",
        true,
    ),
    meaning(
        INTERRUPTED,
        "interrupted (SIGINT), what was started undone",
        true,
    ),
    meaning(
        TERMINATED,
        "terminated (SIGTERM), what was started undone",
        true,
    ),
];

/// The exit codes as `--help` lists them, last the codes after which
/// nothing was changed.
pub fn help() -> String {
    let each: Vec<String> = TABLE
        .iter()
        .map(|m| format!("{} {}", m.code, m.says))
        .collect();
    let unchanged: Vec<String> = TABLE
        .iter()
        .filter(|m| m.nothing_changed)
        .map(|m| m.code.to_string())
        .collect();
    let (last, rest) = unchanged.split_last().expect("some codes change nothing");
    format!(
        "Exit codes: {}. With codes {} and {last} nothing was changed.",
        each.join("; "),
        rest.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once() {
        let mut codes: Vec<u8> = TABLE.iter().map(|m| m.code).collect();
        codes.dedup();
        assert_eq!(codes.len(), TABLE.len());
        assert!(codes.is_sorted());
    }

    #[test]
    fn the_help_names_the_codes_that_change_nothing() {
        let help = help();
        assert!(
            help.ends_with("With codes 2, 3, 4, 5, 9, 130 and 143 nothing was changed."),
            "{help}"
        );
        assert!(
            help.starts_with("Exit codes: 0 success; 1 verify"),
            "{help}"
        );
    }
}
