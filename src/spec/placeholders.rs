//! `{{placeholder}}` values left from a template: where a claim would be, they are diagnostics (the
//! promise is not written yet), never claims. Runs before the claim readers and blanks every
//! placeholder out of the blocks they read (same length, so lines stay right).

use super::claims::Claims;
use super::diag;
use super::markdown::{has_words, Block, Kind};

/// Words that say a claim lives here (in the placeholder's line, its name or a heading above it).
const CLAIM_WORDS: &[&[&str]] = &[
    &["latency"],
    &["response", "time"],
    &["percentile"],
    &["p50"],
    &["p95"],
    &["p99"],
    &["timeout"],
    &["rate", "limit"],
    &["per", "minute"],
    &["per", "second"],
    &["error", "rate"],
    &["availability"],
    &["uptime"],
    &["slo"],
    &["sla"],
    &["breaker"],
    &["retry"],
    &["backoff"],
    &["throughput"],
    &["alert"],
    &["threshold"],
    &["performance"],
    &["fallback"],
];

fn claimish(text: &str) -> bool {
    CLAIM_WORDS.iter().any(|w| has_words(text, w))
}

/// A diagnostic for every placeholder that stands where a claim would be; then every placeholder is
/// blanked, and table rows left with nothing in them are dropped.
pub(crate) fn read(blocks: &mut [Block], claims: &mut Claims) {
    diagnose(blocks, claims);
    for b in blocks.iter_mut() {
        match &mut b.kind {
            Kind::Paragraph | Kind::Item | Kind::Heading { .. } => blank(&mut b.text.s),
            Kind::Table { rows, .. } => {
                for r in rows.iter_mut() {
                    for c in &mut r.cells {
                        blank(c);
                        *c = c.trim().to_string();
                    }
                }
                rows.retain(|r| r.cells.iter().any(|c| !c.is_empty()));
            }
            Kind::Code { .. } => {}
        }
    }
}

/// Replaces each `{{...}}` in `s` with spaces of the same byte length.
fn blank(s: &mut String) {
    if !s.contains("{{") {
        return;
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(k) = rest.find("{{") {
        let Some(e) = rest[k + 2..].find("}}") else {
            break;
        };
        out.push_str(&rest[..k]);
        out.extend(std::iter::repeat_n(' ', e + 4));
        rest = &rest[k + 2 + e + 2..];
    }
    out.push_str(rest);
    *s = out;
}

fn diagnose(blocks: &[Block], claims: &mut Claims) {
    for b in blocks {
        let pieces: Vec<(String, usize)> = match &b.kind {
            Kind::Paragraph | Kind::Item => vec![(b.text.s.clone(), b.text.first_line())],
            Kind::Table { header, rows } => rows
                .iter()
                .map(|r| {
                    let cells: Vec<String> = r
                        .cells
                        .iter()
                        .zip(header.cells.iter().chain(std::iter::repeat(&String::new())))
                        .map(|(c, h)| format!("{h}: {c}"))
                        .collect();
                    (cells.join(" | "), r.line)
                })
                .collect(),
            _ => continue,
        };
        let under = b.sections.iter().any(|s| claimish(&s.title));
        for (text, line) in pieces {
            for name in placeholders(&text) {
                let readable = name.replace(['_', '-'], " ");
                if under || claimish(&text.replace(['_', '-'], " ")) || claimish(&readable) {
                    let msg = format!("\"{{{{{name}}}}}\" is a template placeholder, not a value: no claim read from it (fill it in or remove it)");
                    diag(claims, line, msg);
                }
            }
        }
    }
}

/// The names of the `{{...}}` placeholders in `text`, in order.
fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(k) = rest.find("{{") {
        let after = &rest[k + 2..];
        let Some(e) = after.find("}}") else { break };
        let name = after[..e].trim();
        if !name.is_empty() && name.len() <= 80 && !name.contains('{') {
            out.push(name);
        }
        rest = &after[e + 2..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_where_claims_would_be() {
        let c = super::super::parse(
            "# X\n\n**Rate Limiting**: {{requests_per_minute_per_user}}\n\n**Purpose**: {{what_it_does}}\n\n## Performance\n\n| Operation | P95 |\n|---|---|\n| {{op}} | {{p95}} |\n",
        );
        let placeholder_diags: Vec<usize> = c
            .diagnostics
            .iter()
            .filter(|d| d.message.contains("template placeholder"))
            .map(|d| d.line)
            .collect();
        assert_eq!(placeholder_diags, [3, 11, 11]);
        assert!(c.rate_limits.is_empty() && c.latency.is_empty(), "{c:#?}");
        let mut s = "a {{x_y}} b {{z}}".to_string();
        blank(&mut s);
        assert_eq!(s.len(), "a {{x_y}} b {{z}}".len());
        assert_eq!(s.split_whitespace().collect::<Vec<_>>(), ["a", "b"]);
    }
}
