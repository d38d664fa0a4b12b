//! One HTTP/1.1 answer followed as its bytes arrive, so that it is refused
//! the moment it grows past what a libSQL server sends (the Hrana client
//! reads an answer whole).

use super::{MAX_ANSWER_BYTES, Refused};

/// The most an answer's status line and headers may take.
const MAX_HEAD_BYTES: usize = 1 << 20;

/// One HTTP/1.1 answer, followed as its bytes arrive (before the client
/// buffers them), to refuse it as soon as it is too large: the framing
/// (Content-Length, chunked, or until the connection closes) is decoded
/// just enough to count the body's bytes. Error answers must be UTF-8,
/// because they are shown.
pub(super) struct Answer {
    answer_limit: u64,
    state: State,
    status: u16,
    body_bytes: u64,
    /// The bytes of an unfinished UTF-8 sequence, for error answers.
    utf8_tail: Vec<u8>,
}

enum State {
    Head(Vec<u8>),
    Length(u64),
    ChunkSize(Vec<u8>),
    ChunkData(u64),
    /// The CR LF after a chunk's data; how many of the two bytes came.
    ChunkEnd(u8),
    /// After the last chunk: trailer lines until an empty one; the bytes of
    /// the current line so far.
    Trailers(usize),
    UntilClose,
    Done,
}

impl Answer {
    pub(super) fn new() -> Answer {
        Answer::with_limit(MAX_ANSWER_BYTES)
    }

    fn with_limit(answer_limit: u64) -> Answer {
        Answer {
            answer_limit,
            state: State::Head(Vec::new()),
            status: 0,
            body_bytes: 0,
            utf8_tail: Vec::new(),
        }
    }

    /// Takes the next bytes the server sent.
    pub(super) fn feed(&mut self, mut data: &[u8]) -> Result<(), Refused> {
        while !data.is_empty() {
            let used = match &mut self.state {
                State::Head(head) => {
                    // Only the last three bytes before `data` can complete
                    // an end of head that `data` finishes.
                    let from = head.len().saturating_sub(3);
                    head.extend_from_slice(data);
                    match find(&head[from..], b"\r\n\r\n") {
                        Some(at) => {
                            let end = from + at + 4;
                            let used = data.len() - (head.len() - end);
                            head.truncate(end);
                            let head = std::mem::take(head);
                            self.start_body(&head)?;
                            used
                        }
                        None if head.len() > MAX_HEAD_BYTES => {
                            return Err(Refused::TooLarge {
                                limit: MAX_HEAD_BYTES as u64,
                            });
                        }
                        None => data.len(),
                    }
                }
                State::Length(left) => {
                    let n = data.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                    *left -= n as u64;
                    if *left == 0 {
                        self.state = State::Done;
                    }
                    self.body(&data[..n])?;
                    n
                }
                State::UntilClose => {
                    self.body(data)?;
                    data.len()
                }
                State::ChunkSize(line) => match data.iter().position(|b| *b == b'\n') {
                    Some(at) => {
                        line.extend_from_slice(&data[..at]);
                        let size = chunk_size(line).ok_or(Refused::Malformed)?;
                        self.state = if size == 0 {
                            State::Trailers(0)
                        } else {
                            State::ChunkData(size)
                        };
                        at + 1
                    }
                    None if line.len() + data.len() > 4096 => return Err(Refused::Malformed),
                    None => {
                        line.extend_from_slice(data);
                        data.len()
                    }
                },
                State::ChunkData(left) => {
                    let n = data.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                    *left -= n as u64;
                    if *left == 0 {
                        self.state = State::ChunkEnd(0);
                    }
                    self.body(&data[..n])?;
                    n
                }
                State::ChunkEnd(seen) => {
                    let expected = if *seen == 0 { b'\r' } else { b'\n' };
                    if data[0] != expected {
                        return Err(Refused::Malformed);
                    }
                    *seen += 1;
                    if *seen == 2 {
                        self.state = State::ChunkSize(Vec::new());
                    }
                    1
                }
                State::Trailers(line) => {
                    match data[0] {
                        b'\n' if *line == 0 => self.state = State::Done,
                        b'\n' => *line = 0,
                        b'\r' => {}
                        _ if *line > MAX_HEAD_BYTES => return Err(Refused::Malformed),
                        _ => *line += 1,
                    }
                    1
                }
                // Bytes after a complete answer start the next one.
                State::Done => {
                    *self = Answer::with_limit(self.answer_limit);
                    0
                }
            };
            data = &data[used..];
        }
        Ok(())
    }

