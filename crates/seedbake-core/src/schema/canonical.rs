//! Schema SQL and declared column types in one canonical spelling, however
//! the client that created them re-rendered them.

/// A schema object's SQL in one canonical spelling.
///
/// The libsql remote client does not send SQL as written: it parses every
/// statement and sends its syntax tree re-rendered (`VARCHAR(5)` arrives as
/// `VARCHAR (5)`, newlines and comments go). A server's `sqlite_schema`
/// therefore spells the same schema differently from a local file. Rendering
/// both through the same parser makes them compare equal when, and only
/// when, they mean the same.
pub fn canonical_sql(sql: &str) -> String {
    use fallible_iterator::FallibleIterator;
    let mut parser = libsql_sqlite3_parser::lexer::sql::Parser::new(sql.as_bytes());
    match parser.next() {
        Ok(Some(cmd)) => cmd.to_string(),
        _ => sql.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// A declared column type in one spelling: `VARCHAR (5)` → `VARCHAR(5)`.
pub fn canonical_type(declared: &str) -> String {
    let joined = declared.split_whitespace().collect::<Vec<_>>().join(" ");
    joined
        .replace(" (", "(")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(" ,", ",")
        .replace(", ", ",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_sql_ignores_formatting_only() {
        let written = "CREATE TABLE verband (\n    id INTEGER NOT NULL, -- key\n    abkuerzung VARCHAR(5) NOT NULL,\n    PRIMARY KEY (id)\n)";
        let rendered = "CREATE TABLE verband (id INTEGER NOT NULL, abkuerzung VARCHAR (5) NOT NULL, PRIMARY KEY (id))";
        assert_eq!(canonical_sql(written), canonical_sql(rendered));
        assert_ne!(
            canonical_sql(written),
            canonical_sql(&rendered.replace("(5)", "(6)"))
        );
        assert_eq!(canonical_type("VARCHAR (5)"), "VARCHAR(5)");
        assert_eq!(canonical_type("DECIMAL ( 10 , 2 )"), "DECIMAL(10,2)");
    }
}
