//! Splitting a library-form block into breakers: the names lines give (assignments, YAML keys, dotted
//! instances, `Name:` keys), the parameters found, and where one breaker ends and the next begins.

use super::{entries, norm, values, Build, Entry, Field, Form, Found};
use crate::spec::breakers::{function_name, name_on, split_comment, Draft};
use crate::spec::claims::Claims;
use crate::spec::diag;

/// Keys that hold configuration rather than name a breaker (`resilience4j:`, `instances:`, `spec:`).
const CONTAINERS: &[&str] = &[
    "resilience4j",
    "circuitbreaker",
    "circuitbreakers",
    "breakers",
    "breaker",
    "instances",
    "configs",
    "backends",
    "hystrix",
    "command",
    "properties",
    "settings",
    "options",
    "opts",
    "config",
    "outlierdetection",
    "trafficpolicy",
    "spec",
    "metadata",
    "policy",
    "policies",
    "cb",
    "st",
    "clusters",
    "cluster",
    "upstream",
    "server",
    "servers",
    "resilience",
    "strategy",
    "pipeline",
    "builder",
    "services",
    "service",
    "apiversion",
    "kind",
    "http",
    "events",
    "defaults",
    "threshold",
];

fn container(name: &str) -> bool {
    CONTAINERS.contains(&norm(name).as_str())
}

/// The instance a dotted key belongs to: `...instances.ledger.failureRateThreshold` -> `ledger`,
/// `hystrix.command.LedgerCommand.circuitBreaker...` -> `LedgerCommand`.
fn instance_in_path(key: &str) -> Option<String> {
    let segs: Vec<&str> = key.split('.').collect();
    let at = segs.iter().position(|s| {
        matches!(
            norm(s).as_str(),
            "instances" | "configs" | "backends" | "command"
        )
    })?;
    segs.get(at + 1)
        .filter(|_| at + 2 < segs.len())
        .map(|s| s.to_string())
}

/// The name a line gives to what follows: `ledger_cb = CircuitBreaker(`, `ledgerDb:`, Go `cb :=`,
/// typed `CircuitBreakerConfig pricingConfig =`, nginx `upstream app_servers {`.
fn declared_name(code: &str) -> Option<String> {
    let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
    let t = code.trim();
    if let Some(rest) = t.strip_prefix("upstream ") {
        return rest
            .split_whitespace()
            .next()
            .filter(|n| ident(n))
            .map(str::to_string);
    }
    if let Some((n, rhs)) = t.split_once(":=") {
        // Go declares everything with `:=`; only a breaker or its settings names a breaker.
        let breaker = rhs.contains("Breaker") || rhs.contains("Settings");
        return Some(n.trim().to_string()).filter(|n| ident(n) && breaker);
    }
    let words: Vec<&str> = t.splitn(3, ' ').collect();
    if let [ty, name, rest] = words[..] {
        let assigns = rest.starts_with('=') && !rest.starts_with("==");
        if ident(ty)
            && ident(name)
            && assigns
            && !["const", "let", "var", "val", "final"].contains(&ty)
        {
            return Some(name.to_string());
        }
    }
    name_on(code)
}

/// A name given to what follows, and whether it is a name key inside the breaker's own settings.
enum Event {
    Item(Found),
    Name {
        name: String,
        line: usize,
        key: bool,
    },
    Comment(String),
    Function(String),
}

/// Reads the breakers of one block written in `form`.
pub(crate) fn read_block(
    form: &Form,
    lines: &[(usize, String)],
    claims: &mut Claims,
) -> Vec<Draft> {
    let mut events = Vec::new();
    for (line, raw) in lines {
        line_events(form, *line, raw, &mut events, claims);
    }
    for f in (form.scan)(lines) {
        let at = events
            .iter()
            .position(|e| {
                matches!(e, Event::Item(x) if x.line > f.line)
                    || matches!(e, Event::Name { line, .. } if *line > f.line)
            })
            .unwrap_or(events.len());
        events.insert(at, Event::Item(f));
    }
    let groups = inherit(segment(form, events));
    groups
        .into_iter()
        .map(|g| finish(form, g, claims))
        .collect()
}

fn line_events(form: &Form, line: usize, raw: &str, events: &mut Vec<Event>, claims: &mut Claims) {
    let (code, comment) = split_comment(raw);
    if let Some(c) = comment.filter(|c| !c.trim().is_empty()) {
        events.push(Event::Comment(c.to_string()));
    }
    let is_key = |n: &str| {
        let e = Entry {
            key: n.to_string(),
            value: String::new(),
        };
        (form.field)(&e).is_some()
    };
    if let Some(n) = declared_name(code).filter(|n| !container(n) && !n.is_empty() && !is_key(n)) {
        events.push(Event::Name {
            name: n,
            line,
            key: false,
        });
    }
    let found = entries(code, form.space_values);
    if found.is_empty() {
        if let Some(f) = function_name(code) {
            events.push(Event::Function(f));
        }
    }
    for e in found {
        entry_events(form, line, e, events, claims);
    }
}

