//! Scenario diagnostics: every problem with its file:line:column, key, expected and found.

use std::fmt;

use super::template::EnvLookup;

/// One problem found in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line of the offending key or value.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// Dotted path of the key, e.g. `load.stages[1].rate`; empty for syntax errors.
    pub key: String,
    /// What was expected and what was found, in words.
    pub message: String,
}

/// A scenario that cannot be run, with every problem found (not just the first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    pub file: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        writeln!(
            f,
            "{} has {n} problem{}:",
            self.file,
            if n == 1 { "" } else { "s" }
        )?;
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  {}:{}:{}: ", self.file, d.line, d.column)?;
            if !d.key.is_empty() {
                write!(f, "`{}`: ", d.key)?;
            }
            write!(f, "{}", d.message)?;
        }
        Ok(())
    }
}

/// Collects diagnostics while a scenario is validated; positions come from byte offsets.
/// Also carries the `{{env NAME}}` lookup, since every validator that parses a template has it.
pub(crate) struct Diagnostics<'s> {
    src: &'s str,
    pub(crate) list: Vec<Diagnostic>,
    pub(crate) env: EnvLookup<'s>,
}

impl<'s> Diagnostics<'s> {
    pub(crate) fn new(src: &'s str, env: EnvLookup<'s>) -> Self {
        Diagnostics {
            src,
            list: Vec::new(),
            env,
        }
    }

    pub(crate) fn push(&mut self, offset: usize, key: &str, message: impl Into<String>) {
        let (line, column) = line_col(self.src, offset);
        self.list.push(Diagnostic {
            line,
            column,
            key: key.to_string(),
            message: message.into(),
        });
    }

    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(self.src, offset)
    }

    /// 1-based line of a byte offset (kept on SLO entries and faults for later reports).
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        line_col(self.src, offset).0
    }
}

/// 1-based line and character column of a byte offset.
pub(crate) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..floor_char_boundary(src, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The closest known name to `found`, if it is close enough to be a plausible typo.
pub(crate) fn did_you_mean<'a>(
    found: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (strsim::jaro_winkler(found, k), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}
