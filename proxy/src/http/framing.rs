//! Where an HTTP/1.1 message body ends (RFC 9112 section 6): by length, by the chunked transfer
//! coding, or at connection close. The cursor walks the body's bytes as they arrive so they can
//! be relayed unchanged, and reports which of them are payload (for truncation, counting and
//! de-chunking).

use std::ops::Range;

/// Largest chunk-size line (digits and extensions) and trailer section accepted.
const MAX_CHUNK_LINE: usize = 4096;
const MAX_TRAILERS: usize = 64 * 1024;

/// How a message body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

/// A body that breaks its own framing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed chunked body: {0}")]
pub(crate) struct FramingError(pub &'static str);

/// Position inside a body being read.
#[derive(Debug, Clone)]
pub(crate) struct BodyCursor {
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Done,
    Length(u64),
    UntilClose,
    /// Reading a chunk-size line: `size` so far, `line` bytes seen, `ext` once past the digits.
    Size {
        size: u64,
        line: usize,
        ext: bool,
    },
    SizeLf(u64),
    Data(u64),
    DataCr,
    DataLf,
    /// At the start of a trailer line (or of the final CRLF); `seen` bytes of trailers so far.
    TrailerStart(usize),
    TrailerLine(usize),
    TrailerLf(usize),
    FinalLf,
}

impl BodyCursor {
    pub fn new(framing: Framing) -> BodyCursor {
        let state = match framing {
            Framing::Empty | Framing::Length(0) => State::Done,
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => State::Size {
                size: 0,
                line: 0,
                ext: false,
            },
            Framing::UntilClose => State::UntilClose,
        };
        BodyCursor { state }
    }

    /// The whole body has been seen (never true for a body that ends at close).
    pub fn done(&self) -> bool {
        self.state == State::Done
    }

    pub fn until_close(&self) -> bool {
        self.state == State::UntilClose
    }

    /// Walks `input` and returns how many of its bytes belong to this body (the rest, if any,
    /// is the next message); `payload` gets the ranges of `input` that are body content.
    pub fn advance(
        &mut self,
        input: &[u8],
        payload: &mut impl FnMut(Range<usize>),
    ) -> Result<usize, FramingError> {
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::Done => break,
                State::UntilClose => {
                    payload(i..input.len());
                    i = input.len();
                }
                State::Length(left) | State::Data(left) => {
                    let take = left.min((input.len() - i) as u64) as usize;
                    payload(i..i + take);
                    i += take;
                    let left = left - take as u64;
                    self.state = match (self.state, left) {
                        (State::Length(_), 0) => State::Done,
                        (State::Length(_), l) => State::Length(l),
                        (_, 0) => State::DataCr,
                        (_, l) => State::Data(l),
                    };
                }
                _ => {
                    self.state = self.step_byte(input[i])?;
                    i += 1;
                }
            }
        }
        Ok(i)
    }

    /// One byte of chunked framing (size lines, CRLFs, trailers).
    fn step_byte(&self, b: u8) -> Result<State, FramingError> {
        Ok(match self.state {
            State::Size { size, line, ext } => {
                if line >= MAX_CHUNK_LINE {
                    return Err(FramingError("chunk-size line too long"));
                }
                let line = line + 1;
                match (b, ext) {
                    (b'\r', _) if line > 1 => State::SizeLf(size),
                    (_, false) if b.is_ascii_hexdigit() => {
                        if size >> 56 != 0 {
                            return Err(FramingError("chunk size too large"));
                        }
                        let digit = (b as char).to_digit(16).unwrap_or(0) as u64;
                        State::Size {
                            size: size * 16 + digit,
                            line,
                            ext,
                        }
                    }
                    (b';' | b' ' | b'\t', _) if line > 1 => State::Size {
                        size,
                        line,
                        ext: true,
                    },
                    (b'\r' | b'\n', _) => {
                        return Err(FramingError("chunk-size line without a size"))
                    }
                    (_, true) => State::Size { size, line, ext },
                    _ => return Err(FramingError("chunk size is not hexadecimal")),
                }
            }
            State::SizeLf(size) => match (b, size) {
                (b'\n', 0) => State::TrailerStart(0),
                (b'\n', n) => State::Data(n),
                _ => return Err(FramingError("chunk-size line not ended by CRLF")),
            },
            State::DataCr if b == b'\r' => State::DataLf,
            State::DataLf if b == b'\n' => State::Size {
                size: 0,
                line: 0,
                ext: false,
            },
            State::DataCr | State::DataLf => {
                return Err(FramingError("chunk data not followed by CRLF"))
            }
            State::TrailerStart(_) if b == b'\r' => State::FinalLf,
            State::TrailerStart(seen) | State::TrailerLine(seen) => {
                if seen >= MAX_TRAILERS {
                    return Err(FramingError("trailer section too large"));
                }
                // A bare LF would end the line for some readers and not for others.
                if b == b'\n' {
                    return Err(FramingError("trailer line ended by a bare LF"));
                }
                if b == b'\r' {
                    State::TrailerLf(seen + 1)
                } else {
                    State::TrailerLine(seen + 1)
                }
            }
            State::TrailerLf(seen) if b == b'\n' => State::TrailerStart(seen + 1),
            State::TrailerLf(_) => return Err(FramingError("trailer line not ended by CRLF")),
            State::FinalLf if b == b'\n' => State::Done,
            State::FinalLf => return Err(FramingError("chunked body not ended by CRLF")),
            State::Done | State::UntilClose | State::Length(_) | State::Data(_) => self.state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `step` bytes; returns (bytes consumed, payload, done).
    fn walk(framing: Framing, input: &[u8], step: usize) -> (usize, Vec<u8>, bool) {
        let mut c = BodyCursor::new(framing);
        let mut used = 0;
        let mut body = Vec::new();
        while used < input.len() && !c.done() {
            let end = (used + step).min(input.len());
            let piece = &input[used..end];
            let n = c
                .advance(piece, &mut |r| body.extend_from_slice(&piece[r]))
                .unwrap();
            used += n;
            if n < piece.len() {
                break;
            }
        }
        (used, body, c.done())
    }

    #[test]
    fn length_stops_at_the_end_of_the_body() {
        for step in [1, 3, 100] {
            let (used, body, done) = walk(Framing::Length(5), b"hello GET / HTTP/1.1", step);
            assert_eq!((used, &body[..], done), (5, &b"hello"[..], true));
        }
        assert!(BodyCursor::new(Framing::Length(0)).done());
        assert!(BodyCursor::new(Framing::Empty).done());
    }

    #[test]
    fn chunked_yields_payload_and_stops_after_trailers() {
        let msg = b"5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nx-t: 1\r\n\r\nNEXT";
        for step in [1, 2, 7, 1000] {
            let (used, body, done) = walk(Framing::Chunked, msg, step);
            assert_eq!(used, msg.len() - 4, "step {step}");
            assert_eq!(body, b"hello0123456789");
            assert!(done);
        }
    }

    #[test]
    fn chunked_without_trailers() {
        let (used, body, done) = walk(Framing::Chunked, b"3\r\nabc\r\n0\r\n\r\n", 1);
        assert_eq!((used, &body[..], done), (13, &b"abc"[..], true));
    }

    #[test]
    fn broken_chunked_bodies_are_errors() {
        for bad in [
            &b"zz\r\n"[..],
            b"\r\n",
            b"3\r\nabcX",
            b"3\nabc",
            b"0\r\nx\rY",
            b"ffffffffffffffffff\r\n",
            b"0\r\n\nGET / HTTP/1.1\r\n\r\n",
            b"0\r\nx-t: 1\nGET",
        ] {
            let mut c = BodyCursor::new(Framing::Chunked);
            assert!(c.advance(bad, &mut |_| {}).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn until_close_takes_everything() {
        let mut c = BodyCursor::new(Framing::UntilClose);
        assert_eq!(c.advance(b"abc", &mut |_| {}).unwrap(), 3);
        assert!(!c.done() && c.until_close());
    }
}
