//! Values between the wire and seedbake's own: the one place they are
//! mapped, in both directions.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use super::proto::{IntRepr, Value};
use crate::value::{Value as Seed, ValueRef};

impl Value {
    /// A value as an argument. TEXT that is not UTF-8 has no spelling in
    /// JSON: it goes as a blob (only seed values come here, and the build
    /// made every one of them from UTF-8).
    pub fn of(v: ValueRef<'_>) -> Value {
        match v {
            ValueRef::Null => Value::Null {},
            ValueRef::Integer(i) => Value::Integer {
                value: IntRepr::Str(i.to_string()),
            },
            ValueRef::Real(r) => Value::Float { value: r },
            ValueRef::Text(t) => Value::Text {
                value: t.to_owned(),
            },
            ValueRef::RawText(b) | ValueRef::Blob(b) => Value::Blob {
                base64: STANDARD_NO_PAD.encode(b),
            },
        }
    }

    /// The value a server sent, or why it is not one.
    pub fn to_seed(&self) -> Result<Seed, String> {
        Ok(match self {
            Value::Null {} => Seed::Null,
            Value::Integer {
                value: IntRepr::Num(n),
            } => Seed::Integer(*n),
            Value::Integer {
                value: IntRepr::Str(s),
            } => Seed::Integer(
                s.parse()
                    .map_err(|_| format!("an integer that is not one: {s:?}"))?,
            ),
            Value::Float { value } => Seed::Real(*value),
            Value::Text { value } => Seed::Text(value.clone()),
            Value::Blob { base64 } => Seed::Blob(
                STANDARD_NO_PAD
                    .decode(base64.trim_end_matches('='))
                    .or_else(|_| STANDARD.decode(base64))
                    .map_err(|_| "a blob that is not base64".to_owned())?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_survive_the_trip_over_the_wire() {
        for v in [
            Seed::Null,
            Seed::Integer(i64::MIN),
            Seed::Real(-0.5),
            Seed::Text("Größe 🏊".into()),
            Seed::Blob(vec![0, 255, 7]),
        ] {
            let wire = serde_json::to_string(&Value::of(v.as_ref())).unwrap();
            let back: Value = serde_json::from_str(&wire).unwrap();
            assert_eq!(back.to_seed().unwrap(), v, "{wire}");
        }
        // Integers travel as strings, exact past 2^53.
        let wire = serde_json::to_value(Value::of(ValueRef::Integer(i64::MAX))).unwrap();
        assert_eq!(wire["value"], i64::MAX.to_string());
        let padded: Value = serde_json::from_str(r#"{"type":"blob","base64":"AP8="}"#).unwrap();
        assert_eq!(padded.to_seed().unwrap(), Seed::Blob(vec![0, 255]));
    }
}
