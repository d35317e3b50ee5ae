//! A spanned TOML tree and a reader over it that records every type error and unknown key.
//!
//! Why not serde with `deny_unknown_fields`: serde stops at the first error, and the scenario
//! contract is to report all problems at once with positions. toml_edit's `ImDocument` keeps the
//! byte span of every key and value; we copy it into this small tree and validate by hand.

use std::ops::Range;
use std::time::Duration;

use toml_edit::{ImDocument, Item, Value};

use super::duration::parse_duration;
use super::error::{did_you_mean, Diagnostics};

/// One TOML value with the byte span it came from.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub span: Range<usize>,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Node>),
    Table(Vec<Entry>),
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub key: String,
    pub key_span: Range<usize>,
    pub node: Node,
}

impl Kind {
    /// The TOML type name, for "found ..." messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Kind::Str(_) => "a string",
            Kind::Int(_) => "an integer",
            Kind::Float(_) => "a float",
            Kind::Bool(_) => "a boolean",
            Kind::Datetime(_) => "a date-time",
            Kind::Array(_) => "an array",
            Kind::Table(_) => "a table",
        }
    }
}

/// Parses TOML text into a spanned tree; a syntax error becomes one diagnostic.
pub(crate) fn parse_tree(src: &str, diags: &mut Diagnostics) -> Option<Node> {
    match ImDocument::parse(src) {
        Ok(doc) => Some(Node {
            span: 0..0,
            kind: Kind::Table(table_entries(doc.as_table().iter_keys(), 0..0)),
        }),
        Err(err) => {
            let at = err.span().map_or(0, |s| s.start);
            let msg = err.message().trim().to_string();
            diags.push(at, "", format!("invalid TOML: {msg}"));
            None
        }
    }
}

/// A table's entries as (key, item) pairs with key spans.
trait KeyedItems<'a> {
    fn iter_keys(self) -> Vec<(&'a toml_edit::Key, &'a Item)>;
}

impl<'a> KeyedItems<'a> for &'a toml_edit::Table {
    fn iter_keys(self) -> Vec<(&'a toml_edit::Key, &'a Item)> {
        self.iter()
            .filter_map(|(k, _)| self.get_key_value(k))
            .collect()
    }
}

impl<'a> KeyedItems<'a> for &'a toml_edit::InlineTable {
    fn iter_keys(self) -> Vec<(&'a toml_edit::Key, &'a Item)> {
        self.iter()
            .filter_map(|(k, _)| self.get_key_value(k))
            .collect()
    }
}

fn table_entries(items: Vec<(&toml_edit::Key, &Item)>, parent: Range<usize>) -> Vec<Entry> {
    items
        .into_iter()
        .map(|(key, item)| {
            let key_span = key.span().unwrap_or_else(|| parent.clone());
            Entry {
                key: key.get().to_string(),
                key_span: key_span.clone(),
                node: item_node(item, key_span),
            }
        })
        .collect()
}

fn item_node(item: &Item, fallback: Range<usize>) -> Node {
    let span = item.span().unwrap_or_else(|| fallback.clone());
    match item {
        Item::Value(v) => value_node(v, fallback),
        Item::Table(t) => Node {
            kind: Kind::Table(table_entries(t.iter_keys(), span.clone())),
            span,
        },
        Item::ArrayOfTables(a) => {
            let tables = a
                .iter()
                .map(|t| {
                    let s = t.span().unwrap_or_else(|| span.clone());
                    Node {
                        kind: Kind::Table(table_entries(t.iter_keys(), s.clone())),
                        span: s,
                    }
                })
                .collect();
            Node {
                span,
                kind: Kind::Array(tables),
            }
        }
        Item::None => Node {
            span,
            kind: Kind::Table(Vec::new()),
        },
    }
}

