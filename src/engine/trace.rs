//! W3C Trace Context (`traceparent`, version 00) for each request: the trace id is the run id,
//! a word of the seed and the arrival index, so the id of request `i` can be rendered again
//! later (body samples, the propagation verdict) without being stored per request.

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `traceparent: 00-<32 hex trace id>-<16 hex parent id>-01\r\n` is this long.
pub const LINE: usize = 13 + 3 + 32 + 1 + 16 + 3 + 2;

/// The 16 bytes of request `index`'s trace id (never all zero).
pub fn trace_id(run: u32, seed: u64, index: u64) -> u128 {
    let mixed = (seed ^ (seed >> 32)) as u32;
    (u128::from(run) << 96) | (u128::from(mixed) << 64) | u128::from(index.wrapping_add(1))
}

/// The parent (span) id the engine puts beside it (never zero).
fn parent_id(index: u64) -> u64 {
    index.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1
}

fn hex(mut v: u128, out: &mut [u8]) {
    for slot in out.iter_mut().rev() {
        *slot = HEX[(v & 0xF) as usize];
        v >>= 4;
    }
}

/// Appends the whole header line for request `index`.
pub fn write_header(run: u32, seed: u64, index: u64, out: &mut Vec<u8>) {
    let mut line = [0u8; LINE];
    line[..16].copy_from_slice(b"traceparent: 00-");
    hex(trace_id(run, seed, index), &mut line[16..48]);
    line[48] = b'-';
    hex(u128::from(parent_id(index)), &mut line[49..65]);
    line[65..].copy_from_slice(b"-01\r\n");
    out.extend_from_slice(&line);
}

/// Request `index`'s trace id as 32 lowercase hex digits.
pub fn trace_id_string(run: u32, seed: u64, index: u64) -> String {
    let mut buf = [0u8; 32];
    hex(trace_id(run, seed, index), &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// The trace id of a `traceparent` value (version 00 shape), lowercase; None if malformed.
pub fn parse_trace_id(value: &str) -> Option<String> {
    let mut parts = value.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hexes = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    if !hexes(version, 2) || !hexes(trace, 32) || !hexes(parent, 16) || !hexes(flags, 2) {
        return None;
    }
    if trace.bytes().all(|b| b == b'0') {
        return None;
    }
    Some(trace.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_shape_and_round_trip() {
        let mut out = Vec::new();
        write_header(0xdead_beef, 7, 41, &mut out);
        let line = String::from_utf8(out).unwrap();
        assert_eq!(line.len(), LINE);
        let value = line
            .strip_prefix("traceparent: ")
            .unwrap()
            .trim_end_matches("\r\n");
        assert_eq!(
            parse_trace_id(value),
            Some(trace_id_string(0xdead_beef, 7, 41))
        );
        assert!(trace_id_string(0xdead_beef, 7, 41).starts_with("deadbeef"));
        assert_ne!(trace_id_string(1, 7, 41), trace_id_string(1, 7, 42));
        assert_eq!(
            parse_trace_id("00-00000000000000000000000000000000-0000000000000001-01"),
            None
        );
        assert_eq!(parse_trace_id("garbage"), None);
    }
}
