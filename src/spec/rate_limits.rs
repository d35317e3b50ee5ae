//! Rate limits: code-block dicts (`"default": "100/minute"`), decorators (`rate="100/minute"`), tables,
//! per-endpoint lines (`**Rate Limiting**: 60 requests per minute per user`) and prose (`Anon: 60/min`).

use super::claims::{Claims, RateLimit};
use super::markdown::{has_words, Block, Kind};
use super::names::words;
use super::tables::{cell, Header};
use super::tokens::tokenize;
use super::units::{find_rate, is_blank, rate_at, Rate};
use super::{diag, is_prose};

/// Identifiers that name the limiting mechanism, not what is limited.
const MECHANISM: &[&str] = &[
    "rate",
    "limit",
    "rate_limit",
    "ratelimit",
    "limits",
    "rate_limits",
    "ratelimits",
    "throttle",
];

pub(crate) fn read(blocks: &[Block], claims: &mut Claims) {
    for b in blocks {
        let in_context = b.under(&["rate", "limit"])
            || b.under(&["throttl"])
            || b.under(&["limits"])
            || b.under(&["quota"]);
        match &b.kind {
            Kind::Code { lines, .. } => {
                let mentions = lines
                    .iter()
                    .any(|(_, l)| has_words(l, &["rate"]) || has_words(l, &["limit"]));
                if in_context || mentions {
                    read_code(lines, claims);
                }
            }
            Kind::Table { header, rows } => {
                let h = Header(header);
                let Some(col) = h.col(&[&["rate", "limit"], &["limit"]]) else {
                    continue;
                };
                let name_col = if col == 0 { None } else { Some(0) };
                for row in rows {
                    let text = cell(row, Some(col));
                    let name = cell(row, name_col).to_string();
                    match find_rate(text).or_else(|| find_rate(&format!("{text} {}", h.text(col))))
                    {
                        Some(r) => push(
                            claims,
                            name_or_default(name),
                            r,
                            per_key(&tokenize(text), 0),
                            row.line,
                        ),
                        None if !is_blank(text) => diag(
                            claims,
                            row.line,
                            format!(
                                "rate limit \"{text}\": not a rate (expected e.g. \"100/minute\")"
                            ),
                        ),
                        None => {}
                    }
                }
            }
            _ if is_prose(b) && (in_context || has_words(&b.text.s, &["rate", "limit"])) => {
                if dependency_section(b) {
                    // "### Stripe Integration / **Rate Limiting**: 100 req/s" is Stripe's limit, not ours.
                    if find_rate(&b.text.s).is_some() {
                        let msg = "rate limit in a dependency's section: it limits the dependency, not this service; not read";
                        diag(claims, b.text.first_line(), msg.into());
                    }
                } else {
                    read_prose(b, claims)
                }
            }
            _ => {}
        }
    }
}

fn name_or_default(name: String) -> String {
    if name.trim().is_empty() {
        "default".into()
    } else {
        name
    }
}

fn push(claims: &mut Claims, name: String, r: Rate, per_key: Option<String>, line: usize) {
    if r.requests.fract() != 0.0 || r.requests < 0.0 {
        diag(
            claims,
            line,
            format!(
                "rate limit \"{name}\": {} requests is not a whole number",
                r.requests
            ),
        );
        return;
    }
    claims.rate_limits.push(RateLimit {
        name,
        requests: r.requests as u64,
        per_s: r.per_s,
        per_key,
        line,
    });
}

/// "per user", "per IP", "per API key" after token `i`.
fn per_key(toks: &[super::tokens::Token], i: usize) -> Option<String> {
    let k = (i..toks.len()).find(|k| {
        toks[*k].is_word("per")
            && toks
                .get(k + 1)
                .and_then(|t| t.word())
                .is_some_and(|w| super::tokens::unit_ms(w).is_none())
    })?;
    let first = toks.get(k + 1)?.word()?;
    let key = match (first, toks.get(k + 2).and_then(|t| t.word())) {
        ("api", Some("key")) => "api key".to_string(),
        (w, _) => w.trim_end_matches("_id").to_string(),
    };
    Some(key)
}

fn read_code(lines: &[(usize, String)], claims: &mut Claims) {
    for (k, (line, text)) in lines.iter().enumerate() {
        for (start, value) in candidates(text) {
            let toks = tokenize(value);
            let Some(r) = rate_at(&toks, 0).filter(|r| r.next == toks.len()) else {
                // "100/fortnight" looks like a limit but names no window we know.
                let looks_like_rate = value.trim_start().starts_with(|c: char| c.is_ascii_digit())
                    && (value.contains('/') || value.contains(" per "));
                if looks_like_rate {
                    let msg = format!("rate limit \"{value}\": not a rate (expected e.g. \"100/minute\" or \"10 per second\")");
                    diag(claims, *line, msg);
                }
                continue;
            };
            let prefix = &text[..start];
            let key = last_ident(prefix);
            let name = match key {
                Some(k) if !MECHANISM.contains(&k.to_lowercase().as_str()) => k.to_string(),
                _ => following_function(&lines[k + 1..]).unwrap_or_else(|| "default".into()),
            };
            let per = quoted_after(text, "key=").map(|v| v.trim_end_matches("_id").to_string());
            push(claims, name, r, per, *line);
        }
    }
}

