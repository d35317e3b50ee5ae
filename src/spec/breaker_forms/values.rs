//! Values in a library's configuration form, read in that language's units: JS/Java millisecond
//! integers, Python and nginx seconds, Go `5 * time.Second`, C# `TimeSpan.FromSeconds(30)` and
//! `"00:00:30"`, Java `Duration.ofSeconds(30)`, ISO-8601 `PT30S`, and `10s` / `1m30s` strings.

use crate::spec::tokens::{duration_at, tokenize, unit_ms};

/// Milliseconds per unit of a bare number, by the language's convention (None: a bare number is no duration).
pub(crate) type Bare = Option<f64>;
pub(crate) const MS: Bare = Some(1.0);
pub(crate) const SECONDS: Bare = Some(1000.0);

/// The value as written without quotes, trailing separators or surrounding whitespace.
pub(crate) fn clean(v: &str) -> &str {
    v.trim()
        .trim_end_matches([',', ';'])
        .trim()
        .trim_matches(|c| c == '"' || c == '\'' || c == '`')
        .trim()
}

/// A plain number: `30`, `0.5`, `30_000`, `5000L`, `50.0f`, `-1`; or a product of them (`30 * 1000`).
pub(crate) fn number(v: &str) -> Option<f64> {
    let v = clean(v);
    if v.contains('*') {
        return v
            .split('*')
            .map(number)
            .try_fold(1.0, |acc, f| f.map(|f| acc * f));
    }
    let v = v
        .strip_prefix("float64(")
        .or_else(|| v.strip_prefix("uint32("))
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(v);
    let v = v.trim_end_matches(['L', 'l', 'f', 'F', 'd', 'D', 'u', 'U']);
    let digits: String = v.chars().filter(|c| *c != '_').collect();
    let ok = !digits.is_empty()
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-' || c == '+')
        && digits.chars().any(|c| c.is_ascii_digit());
    let n = if ok {
        digits.parse::<f64>().ok()?
    } else {
        return None;
    };
    n.is_finite().then_some(n)
}

/// A whole number of calls or failures.
pub(crate) fn count(v: &str) -> Result<u32, String> {
    match number(v) {
        Some(n) if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) => Ok(n as u32),
        _ => Err(format!("\"{}\" is not a whole number", clean(v))),
    }
}

/// A share written as a percentage (`50`, `50%`, `"50.0"`) -> 0.5.
pub(crate) fn percent(v: &str) -> Result<f64, String> {
    let c = clean(v);
    let n = number(c.trim_end_matches('%'));
    match n {
        Some(n) if (0.0..=100.0).contains(&n) => Ok(n / 100.0),
        _ => Err(format!("\"{c}\" is not a percentage (expected 0 to 100)")),
    }
}

/// A share written as a ratio (`0.5`); `50%` is accepted too.
pub(crate) fn ratio(v: &str) -> Result<f64, String> {
    let c = clean(v);
    if c.ends_with('%') {
        return percent(c);
    }
    match number(c) {
        Some(n) if (0.0..=1.0).contains(&n) => Ok(n),
        _ => Err(format!("\"{c}\" is not a ratio (expected 0 to 1)")),
    }
}

/// `true` / `false` (any case).
pub(crate) fn boolean(v: &str) -> Result<bool, String> {
    match clean(v).to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!("\"{other}\" is not true or false")),
    }
}

/// A duration in milliseconds. `bare` is the unit of a bare number in this language and field.
pub(crate) fn duration_ms(v: &str, bare: Bare) -> Result<f64, String> {
    let c = clean(v);
    let found = iso8601(c)
        .or_else(|| timespan_text(c))
        .or_else(|| compound(c))
        .map(Ok)
        .unwrap_or_else(|| product(c, bare));
    match found {
        Ok(ms) if ms.is_finite() && ms >= 0.0 => Ok(ms),
        Ok(_) => Err(format!("\"{c}\" is not a duration")),
        Err(e) => Err(e),
    }
}

