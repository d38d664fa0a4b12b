//! Conversions the generated typed structs use. The compiler picks each
//! field's Rust type from the values the engine actually stored, so these
//! only fail on a seedbake bug.

use crate::value::ValueRef;

fn mismatch(v: ValueRef<'_>, wanted: &str) -> ! {
    panic!("embedded seed value {v} is not {wanted} (seedbake bug)")
}

pub fn as_i64(v: ValueRef<'static>) -> i64 {
    match v {
        ValueRef::Integer(i) => i,
        other => mismatch(other, "an integer"),
    }
}

pub fn as_bool(v: ValueRef<'static>) -> bool {
    match v {
        ValueRef::Integer(i) => i != 0,
        other => mismatch(other, "a boolean"),
    }
}

pub fn as_f64(v: ValueRef<'static>) -> f64 {
    match v {
        ValueRef::Real(r) => r,
        ValueRef::Integer(i) => i as f64,
        other => mismatch(other, "a number"),
    }
}

pub fn as_str(v: ValueRef<'static>) -> &'static str {
    match v {
        ValueRef::Text(t) => t,
        other => mismatch(other, "text"),
    }
}

pub fn as_blob(v: ValueRef<'static>) -> &'static [u8] {
    match v {
        ValueRef::Blob(b) => b,
        other => mismatch(other, "a blob"),
    }
}

pub fn as_any(v: ValueRef<'static>) -> ValueRef<'static> {
    v
}

pub fn optional<T>(v: ValueRef<'static>, f: fn(ValueRef<'static>) -> T) -> Option<T> {
    match v {
        ValueRef::Null => None,
        other => Some(f(other)),
    }
}
