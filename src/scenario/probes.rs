//! Validation of the after-load probes other than idempotency: `[[request]] stale_version = true`
//! (or `{ field = "version" }`) and `probe_limits = true`.

use super::error::Diagnostics;
use super::tree::{Kind, Node, TableReader};
use super::StaleVersion;

/// `stale_version`: `true` (field "version"), `false` (none) or `{ field = "..." }`.
pub(super) fn stale_version(
    r: &TableReader,
    node: &Node,
    d: &mut Diagnostics,
) -> Option<Option<StaleVersion>> {
    let key = r.key("stale_version");
    match &node.kind {
        Kind::Bool(true) => Some(Some(StaleVersion {
            field: "version".into(),
        })),
        Kind::Bool(false) => Some(None),
        Kind::Table(_) => {
            let t = TableReader::new(node, &key, &["field"], d)?;
            let field = t.string("field", d);
            if t.get("field").is_some() && field.is_none() {
                return None;
            }
            let field = field.unwrap_or_else(|| "version".into());
            let ok = !field.is_empty()
                && field
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !ok {
                let at = t.get("field").map_or(node.span.start, |n| n.span.start);
                d.push(
                    at,
                    &t.key("field"),
                    format!("expected a JSON field name such as \"version\", found {field:?}"),
                );
                return None;
            }
            Some(Some(StaleVersion { field }))
        }
        other => {
            d.push(
                node.span.start,
                &key,
                format!(
                    "expected true, false or a table such as {{ field = \"version\" }}, found {}",
                    other.type_name()
                ),
            );
            None
        }
    }
}
