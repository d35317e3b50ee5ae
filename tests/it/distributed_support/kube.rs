//! Just enough of the shipped Kubernetes manifests to run them here: a Job's `completions`,
//! `parallelism`, `completionMode`, and its container's `args` (written as a one-line flow
//! sequence, which is JSON) and `env` name/value pairs; and Kubernetes' `$(VAR)` expansion.

use std::collections::BTreeMap;

/// The first `key: value` at any depth (value unquoted).
pub fn field(yaml: &str, key: &str) -> Option<String> {
    yaml.lines().find_map(|l| {
        let t = l.trim_start();
        let rest = t.strip_prefix(key)?.strip_prefix(':')?;
        Some(rest.trim().trim_matches('"').to_string())
    })
}

/// The container's `args:` list.
pub fn args(yaml: &str) -> Vec<String> {
    let line = yaml
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("args:"))
        .expect("the manifest has an args: line");
    serde_json::from_str(line.trim_start_matches("args:").trim())
        .expect("args is a one-line flow sequence of strings")
}

/// The container's `env:` entries with a literal `value`.
pub fn env(yaml: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut name: Option<String> = None;
    for l in yaml.lines().map(str::trim) {
        if let Some(n) = l.strip_prefix("- name:") {
            name = Some(n.trim().trim_matches('"').to_string());
        } else if let (Some(v), Some(n)) = (l.strip_prefix("value:"), name.take()) {
            out.insert(n, v.trim().trim_matches('"').to_string());
        }
    }
    out
}

/// Kubernetes' expansion of `args`: `$(NAME)` becomes the variable's value when it is defined,
/// stays as written otherwise; `$$` is a literal `$`.
pub fn expand(arg: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = arg;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("$$") {
            out.push('$');
            rest = after;
        } else if let Some(close) = tail.strip_prefix("$(").and_then(|t| t.find(')')) {
            let name = &tail[2..2 + close];
            match vars.get(name) {
                Some(v) => out.push_str(v),
                None => out.push_str(&tail[..3 + close]),
            }
            rest = &tail[3 + close..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn expansion_follows_kubernetes() {
    let vars = BTreeMap::from([("A".to_string(), "1".to_string())]);
    assert_eq!(expand("x-$(A)-$(B)-$$(A)-$", &vars), "x-1-$(B)-$(A)-$");
}
