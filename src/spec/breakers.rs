//! Circuit breakers from code blocks (one or several per block), and matching breakers to dependencies.

use super::breaker_forms;
use super::breaker_params::{params, read_value, Key, Param, Value};
use super::claims::{Breaker, BreakerKind, Claims};
use super::diag;
use super::markdown::{Block, Kind};
use super::names::best_match;

/// A breaker being read, with the text that may name its dependency (comments, headings).
pub(crate) struct Draft {
    pub breaker: Breaker,
    /// Comments, headings or prose near the breaker that may name its dependency.
    pub hints: Vec<String>,
    /// Keys already set, so a repeated key starts the next breaker.
    pub seen: Vec<Key>,
    /// Line of the heading the breaker is described under, to pair prose with code.
    pub heading: Option<usize>,
    /// Library defaults applied: (claim field, `key = value` as the library documents it). Said in a
    /// diagnostic once prose beside the block had its say (what it states is no default).
    pub defaults_shown: Vec<(String, String)>,
}

impl Draft {
    pub fn new(name: Option<String>, line: usize) -> Self {
        let breaker = Breaker {
            name,
            dependency: None,
            failure_threshold: None,
            recovery_timeout_ms: None,
            half_open_requests: None,
            expected_exceptions: Vec::new(),
            line,
            ..Breaker::default()
        };
        Draft {
            breaker,
            hints: Vec::new(),
            seen: Vec::new(),
            heading: None,
            defaults_shown: Vec::new(),
        }
    }

    /// Applies one parameter; an unreadable value becomes a diagnostic on `line`.
    pub fn apply(&mut self, p: &Param, line: usize, claims: &mut Claims) {
        self.seen.push(p.key);
        let b = &mut self.breaker;
        match (p.key, read_value(p)) {
            (Key::Threshold, Ok(Value::Count(n))) => b.failure_threshold = Some(n),
            (Key::HalfOpen, Ok(Value::Count(n))) => b.half_open_requests = Some(n),
            (Key::Recovery, Ok(Value::Millis(ms))) => {
                b.recovery_timeout_ms = Some(ms);
                let bare = p.unit_ms.is_none() && p.value.trim().parse::<f64>().is_ok();
                if bare && ms >= 1_000_000.0 {
                    // Read by the rule (bare = seconds), but a JavaScript-style millisecond value is likelier.
                    let msg = format!(
                        "circuit breaker: {} = {} read as seconds ({:.1} hours); write \"{}ms\" if milliseconds were meant",
                        p.raw_key,
                        p.value.trim(),
                        ms / 3_600_000.0,
                        p.value.trim()
                    );
                    diag(claims, line, msg);
                }
            }
            (Key::Exceptions, Ok(Value::Names(names))) => b.expected_exceptions = names,
            (_, Err(msg)) => diag(claims, line, format!("circuit breaker: {msg}")),
            _ => {}
        }
    }
}

/// Reads breakers from every code block that sets a breaker parameter.
pub(crate) fn read_code(blocks: &[Block], claims: &mut Claims) -> Vec<Draft> {
    let mut found: Vec<(usize, Vec<Draft>)> = Vec::new();
    for (idx, b) in blocks.iter().enumerate() {
        let Kind::Code { lines, lang } = &b.kind else {
            continue;
        };
        if lang.trim().eq_ignore_ascii_case("mermaid") {
            continue; // diagrams draw breakers; they do not configure them
        }
        let mut drafts = match breaker_forms::detect(lang, lines) {
            Some(form) => breaker_forms::read_block(form, lines, claims),
            None => read_block(lines, bare_unit_ms(lang), claims),
        };
        for d in &mut drafts {
            d.heading = b.heading().map(|h| h.line);
        }
        if !drafts.is_empty() {
            found.push((idx, drafts));
        }
    }
    // A heading, or the prose just before a block, names a dependency only for the one breaker under it.
    let heading_of = |idx: usize| blocks[idx].heading().map(|h| h.line);
    let per_heading: Vec<usize> = found
        .iter()
        .map(|(i, _)| {
            found
                .iter()
                .filter(|(j, _)| heading_of(*j) == heading_of(*i))
                .map(|(_, d)| d.len())
                .sum()
        })
        .collect();
    let mut out = Vec::new();
    for ((idx, mut drafts), under_same) in found.into_iter().zip(per_heading) {
        if drafts.len() == 1 && under_same == 1 {
            let b = &blocks[idx];
            if let Some(h) = b.heading() {
                drafts[0].hints.push(h.title.clone());
            }
            let prev = idx.checked_sub(1).and_then(|k| blocks.get(k));
            if let Some(prev) = prev.filter(|p| {
                matches!(p.kind, Kind::Paragraph | Kind::Item)
                    && p.sections.len() == b.sections.len()
            }) {
                drafts[0].hints.push(prev.text.s.clone());
            }
        }
        out.extend(drafts);
    }
    out
}