fn value_node(v: &Value, fallback: Range<usize>) -> Node {
    let span = v.span().unwrap_or(fallback);
    let kind = match v {
        Value::String(s) => Kind::Str(s.value().clone()),
        Value::Integer(i) => Kind::Int(*i.value()),
        Value::Float(f) => Kind::Float(*f.value()),
        Value::Boolean(b) => Kind::Bool(*b.value()),
        Value::Datetime(d) => Kind::Datetime(d.value().to_string()),
        Value::Array(a) => Kind::Array(a.iter().map(|v| value_node(v, span.clone())).collect()),
        Value::InlineTable(t) => Kind::Table(table_entries(t.iter_keys(), span.clone())),
    };
    Node { span, kind }
}

/// Reads one table: reports unknown keys (with a did-you-mean) up front, then typed getters
/// record "expected X, found Y" for each bad value and return `None` so validation continues.
pub(crate) struct TableReader<'n> {
    pub path: String,
    pub span: Range<usize>,
    entries: &'n [Entry],
}

impl<'n> TableReader<'n> {
    /// `node` must be a table; otherwise a diagnostic is recorded and `None` returned.
    pub(crate) fn new(
        node: &'n Node,
        path: &str,
        known: &[&str],
        d: &mut Diagnostics,
    ) -> Option<Self> {
        let Kind::Table(entries) = &node.kind else {
            d.push(
                node.span.start,
                path,
                format!("expected a table, found {}", node.kind.type_name()),
            );
            return None;
        };
        for e in entries {
            if !known.contains(&e.key.as_str()) {
                let hint = match did_you_mean(&e.key, known.iter().copied()) {
                    Some(k) => format!("; did you mean `{k}`?"),
                    None => format!("; expected one of: {}", known.join(", ")),
                };
                d.push(
                    e.key_span.start,
                    &join(path, &e.key),
                    format!("unknown key `{}`{hint}", e.key),
                );
            }
        }
        Some(TableReader {
            path: path.to_string(),
            span: node.span.clone(),
            entries,
        })
    }

    /// Like `new`, but any key is accepted (the caller keeps the unknown ones).
    pub(crate) fn open(node: &'n Node, path: &str, d: &mut Diagnostics) -> Option<Self> {
        let Kind::Table(entries) = &node.kind else {
            d.push(
                node.span.start,
                path,
                format!("expected a table, found {}", node.kind.type_name()),
            );
            return None;
        };
        Some(TableReader {
            path: path.to_string(),
            span: node.span.clone(),
            entries,
        })
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries.iter().find(|e| e.key == key).map(|e| &e.node)
    }

    pub(crate) fn entry(&self, key: &str) -> Option<&'n Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    pub(crate) fn entries(&self) -> &'n [Entry] {
        self.entries
    }