/// `PT30S`, `PT1M30S`, `PT0.5S`, `P1D`.
fn iso8601(v: &str) -> Option<f64> {
    let up = v.to_ascii_uppercase();
    let rest = up.strip_prefix('P')?;
    if rest.is_empty() {
        return None;
    }
    let (days, time) = match rest.split_once('T') {
        Some((d, t)) => (d, t),
        None => (rest, ""),
    };
    let mut total = 0.0;
    for (part, units) in [
        (days, &[('D', 86_400e3)][..]),
        (time, &[('H', 3_600e3), ('M', 60e3), ('S', 1e3)][..]),
    ] {
        let mut num = String::new();
        for ch in part.chars() {
            if ch.is_ascii_digit() || ch == '.' {
                num.push(ch);
            } else {
                let unit = units.iter().find(|(u, _)| *u == ch)?.1;
                total += num.parse::<f64>().ok()? * unit;
                num.clear();
            }
        }
        if !num.is_empty() {
            return None;
        }
    }
    Some(total)
}

/// .NET TimeSpan text: `00:00:30`, `00:00:00.500`, `1.00:00:00` (days.hours:minutes:seconds).
fn timespan_text(v: &str) -> Option<f64> {
    let parts: Vec<&str> = v.split(':').collect();
    if parts.len() != 3 {
        return None;
    }
    let (days, hours) = match parts[0].split_once('.') {
        Some((d, h)) => (d.parse::<f64>().ok()?, h.parse::<f64>().ok()?),
        None => (0.0, parts[0].parse::<f64>().ok()?),
    };
    let minutes = parts[1].parse::<f64>().ok()?;
    let seconds = parts[2].parse::<f64>().ok()?;
    Some(((days * 24.0 + hours) * 60.0 + minutes) * 60e3 + seconds * 1e3)
}

/// Go/Envoy/YAML strings: `30s`, `500ms`, `1m30s`, `1.5h`, `2 min`.
fn compound(v: &str) -> Option<f64> {
    let toks = tokenize(v);
    let spaced = || {
        let even = !toks.is_empty() && toks.len() % 2 == 0;
        even.then(|| {
            (0..toks.len())
                .step_by(2)
                .map(|i| duration_at(&toks, i).map(|d| d.0))
                .sum::<Option<f64>>()
        })
        .flatten()
    };
    spaced().or_else(|| compound_glued(v))
}

/// `1m30s` tokenizes as `1` `m30s`: read it character by character.
fn compound_glued(v: &str) -> Option<f64> {
    let mut total = 0.0;
    let mut rest = v.trim();
    if rest.is_empty() || !rest.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    while !rest.is_empty() {
        let n_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let n: f64 = rest[..n_end].parse().ok()?;
        rest = &rest[n_end..];
        if rest.is_empty() {
            return None; // a bare number is no duration string
        }
        let u_end = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = unit_ms(&rest[..u_end].to_lowercase())?;
        total += n * unit;
        rest = &rest[u_end..];
    }
    Some(total)
}

/// Factors joined by `*`: numbers, Go `time.Second`, `time.Duration(5)`, C# `TimeSpan.FromSeconds(30)`,
/// Java `Duration.ofSeconds(30)`, Python `timedelta(seconds=30)`, or a `10s` literal. At most one
/// factor may carry a unit; without one, the number is in `bare` units.
fn product(v: &str, bare: Bare) -> Result<f64, String> {
    let not = || format!("\"{v}\" is not a duration");
    let mut value = 1.0;
    let mut unit: Option<f64> = None;
    for factor in split_top(v, '*') {
        let f = factor.trim();
        if let Some(n) = number(f) {
            value *= n;
        } else if let Some((n, u)) = unit_factor(f) {
            if unit.is_some() {
                return Err(not());
            }
            value *= n;
            unit = Some(u);
        } else {
            return Err(not());
        }
    }
    match (unit, bare) {
        (Some(u), _) => Ok(value * u),
        (None, Some(b)) => Ok(value * b),
        (None, None) => Err(format!(
            "\"{v}\" has no unit (write e.g. \"{v}s\" or \"{v}ms\")"
        )),
    }
}

