//! Circuit-breaker parameters written as `key=value` or `key: value` (python kwargs, dicts, YAML).
//!
//! Keys are compared without case, `_` or `-`, so `failure_threshold`, `failureThreshold` and
//! `failure-threshold` are one key; a unit suffix on the key (`reset_timeout_ms`) sets the unit of a bare
//! number, otherwise a bare recovery timeout is in seconds (the spec format's rule).

use super::tokens::{tokenize, unit_ms, Token};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Threshold,
    Recovery,
    HalfOpen,
    Exceptions,
}

/// A parameter found on a line: which one, the value as written, its byte offset.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Param {
    pub key: Key,
    pub raw_key: String,
    pub value: String,
    /// Milliseconds per unit of a bare number, from the key's suffix (`_ms`), if any.
    pub unit_ms: Option<f64>,
}

/// A parameter's value read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Count(u32),
    Millis(f64),
    Names(Vec<String>),
}

fn key_of(raw: &str) -> Option<(Key, Option<f64>)> {
    let k: String = raw
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let (base, unit) = strip_unit(&k);
    let key = match base {
        "failurethreshold"
        | "failmax"
        | "maxfailures"
        | "consecutivefailures"
        | "failurecount"
        | "failuresbeforeopen"
        | "failurelimit" => Key::Threshold,
        "recoverytimeout"
        | "resettimeout"
        | "opentimeout"
        | "cooldown"
        | "cooldownperiod"
        | "waitdurationinopenstate"
        | "sleepwindow"
        | "opentime"
        | "openduration"
        | "recoverytime"
        | "halfopenafter" => Key::Recovery,
        "halfopenrequests"
        | "halfopenmaxcalls"
        | "halfopenmaxrequests"
        | "halfopencalls"
        | "halfopenprobes"
        | "permittednumberofcallsinhalfopenstate"
        | "halfopenlimit"
        | "trialrequests"
        | "probes" => Key::HalfOpen,
        "expectedexceptions" | "expectedexception" | "exceptions" | "expectederrors" => {
            Key::Exceptions
        }
        _ => return None,
    };
    Some((key, unit))
}

/// `resettimeoutms` -> ("resettimeout", Some(1.0)).
fn strip_unit(k: &str) -> (&str, Option<f64>) {
    for (suffix, unit) in [
        ("millis", 1.0),
        ("ms", 1.0),
        ("seconds", 1e3),
        ("secs", 1e3),
        ("sec", 1e3),
    ] {
        if let Some(base) = k.strip_suffix(suffix) {
            if key_known(base) {
                return (base, Some(unit));
            }
        }
    }
    (k, None)
}

fn key_known(base: &str) -> bool {
    base.contains("timeout")
        || base.contains("cooldown")
        || base.contains("duration")
        || base.contains("window")
}

/// Every breaker parameter on `line` (a line of code, or inline code in prose).
pub(crate) fn params(line: &str) -> Vec<Param> {
    let mut out = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let starts_ident = (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_')
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'));
        if !starts_ident {
            i += 1;
            continue;
        }
        let end = i + bytes[i..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'-')
            .count();
        let raw_key = &line[i..end];
        if let Some((key, unit_ms)) = key_of(raw_key) {
            if let Some((value, next)) = value_after_key(line, end) {
                out.push(Param {
                    key,
                    raw_key: raw_key.to_string(),
                    value,
                    unit_ms,
                });
                i = next;
                continue;
            }
        }
        i = end;
    }
    out
}

