//! The compact binary row encoding embedded in the binary: [`encode_value`]
//! writes it at build time, [`Decoder`] reads it back at run time.
//!
//! A table's rows are one byte string: for every row, for every column, a tag
//! byte and its payload. Integers are zigzag LEB128, so small ids and flags
//! take one or two bytes; text and blobs are length-prefixed. This keeps a
//! million-row seed close to its CSV size and costs the compiler nothing to
//! embed (`include_bytes!`), unlike a million struct literals.

use super::ValueRef;

const TAG_NULL: u8 = 0;
const TAG_INTEGER: u8 = 1;
const TAG_REAL: u8 = 2;
const TAG_TEXT: u8 = 3;
const TAG_BLOB: u8 = 4;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Bytes as text, if they are UTF-8. Most text in a seed is short and
/// ASCII: checked by the quick test first, it skips the general decoder
/// (a tenth of a 1M-row proof's time went there).
#[inline]
pub fn utf8(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        // SAFETY: every ASCII byte sequence is valid UTF-8.
        return Some(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).ok()
}

pub fn encode_value(out: &mut Vec<u8>, value: ValueRef<'_>) {
    match value {
        ValueRef::Null => out.push(TAG_NULL),
        ValueRef::Integer(i) => {
            out.push(TAG_INTEGER);
            put_varint(out, ((i << 1) ^ (i >> 63)) as u64);
        }
        ValueRef::Real(r) => {
            out.push(TAG_REAL);
            out.extend_from_slice(&r.to_bits().to_le_bytes());
        }
        ValueRef::Text(t) => {
            out.push(TAG_TEXT);
            put_varint(out, t.len() as u64);
            out.extend_from_slice(t.as_bytes());
        }
        // TEXT as stored: a fingerprint of bytes that are not UTF-8 never
        // equals one of a valid text.
        ValueRef::RawText(b) => {
            out.push(TAG_TEXT);
            put_varint(out, b.len() as u64);
            out.extend_from_slice(b);
        }
        ValueRef::Blob(b) => {
            out.push(TAG_BLOB);
            put_varint(out, b.len() as u64);
            out.extend_from_slice(b);
        }
    }
}

/// Reads values back from an encoded blob. The blob was written by
/// [`encode_value`] at build time and embedded unchanged, so malformed input
/// is a bug in seedbake, not a user error: it panics with a clear message.
#[derive(Debug, Clone)]
pub struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Decoder { data, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn byte(&mut self) -> u8 {
        let b = *self
            .data
            .get(self.pos)
            .expect("embedded seed data is truncated (seedbake bug)");
        self.pos += 1;
        b
    }

    fn varint(&mut self) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = self.byte();
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return v;
            }
            shift += 7;
        }
    }

    fn bytes(&mut self) -> &'a [u8] {
        let len = self.varint() as usize;
        let start = self.pos;
        self.pos += len;
        self.data
            .get(start..self.pos)
            .expect("embedded seed data is truncated (seedbake bug)")
    }

    pub fn next_value(&mut self) -> ValueRef<'a> {
        match self.byte() {
            TAG_NULL => ValueRef::Null,
            TAG_INTEGER => {
                let z = self.varint();
                ValueRef::Integer(((z >> 1) as i64) ^ -((z & 1) as i64))
            }
            TAG_REAL => {
                let mut raw = [0u8; 8];
                for b in &mut raw {
                    *b = self.byte();
                }
                ValueRef::Real(f64::from_bits(u64::from_le_bytes(raw)))
            }
            TAG_TEXT => ValueRef::Text(
                utf8(self.bytes()).expect("embedded seed text is not UTF-8 (seedbake bug)"),
            ),
            TAG_BLOB => ValueRef::Blob(self.bytes()),
            tag => panic!("unknown value tag {tag} in embedded seed data (seedbake bug)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_is_not_utf8_encodes_as_its_bytes() {
        let enc = |v| {
            let mut out = Vec::new();
            encode_value(&mut out, v);
            out
        };
        let raw = enc(ValueRef::RawText(b"a\xffb"));
        assert_eq!(raw, [&[TAG_TEXT, 3][..], b"a\xffb"].concat());
        // Never what the replacement character would be.
        assert_ne!(raw, enc(ValueRef::Text("a\u{fffd}b")));
        assert_ne!(
            enc(ValueRef::RawText(b"\xff")),
            enc(ValueRef::Text("\u{fffd}"))
        );
    }
    use crate::value::Value;

    #[test]
    fn values_round_trip_through_the_encoding() {
        let values = [
            Value::Null,
            Value::Integer(0),
            Value::Integer(-1),
            Value::Integer(i64::MIN),
            Value::Integer(i64::MAX),
            Value::Real(-0.1),
            Value::Real(f64::MAX),
            Value::Text(String::new()),
            Value::Text("Größe; 'quoted'\n\"x\" 🏊".into()),
            Value::Blob(vec![0, 255, 10]),
        ];
        let mut out = Vec::new();
        for v in &values {
            encode_value(&mut out, v.as_ref());
        }
        let mut dec = Decoder::new(&out);
        for v in &values {
            assert_eq!(dec.next_value(), v.as_ref());
        }
        assert!(dec.is_empty());
    }
}
