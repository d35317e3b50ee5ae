//! The scenario's fingerprint in every segment's result: FNV-1a 64 of the file's bytes, so a
//! merge can tell parts of one run from parts of another (not a security measure).

/// Hex FNV-1a 64 of `bytes`.
pub fn scenario_hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_values() {
        assert_eq!(super::scenario_hash(b""), "cbf29ce484222325");
        assert_eq!(super::scenario_hash(b"a"), "af63dc4c8601ec8c");
    }
}