/// After a key: optional closing quote, `=` or `:` (not `==`), then the value up to `,`, `)`, `}`, `#`.
fn value_after_key(line: &str, mut i: usize) -> Option<(String, usize)> {
    let b = line.as_bytes();
    while i < b.len() && (b[i] == b'"' || b[i] == b'\'' || b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    if i >= b.len() || !(b[i] == b'=' || b[i] == b':') || b.get(i + 1) == Some(&b'=') {
        return None;
    }
    i += 1;
    let rest = &line[i..];
    let open_list = rest.trim_start().starts_with('[');
    let end = if open_list {
        rest.find(']').map_or(rest.len(), |e| e + 1)
    } else {
        let mut depth = 0i32;
        let mut end = rest.len();
        for (k, c) in rest.char_indices() {
            match c {
                '(' | '[' => depth += 1,
                ')' | ']' if depth > 0 => depth -= 1,
                ',' | ')' | '}' | ']' | '#' if depth == 0 => {
                    end = k;
                    break;
                }
                _ => {}
            }
        }
        end
    };
    Some((rest[..end].trim().to_string(), i + end))
}

/// Reads a parameter's value; Err says what was found instead.
pub(crate) fn read_value(p: &Param) -> Result<Value, String> {
    let v = p
        .value
        .trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace());
    match p.key {
        Key::Threshold | Key::HalfOpen => match v.parse::<u32>() {
            Ok(n) => Ok(Value::Count(n)),
            Err(_) => Err(format!(
                "{} = \"{}\" is not a whole number",
                p.raw_key, p.value
            )),
        },
        Key::Recovery => recovery_ms(v, p.unit_ms).map(Value::Millis).ok_or_else(|| {
            format!(
                "{} = \"{}\" is not a duration (expected e.g. 30, \"30s\" or 500ms)",
                p.raw_key, p.value
            )
        }),
        Key::Exceptions => Ok(Value::Names(
            v.trim_matches(|c| matches!(c, '[' | ']' | '(' | ')'))
                .split(',')
                .map(|s| s.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        )),
    }
}

/// `30` (seconds, or the key's unit), `"30s"`, `500ms`, `timedelta(seconds=30)`.
fn recovery_ms(v: &str, key_unit: Option<f64>) -> Option<f64> {
    let toks = tokenize(v);
    match toks.as_slice() {
        [t] => t.num().map(|n| n * key_unit.unwrap_or(1e3)),
        [n, u] => Some(n.num()? * unit_ms(u.word()?)?),
        _ => keyword_duration(&toks),
    }
}

/// `timedelta(seconds=30)`, `Duration(seconds: 30)`: a unit word, `=` or `:`, then a number.
fn keyword_duration(toks: &[Token]) -> Option<f64> {
    toks.windows(3).find_map(|w| {
        let unit = unit_ms(w[0].word()?)?;
        (w[1].is_sym('=') || w[1].is_sym(':')).then_some(())?;
        Some(w[2].num()? * unit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(line: &str) -> Vec<Value> {
        params(line)
            .iter()
            .map(|p| read_value(p).unwrap())
            .collect()
    }

    #[test]
    fn python_kwargs_and_yaml() {
        assert_eq!(
            values(
                "CircuitBreaker(failure_threshold=5, recovery_timeout=30, half_open_requests=3)"
            ),
            [Value::Count(5), Value::Millis(30_000.0), Value::Count(3)]
        );
        assert_eq!(values("  recovery_timeout: 45s"), [Value::Millis(45_000.0)]);
        assert_eq!(values("\"failureThreshold\": 4,"), [Value::Count(4)]);
        assert_eq!(values("reset_timeout_ms=2500"), [Value::Millis(2500.0)]);
        assert_eq!(
            values("recovery_timeout=timedelta(seconds=20),"),
            [Value::Millis(20_000.0)]
        );
        assert_eq!(
            values("expected_exceptions=[TimeoutError, ConnectionError]"),
            [Value::Names(vec![
                "TimeoutError".into(),
                "ConnectionError".into()
            ])]
        );
        assert!(params("if failure_threshold == 5:").is_empty());
    }

    #[test]
    fn unreadable_values_say_what_was_found() {
        let p = &params("failure_threshold=many")[0];
        assert!(read_value(p).unwrap_err().contains("many"));
    }
}
