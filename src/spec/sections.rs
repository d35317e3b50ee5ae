//! Whole-document concerns: the service name, merging code and prose breakers, and sections that
//! promise a claim family but yielded no claim.

use super::claims::Claims;
use super::diag;
use super::markdown::{has_words, Block, Kind};
use super::names::clean_heading;

/// The service: from `Backend Spec: <Service>` (or `Backend Specification for <Service>`), else the
/// first heading.
pub(crate) fn service(blocks: &[Block]) -> Option<String> {
    let headings = blocks
        .iter()
        .filter(|b| matches!(b.kind, Kind::Heading { .. }));
    for h in headings.clone() {
        let t = clean_heading(&h.text.s);
        let lower = t.to_lowercase();
        if lower.contains("spec") {
            if let Some((_, name)) = t.split_once(':') {
                return Some(name.trim().to_string()).filter(|n| !n.is_empty());
            }
            if let Some(i) = lower.find(" for ") {
                return Some(t[i + 5..].trim().to_string()).filter(|n| !n.is_empty());
            }
            // "Checkout API — backend specification": the part that is not the word "spec".
            if let Some(name) = t
                .split(['—', '–', '|'])
                .chain(t.split(" - "))
                .map(str::trim)
                .find(|p| !p.is_empty() && !p.to_lowercase().contains("spec"))
            {
                if name.len() < t.len() {
                    return Some(name.to_string());
                }
            }
        }
    }
    headings
        .map(|h| clean_heading(&h.text.s))
        .find(|t| !t.is_empty())
        .map(|t| without_doc_kind(&t))
}

/// "Design: Inventory Service" -> "Inventory Service": the kind of document is not the name.
fn without_doc_kind(t: &str) -> String {
    const DOC: &[&str] = &["design", "rfc", "adr", "proposal", "readme", "runbook"];
    const DOC_TAIL: &[&str] = &[
        "service",
        "level",
        "objectives",
        "objective",
        "slo",
        "slos",
        "sla",
        "design",
        "overview",
        "runbook",
        "spec",
        "specification",
        "and",
        "document",
        "doc",
    ];
    match t.split_once(':') {
        Some((kind, name)) if !name.trim().is_empty() && has_any(kind, DOC) => {
            name.trim().to_string()
        }
        // "Checkout Platform: Service Level Objectives": the name is before the colon.
        Some((name, kind))
            if !name.trim().is_empty()
                && super::names::words(kind)
                    .iter()
                    .all(|w| DOC_TAIL.contains(&w.as_str())) =>
        {
            name.trim().to_string()
        }
        _ => t.to_string(),
    }
}

fn has_any(text: &str, words: &[&str]) -> bool {
    words.iter().any(|w| has_words(text, &[w]))
}

/// A heading that names a claim family, with no claim of that family read inside its section, gets a
/// diagnostic: the spec promises something there that redline could not read.
pub(crate) fn check_sections(blocks: &[Block], claims: &mut Claims) {
    let headings: Vec<(u8, usize, String)> = blocks
        .iter()
        .filter_map(|b| match b.kind {
            Kind::Heading { level } => Some((level, b.line, clean_heading(&b.text.s))),
            _ => None,
        })
        .collect();
    for (k, (level, line, title)) in headings.iter().enumerate() {
        let end = headings[k + 1..]
            .iter()
            .find(|(l, _, _)| l <= level)
            .map_or(usize::MAX, |(_, l, _)| *l);
        let inside = |l: usize| l > *line && l < end;
        let (family, lines): (&str, Vec<usize>) =
            if has_words(title, &["latency"]) && latency_heading(title) {
                let mut ls: Vec<usize> = claims.latency.iter().map(|c| c.line).collect();
                ls.extend(claims.latency_budget.as_ref().map(|b| b.line));
                ("latency", ls)
            } else if has_words(title, &["breaker"]) {
                (
                    "circuit breaker",
                    claims.breakers.iter().map(|c| c.line).collect(),
                )
            } else if has_words(title, &["retry", "strateg"])
                || has_words(title, &["retry", "polic"])
                || title.eq_ignore_ascii_case("retries")
            {
                ("retry", claims.retries.iter().map(|c| c.line).collect())
            } else if has_words(title, &["rate", "limit"]) {
                (
                    "rate limit",
                    claims.rate_limits.iter().map(|c| c.line).collect(),
                )
            } else if has_words(title, &["alert"]) {
                ("alert", claims.alerts.iter().map(|c| c.line).collect())
            } else if has_words(title, &["error", "classification"]) {
                (
                    "error classification",
                    claims.error_classes.iter().map(|c| c.line).collect(),
                )
            } else if title.eq_ignore_ascii_case("dependencies") {
                (
                    "dependency",
                    claims.dependencies.iter().map(|c| c.line).collect(),
                )
            } else {
                continue;
            };
        if !lines.into_iter().any(inside) {
            diag(
                claims,
                *line,
                format!(
                    "section \"{title}\" names {family} claims, but none could be read from it"
                ),
            );
        }
    }
}

/// "Latency Targets", "Latency budget", "Latency SLOs", "Latency": a heading that promises latency
/// claims (unlike "Latency metrics" or "Latency dashboards").
fn latency_heading(title: &str) -> bool {
    let promise = [
        "target",
        "budget",
        "slo",
        "objective",
        "requirement",
        "goal",
        "sla",
    ];
    promise.iter().any(|w| has_words(title, &["latency", w]))
        || title.eq_ignore_ascii_case("latency")
}
