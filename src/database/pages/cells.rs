//! A page's rows as the server packs them (`[[v, …], …]`), decoded value by
//! value without holding the page's rows.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};

use super::reals::{ldexp, pow2};
use crate::value::ValueRef;

/// A value as a page carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(Cow<'a, str>),
    Blob(Vec<u8>),
}

impl Cell<'_> {
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Cell::Null => ValueRef::Null,
            Cell::Integer(i) => ValueRef::Integer(*i),
            Cell::Real(r) => ValueRef::Real(*r),
            Cell::Text(t) => ValueRef::Text(t),
            Cell::Blob(b) => ValueRef::Blob(b),
        }
    }

    pub fn into_owned(self) -> Cell<'static> {
        match self {
            Cell::Null => Cell::Null,
            Cell::Integer(i) => Cell::Integer(i),
            Cell::Real(r) => Cell::Real(r),
            Cell::Text(t) => Cell::Text(Cow::Owned(t.into_owned())),
            Cell::Blob(b) => Cell::Blob(b),
        }
    }
}

impl<'de> Deserialize<'de> for Cell<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CellVisitor)
    }
}

struct CellVisitor;

impl<'de> Visitor<'de> for CellVisitor {
    type Value = Cell<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("null, an integer, a string, or a tagged real or blob")
    }

    fn visit_unit<E>(self) -> Result<Cell<'de>, E> {
        Ok(Cell::Null)
    }

    fn visit_none<E>(self) -> Result<Cell<'de>, E> {
        Ok(Cell::Null)
    }

    fn visit_i64<E>(self, v: i64) -> Result<Cell<'de>, E> {
        Ok(Cell::Integer(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Cell<'de>, E> {
        i64::try_from(v)
            .map(Cell::Integer)
            .map_err(|_| E::custom(format!("integer {v} out of range")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Cell<'de>, E> {
        Err(E::custom(format!("an untagged real ({v}) in a page")))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cell<'de>, E> {
        Ok(Cell::Text(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Cell<'de>, E> {
        Ok(Cell::Text(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Cell<'de>, E> {
        Ok(Cell::Text(Cow::Owned(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Cell<'de>, A::Error> {
        let tag: Cow<'de, str> = seq
            .next_element()?
            .ok_or_else(|| de::Error::custom("an empty tagged value"))?;
        let missing = || de::Error::custom(format!("a {tag:?} value with parts missing"));
        let cell = match &*tag {
            "b" => {
                let hex: Cow<'de, str> = seq.next_element()?.ok_or_else(missing)?;
                Cell::Blob(seedbake_core::hex::decode(&hex).map_err(de::Error::custom)?)
            }
            "z" => Cell::Real(0.0),
            "i" => {
                let negative: i64 = seq.next_element()?.ok_or_else(missing)?;
                Cell::Real(if negative != 0 {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                })
            }
            "f" => {
                let b: i64 = seq.next_element()?.ok_or_else(missing)?;
                let i: i64 = seq.next_element()?.ok_or_else(missing)?;
                let f: i64 = seq.next_element()?.ok_or_else(missing)?;
                if !(-18..=16).contains(&b) || i == 0 || !(0..1 << 52).contains(&f) {
                    return Err(de::Error::custom(format!(
                        "a real that cannot be: {b}, {i}, {f}"
                    )));
                }
                // Both parts are exact doubles and so is their sum (the
                // scaled value has 53 significant bits at most).
                let scaled = i.unsigned_abs() as f64 + f as f64 * pow2(-52);
                let magnitude = ldexp(scaled, 62 * b);
                Cell::Real(if i < 0 { -magnitude } else { magnitude })
            }
            other => return Err(de::Error::custom(format!("unknown tag {other:?}"))),
        };
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom("a tagged value with extra parts"));
        }
        Ok(cell)
    }
}

/// The last row of a page (its keys carry the position), and how many rows
/// the page held.
pub type PageEnd = (Option<Vec<Cell<'static>>>, usize);

/// Why a page was not read to its end.
#[derive(Debug, PartialEq)]
pub enum PageError<E> {
    /// The caller's function stopped it with this error.
    Stopped(E),
    /// The page is not what was asked for.
    Unreadable(String),
}

/// Hands every row of a page's JSON (`[[v, …], …]`) to `f`, without holding
/// the page's rows.
pub fn each_row<E>(
    page: &str,
    width: usize,
    f: &mut dyn FnMut(&[Cell<'_>]) -> Result<(), E>,
) -> Result<PageEnd, PageError<E>> {
    struct Rows<'f, E> {
        width: usize,
        f: &'f mut dyn FnMut(&[Cell<'_>]) -> Result<(), E>,
        stopped: Option<E>,
    }
    impl<'de, E> DeserializeSeed<'de> for &mut Rows<'_, E> {
        type Value = PageEnd;
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_seq(self)
        }
    }
    impl<'de, E> Visitor<'de> for &mut Rows<'_, E> {
        type Value = PageEnd;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an array of rows")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut last: Option<Vec<Cell<'de>>> = None;
            let mut n = 0;
            while let Some(row) = seq.next_element::<Vec<Cell<'de>>>()? {
                if row.len() < self.width {
                    return Err(de::Error::custom(format!(
                        "a row of {} values where {} were asked for",
                        row.len(),
                        self.width
                    )));
                }
                if let Err(reason) = (self.f)(&row[..self.width]) {
                    self.stopped = Some(reason);
                    return Err(de::Error::custom("stopped"));
                }
                n += 1;
                last = Some(row);
            }
            Ok((
                last.map(|r| r.into_iter().map(Cell::into_owned).collect()),
                n,
            ))
        }
    }
    let mut rows = Rows {
        width,
        f,
        stopped: None,
    };
    let mut de = serde_json::Deserializer::from_str(page);
    let result = (&mut rows).deserialize(&mut de).and_then(|r| {
        de.end()?;
        Ok(r)
    });
    match (result, rows.stopped) {
        (_, Some(reason)) => Err(PageError::Stopped(reason)),
        (Ok(r), None) => Ok(r),
        (Err(e), None) => Err(PageError::Unreadable(format!(
            "the server sent a page seedbake cannot read: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_decode_every_kind_of_value_exactly() {
        // 0.1 is 7205759403792794 * 2^-56: scaled into bucket -1 it is
        // 0.1 * 2^62 = 461168601842738790 + 0.4 (f = 0.4 * 2^52).
        let tenth_f = (0.1f64 * pow2(62)).fract() * pow2(52);
        let page = format!(
            r#"[[1,"a\"b",null,["f",-1,461168601842738790,{tenth_f}],["b","00FF"]],[-9223372036854775808,"",null,["i",1],["b",""]]]"#
        );
        let page = page.as_str();
        let mut seen = Vec::new();
        let (last, n) = each_row(page, 5, &mut |r| {
            seen.push(r.iter().map(|c| c.clone().into_owned()).collect::<Vec<_>>());
            Ok::<(), String>(())
        })
        .unwrap();
        assert_eq!(n, 2);
        assert_eq!(seen[0][1], Cell::Text("a\"b".into()));
        assert_eq!(seen[0][3], Cell::Real(0.1));
        assert_eq!(seen[0][4], Cell::Blob(vec![0, 255]));
        assert_eq!(seen[1][0], Cell::Integer(i64::MIN));
        assert_eq!(seen[1][3], Cell::Real(f64::NEG_INFINITY));
        assert_eq!(last.unwrap()[0], Cell::Integer(i64::MIN));
        let unreadable = |page: &str, width| {
            matches!(
                each_row(page, width, &mut |_| Ok::<(), String>(())),
                Err(PageError::Unreadable(_))
            )
        };
        assert!(unreadable("[[1.5]]", 1));
        assert!(unreadable(r#"[[["f",99,1,0]]]"#, 1));
        assert!(unreadable("[[1]]", 2));
        assert_eq!(
            each_row("[[1],[2]]", 1, &mut |_| Err("full disk".to_owned())),
            Err(PageError::Stopped("full disk".into()))
        );
    }
}
