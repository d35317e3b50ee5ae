//! Breakers written in a library's own configuration form: which library a code block configures,
//! its keys and units, and its documented defaults for what the spec leaves out (each default is
//! named in `defaults_applied` and in a diagnostic). One file per language family; `values` reads
//! each language's units, `entries` the keys and values on a line.

mod dotnet;
mod entries;
mod go;
mod java;
mod js;
mod proxies;
mod python;
pub(crate) mod rule_prose;
pub(crate) mod values;

use super::breakers::{function_name, name_on, split_comment, Draft};
use super::claims::{Breaker, Claims};
use super::diag;
pub(crate) use entries::{entries, norm, Entry};

/// A breaker parameter as one library names it; its meaning (units, percent or ratio) is the library's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Threshold,
    RatePercent,
    RateRatio,
    /// resilience4j `slidingWindowSize`: calls or seconds, by `slidingWindowType`.
    WindowSize,
    WindowType,
    WindowCalls,
    WindowMs,
    MinimumCalls,
    /// cockatiel `minimumRps`: a rate, turned into calls over the window.
    MinimumRps,
    SlowCallMs,
    SlowRatePercent,
    RecoveryMs,
    BackoffEnabled,
    Multiplier,
    RecoveryMaxMs,
    /// cockatiel `ExponentialBackoff({ initialDelay })`: the first open time.
    BackoffInitialMs,
    RandomizedEnabled,
    RandomizedFactor,
    HalfOpen,
    CallTimeoutMs,
    SweepMs,
    /// Envoy/Istio consecutive gateway errors (502/503/504 only).
    GatewayThreshold,
    MaxEjectionPercent,
    /// A computed open time (Polly `BreakDurationGenerator`): present, not read.
    BreakGenerator,
    /// A trip condition written as code (gobreaker `ReadyToTrip`), read by the form's scan.
    TripRule,
    Exceptions,
}

/// A parameter found in the block: what it sets, the key and value as written, its line.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub field: Field,
    pub key: String,
    pub value: String,
    pub line: usize,
}

/// One library's configuration form.
pub(crate) struct Form {
    pub library: &'static str,
    /// Which field a key sets, if it is one of this library's.
    pub field: fn(&Entry) -> Option<Field>,
    /// Parameters written positionally or as code (`CircuitBreaker(5, TimeSpan.FromSeconds(30))`,
    /// `counts.ConsecutiveFailures > 4`), found over the whole block.
    pub scan: fn(&[(usize, String)]) -> Vec<Found>,
    /// Turns what was found into the breaker, with the library's rule and defaults.
    pub build: fn(&mut Build),
    /// Values end at whitespace (nginx directives).
    pub space_values: bool,
    /// A `Name:` key names the breaker it sits in (Go `Settings{Name: ...}`), not the next one.
    pub name_inside: bool,
}

/// The library a code block configures, from its language and the names it uses.
pub(crate) fn detect(lang: &str, lines: &[(usize, String)]) -> Option<&'static Form> {
    let text: String = lines
        .iter()
        .map(|(_, l)| l.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let low = text.to_lowercase();
    let squashed: String = low.chars().filter(|c| *c != '-' && *c != '_').collect();
    let lang = lang.trim().to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| squashed.contains(w));
    let raw = |words: &[&str]| words.iter().any(|w| text.contains(w));
    if has(&["outlierdetection"]) {
        Some(&proxies::ENVOY)
    } else if lang == "nginx" || has(&["maxfails=", "failtimeout="]) {
        Some(&proxies::NGINX)
    } else if has(&[
        "hystrix",
        "requestvolumethreshold",
        "sleepwindowinmilliseconds",
    ]) {
        Some(&java::HYSTRIX)
    } else if has(&["cockatiel"])
        || raw(&[
            "ConsecutiveBreaker",
            "SamplingBreaker",
            "CountBreaker",
            "halfOpenAfter",
        ])
    {
        Some(&js::COCKATIEL)
    } else if has(&[
        "resilience4j",
        "failureratethreshold",
        "slidingwindowsize",
        "slidingwindowtype",
        "minimumnumberofcalls",
        "waitdurationinopenstate",
        "permittednumberofcallsinhalfopenstate",
        "slowcallratethreshold",
    ]) {
        Some(&java::RESILIENCE4J)
    } else if has(&["gobreaker"]) || (lang == "go" && raw(&["ReadyToTrip", "MaxRequests"])) {
        Some(&go::GOBREAKER)
    } else if raw(&["AdvancedCircuitBreaker"])
        || has(&["exceptionsallowedbeforebreaking", "durationofbreak"])
        || (raw(&["Policy"]) && raw(&[".CircuitBreaker(", ".CircuitBreakerAsync("]))
    {
        Some(&dotnet::POLLY_V7)
    } else if raw(&["CircuitBreakerStrategyOptions", "AddCircuitBreaker"])
        || has(&["failureratio", "breakduration", "minimumthroughput"])
    {
        Some(&dotnet::POLLY_V8)
    } else if has(&["opossum"])
        || raw(&[
            "errorThresholdPercentage",
            "rollingCountTimeout",
            "rollingCountBuckets",
            "volumeThreshold",
        ])
    {
        Some(&js::OPOSSUM)
    } else if has(&["pybreaker", "failmax"]) {
        Some(&python::PYBREAKER)
    } else if raw(&[
        "@circuit",
        "from circuitbreaker",
        "import circuitbreaker",
        "CircuitBreakerMonitor",
        "FAILURE_THRESHOLD",
    ]) {
        Some(&python::CIRCUITBREAKER)
    } else {
        None
    }
}

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
    let groups = segment(form, events);
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
            None if !super::breaker_params::params(&format!("{}=1", e.last())).is_empty() => {
                let msg = format!(
                    "circuit breaker: {} is not one of {}'s options; not read",
                    e.key, form.library
                );
                diag(claims, line, msg);
            }
            None => {}
        }
    }
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
    };
    (form.build)(&mut build);
    let (notes, defaults) = (build.notes, build.defaults);
    for (l, msg) in notes {
        diag(claims, l, msg);
    }
    if !defaults.is_empty() {
        let shown: Vec<String> = defaults.iter().map(|(_, s)| s.clone()).collect();
        let name = g.name.as_deref().unwrap_or("(unnamed)");
        let msg = format!(
            "circuit breaker {name}: the spec leaves out {}; read {}'s documented defaults",
            shown.join(", "),
            form.library
        );
        diag(claims, line, msg);
        d.breaker.defaults_applied = defaults.into_iter().map(|(f, _)| f).collect();
    }
    d
}

/// What a form's `build` works with: the parameters found, the breaker it fills, its notes.
pub(crate) struct Build<'a> {
    pub found: &'a [Found],
    pub b: &'a mut Breaker,
    pub library: &'static str,
    /// Diagnostics: (line, message).
    pub notes: Vec<(usize, String)>,
    /// (claim field, "key = value" as the library documents it).
    pub defaults: Vec<(String, String)>,
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

    /// `value` when `current` is None, recorded as a default (claim field, as the library names it).
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