/// One key and value: a parameter of this form, a name (`name:`, `host:`, `commandKey`, a dotted
/// instance), or a generic breaker key this library does not have (said, not read).
fn entry_events(form: &Form, line: usize, e: Entry, events: &mut Vec<Event>, claims: &mut Claims) {
    if let Some(inst) = instance_in_path(&e.key) {
        events.push(Event::Name {
            name: inst,
            line,
            key: false,
        });
    }
    match (form.field)(&e) {
        Some(field) => events.push(Event::Item(Found {
            field,
            key: e.key.clone(),
            value: e.value.clone(),
            line,
        })),
        None if matches!(e.last().as_str(), "name" | "host" | "commandkey") => {
            let v = values::clean(&e.value);
            let simple =
                !v.is_empty() && v.chars().all(|c| c.is_alphanumeric() || "-_.".contains(c));
            if simple {
                events.push(Event::Name {
                    name: v.to_string(),
                    line,
                    key: true,
                });
            }
        }
        None if !crate::spec::breaker_params::params(&format!("{}=1", e.last())).is_empty() => {
            let msg = format!(
                "circuit breaker: {} is not one of {}'s options; not read",
                e.key, form.library
            );
            diag(claims, line, msg);
        }
        None => {}
    }
}

/// resilience4j `baseConfig: shared`: an instance starts from the named config's values and its own
/// win; a config used as a base is no breaker of its own.
fn inherit(mut groups: Vec<Group>) -> Vec<Group> {
    let links: Vec<(usize, usize)> = groups
        .iter()
        .enumerate()
        .filter_map(|(i, g)| {
            let v = g.found.iter().find(|f| f.field == Field::BaseConfig)?;
            let base = values::clean(&v.value);
            let j = groups
                .iter()
                .position(|h| h.name.as_deref() == Some(base))?;
            (j != i).then_some((i, j))
        })
        .collect();
    for &(i, j) in &links {
        let mut found: Vec<Found> = groups[j]
            .found
            .iter()
            .filter(|f| f.field != Field::BaseConfig)
            .cloned()
            .collect();
        found.append(&mut groups[i].found);
        groups[i].found = found;
    }
    groups
        .into_iter()
        .enumerate()
        .filter(|(k, _)| !links.iter().any(|l| l.1 == *k))
        .map(|(_, g)| g)
        .collect()
}

/// A breaker's parameters, name and the text that may name its dependency.
struct Group {
    found: Vec<Found>,
    name: Option<String>,
    line: Option<usize>,
    hints: Vec<String>,
    named_by_key: bool,
}

impl Group {
    fn new(name: Option<(String, usize, bool)>) -> Self {
        let (name, line, key) = match name {
            Some((n, l, k)) => (Some(n), Some(l), k),
            None => (None, None, false),
        };
        Group {
            found: Vec::new(),
            name,
            line,
            hints: Vec::new(),
            named_by_key: key,
        }
    }
}

/// Splits the events into breakers: a name, or a parameter set twice, starts the next one.
fn segment(form: &Form, events: Vec<Event>) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut pending: Option<(String, usize, bool)> = None;
    let mut comments: Vec<String> = Vec::new();
    for e in events {
        match e {
            Event::Comment(c) => comments.push(c),
            Event::Function(f) => {
                if let Some(g) = groups.last_mut() {
                    g.name.get_or_insert(f.clone());
                    g.hints.push(f);
                }
            }
            Event::Name { name, line, key } => {
                let cur = groups.last_mut();
                match cur {
                    Some(g) if key && form.name_inside && !g.named_by_key && pending.is_none() => {
                        g.name = Some(name.clone());
                        g.named_by_key = true;
                        g.hints.push(name);
                    }
                    Some(g) if g.name.as_deref() == Some(name.as_str()) => {}
                    _ => {
                        // A bare assignment name does not replace a name key seen just before it.
                        let keep = pending.as_ref().is_some_and(|p| p.2 && !key);
                        if !keep {
                            if let Some(p) = pending.take() {
                                comments.push(p.0);
                            }
                            pending = Some((name, line, key));
                        }
                    }
                }
            }
            Event::Item(f) => {
                let start_new = match groups.last() {
                    None => true,
                    Some(g) => pending.is_some() || g.found.iter().any(|x| x.field == f.field),
                };
                if start_new {
                    let mut g = Group::new(pending.take());
                    g.hints.extend(g.name.clone());
                    groups.push(g);
                }
                if let Some(g) = groups.last_mut() {
                    g.hints.append(&mut comments);
                    g.line.get_or_insert(f.line);
                    g.found.push(f);
                }
            }
        }
    }
    if let Some(g) = groups.last_mut() {
        g.hints.append(&mut comments);
    }
    groups
}

fn finish(form: &Form, g: Group, claims: &mut Claims) -> Draft {
    let line = g.line.unwrap_or(1);
    let mut d = Draft::new(g.name.clone(), line);
    d.hints = g.hints;
    d.breaker.library = Some(form.library.to_string());
    let mut build = Build {
        found: &g.found,
        b: &mut d.breaker,
        library: form.library,
        notes: Vec::new(),
        defaults: Vec::new(),
        unreadable: Vec::new(),
    };
    (form.build)(&mut build);
    let (notes, defaults) = (build.notes, build.defaults);
    for (l, msg) in notes {
        diag(claims, l, msg);
    }
    let mut fields: Vec<String> = Vec::new();
    for (f, _) in &defaults {
        if !fields.contains(f) {
            fields.push(f.clone());
        }
    }
    d.breaker.defaults_applied = fields;
    d.defaults_shown = defaults;
    d
}