    pub(crate) fn key(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// Records that a required key is missing (positioned at the table).
    pub(crate) fn missing(&self, key: &str, what: &str, d: &mut Diagnostics) {
        d.push(
            self.span.start,
            &self.key(key),
            format!("missing required key; expected {what}"),
        );
    }

    pub(crate) fn string(&self, key: &str, d: &mut Diagnostics) -> Option<String> {
        let node = self.get(key)?;
        match &node.kind {
            Kind::Str(s) => Some(s.clone()),
            other => type_err(d, node, &self.key(key), "a string", other),
        }
    }

    pub(crate) fn req_string(&self, key: &str, d: &mut Diagnostics) -> Option<String> {
        if self.get(key).is_none() {
            self.missing(key, "a string", d);
        }
        self.string(key, d)
    }

    pub(crate) fn bool(&self, key: &str, d: &mut Diagnostics) -> Option<bool> {
        let node = self.get(key)?;
        match &node.kind {
            Kind::Bool(b) => Some(*b),
            other => type_err(d, node, &self.key(key), "true or false", other),
        }
    }

    /// An integer within `lo..=hi`.
    pub(crate) fn int(&self, key: &str, lo: i64, hi: i64, d: &mut Diagnostics) -> Option<i64> {
        self.get(key)
            .and_then(|n| int_in(n, &self.key(key), lo, hi, d))
    }

    /// A number (integer or float) within `lo..=hi`.
    pub(crate) fn number(&self, key: &str, lo: f64, hi: f64, d: &mut Diagnostics) -> Option<f64> {
        self.get(key)
            .and_then(|n| number_in(n, &self.key(key), lo, hi, d))
    }

    pub(crate) fn duration(&self, key: &str, d: &mut Diagnostics) -> Option<Duration> {
        self.get(key)
            .and_then(|n| duration_node(n, &self.key(key), d))
    }

    pub(crate) fn req_duration(&self, key: &str, d: &mut Diagnostics) -> Option<Duration> {
        if self.get(key).is_none() {
            self.missing(key, "a duration such as \"250ms\", \"5s\" or \"2m\"", d);
        }
        self.duration(key, d)
    }

    /// An array of strings.
    pub(crate) fn strings(&self, key: &str, d: &mut Diagnostics) -> Option<Vec<String>> {
        let node = self.get(key)?;
        let Kind::Array(items) = &node.kind else {
            return type_err(d, node, &self.key(key), "an array of strings", &node.kind);
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match &item.kind {
                Kind::Str(s) => out.push(s.clone()),
                other => {
                    type_err::<()>(
                        d,
                        item,
                        &format!("{}[{i}]", self.key(key)),
                        "a string",
                        other,
                    );
                }
            }
        }
        Some(out)
    }

    /// A table of string values (headers), keeping insertion order.
    pub(crate) fn string_map(
        &self,
        key: &str,
        d: &mut Diagnostics,
    ) -> Vec<(String, String, usize)> {
        let Some(node) = self.get(key) else {
            return Vec::new();
        };
        let Kind::Table(entries) = &node.kind else {
            type_err::<()>(d, node, &self.key(key), "a table of strings", &node.kind);
            return Vec::new();
        };
        let mut out = Vec::new();
        for e in entries {
            match &e.node.kind {
                Kind::Str(s) => out.push((e.key.clone(), s.clone(), e.key_span.start)),
                other => {
                    type_err::<()>(d, &e.node, &join(&self.key(key), &e.key), "a string", other);
                }
            }
        }
        out
    }
}

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub(crate) fn type_err<T>(
    d: &mut Diagnostics,
    node: &Node,
    key: &str,
    expected: &str,
    found: &Kind,
) -> Option<T> {
    let shown = match found {
        Kind::Str(s) => format!("the string {s:?}"),
        Kind::Int(i) => format!("the integer {i}"),
        Kind::Float(f) => format!("the float {f}"),
        Kind::Bool(b) => format!("{b}"),
        other => other.type_name().to_string(),
    };
    d.push(
        node.span.start,
        key,
        format!("expected {expected}, found {shown}"),
    );
    None
}

pub(crate) fn int_in(node: &Node, key: &str, lo: i64, hi: i64, d: &mut Diagnostics) -> Option<i64> {
    match node.kind {
        Kind::Int(i) if (lo..=hi).contains(&i) => Some(i),
        Kind::Int(i) => {
            d.push(
                node.span.start,
                key,
                format!("expected an integer from {lo} to {hi}, found {i}"),
            );
            None
        }
        ref other => type_err(
            d,
            node,
            key,
            &format!("an integer from {lo} to {hi}"),
            other,
        ),
    }
}

pub(crate) fn number_in(
    node: &Node,
    key: &str,
    lo: f64,
    hi: f64,
    d: &mut Diagnostics,
) -> Option<f64> {
    let v = match node.kind {
        Kind::Int(i) => i as f64,
        Kind::Float(f) => f,
        ref other => return type_err(d, node, key, &format!("a number from {lo} to {hi}"), other),
    };
    if v.is_finite() && (lo..=hi).contains(&v) {
        Some(v)
    } else {
        d.push(
            node.span.start,
            key,
            format!("expected a number from {lo} to {hi}, found {v}"),
        );
        None
    }
}

pub(crate) fn duration_node(node: &Node, key: &str, d: &mut Diagnostics) -> Option<Duration> {
    match &node.kind {
        Kind::Str(s) => match parse_duration(s) {
            Ok(v) => Some(v),
            Err(why) => {
                d.push(node.span.start, key, format!("expected a duration such as \"250ms\", \"5s\" or \"2m\", found {s:?} ({why})"));
                None
            }
        },
        other => type_err(
            d,
            node,
            key,
            "a duration string such as \"250ms\", \"5s\" or \"2m\"",
            other,
        ),
    }
}
