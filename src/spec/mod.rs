//! Spec reader: Markdown service spec (a `&str`) -> claims + diagnostics. Lenient, no I/O, never panics.
//!
//! `markdown` turns pulldown-cmark events into blocks with lines; each claim family reads its own shapes
//! from those blocks; whatever looks like a claim but cannot be read becomes a diagnostic.

mod alerts;
mod breaker_forms;
mod breaker_merge;
mod breaker_params;
mod breaker_prose;
mod breakers;
pub mod claims;
mod code_objectives;
mod dependencies;
mod dependency_list;
mod error_bodies;
mod errors;
mod grpc_status;
mod health;
mod html_tables;
mod interface_limits;
mod latency;
mod latency_tables;
mod lookup;
mod markdown;
mod names;
mod objective_prose;
mod objectives;
mod percentiles;
mod placeholders;
mod rate_limits;
mod retries;
mod retry_prose;
mod sections;
mod source;
mod tables;
mod testable;
mod tokens;
mod units;
mod windows;

pub use claims::Claims;
pub use names::normalize_name;
pub use testable::{require_testable, EmptySpec};

use claims::Diagnostic;
use markdown::{Block, Kind};

/// Reads every claim from a Markdown spec. Never fails: what cannot be read is in `diagnostics`.
pub fn parse(source: &str) -> Claims {
    let source = source::unwrap_markdown_fence(source);
    let mut blocks = markdown::blocks(&source);
    let mut claims = Claims::default();
    placeholders::read(&mut blocks, &mut claims);
    claims.service = sections::service(&blocks);
    dependencies::read(&blocks, &mut claims);
    dependency_list::read(&blocks, &mut claims);
    latency_tables::read_tables(&blocks, &mut claims);
    latency::read_budget(&blocks, &mut claims);
    latency::check_duplicates(&mut claims);
    let code = breakers::read_code(&blocks, &mut claims);
    let prose = breaker_prose::read_prose(&blocks, &mut claims);
    let merged = breaker_merge::merge(code, prose, &mut claims);
    breakers::match_dependencies(merged.drafts, &mut claims);
    breaker_merge::name_subjects(&merged.subjects, &mut claims);
    retries::read(&blocks, &mut claims);
    retry_prose::read(&blocks, &mut claims);
    rate_limits::read(&blocks, &mut claims);
    errors::read(&blocks, &mut claims);
    error_bodies::read(&blocks, &mut claims);
    interface_limits::read(&blocks, &mut claims);
    alerts::read(&blocks, &mut claims);
    objectives::read(&blocks, &mut claims);
    health::read(&blocks, &mut claims);
    code_objectives::read(&blocks, &mut claims);
    sections::check_sections(&blocks, &mut claims);
    claims.diagnostics.sort_by_key(|d| d.line);
    claims
}

/// Records something that looked like a claim but could not be read.
pub(crate) fn diag(claims: &mut Claims, line: usize, message: String) {
    claims.diagnostics.push(Diagnostic { line, message });
}

/// Paragraphs and list items: where prose claims live.
pub(crate) fn is_prose(b: &Block) -> bool {
    matches!(b.kind, Kind::Paragraph | Kind::Item)
}

/// Sentences of `s` with their byte offsets: split after `.`, `!`, `?` or `;` followed by a space
/// (so `0.5s` and `e.g.x` stay whole).
pub(crate) fn sentences(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut iter = s.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let end_mark = matches!(c, '.' | '!' | '?' | ';');
        if end_mark && iter.peek().is_none_or(|(_, n)| n.is_whitespace()) {
            let end = i + c.len_utf8();
            out.push((start, &s[start..end]));
            start = end;
        }
    }
    if start < s.len() {
        out.push((start, &s[start..]));
    }
    out.retain(|(_, t)| !t.trim().is_empty());
    out
}
