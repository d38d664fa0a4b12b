//! What the engine would evaluate from a clock or randomness while the seed
//! loads: a DEFAULT the seed gives no value for, and the triggers the load
//! fires. Either would make every reset (and every build) a different
//! database, so the build refuses it and says how to pin the value.
//!
//! The SQL is read token by token with the parser libsql uses: a clock or
//! randomness is `CURRENT_TIMESTAMP` / `CURRENT_DATE` / `CURRENT_TIME`,
//! `random()` / `randomblob()`, or a date function asked for `'now'` (or
//! given no time at all, which means now).

use std::collections::HashSet;

use libsql::Connection;
use libsql_sqlite3_parser::dialect::TokenType;
use libsql_sqlite3_parser::lexer::Scanner;
use libsql_sqlite3_parser::lexer::sql::Tokenizer;
use seedbake_core::schema::{self, unquoted};

use crate::CompiledTable;
use crate::error::{ErrorKind, Origin, SeedError, internal};

/// One token: its text as the engine reads names (unquoted, upper case for
/// comparison) and its type.
struct Token {
    upper: String,
    ty: TokenType,
}

fn tokens(sql: &str) -> Vec<Token> {
    let mut scanner = Scanner::new(Tokenizer::new());
    let mut out = Vec::new();
    // A schema the engine ran always tokenizes; on an error the tokens so far
    // are what there is to judge.
    while let Ok((_, Some((text, ty)), _)) = scanner.scan(sql.as_bytes()) {
        let text = String::from_utf8_lossy(text);
        let upper = match ty {
            TokenType::TK_STRING => text.into_owned(),
            _ => unquoted(&text).to_ascii_uppercase(),
        };
        out.push(Token { upper, ty });
    }
    out
}

/// The date functions, and how many arguments it takes to name a time (with
/// fewer they mean now).
const DATE_FUNCTIONS: &[(&str, usize)] = &[
    ("DATE", 1),
    ("TIME", 1),
    ("DATETIME", 1),
    ("JULIANDAY", 1),
    ("UNIXEPOCH", 1),
    ("STRFTIME", 2),
];

/// The first clock or randomness in `sql`, as written for a message.
pub(crate) fn clock_or_randomness(sql: &str) -> Option<String> {
    let toks = tokens(sql);
    for (i, t) in toks.iter().enumerate() {
        if t.ty == TokenType::TK_CTIME_KW {
            return Some(t.upper.clone());
        }
        let call = toks.get(i + 1).is_some_and(|n| n.ty == TokenType::TK_LP);
        if !call {
            continue;
        }
        let name = t.upper.as_str();
        if matches!(name, "RANDOM" | "RANDOMBLOB") {
            return Some(format!("{}()", name.to_ascii_lowercase()));
        }
        let Some(&(_, timed)) = DATE_FUNCTIONS.iter().find(|(f, _)| *f == name) else {
            continue;
        };
        // The call's top-level arguments, up to its closing parenthesis.
        let (mut depth, mut args, mut now) = (0usize, 0usize, false);
        let mut empty = true;
        for a in &toks[i + 1..] {
            match a.ty {
                TokenType::TK_LP => depth += 1,
                TokenType::TK_RP => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                TokenType::TK_COMMA if depth == 1 => args += 1,
                TokenType::TK_STRING if unquoted(&a.upper).eq_ignore_ascii_case("now") => {
                    now = true;
                }
                _ => {}
            }
            if depth >= 1 && !matches!(a.ty, TokenType::TK_LP | TokenType::TK_RP) {
                empty = false;
            }
        }
        let given = if empty { 0 } else { args + 1 };
        if now || given < timed {
            let shown = name.to_ascii_lowercase();
            return Some(if now {
                format!("{shown}('now')")
            } else {
                format!("{shown}() without a time")
            });
        }
    }
    None
}

/// A trigger as the schema holds it.
struct Trigger {
    name: String,
    table: String,
    event: Event,
    sql: String,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Event {
    Insert,
    Update,
    Delete,
}

impl Trigger {
    fn parse(name: String, table: String, sql: String) -> Self {
        let toks = tokens(&sql);
        // The event is the first of INSERT, UPDATE, DELETE before ON.
        let event = toks
            .iter()
            .take_while(|t| t.ty != TokenType::TK_ON)
            .find_map(|t| match t.ty {
                TokenType::TK_INSERT => Some(Event::Insert),
                TokenType::TK_UPDATE => Some(Event::Update),
                TokenType::TK_DELETE => Some(Event::Delete),
                _ => None,
            })
            .unwrap_or(Event::Insert);
        Trigger {
            name,
            table,
            event,
            sql,
        }
    }

