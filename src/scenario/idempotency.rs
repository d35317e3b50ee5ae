//! Validation of `[[request]] idempotency = { header = "Idempotency-Key", replay = 2 }`.

use super::error::Diagnostics;
use super::tree::{Node, TableReader};
use super::Idempotency;

const KEYS: &[&str] = &["header", "replay"];

/// The table under `r`'s `idempotency` key; `None` (with a diagnostic) when it is malformed.
pub(super) fn idempotency(
    r: &TableReader,
    node: &Node,
    d: &mut Diagnostics,
) -> Option<Idempotency> {
    let t = TableReader::new(node, &r.key("idempotency"), KEYS, d)?;
    let header = t
        .string("header", d)
        .unwrap_or_else(|| "Idempotency-Key".into());
    let token = !header.is_empty()
        && header
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !token {
        let at = t.get("header").map_or(node.span.start, |n| n.span.start);
        d.push(
            at,
            &t.key("header"),
            format!("expected a header name such as \"Idempotency-Key\", found {header:?}"),
        );
        return None;
    }
    let replay = t.int("replay", 1, 16, d);
    if t.get("replay").is_some() && replay.is_none() {
        return None;
    }
    Some(Idempotency {
        header,
        replay: replay.map_or(2, |n| n as u32),
    })
}
