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
///
/// Names that need no quotes lose them: `ALTER TABLE … RENAME TO kind`
/// stores the new name as `"kind"`, so a table rebuilt by a migration would
/// otherwise differ from the same table created by `schema.sql`.
pub fn canonical_sql(sql: &str) -> String {
    use fallible_iterator::FallibleIterator;
    let mut parser = libsql_sqlite3_parser::lexer::sql::Parser::new(sql.as_bytes());
    let rendered = match parser.next() {
        Ok(Some(cmd)) => cmd.to_string(),
        _ => sql.split_whitespace().collect::<Vec<_>>().join(" "),
    };
    unquote_plain_names(&rendered)
}

/// `"kind"`, `` `kind` `` and `[kind]` become `kind` where the name is a
/// plain identifier; string literals and other quoted names stay as they are.
fn unquote_plain_names(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find(['\'', '"', '`', '[']) {
        out.push_str(&rest[..at]);
        let open = rest[at..].chars().next().expect("found");
        let close = if open == '[' { ']' } else { open };
        let body = &rest[at + 1..];
        // A doubled closing quote inside the quotes stands for one.
        let mut end = None;
        let mut i = 0;
        let bytes = body.as_bytes();
        while i < bytes.len() {
            if bytes[i] == close as u8 {
                if close != ']' && bytes.get(i + 1) == Some(&(close as u8)) {
                    i += 2;
                    continue;
                }
                end = Some(i);
                break;
            }
            i += 1;
        }
        let Some(end) = end else {
            out.push_str(&rest[at..]);
            return out;
        };
        let inner = &body[..end];
        let plain = open != '\''
            && inner
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if plain {
            out.push_str(inner);
        } else {
            out.push_str(&rest[at..at + 1 + end + 1]);
        }
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    out
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
        // A table renamed into place is stored with its name quoted.
        assert_eq!(
            canonical_sql("CREATE TABLE \"kind\" (id INTEGER, \"a b\" TEXT DEFAULT 'x\"y')"),
            canonical_sql("CREATE TABLE kind (id INTEGER, \"a b\" TEXT DEFAULT 'x\"y')")
        );
        assert_eq!(
            canonical_sql("CREATE INDEX ix ON [kind] (`id`)"),
            canonical_sql("CREATE INDEX ix ON kind (id)")
        );
        assert_ne!(
            canonical_sql("CREATE TABLE t (a TEXT DEFAULT 'kind')"),
            canonical_sql("CREATE TABLE t (a TEXT DEFAULT kind)")
        );
        assert_eq!(canonical_type("DECIMAL ( 10 , 2 )"), "DECIMAL(10,2)");
    }
}
