//! Turns a [`Compiled`] seed into the Rust module the binary embeds.
//!
//! Every path in it starts at `::seedbake`, so the same module works
//! included in seedbake's own library (which names itself `seedbake`) and
//! in an app's crate that depends on seedbake.
//!
//! Rows go into one compact byte string per table (`include_bytes!`), with a
//! small typed struct and accessors generated around them: a million rows
//! cost the Rust compiler one file include, not a million struct literals.

use std::io;
use std::path::Path;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use seedbake_core::value::{ColumnKind, Value, ValueRef, encode_value};

use crate::{Compiled, CompiledTable, DefaultValue};

/// The generated file, under `OUT_DIR`.
pub const GENERATED_FILE: &str = "seed.rs";

/// Writes `seed.rs` and the row blobs it includes into `out_dir`.
pub fn write(compiled: &Compiled, out_dir: &Path) -> io::Result<()> {
    let data_dir = out_dir.join("seed-data");
    std::fs::create_dir_all(&data_dir)?;
    for table in &compiled.tables {
        let stem = file_stem(table);
        std::fs::write(data_dir.join(format!("{stem}.rows")), encode_rows(table))?;
        std::fs::write(data_dir.join(format!("{stem}.keys")), encode_keys(table))?;
    }
    std::fs::write(out_dir.join(GENERATED_FILE), generate(compiled).to_string())
}

/// A table's rows as the binary embeds them: the value of every column the
/// seed gives, of every row, in row order ([`encode_value`]).
pub fn encode_rows(table: &CompiledTable) -> Vec<u8> {
    let mut out = Vec::new();
    for row in &table.rows {
        for ci in table.inserted_columns() {
            encode_value(&mut out, row[ci].as_ref());
        }
    }
    out
}

/// A table's natural keys as the binary embeds them: every key's parts as
/// text values, in row order.
pub fn encode_keys(table: &CompiledTable) -> Vec<u8> {
    let mut out = Vec::new();
    for part in table.keys.iter().flatten() {
        encode_value(&mut out, ValueRef::Text(part));
    }
    out
}

fn file_stem(table: &CompiledTable) -> String {
    table
        .name()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// A Rust identifier for a SQL name (raw where it is a keyword).
fn ident(name: &str) -> Ident {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern",
        "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
        "pub", "ref", "return", "static", "struct", "trait", "true", "type", "unsafe", "use",
        "where", "while", "abstract", "become", "box", "do", "final", "gen", "macro", "override",
        "priv", "typeof", "unsized", "virtual", "yield", "try",
    ];
    if KEYWORDS.contains(&s.as_str()) {
        Ident::new_raw(&s, Span::call_site())
    } else {
        Ident::new(&s, Span::call_site())
    }
}