    /// The tables the trigger's body writes, and how.
    fn writes(&self) -> Vec<(Event, String)> {
        let toks = tokens(&self.sql);
        let body = toks
            .iter()
            .position(|t| t.ty == TokenType::TK_BEGIN)
            .map_or(&toks[..0], |at| &toks[at + 1..]);
        let mut out = Vec::new();
        for (i, t) in body.iter().enumerate() {
            let event = match t.ty {
                TokenType::TK_INSERT | TokenType::TK_REPLACE => Event::Insert,
                TokenType::TK_UPDATE => Event::Update,
                TokenType::TK_DELETE => Event::Delete,
                _ => continue,
            };
            // The target: after INTO (insert), FROM (delete), or OR <conflict>
            // (update); the first name that is not a keyword of the clause.
            let target = body[i + 1..].iter().find(|n| {
                !matches!(
                    n.ty,
                    TokenType::TK_OR | TokenType::TK_INTO | TokenType::TK_FROM
                ) && !matches!(
                    n.upper.as_str(),
                    "ROLLBACK" | "ABORT" | "FAIL" | "IGNORE" | "REPLACE"
                )
            });
            if let Some(target) = target {
                out.push((event, target.upper.clone()));
            }
        }
        out
    }
}

/// The columns the triggers of `schema_objects` (each `CREATE TRIGGER …`
/// statement) set with `UPDATE <table> SET <column> = …`, as (table,
/// column), upper-cased as the engine compares names: values the engine
/// keeps itself, which a seed must leave to it (a seed that gave them would
/// have them counted twice once the triggers fire on the load).
pub fn trigger_set_columns<'a>(
    triggers: impl IntoIterator<Item = &'a str>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for sql in triggers {
        let toks = tokens(sql);
        for (i, t) in toks.iter().enumerate() {
            if t.ty != TokenType::TK_UPDATE || i + 1 >= toks.len() {
                continue;
            }
            // The trigger's own `UPDATE OF … ON` event has no SET.
            let Some(set) = toks[i + 1..]
                .iter()
                .position(|n| {
                    matches!(
                        n.ty,
                        TokenType::TK_SET | TokenType::TK_ON | TokenType::TK_SEMI
                    )
                })
                .map(|p| i + 1 + p)
                .filter(|&p| toks[p].ty == TokenType::TK_SET)
            else {
                continue;
            };
            let Some(table) = toks[i + 1..set].iter().rev().find(|n| {
                !matches!(n.ty, TokenType::TK_OR)
                    && !matches!(
                        n.upper.as_str(),
                        "ROLLBACK" | "ABORT" | "FAIL" | "IGNORE" | "REPLACE"
                    )
            }) else {
                continue;
            };
            let mut depth = 0usize;
            for (j, a) in toks.iter().enumerate().skip(set + 1) {
                match a.ty {
                    TokenType::TK_LP => depth += 1,
                    TokenType::TK_RP => depth = depth.saturating_sub(1),
                    TokenType::TK_WHERE
                    | TokenType::TK_FROM
                    | TokenType::TK_RETURNING
                    | TokenType::TK_SEMI
                    | TokenType::TK_END
                        if depth == 0 =>
                    {
                        break;
                    }
                    _ if depth == 0
                        && toks.get(j + 1).is_some_and(|n| n.ty == TokenType::TK_EQ) =>
                    {
                        out.push((table.upper.clone(), a.upper.clone()));
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

/// Refuses a seed whose load would evaluate a clock or randomness: in a
/// DEFAULT of a column the seed leaves to the engine (in a seeded table, or
/// one a fired trigger inserts into), or in a trigger the load fires.
pub(crate) async fn check(
    conn: &Connection,
    tables: &[schema::Table],
    compiled: &[CompiledTable],
    schema_origin: &Origin,
    manifest_file: &str,
) -> Result<(), SeedError> {
    let mut triggers = Vec::new();
    let mut rows = conn
        .query(
            "SELECT name, tbl_name, sql FROM sqlite_schema WHERE type = 'trigger' ORDER BY rowid",
            (),
        )
        .await
        .map_err(|e| internal(schema_origin.clone(), e))?;
    while let Some(r) = rows
        .next()
        .await
        .map_err(|e| internal(schema_origin.clone(), e))?
    {
        let text = |i| r.get::<String>(i).unwrap_or_default();
        triggers.push(Trigger::parse(text(0), text(1), text(2)));
    }

    // Which tables the load writes, and how: the seeded ones get rows, and
    // every trigger that fires may write more.
    let upper = |s: &str| s.to_ascii_uppercase();
    let mut written: HashSet<(Event, String)> = compiled
        .iter()
        .filter(|t| !t.rows.is_empty())
        .map(|t| (Event::Insert, upper(t.name())))
        .collect();
    // Each fired trigger with what it writes, read once.
    let mut fired: Vec<(&Trigger, Vec<(Event, String)>)> = Vec::new();
    loop {
        let newly: Vec<&Trigger> = triggers
            .iter()
            .filter(|t| !fired.iter().any(|(f, _)| f.name == t.name))
            .filter(|t| written.contains(&(t.event, upper(&t.table))))
            .collect();
        if newly.is_empty() {
            break;
        }
        for t in newly {
            let writes = t.writes();
            written.extend(writes.iter().cloned());
            fired.push((t, writes));
        }
    }

    for (t, _) in &fired {
        if let Some(what) = clock_or_randomness(&t.sql) {
            return Err(SeedError::new(
                ErrorKind::Nondeterministic,
                schema_origin.clone(),
                format!(
                    "trigger {} (on {}) uses {what}, and loading the seed fires it: every reset would store \
                     other values, so no two databases (and no two builds) would match; make the trigger \
                     take its values from the row (NEW.…) or from seeded columns",
                    t.name, t.table
                ),
            ));
        }
    }

    for table in tables {
        let seeded = compiled.iter().find(|c| c.name() == table.name);
        let by_trigger = fired
            .iter()
            .find(|(_, writes)| {
                writes
                    .iter()
                    .any(|(event, target)| *event == Event::Insert && *target == upper(&table.name))
            })
            .map(|(t, _)| t.name.clone());
        for (ci, col) in table.columns.iter().enumerate() {
            let left_to_engine = match seeded {
                Some(c) if !c.rows.is_empty() && !c.inserted[ci] => true,
                _ => by_trigger.is_some(),
            };
            let Some(default) = col.default_sql.as_deref().filter(|_| left_to_engine) else {
                continue;
            };
            let Some(what) = clock_or_randomness(default) else {
                continue;
            };
            let who = match &by_trigger {
                Some(t) if seeded.is_none_or(|c| c.inserted[ci]) => {
                    format!("trigger {t} inserts rows into {}", table.name)
                }
                _ => format!("the seed gives no value for {}.{}", table.name, col.name),
            };
            return Err(SeedError::new(
                ErrorKind::Nondeterministic,
                schema_origin.clone(),
                format!(
                    "{}.{} defaults to {default} ({what}), and {who}: the engine would read the clock or \
                     randomness at every reset, so no two databases (and no two builds) would match; give \
                     the column a value in the seed, or pin it in {manifest_file}: [defaults.{}] {} = {{ now = true }} \
                     (the manifest's seed_time)",
                    table.name, col.name, table.name, col.name
                ),
            )
            .with_field(&table.name, &col.name));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::clock_or_randomness as found;

    #[test]
    fn clocks_and_randomness_are_found_where_the_engine_would_evaluate_them() {
        assert_eq!(
            found("CURRENT_TIMESTAMP").as_deref(),
            Some("CURRENT_TIMESTAMP")
        );
        assert_eq!(found("(current_date)").as_deref(), Some("CURRENT_DATE"));
        assert_eq!(found("abs(random()) % 10").as_deref(), Some("random()"));
        assert_eq!(
            found("(datetime('now', 'localtime'))").as_deref(),
            Some("datetime('now')")
        );
        assert_eq!(
            found("strftime('%s')").as_deref(),
            Some("strftime() without a time")
        );
        assert_eq!(found("date()").as_deref(), Some("date() without a time"));
        assert_eq!(
            found("CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO log VALUES (NEW.id, \"NOW\"); END")
                .as_deref(),
            None
        );
    }

    #[test]
    fn the_columns_triggers_keep_are_found() {
        let found = super::trigger_set_columns([
            "CREATE TRIGGER c AFTER INSERT ON book BEGIN UPDATE author SET book_count = book_count + 1, \
             \"Last\" = max(1, 2) WHERE id = NEW.author_id; END",
            "CREATE TRIGGER u AFTER UPDATE OF price ON book BEGIN UPDATE OR IGNORE shelf SET n = (SELECT count(*) FROM book WHERE x = 1); END",
        ]);
        let pairs: Vec<(&str, &str)> = found
            .iter()
            .map(|(t, c)| (t.as_str(), c.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [("AUTHOR", "BOOK_COUNT"), ("AUTHOR", "LAST"), ("SHELF", "N")]
        );
    }

    #[test]
    fn fixed_times_and_names_that_only_look_alike_are_not() {
        for sql in [
            "'now'",
            "date('2025-01-01')",
            "strftime('%Y', '2025-01-01')",
            "datetime(created, '+1 day')",
            "\"random\"",
            "0",
            "'CURRENT_TIMESTAMP'",
        ] {
            assert_eq!(found(sql), None, "{sql}");
        }
    }
}