/// One factor with a unit: (number, ms per unit).
fn unit_factor(f: &str) -> Option<(f64, f64)> {
    let lower = f.to_ascii_lowercase();
    let go = [
        ("time.nanosecond", 1e-6),
        ("time.microsecond", 1e-3),
        ("time.millisecond", 1.0),
        ("time.second", 1e3),
        ("time.minute", 60e3),
        ("time.hour", 3_600e3),
    ];
    if let Some((_, u)) = go.iter().find(|(name, _)| lower == *name) {
        return Some((1.0, *u));
    }
    if let Some(inner) = call_arg(&lower, "time.duration") {
        return number(inner).map(|n| (n, 1e-6)); // a bare Duration is nanoseconds
    }
    let calls = [
        ("timespan.frommilliseconds", 1.0),
        ("timespan.fromseconds", 1e3),
        ("timespan.fromminutes", 60e3),
        ("timespan.fromhours", 3_600e3),
        ("duration.ofmillis", 1.0),
        ("duration.ofseconds", 1e3),
        ("duration.ofminutes", 60e3),
        ("duration.ofhours", 3_600e3),
    ];
    for (name, u) in calls {
        if let Some(inner) = call_arg(&lower, name) {
            return number(inner).map(|n| (n, u));
        }
    }
    if let Some(inner) = call_arg(&lower, "timedelta") {
        let (key, n) = inner.split_once('=')?;
        let u = unit_ms(key.trim())?;
        return number(n).map(|n| (n, u));
    }
    let toks = tokenize(f);
    match duration_at(&toks, 0) {
        Some((ms, 2)) if toks.len() == 2 => Some((ms, 1.0)),
        _ => None,
    }
}

/// `name(inner)` -> inner (`new` and `static` prefixes allowed).
fn call_arg<'a>(f: &'a str, name: &str) -> Option<&'a str> {
    let f = f.trim().trim_start_matches("new ").trim();
    let rest = f.strip_prefix(name)?.trim_start().strip_prefix('(')?;
    rest.strip_suffix(')')
}

/// Splits at `sep` outside parentheses and quotes.
pub(crate) fn split_top(v: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start, mut quote) = (0i32, 0, None);
    for (i, c) in v.char_indices() {
        match c {
            '"' | '\'' if quote == Some(c) => quote = None,
            '"' | '\'' if quote.is_none() => quote = Some(c),
            _ if quote.is_some() => {}
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ if c == sep && depth == 0 => {
                out.push(&v[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(&v[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_each_languages_units() {
        assert_eq!(duration_ms("3000", MS), Ok(3000.0));
        assert_eq!(duration_ms("30", SECONDS), Ok(30_000.0));
        assert_eq!(duration_ms("30 * 1000", MS), Ok(30_000.0));
        assert_eq!(duration_ms("5 * time.Second", None), Ok(5000.0));
        assert_eq!(duration_ms("time.Second * 30", None), Ok(30_000.0));
        assert_eq!(duration_ms("500 * time.Millisecond", None), Ok(500.0));
        assert_eq!(duration_ms("time.Minute", None), Ok(60_000.0));
        assert_eq!(duration_ms("TimeSpan.FromSeconds(30)", None), Ok(30_000.0));
        assert_eq!(
            duration_ms("TimeSpan.FromMilliseconds(250),", None),
            Ok(250.0)
        );
        assert_eq!(duration_ms("Duration.ofSeconds(10)", None), Ok(10_000.0));
        assert_eq!(duration_ms("\"00:00:30\"", None), Ok(30_000.0));
        assert_eq!(duration_ms("00:00:00.500", None), Ok(500.0));
        assert_eq!(duration_ms("PT30S", None), Ok(30_000.0));
        assert_eq!(duration_ms("PT1M30S", None), Ok(90_000.0));
        assert_eq!(duration_ms("10s", None), Ok(10_000.0));
        assert_eq!(duration_ms("1m30s", None), Ok(90_000.0));
        assert_eq!(duration_ms("250ms", SECONDS), Ok(250.0));
        assert_eq!(duration_ms("timedelta(seconds=20)", None), Ok(20_000.0));
        assert!(duration_ms("30", None).unwrap_err().contains("no unit"));
        assert!(duration_ms("soon", MS).is_err());
        assert!(duration_ms("5 * time.Second * time.Second", None).is_err());
    }

    #[test]
    fn counts_and_shares() {
        assert_eq!(count("5,"), Ok(5));
        assert_eq!(count("5000L"), Ok(5000));
        assert!(count("2.5").is_err());
        assert_eq!(percent("50"), Ok(0.5));
        assert_eq!(percent("\"25.0\""), Ok(0.25));
        assert!(percent("150").is_err());
        assert_eq!(ratio("0.1"), Ok(0.1));
        assert_eq!(ratio("20%"), Ok(0.2));
        assert!(ratio("50").is_err());
        assert_eq!(boolean("True"), Ok(true));
    }
}
