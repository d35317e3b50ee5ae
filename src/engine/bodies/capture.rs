//! One connection's capture of the answer it is reading: the first `BODY_CAP` bytes of the
//! body, the body's whole length and the content type. A reused buffer per connection: nothing
//! is allocated per request once the connection has carried one answer.

/// Bytes of a body kept at most.
pub const BODY_CAP: usize = 4096;
/// Bytes of a content type kept at most.
const TYPE_CAP: usize = 128;

#[derive(Debug, Default)]
pub struct Capture {
    /// Off (`--no-bodies`): every method returns at once.
    pub on: bool,
    /// The first `BODY_CAP` bytes of the body (chunk framing removed).
    pub bytes: Vec<u8>,
    /// The body's whole length.
    pub total: u64,
    /// The `Content-Type` value as sent (cut at `TYPE_CAP`).
    pub content_type: Vec<u8>,
    /// Whether the connection can carry another request after this answer (false: the worker
    /// drops it once it read the body). Kept here, not on the connection, which stays small.
    pub reusable: bool,
}

impl Capture {
    pub fn new(on: bool) -> Self {
        Capture {
            on,
            reusable: true,
            ..Capture::default()
        }
    }

    /// Forgets the previous answer (a new head was read).
    #[inline]
    pub fn reset(&mut self) {
        if self.on {
            self.bytes.clear();
            self.total = 0;
            self.content_type.clear();
        }
    }

    /// The head's `Content-Type` value.
    #[inline]
    pub fn content_type(&mut self, value: &[u8]) {
        if self.on {
            self.content_type.clear();
            let n = value.len().min(TYPE_CAP);
            self.content_type.extend_from_slice(&value[..n]);
        }
    }

    /// Body bytes as they are read.
    #[inline]
    pub fn body(&mut self, part: &[u8]) {
        if self.on {
            self.total += part.len() as u64;
            let room = BODY_CAP.saturating_sub(self.bytes.len());
            if room > 0 {
                self.bytes.extend_from_slice(&part[..part.len().min(room)]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_bytes_and_counts_all() {
        let mut c = Capture::new(true);
        c.body(&[b'a'; 3000]);
        c.body(&[b'b'; 3000]);
        assert_eq!((c.bytes.len(), c.total), (BODY_CAP, 6000));
        assert_eq!(c.bytes[2999..3001], *b"ab");
        c.reset();
        assert_eq!((c.bytes.len(), c.total), (0, 0));
        let mut off = Capture::new(false);
        off.body(b"x");
        off.content_type(b"text/plain");
        assert!(off.bytes.is_empty() && off.total == 0 && off.content_type.is_empty());
    }
}
