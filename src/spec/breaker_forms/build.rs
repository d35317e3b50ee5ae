//! What a form's `build` works with (the parameters found, the breaker it fills, its notes and the
//! defaults it applied), and the scans for positional arguments (`CircuitBreaker(5, TimeSpan...)`).

use super::{entries, values, Field, Found};
use crate::spec::claims::Breaker;

/// What a form's `build` works with: the parameters found, the breaker it fills, its notes.
pub(crate) struct Build<'a> {
    pub found: &'a [Found],
    pub b: &'a mut Breaker,
    pub library: &'static str,
    /// Diagnostics: (line, message).
    pub notes: Vec<(usize, String)>,
    /// (claim field, "key = value" as the library documents it).
    pub defaults: Vec<(String, String)>,
    /// Keys given a value that could not be read (normalised): they get no default, the spec did say
    /// something there.
    pub unreadable: Vec<String>,
}

impl Build<'_> {
    /// The last value given for `field`.
    pub fn get(&self, field: Field) -> Option<&Found> {
        self.found.iter().rev().find(|f| f.field == field)
    }

    pub fn has(&self, field: Field) -> bool {
        self.get(field).is_some()
    }

    /// Reads `field` with `parse`; an unreadable value becomes a diagnostic naming key, value and why.
    pub fn read<T>(
        &mut self,
        field: Field,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        let f = self.get(field)?.clone();
        match parse(&f.value) {
            Ok(v) => Some(v),
            Err(why) => {
                self.unreadable
                    .push(super::norm(f.key.rsplit('.').next().unwrap_or("")));
                let msg = format!(
                    "circuit breaker ({}): {} = {}: {why}",
                    self.library,
                    f.key,
                    f.value.trim()
                );
                self.notes.push((f.line, msg));
                None
            }
        }
    }

    pub fn duration(&mut self, field: Field, bare: values::Bare) -> Option<f64> {
        self.read(field, |v| values::duration_ms(v, bare))
    }

    pub fn count(&mut self, field: Field) -> Option<u32> {
        self.read(field, values::count)
    }

    /// `value` when `current` is None, recorded as a default (claim field, `key = value` as the library
    /// documents it). A key the spec gave an unreadable value gets no default.
    pub fn or_default<T>(
        &mut self,
        current: Option<T>,
        field: &str,
        value: T,
        shown: &str,
    ) -> Option<T> {
        if current.is_some() {
            return current;
        }
        let key = shown.split('=').next().unwrap_or("").trim();
        let key = super::norm(key.rsplit('.').next().unwrap_or(""));
        if self.unreadable.contains(&key) {
            return None;
        }
        self.defaults.push((field.to_string(), shown.to_string()));
        Some(value)
    }

    pub fn note(&mut self, line: usize, msg: String) {
        self.notes.push((line, msg));
    }

    /// The line of the breaker (for notes about what is missing).
    pub fn line(&self) -> usize {
        self.b.line
    }
}

/// Every call `name(args)` in the block (args may span lines): (line of the call, args split at
/// top-level commas). `name` must not be preceded by a letter (so `ConsecutiveBreaker` is not `Breaker`).
pub(crate) fn calls(lines: &[(usize, String)], name: &str) -> Vec<(usize, Vec<String>)> {
    let mut text = String::new();
    let mut starts = Vec::new();
    for (l, s) in lines {
        starts.push((text.len(), *l));
        text.push_str(s);
        text.push('\n');
    }
    let line_at = |pos: usize| {
        starts
            .iter()
            .rev()
            .find(|(s, _)| *s <= pos)
            .map_or(1, |x| x.1)
    };
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find(name) {
        let at = from + found;
        from = at + name.len();
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &text[from..];
        let Some(open) = rest
            .find('(')
            .filter(|o| rest[..*o].trim().is_empty() || rest[..*o].trim().starts_with('<'))
        else {
            continue;
        };
        let inner_start = from + open + 1;
        let mut depth = 1i32;
        let mut end = None;
        for (k, c) in text[inner_start..].char_indices() {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(inner_start + k);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else { continue };
        let inner = &text[inner_start..end];
        let args = values::split_top(inner, ',')
            .into_iter()
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .collect();
        out.push((line_at(at), args));
    }
    out
}

/// Positional arguments mapped to fields by position; `name: value` arguments are left to the entries.
pub(crate) fn positional(call: &(usize, Vec<String>), fields: &[Field], key: &str) -> Vec<Found> {
    let (line, args) = call;
    args.iter()
        .zip(fields)
        .filter(|(a, _)| !entries(a, false).iter().any(|e| a.starts_with(&e.key)))
        .map(|(a, f)| Found {
            field: *f,
            key: format!("{key} argument"),
            value: a.clone(),
            line: *line,
        })
        .collect()
}

/// No whole-block scan.
pub(crate) fn no_scan(_: &[(usize, String)]) -> Vec<Found> {
    Vec::new()
}