/// Quoted strings on a line, or the unquoted value after the last `:` or `=`: (byte offset, text).
fn candidates(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut rest = 0;
    while let Some(open) = text[rest..].find(['"', '\'']).map(|i| i + rest) {
        let q = &text[open..open + 1];
        let Some(close) = text[open + 1..].find(q).map(|i| i + open + 1) else {
            break;
        };
        out.push((open, &text[open + 1..close]));
        rest = close + 1;
    }
    if out.is_empty() {
        if let Some(i) = text.rfind([':', '=']) {
            out.push((i, text[i + 1..].trim().trim_end_matches(',')));
        }
    }
    out
}

/// The last identifier in `prefix` ("    \"auth\": " -> "auth").
fn last_ident(prefix: &str) -> Option<&str> {
    let t = prefix
        .trim_end()
        .trim_end_matches([':', '=', ' ', '"', '\'', '(']);
    let start = t
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .map_or(0, |i| i + 1);
    let id = &t[start..];
    (!id.is_empty()).then_some(id)
}

fn following_function(lines: &[(usize, String)]) -> Option<String> {
    lines.iter().take(4).find_map(|(_, l)| {
        let t = l.trim_start();
        let rest = t
            .strip_prefix("async def ")
            .or_else(|| t.strip_prefix("def "))
            .or_else(|| t.strip_prefix("function "))?;
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        (!name.is_empty()).then_some(name)
    })
}

fn quoted_after<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let i = text.find(key)? + key.len();
    let rest = text[i..].trim_start_matches(['"', '\'']);
    rest.split(['"', '\'']).next()
}

/// `Rate Limiting: 60 requests per minute per user` (named by the heading: the endpoint) and
/// `Anon: 60/min, Pro: 1000/min` (named by their labels).
fn read_prose(b: &Block, claims: &mut Claims) {
    let text = &b.text.s;
    let mut seg_start = 0;
    for seg in text
        .split_inclusive([';'])
        .flat_map(|s| s.split_inclusive(", "))
    {
        let toks = tokenize(seg);
        if let Some((i, r)) = (0..toks.len()).find_map(|i| rate_at(&toks, i).map(|r| (i, r))) {
            // Only "Label: 60/min" names a tier; "beyond 100 requests per second ..." is a sentence
            // about the limit, and the word before the figure is no name.
            let before = seg[..toks[i].pos].trim_end();
            let label = before
                .strip_suffix(':')
                .and_then(|b| b.rsplit(':').next())
                .unwrap_or("")
                .trim();
            let labelled = !(label.is_empty()
                || has_words(label, &["rate"])
                || has_words(label, &["limit"])
                || words(label).len() > 3);
            let key = per_key(&toks, r.next);
            if !labelled && restates(claims, &r, key.as_deref()) {
                seg_start += seg.len();
                continue;
            }
            let name = if labelled {
                label.to_string()
            } else {
                heading_name(b)
            };
            push(
                claims,
                name,
                r,
                key,
                b.text.line_at(seg_start + toks[i].pos),
            );
        }
        seg_start += seg.len();
    }
}

/// True when unlabelled prose gives the figure of a limit already read (the code block's, restated
/// in words): it is that limit, not another one. Fills in who it counts per when only the prose says.
fn restates(claims: &mut Claims, r: &Rate, key: Option<&str>) -> bool {
    let same = claims
        .rate_limits
        .iter_mut()
        .find(|l| l.requests as f64 == r.requests && (l.per_s - r.per_s).abs() < 1e-9);
    match same {
        Some(l) => {
            if l.per_key.is_none() {
                l.per_key = key.map(str::to_string);
            }
            true
        }
        None => false,
    }
}

/// The endpoint a per-endpoint rate limit line belongs to: its heading, unless that heading is the
/// rate-limiting section itself ("default").
fn heading_name(b: &Block) -> String {
    match b.heading() {
        Some(h) if !(has_words(&h.title, &["rate"]) || has_words(&h.title, &["limit"])) => {
            h.title.clone()
        }
        _ => "default".into(),
    }
}

/// Under "External Service Integration" or "Stripe Integration": limits there belong to a dependency.
fn dependency_section(b: &Block) -> bool {
    b.under(&["integration"]) || b.under(&["external", "service"]) || b.under(&["third", "party"])
}
