//! Seed values: the owned [`Value`] the compiler produces and the borrowed
//! [`ValueRef`] read from embedded rows, shared by the build-time compiler
//! and the runtime.
//!
//! What each value may be ([`ColumnKind`]), how rows are encoded
//! ([`encode_value`], [`Decoder`]), written as SQL ([`write_sql_literal`]) and
//! exchanged with libsql ([`from_libsql`], [`to_libsql`]) live in the
//! submodules, one job each.

mod date;
mod encoding;
mod engine;
mod kind;
mod literal;

use std::fmt;

pub use date::{is_iso_date, is_iso_datetime};
pub use encoding::{Decoder, encode_value, utf8};
pub use engine::{from_libsql, to_libsql};
pub use kind::ColumnKind;
pub use literal::write_sql_literal;

/// An owned seed value, as the compiler produces it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    /// TEXT whose bytes are not UTF-8 (see [`ValueRef::RawText`]).
    RawText(Vec<u8>),
    Blob(Vec<u8>),
}

/// A value borrowed from an embedded row blob.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a str),
    /// TEXT whose bytes are not UTF-8: a database may hold it (the engine
    /// does not check), a seed never does. Kept as bytes so that a dump
    /// restores it exactly and a fingerprint sees what is stored, never a
    /// replacement character that a valid text could also be.
    RawText(&'a [u8]),
    Blob(&'a [u8]),
}

impl Value {
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Text(t) => ValueRef::Text(t),
            Value::RawText(b) => ValueRef::RawText(b),
            Value::Blob(b) => ValueRef::Blob(b),
        }
    }
}

impl From<ValueRef<'_>> for Value {
    fn from(v: ValueRef<'_>) -> Value {
        match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(r) => Value::Real(r),
            ValueRef::Text(t) => Value::Text(t.to_owned()),
            ValueRef::RawText(b) => Value::RawText(b.to_vec()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }
}

impl fmt::Display for ValueRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueRef::Null => f.write_str("NULL"),
            ValueRef::Integer(i) => write!(f, "{i}"),
            ValueRef::Real(r) => write!(f, "{r:?}"),
            ValueRef::Text(t) => write!(f, "{t:?}"),
            ValueRef::RawText(b) => write!(f, "{:?} (not UTF-8)", String::from_utf8_lossy(b)),
            ValueRef::Blob(b) => write!(f, "<{} bytes>", b.len()),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_ref().fmt(f)
    }
}
