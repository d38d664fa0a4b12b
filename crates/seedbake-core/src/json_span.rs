//! Where a JSON pointer's value stands in a document's text, so a tool can
//! replace one value (a seed's records list) and keep every other byte of
//! the document as its author wrote it: key order, spacing, other keys.

use std::ops::Range;

/// The byte range of the value `pointer` (RFC 6901, `""` the whole
/// document) names in `text`, or `None` when the text is not well-formed
/// where it is walked or the pointer names nothing.
pub fn pointer_span(text: &str, pointer: &str) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    let mut start = skip_ws(bytes, 0);
    if !pointer.is_empty() {
        let tokens = pointer.strip_prefix('/')?.split('/');
        for token in tokens {
            let token = token.replace("~1", "/").replace("~0", "~");
            start = child(text, start, &token)?;
        }
    }
    Some(start..value_end(bytes, start)?)
}

/// The start of the member `token` of the object or array at `at`.
fn child(text: &str, at: usize, token: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let open = *bytes.get(at)?;
    let close = match open {
        b'{' => b'}',
        b'[' => b']',
        _ => return None,
    };
    let wanted: Option<usize> = (open == b'[').then(|| token.parse().ok()).flatten();
    if open == b'[' && wanted.is_none() {
        return None;
    }
    let mut i = skip_ws(bytes, at + 1);
    let mut index = 0;
    while *bytes.get(i)? != close {
        let hit = if open == b'{' {
            let key_end = string_end(bytes, i)?;
            let key: String = serde_json::from_str(&text[i..key_end]).ok()?;
            i = skip_ws(bytes, key_end);
            if *bytes.get(i)? != b':' {
                return None;
            }
            i = skip_ws(bytes, i + 1);
            key == token
        } else {
            wanted == Some(index)
        };
        if hit {
            return Some(i);
        }
        i = skip_ws(bytes, value_end(bytes, i)?);
        if *bytes.get(i)? == b',' {
            i = skip_ws(bytes, i + 1);
        }
        index += 1;
    }
    None
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

/// The end of the string whose opening quote is at `at`.
fn string_end(bytes: &[u8], at: usize) -> Option<usize> {
    if *bytes.get(at)? != b'"' {
        return None;
    }
    let mut i = at + 1;
    loop {
        match *bytes.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// The end of the value starting at `at`.
fn value_end(bytes: &[u8], at: usize) -> Option<usize> {
    match *bytes.get(at)? {
        b'"' => string_end(bytes, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                match *bytes.get(i)? {
                    b'"' => {
                        i = string_end(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let mut i = at;
            while bytes
                .get(i)
                .is_some_and(|b| !b.is_ascii_whitespace() && !matches!(b, b',' | b'}' | b']'))
            {
                i += 1;
            }
            (i > at).then_some(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_nested_value_past_strings_that_look_like_structure() {
        let text = r#"{ "a": "x}]\"", "b/c": {"list": [1, {"k": "v"}, 3]}, "list": [9] }"#;
        let span = pointer_span(text, "/b~1c/list").unwrap();
        assert_eq!(&text[span], r#"[1, {"k": "v"}, 3]"#);
        let span = pointer_span(text, "/b~1c/list/1/k").unwrap();
        assert_eq!(&text[span], r#""v""#);
        assert_eq!(&text[pointer_span(text, "/list").unwrap()], "[9]");
        assert!(pointer_span(text, "/missing").is_none());
        assert_eq!(pointer_span(text, "").unwrap(), 0..text.len());
    }
}