fn type_name(table: &str) -> Ident {
    let mut out = String::new();
    for part in table
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        let mut chars = part.chars();
        if let Some(f) = chars.next() {
            out.push(f.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    ident(&out)
}

/// The Rust type a column is exposed as, chosen from what the engine really
/// stored, so an accessor can never meet a value it cannot represent.
#[derive(Clone, Copy)]
enum FieldType {
    Int,
    Bool,
    Real,
    Text,
    Blob,
    Any,
}

fn field_type(table: &CompiledTable, ci: usize) -> (FieldType, bool) {
    let kind = ColumnKind::from_declared(&table.schema.columns[ci].declared_type);
    let values = table.rows.iter().map(|r| &r[ci]);
    let column = &table.schema.columns[ci];
    // The rowid alias (`id INTEGER PRIMARY KEY`) is never NULL, NOT NULL or not.
    let never_null = column.not_null
        || table
            .schema
            .rowid_alias()
            .is_some_and(|a| a.name == column.name);
    let nullable = !never_null || values.clone().any(|v| *v == Value::Null);
    let all = |f: fn(&Value) -> bool| values.clone().all(|v| *v == Value::Null || f(v));
    let is_int = |v: &Value| matches!(v, Value::Integer(_));
    let ty = match kind {
        ColumnKind::Boolean if all(|v| matches!(v, Value::Integer(0 | 1))) => FieldType::Bool,
        ColumnKind::Integer | ColumnKind::Boolean | ColumnKind::Numeric if all(is_int) => {
            FieldType::Int
        }
        ColumnKind::Real if all(|v| matches!(v, Value::Real(_) | Value::Integer(_))) => {
            FieldType::Real
        }
        ColumnKind::Numeric if all(|v| matches!(v, Value::Real(_))) => FieldType::Real,
        ColumnKind::Text(_) | ColumnKind::Date | ColumnKind::DateTime
            if all(|v| matches!(v, Value::Text(_))) =>
        {
            FieldType::Text
        }
        ColumnKind::Blob if all(|v| matches!(v, Value::Blob(_))) => FieldType::Blob,
        _ => FieldType::Any,
    };
    (ty, nullable)
}

fn generate(c: &Compiled) -> TokenStream {
    let schema_sql = &c.schema_sql;
    let default_profile = &c.default_profile;

    let tables = c.tables.iter().map(|t| {
        let name = t.name();
        let stem = file_stem(t);
        let rows_file = format!("/seed-data/{stem}.rows");
        let keys_file = format!("/seed-data/{stem}.keys");
        let row_count = t.rows.len();
        let key_fields = &t.key_fields;
        let unfp = &t.unfingerprinted;
        let columns = t.embedded_columns().map(|col| {
            let (n, d, nn, pk) = (&col.name, &col.declared_type, col.not_null, col.pk > 0);
            quote! { ::seedbake::seed::ColumnInfo { name: #n, declared_type: #d, not_null: #nn, primary_key: #pk } }
        });
        quote! {
            ::seedbake::seed::TableData {
                name: #name,
                columns: &[#(#columns),*],
                row_count: #row_count,
                rows: include_bytes!(concat!(env!("OUT_DIR"), #rows_file)),
                key_fields: &[#(#key_fields),*],
                keys: include_bytes!(concat!(env!("OUT_DIR"), #keys_file)),
                unfingerprinted: &[#(#unfp),*],
            }
        }
    });

    let profiles = c.profiles.iter().map(|p| {
        let name = &p.name;
        let list = &p.tables;
        let total = &p.fingerprint.total;
        let entries = p
            .fingerprint
            .entries
            .iter()
            .map(|(n, d)| quote! { (#n, #d) });
        quote! {
            ::seedbake::seed::Profile {
                name: #name,
                tables: &[#(#list),*],
                fingerprint: #total,
                digests: &[#(#entries),*],
            }
        }
    });

    let admin = match &c.admin {
        Some(a) => {
            let (t, p, ic, id, key, uc) = (
                &a.table,
                &a.password_column,
                &a.id_column,
                a.id,
                &a.key,
                &a.username_column,
            );
            let grant = a.grant.iter().map(|(col, v)| {
                let v = value_tokens(v);
                quote! { (#col, #v) }
            });
            quote! { Some(::seedbake::seed::Admin { table: #t, password_column: #p, id_column: #ic, id: #id, key: #key,
            username_column: #uc, grant: &[#(#grant),*] }) }
        }
        None => quote! { None },
    };

    let images = c.images.iter().map(|i| {
        let (path, table, column, mt) = (&i.path, &i.table, &i.column, i.media_type);
        let file = i.file.canonicalize().unwrap_or_else(|_| i.file.clone());
        let file = file.to_string_lossy().into_owned();
        quote! {
            ::seedbake::seed::Image { path: #path, table: #table, column: #column, media_type: #mt, bytes: include_bytes!(#file) }
        }
    });

    let static_dir = match &c.static_dir {
        Some(d) => quote! { Some(#d) },
        None => quote! { None },
    };
    let defaults = c.defaults.iter().map(|d| {
        let (table, column) = (&d.table, &d.column);
        let value = match &d.value {
            DefaultValue::Value(v) => {
                let v = value_tokens(v);
                quote! { ::seedbake::seed::DefaultValue::Value(#v) }
            }
            DefaultValue::Now => quote! { ::seedbake::seed::DefaultValue::Now },
            DefaultValue::Today => quote! { ::seedbake::seed::DefaultValue::Today },
        };
        quote! { ::seedbake::seed::ColumnDefault { table: #table, column: #column, value: #value } }
    });
    let migrations = crate::migrations::tokens(c);
    let app = app_tokens(&c.app);
    let manifest = &c.manifest;
    let documents = c.documents.iter().map(|(f, d)| quote! { (#f, #d) });

    let structs = c
        .tables
        .iter()
        .enumerate()
        .map(|(ti, t)| typed_struct(ti, t));

    quote! {
        /// The seed compiled from the seed folder at build time.
        pub static SEED: ::seedbake::seed::Seed = ::seedbake::seed::Seed {
            schema_sql: #schema_sql,
            tables: &[#(#tables),*],
            profiles: &[#(#profiles),*],
            default_profile: #default_profile,
            admin: #admin,
            images: &[#(#images),*],
            static_dir: #static_dir,
            defaults: &[#(#defaults),*],
            migrations: &MIGRATIONS,
            app: #app,
            manifest: #manifest,
            documents: &[#(#documents),*],
        };

        #migrations

        /// One typed struct per seeded table, reading the embedded rows.
        // An app's binary may use some of them or none (its command line
        // needs only `SEED`); they are there for the app's own code.
        #[allow(dead_code)]
        pub mod tables {
            #(#structs)*
        }
    }
}

fn app_tokens(app: &crate::CompiledApp) -> TokenStream {
    let text = |v: &Option<String>| match v {
        Some(v) => quote! { Some(#v) },
        None => quote! { None },
    };
    let (name, database, vars) = (text(&app.name), text(&app.database), &app.production_env);
    quote! {
        ::seedbake::seed::App { name: #name, database: #database, production_env: &[#(#vars),*] }
    }
}

fn value_tokens(v: &Value) -> TokenStream {
    match v {
        Value::Null => quote! { ::seedbake::value::ValueRef::Null },
        Value::Integer(i) => quote! { ::seedbake::value::ValueRef::Integer(#i) },
        Value::Real(r) => quote! { ::seedbake::value::ValueRef::Real(#r) },
        Value::Text(t) => quote! { ::seedbake::value::ValueRef::Text(#t) },
        Value::Blob(b) => {
            let b = proc_macro2::Literal::byte_string(b);
            quote! { ::seedbake::value::ValueRef::Blob(#b) }
        }
        // Seed text comes from UTF-8 files; this is for completeness.
        Value::RawText(b) => {
            let b = proc_macro2::Literal::byte_string(b);
            quote! { ::seedbake::value::ValueRef::RawText(#b) }
        }
    }
}

fn typed_struct(ti: usize, t: &CompiledTable) -> TokenStream {
    let ty = type_name(t.name());
    let name = t.name();
    let doc = format!(
        "A row of `{name}` as the seed holds it ({} rows, from `{}`).",
        t.rows.len(),
        t.file
    );
    let mut fields = Vec::new();
    let mut inits = Vec::new();
    // Only the columns the seed gives are embedded; `pos` is a column's
    // place in an embedded row.
    for (pos, ci) in t.inserted_columns().enumerate() {
        let col = &t.schema.columns[ci];
        let f = ident(&col.name);
        let (kind, nullable) = field_type(t, ci);
        let (rust, conv) = match kind {
            FieldType::Int => (quote! { i64 }, quote! { as_i64 }),
            FieldType::Bool => (quote! { bool }, quote! { as_bool }),
            FieldType::Real => (quote! { f64 }, quote! { as_f64 }),
            FieldType::Text => (quote! { &'static str }, quote! { as_str }),
            FieldType::Blob => (quote! { &'static [u8] }, quote! { as_blob }),
            FieldType::Any => (
                quote! { ::seedbake::value::ValueRef<'static> },
                quote! { as_any },
            ),
        };
        let col_doc = format!("`{}` {}", col.name, col.declared_type);
        if nullable && !matches!(kind, FieldType::Any) {
            fields.push(quote! { #[doc = #col_doc] pub #f: Option<#rust> });
            inits.push(quote! { #f: ::seedbake::seed::convert::optional(row[#pos], ::seedbake::seed::convert::#conv) });
        } else {
            fields.push(quote! { #[doc = #col_doc] pub #f: #rust });
            inits.push(quote! { #f: ::seedbake::seed::convert::#conv(row[#pos]) });
        }
    }
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct #ty {
            #(#fields,)*
        }

        impl #ty {
            pub const TABLE: &'static str = #name;

            /// The embedded data behind this table.
            pub fn data() -> &'static ::seedbake::seed::TableData {
                &super::SEED.tables[#ti]
            }

            /// Every seeded row, in seed order.
            pub fn all() -> impl Iterator<Item = #ty> {
                Self::data().rows().map(|row| #ty { #(#inits,)* })
            }

            /// The row with this natural key (the `key` fields of seed.toml).
            pub fn by_key(key: &[&str]) -> Option<#ty> {
                let index = Self::data().find_key(key)?;
                Self::all().nth(index)
            }
        }
    }
}
