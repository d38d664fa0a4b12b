//! Seed values to and from libsql's own `Value`: the one place the two
//! representations are mapped, in both directions.

use super::ValueRef;

/// A value libsql read, borrowed as a seed value.
pub fn from_libsql(v: &libsql::Value) -> ValueRef<'_> {
    match v {
        libsql::Value::Null => ValueRef::Null,
        libsql::Value::Integer(i) => ValueRef::Integer(*i),
        libsql::Value::Real(r) => ValueRef::Real(*r),
        libsql::Value::Text(t) => ValueRef::Text(t),
        libsql::Value::Blob(b) => ValueRef::Blob(b),
    }
}

/// A seed value as a libsql parameter.
pub fn to_libsql(v: ValueRef<'_>) -> libsql::Value {
    match v {
        ValueRef::Null => libsql::Value::Null,
        ValueRef::Integer(i) => libsql::Value::Integer(i),
        ValueRef::Real(r) => libsql::Value::Real(r),
        ValueRef::Text(t) => libsql::Value::Text(t.to_owned()),
        ValueRef::Blob(b) => libsql::Value::Blob(b.to_vec()),
        // libsql has no TEXT of bytes that are not UTF-8. Only seed values
        // come here, and the build made every one of them from UTF-8.
        ValueRef::RawText(b) => libsql::Value::Blob(b.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn values_survive_the_trip_through_libsql() {
        let values = [
            Value::Null,
            Value::Integer(i64::MIN),
            Value::Real(-0.5),
            Value::Text("Größe 🏊".into()),
            Value::Blob(vec![0, 255]),
        ];
        for v in &values {
            let there = to_libsql(v.as_ref());
            assert_eq!(Value::from(from_libsql(&there)), *v);
        }
    }
}