/// Milliseconds per unit of a bare recovery timeout in a block of `lang`: JavaScript, TypeScript and
/// JVM integers are milliseconds; Python, YAML and anything else follow the format's rule (seconds).
fn bare_unit_ms(lang: &str) -> f64 {
    let ms_langs = [
        "js",
        "javascript",
        "jsx",
        "ts",
        "typescript",
        "tsx",
        "node",
        "java",
        "kotlin",
        "kt",
        "scala",
    ];
    if ms_langs.contains(&lang.trim().to_lowercase().as_str()) {
        1.0
    } else {
        1e3
    }
}

/// Reads the breakers of a block in the format's own form (`failure_threshold`, `recovery_timeout`,
/// `half_open_requests`). The format defines its threshold as consecutive failures, so such a breaker
/// is `consecutive`.
fn read_block(lines: &[(usize, String)], bare_ms: f64, claims: &mut Claims) -> Vec<Draft> {
    let mut drafts: Vec<Draft> = Vec::new();
    let mut pending: Option<(String, usize)> = None;
    let mut comments: Vec<String> = Vec::new();
    for (line_no, raw) in lines {
        let (code, comment) = split_comment(raw);
        if let Some(c) = comment.filter(|c| !c.trim().is_empty()) {
            comments.push(c.to_string());
        }
        if let Some(name) = name_on(code) {
            pending = Some((name, *line_no));
        }
        let ps = params(code);
        if ps.is_empty() {
            if let (Some(fname), Some(last)) = (function_name(code), drafts.last_mut()) {
                last.breaker.name.get_or_insert(fname);
            }
            continue;
        }
        let start_new = match drafts.last() {
            None => true,
            Some(d) => pending.is_some() || ps.iter().any(|p| d.seen.contains(&p.key)),
        };
        if start_new {
            let (name, line) = pending
                .take()
                .map_or((None, *line_no), |(n, l)| (Some(n), l));
            let mut d = Draft::new(name, line);
            d.hints.append(&mut comments);
            drafts.push(d);
        }
        if let Some(d) = drafts.last_mut() {
            d.hints.append(&mut comments);
            for p in &ps {
                let mut p = p.clone();
                if p.key == Key::Recovery && bare_ms != 1e3 {
                    p.unit_ms = p.unit_ms.or(Some(bare_ms));
                }
                d.apply(&p, *line_no, claims);
            }
        }
    }
    for d in &mut drafts {
        if d.breaker.failure_threshold.is_some() {
            d.breaker.kind.get_or_insert(BreakerKind::Consecutive);
        }
    }
    drafts
}

/// Splits a code line into code and a `#` or `//` comment (a `#` must follow whitespace or start the line).
pub(crate) fn split_comment(line: &str) -> (&str, Option<&str>) {
    let hash = line
        .char_indices()
        .find(|(i, c)| *c == '#' && (*i == 0 || line[..*i].ends_with([' ', '\t'])));
    let slashes = line.find("//").filter(|i| !line[..*i].ends_with(':'));
    let cut = [hash.map(|(i, _)| i), slashes].into_iter().flatten().min();
    match cut {
        Some(i) => (
            &line[..i],
            Some(line[i..].trim_start_matches(['#', '/']).trim()),
        ),
        None => (line, None),
    }
}

/// The name a line gives to what follows: `acquirer_breaker = CircuitBreaker(`, `acquirer:`,
/// `"acquirer": {`, `const fxBreaker = new CircuitBreaker(`.
pub(crate) fn name_on(code: &str) -> Option<String> {
    let t = code.trim();
    let t = t
        .strip_prefix("const ")
        .or_else(|| t.strip_prefix("let "))
        .or_else(|| t.strip_prefix("var "))
        .unwrap_or(t);
    let ident_end = t
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '"' || c == '\''))
        .unwrap_or(t.len());
    let ident = t[..ident_end].trim_matches(|c| c == '"' || c == '\'');
    if ident.is_empty()
        || !ident.starts_with(|c: char| c.is_alphabetic() || c == '_')
        || params(&format!("{ident}=1")).len() == 1
    {
        return None;
    }
    let rest = t[ident_end..].trim_start();
    let assignment = rest.starts_with('=') && !rest.starts_with("==");
    let key = rest.strip_prefix(':').is_some_and(|v| {
        let v = v.trim();
        v.is_empty() || v.starts_with('{') || v.starts_with("dict(") || v.contains("Breaker(")
    });
    (assignment || key).then(|| ident.to_string())
}

