//! Keys and values on one line of a configuration form: `key: value` (YAML, JS, Go), `key = value`
//! (properties, C#, kwargs), `.key(value)` (Java builders), `key=value key=value` (nginx) and
//! `@HystrixProperty(name = "key", value = "v")`. Nested values are scanned too, so
//! `halfOpenAfter: new ExponentialBackoff({ initialDelay: 1000 })` yields both keys.

/// A key as written (a dotted path keeps its dots) and its value as written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub key: String,
    pub value: String,
}

impl Entry {
    /// The last segment of the key, lower-cased, letters and digits only: `failure-rate-threshold` and
    /// `failureRateThreshold` are both `failureratethreshold`.
    pub fn last(&self) -> String {
        norm(self.key.rsplit('.').next().unwrap_or(""))
    }

    /// The whole key normalised segment by segment: `circuitBreaker.requestVolumeThreshold` ->
    /// `circuitbreaker.requestvolumethreshold`.
    pub fn path(&self) -> String {
        self.key.split('.').map(norm).collect::<Vec<_>>().join(".")
    }
}

pub(crate) fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every entry on `line`. `space_ends_value`: a value stops at whitespace (nginx directives).
pub(crate) fn entries(line: &str, space_ends_value: bool) -> Vec<Entry> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        let prev = i.checked_sub(1).map(|k| chars[k].1);
        let builder = prev == Some('.') && builder_dot(&chars, i - 1);
        let starts = (c.is_alphabetic() || c == '_')
            && (prev.is_none_or(|p| !(is_ident(p) || p == '.' || p == '-')) || builder);
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && (is_ident(chars[j].1) || chars[j].1 == '-' || dotted(&chars, j)) {
            j += 1;
        }
        let key = slice(line, &chars, i, j).trim_end_matches('-').to_string();
        match value_after(line, &chars, j, builder, space_ends_value) {
            Some((value, value_start)) => {
                out.push(Entry { key, value });
                i = value_start.max(j);
            }
            None => i = j,
        }
    }
    pair_named_properties(out)
}

/// A `.` inside a key path: between two identifier characters.
fn dotted(chars: &[(usize, char)], j: usize) -> bool {
    chars[j].1 == '.'
        && j > 0
        && is_ident(chars[j - 1].1)
        && chars
            .get(j + 1)
            .is_some_and(|(_, c)| c.is_alphabetic() || *c == '_')
}

/// A `.` that starts a builder call: after `)` or at the start of the line (`  .failureRateThreshold(50)`).
fn builder_dot(chars: &[(usize, char)], dot: usize) -> bool {
    let before = chars[..dot].iter().rev().find(|(_, c)| !c.is_whitespace());
    before.is_none_or(|(_, c)| *c == ')')
}

fn slice<'a>(line: &'a str, chars: &[(usize, char)], from: usize, to: usize) -> &'a str {
    let start = chars.get(from).map_or(line.len(), |c| c.0);
    let end = chars.get(to).map_or(line.len(), |c| c.0);
    &line[start..end]
}

/// After a key: closing quotes and spaces, then `=`/`:` (not `==`, `::`, `=>`) or, for a builder
/// call, `(`. Returns the value and the index where it starts.
fn value_after(
    line: &str,
    chars: &[(usize, char)],
    mut j: usize,
    builder: bool,
    space_ends_value: bool,
) -> Option<(String, usize)> {
    while j < chars.len() && matches!(chars[j].1, '"' | '\'' | ' ' | '\t') {
        j += 1;
    }
    let sep = chars.get(j)?.1;
    let next = chars.get(j + 1).map(|c| c.1);
    let ok = match sep {
        '=' => !matches!(next, Some('=' | '>')),
        ':' => !matches!(next, Some(':' | '=')),
        '(' => builder,
        _ => false,
    };
    if !ok {
        return None;
    }
    let mut k = j + 1;
    while k < chars.len() && chars[k].1.is_whitespace() {
        k += 1;
    }
    let start = k;
    let (mut depth, mut quote) = (if sep == '(' { 1i32 } else { 0 }, None);
    while k < chars.len() {
        let c = chars[k].1;
        match c {
            '"' | '\'' | '`' if quote == Some(c) => quote = None,
            '"' | '\'' | '`' if quote.is_none() => quote = Some(c),
            _ if quote.is_some() => {}
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 && sep == '(' {
                    break;
                }
            }
            ',' | ';' | ')' | ']' | '}' if depth == 0 => break,
            c if c.is_whitespace() && space_ends_value && depth == 0 => break,
            _ => {}
        }
        k += 1;
    }
    let value = slice(line, chars, start, k).trim().to_string();
    Some((value, start))
}

/// `name = "circuitBreaker.sleepWindowInMilliseconds", value = "5000"` is one entry.
fn pair_named_properties(found: Vec<Entry>) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::with_capacity(found.len());
    let mut iter = found.into_iter().peekable();
    while let Some(e) = iter.next() {
        let quoted_key = e.key == "name" && e.value.starts_with('"');
        if quoted_key && iter.peek().is_some_and(|n| n.key == "value") {
            let v = iter.next().map(|v| v.value).unwrap_or_default();
            out.push(Entry {
                key: e.value.trim_matches('"').to_string(),
                value: v,
            });
        } else {
            out.push(e);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(line: &str) -> Vec<(String, String)> {
        entries(line, false)
            .into_iter()
            .map(|e| (e.key, e.value))
            .collect()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn shapes_of_each_language() {
        assert_eq!(
            kv("        failureRateThreshold: 50"),
            pairs(&[("failureRateThreshold", "50")])
        );
        assert_eq!(
            kv("resilience4j.circuitbreaker.instances.ledger.wait-duration-in-open-state=10s"),
            pairs(&[(
                "resilience4j.circuitbreaker.instances.ledger.wait-duration-in-open-state",
                "10s"
            )])
        );
        assert_eq!(
            kv("    .waitDurationInOpenState(Duration.ofSeconds(10))"),
            pairs(&[("waitDurationInOpenState", "Duration.ofSeconds(10)")])
        );
        assert_eq!(
            kv("  Timeout:     30 * time.Second,"),
            pairs(&[("Timeout", "30 * time.Second")])
        );
        assert_eq!(
            kv("  BreakDuration = TimeSpan.FromSeconds(30),"),
            pairs(&[("BreakDuration", "TimeSpan.FromSeconds(30)")])
        );
        assert_eq!(
            kv("@HystrixProperty(name = \"circuitBreaker.requestVolumeThreshold\", value = \"20\"),"),
            pairs(&[("circuitBreaker.requestVolumeThreshold", "\"20\"")])
        );
        assert_eq!(
            kv("halfOpenAfter: new ExponentialBackoff({ initialDelay: 1000 }),"),
            pairs(&[
                (
                    "halfOpenAfter",
                    "new ExponentialBackoff({ initialDelay: 1000 })"
                ),
                ("initialDelay", "1000")
            ])
        );
        assert_eq!(
            entries("server ledger:8080 max_fails=3 fail_timeout=30s;", true)
                .into_iter()
                .map(|e| (e.key, e.value))
                .collect::<Vec<_>>(),
            pairs(&[
                ("ledger", "8080"),
                ("max_fails", "3"),
                ("fail_timeout", "30s")
            ])
        );
        assert!(kv("if a == b { x => y }").is_empty());
        assert_eq!(
            kv("\"FailureRatio\": 0.5,"),
            pairs(&[("FailureRatio", "0.5")])
        );
    }
}