    /// Reads the status line and headers, and chooses how the body ends.
    fn start_body(&mut self, head: &[u8]) -> Result<(), Refused> {
        let text = std::str::from_utf8(head).map_err(|_| Refused::Malformed)?;
        let mut lines = text.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.strip_prefix("HTTP/1."))
            .and_then(|l| l.get(2..5))
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or(Refused::Malformed)?;
        let mut length = None;
        let mut chunked = false;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse::<u64>().map_err(|_| Refused::Malformed)?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value
                    .rsplit(',')
                    .next()
                    .is_some_and(|c| c.trim().eq_ignore_ascii_case("chunked"));
            }
        }
        self.status = status;
        self.state = if (100..200).contains(&status) {
            // An interim answer; the real one follows.
            State::Head(Vec::new())
        } else if status == 204 || status == 304 {
            State::Done
        } else if chunked {
            State::ChunkSize(Vec::new())
        } else if let Some(n) = length {
            if n > self.answer_limit {
                return Err(Refused::TooLarge {
                    limit: self.answer_limit,
                });
            }
            if n == 0 {
                State::Done
            } else {
                State::Length(n)
            }
        } else {
            State::UntilClose
        };
        Ok(())
    }

    fn body(&mut self, data: &[u8]) -> Result<(), Refused> {
        self.body_bytes += data.len() as u64;
        if self.body_bytes > self.answer_limit {
            return Err(Refused::TooLarge {
                limit: self.answer_limit,
            });
        }
        if self.status != 200 {
            self.utf8_tail.extend_from_slice(data);
            match std::str::from_utf8(&self.utf8_tail) {
                Ok(_) => self.utf8_tail.clear(),
                // An unfinished sequence at the end waits for its rest.
                Err(e) if e.error_len().is_none() => {
                    let done = e.valid_up_to();
                    self.utf8_tail.drain(..done);
                }
                Err(_) => return Err(Refused::NotText),
            }
        }
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A chunk-size line: hex digits, then optional extensions after ';'.
fn chunk_size(line: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(line).ok()?.trim_end_matches('\r');
    let digits = text.split(';').next()?.trim();
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(a: &mut Answer, parts: &[&[u8]]) -> Result<(), Refused> {
        for p in parts {
            a.feed(p)?;
        }
        Ok(())
    }

    /// Feeds byte by byte, so every state meets every boundary.
    fn feed_bytes(a: &mut Answer, data: &[u8]) -> Result<(), Refused> {
        for b in data {
            a.feed(std::slice::from_ref(b))?;
        }
        Ok(())
    }

    fn chunked(body: &[u8], chunk: usize) -> Vec<u8> {
        let mut out = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
        for c in body.chunks(chunk) {
            out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
            out.extend_from_slice(c);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    }

    #[test]
    fn answers_within_the_limits_pass_in_any_split() {
        let body = b"{\"baton\":null}\n{\"row\":[1]}\n{\"row\":[2]}\n";
        let data = chunked(body, 7);
        let mut a = Answer::with_limit(100);
        feed_bytes(&mut a, &data).unwrap();
        assert!(matches!(a.state, State::Done));
        assert_eq!(a.body_bytes, body.len() as u64);
        let mut a = Answer::with_limit(100);
        feed_all(&mut a, &[&data]).unwrap();
        assert!(matches!(a.state, State::Done));
        let mut a = Answer::with_limit(100);
        feed_bytes(
            &mut a,
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        )
        .unwrap();
        assert!(matches!(a.state, State::Done));
        assert_eq!(a.body_bytes, 5);
    }

    #[test]
    fn a_whole_answer_beyond_the_limit_is_refused_as_it_arrives() {
        let too_large = Err(Refused::TooLarge { limit: 100 });
        // Announced: refused before any of the body.
        let mut a = Answer::with_limit(100);
        assert_eq!(
            a.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n"),
            too_large
        );
        // Streamed: refused at the first byte beyond the limit.
        let mut a = Answer::with_limit(100);
        a.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap();
        assert_eq!(a.feed(format!("{:x}\r\n", 1000).as_bytes()), Ok(()));
        assert_eq!(a.feed(&[b' '; 100]), Ok(()));
        assert_eq!(a.feed(b" "), too_large);
        // Until the connection closes, likewise; and error answers too.
        let mut a = Answer::with_limit(100);
        a.feed(b"HTTP/1.1 500 Oops\r\n\r\n").unwrap();
        assert_eq!(a.feed(&[b'x'; 101]), too_large);
    }

    #[test]
    fn error_answers_must_be_text() {
        let mut a = Answer::with_limit(100);
        feed_bytes(
            &mut a,
            "HTTP/1.1 400 Bad\r\ncontent-length: 6\r\n\r\nGrüß".as_bytes(),
        )
        .unwrap();
        let mut a = Answer::with_limit(100);
        a.feed(b"HTTP/1.1 400 Bad\r\ncontent-length: 3\r\n\r\n")
            .unwrap();
        assert_eq!(a.feed(&[b'a', 0xff, b'b']), Err(Refused::NotText));
    }

    #[test]
    fn broken_framing_is_refused() {
        let mut a = Answer::with_limit(100);
        a.feed(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            .unwrap();
        assert_eq!(a.feed(b"zz\r\n"), Err(Refused::Malformed));
        let mut a = Answer::with_limit(100);
        assert_eq!(a.feed(b"SSH-2.0-OpenSSH\r\n\r\n"), Err(Refused::Malformed));
    }
}