/// `def call_acquirer(`, `fn call_acquirer(`, `function callAcquirer(`.
pub(crate) fn function_name(code: &str) -> Option<String> {
    let t = code.trim_start();
    let rest = [
        "def ",
        "async def ",
        "fn ",
        "pub fn ",
        "function ",
        "async function ",
    ]
    .iter()
    .find_map(|p| t.strip_prefix(p))?;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Names each breaker's dependency: from its own name first, then comments, headings and nearby prose.
/// Several breakers where one names no known dependency get a diagnostic; none is guessed.
pub(crate) fn match_dependencies(drafts: Vec<Draft>, claims: &mut Claims) {
    let deps: Vec<String> = claims.dependencies.iter().map(|d| d.name.clone()).collect();
    let several = drafts.len() > 1;
    for mut d in drafts {
        say_defaults(&d, claims);
        let from_name = d.breaker.name.as_deref().and_then(|n| best_match(n, &deps));
        let found = from_name.or_else(|| d.hints.iter().find_map(|h| best_match(h, &deps)));
        d.breaker.dependency = found.cloned();
        if found.is_none() && several && !deps.is_empty() {
            let name = d.breaker.name.as_deref().unwrap_or("(unnamed)");
            let msg = format!("circuit breaker {name}: cannot tell which dependency it guards (no dependency name in its name, comments or heading)");
            diag(claims, d.breaker.line, msg);
        }
        claims.breakers.push(d.breaker);
    }
}

/// The library defaults a breaker still holds, named as the library names them.
fn say_defaults(d: &Draft, claims: &mut Claims) {
    let b = &d.breaker;
    let shown: Vec<&str> = d
        .defaults_shown
        .iter()
        .filter(|(field, _)| b.defaults_applied.contains(field))
        .map(|(_, s)| s.as_str())
        .collect();
    if let (false, Some(lib)) = (shown.is_empty(), b.library.as_deref()) {
        let name = b.name.as_deref().unwrap_or("(unnamed)");
        let msg = format!(
            "circuit breaker {name}: the spec leaves out {}; read {lib}'s documented defaults",
            shown.join(", ")
        );
        diag(claims, b.line, msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(src: &str) -> Vec<(usize, String)> {
        src.lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.to_string()))
            .collect()
    }

    #[test]
    fn several_breakers_in_one_block() {
        let src = "acquirer_breaker = CircuitBreaker(\n    failure_threshold=6,\n    recovery_timeout=20,\n)\n\n# ledger writes\nledger_cb = CircuitBreaker(failure_threshold=3, recovery_timeout=\"500ms\")\n";
        let mut claims = Claims::default();
        let d = read_block(&lines(src), 1e3, &mut claims);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].breaker.name.as_deref(), Some("acquirer_breaker"));
        assert_eq!(
            (
                d[0].breaker.failure_threshold,
                d[0].breaker.recovery_timeout_ms,
                d[0].breaker.line
            ),
            (Some(6), Some(20_000.0), 1)
        );
        assert_eq!(d[1].breaker.name.as_deref(), Some("ledger_cb"));
        assert_eq!(
            (d[1].breaker.recovery_timeout_ms, d[1].breaker.line),
            (Some(500.0), 7)
        );
        assert_eq!(d[1].hints, ["ledger writes"]);
    }

    #[test]
    fn yaml_breakers_by_key() {
        let src = "circuit_breakers:\n  fx_rates:\n    failure_threshold: 4\n    recovery_timeout: 15s\n  postgres:\n    failure_threshold: 2\n";
        let mut claims = Claims::default();
        let d = read_block(&lines(src), 1e3, &mut claims);
        let names: Vec<_> = d.iter().map(|d| d.breaker.name.clone().unwrap()).collect();
        assert_eq!(names, ["fx_rates", "postgres"]);
        assert_eq!(d[1].breaker.line, 5);
    }
}
