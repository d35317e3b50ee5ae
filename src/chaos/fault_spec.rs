//! Scenario `[[fault]]` -> what the proxy installs: an HTTP `FaultSpec`, TCP toxics, or a TCP
//! proxy switched off. Every fault of the scenario is checked here before anything starts, and
//! every problem is reported at once as `file:line:column: fault[i].field: expected, found`.

use std::collections::BTreeSet;
use std::time::Duration;

use redline_proxy::fault::{FaultError, FaultKind as ProxyKind, FaultSpec};
use redline_proxy::toxic::{Toxic, ToxicKind, TYPES};
use serde_json::{json, Map, Value};

use crate::scenario::duration::parse_duration;
use crate::scenario::{Diagnostic, Fault, FaultKind, Plan, Pos, Protocol, ScenarioError};

/// What a scheduled fault does to its proxy while its window is open.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// An HTTP proxy fault, installed under `FaultSpec::name`.
    Http(Box<FaultSpec>),
    /// TCP toxics, installed under their names.
    Toxics(Vec<Toxic>),
    /// A TCP proxy stops listening (the dependency is gone).
    Disable,
}

/// One `[[fault]]`, checked and ready to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedFault {
    /// Position in the scenario's `[[fault]]` list.
    pub index: usize,
    pub dependency: String,
    /// The scenario's kind name (latency, abort ...).
    pub kind: &'static str,
    pub at: Duration,
    pub until: Duration,
    pub action: Action,
    /// The parameters as applied, for `result.faults`.
    pub params: Value,
}

/// Checks every fault of `plan` against its dependency's protocol and the proxy's rules.
/// `file` labels the messages.
pub fn plan_faults(plan: &Plan, file: &str) -> Result<Vec<PlannedFault>, ScenarioError> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut names = BTreeSet::new();
    for (index, f) in plan.faults.iter().enumerate() {
        let protocol = plan
            .dependencies
            .iter()
            .find(|d| d.name == f.dependency)
            .map_or(Protocol::Http, |d| d.protocol);
        let built = match protocol {
            Protocol::Http => http(index, f),
            Protocol::Http2 => http(index, f).and_then(|(action, params)| {
                if let Action::Http(spec) = &action {
                    if let Err(e) = spec.check_protocol(true) {
                        return Err(diag(
                            f.pos,
                            index,
                            "kind",
                            "a fault an HTTP/2 dependency takes",
                            &e.to_string(),
                        ));
                    }
                }
                Ok((action, params))
            }),
            Protocol::Tcp => tcp(index, f),
        };
        match built {
            Ok((action, params)) => {
                let key = (f.dependency.clone(), action_names(&action));
                if !names.insert(key) {
                    problems.push(diag(
                        f.pos,
                        index,
                        "name",
                        "a fault name not used by another [[fault]] of the same dependency (set `name`)",
                        &format!("{:?} twice", action_names(&action).join(",")),
                    ));
                }
                out.push(PlannedFault {
                    index,
                    dependency: f.dependency.clone(),
                    kind: f.kind.as_str(),
                    at: f.at,
                    until: f.end(),
                    action,
                    params,
                });
            }
            Err(d) => problems.push(d),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        problems.sort_by_key(|d| (d.line, d.column));
        Err(ScenarioError {
            file: file.to_string(),
            diagnostics: problems,
        })
    }
}

fn action_names(a: &Action) -> Vec<String> {
    match a {
        Action::Http(spec) => vec![spec.name.clone()],
        Action::Toxics(t) => t.iter().map(|t| t.name.clone()).collect(),
        Action::Disable => vec!["down".into()],
    }
}

fn diag(pos: Pos, index: usize, field: &str, expected: &str, found: &str) -> Diagnostic {
    Diagnostic {
        line: pos.line,
        column: pos.column,
        key: format!("fault[{index}].{field}"),
        message: format!("expected {expected}, found {found}"),
    }
}

/// Where `field` was written (a flattened `distribution.mean` points at `distribution`).
fn pos_of(f: &Fault, field: &str) -> Pos {
    if let Some(p) = f.params.get(field) {
        return p.pos;
    }
    f.params
        .iter()
        .find(|(_, p)| p.value.get(field).is_some())
        .map_or(f.pos, |(_, p)| p.pos)
}

/// A scalar as the proxy's `key=value` text.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn http(index: usize, f: &Fault) -> Result<(Action, Value), Diagnostic> {
    let default_name = format!("{}@{}", f.kind.as_str(), secs(f.at));
    let mut pairs: Vec<(String, String)> = vec![("probability".into(), f.probability.to_string())];
    let mut headers = Vec::new();
    if let Some(m) = &f.matcher {
        pairs.extend(m.method.clone().map(|v| ("method".into(), v)));
        pairs.extend(m.path_prefix.clone().map(|v| ("path".into(), v)));
    }
    for (key, p) in &f.params {
        let bad = |expected: &str| diag(p.pos, index, key, expected, &p.value.to_string());
        match (key.as_str(), &p.value) {
            ("headers", Value::Object(map)) => {
                for (name, v) in map {
                    headers.push((name.clone(), text(v).ok_or_else(|| bad("text values"))?));
                }
            }
            // `distribution = { kind = "normal", mean = "200ms", stddev = "50ms" }`
            (_, Value::Object(map)) => {
                for (k, v) in map {
                    let k = if k == "kind" || k == "type" { key } else { k };
                    pairs.push((
                        k.clone(),
                        text(v).ok_or_else(|| bad("a table of plain values"))?,
                    ));
                }
            }
            (_, v) => pairs.push((key.clone(), text(v).ok_or_else(|| bad("a plain value"))?)),
        }
    }
    let mut spec =
        FaultSpec::from_pairs(f.kind.as_str(), &pairs).map_err(|e| from_fault(f, index, e))?;
    if !headers.is_empty() {
        let ProxyKind::Abort(abort) = &mut spec.kind else {
            return Err(diag(
                pos_of(f, "headers"),
                index,
                "headers",
                "headers only on an abort fault",
                &format!("a {} fault", f.kind.as_str()),
            ));
        };
        abort.headers.extend(headers);
        spec.validate().map_err(|e| from_fault(f, index, e))?;
    }
    if !pairs.iter().any(|(k, _)| k == "name") {
        spec.name = default_name;
    }
    let params = serde_json::to_value(&spec).unwrap_or(Value::Null);
    Ok((Action::Http(Box::new(spec)), params))
}

fn from_fault(f: &Fault, index: usize, e: FaultError) -> Diagnostic {
    match e {
        FaultError::Field {
            field,
            expected,
            found,
            ..
        } => {
            let field = if field == "path" {
                "match.path_prefix".to_string()
            } else {
                field
            };
            diag(pos_of(f, &field), index, &field, &expected, &found)
        }
        other => diag(
            f.pos,
            index,
            "kind",
            "a fault the proxy accepts",
            &other.to_string(),
        ),
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}s", s as u64)
    } else {
        format!("{s}s")
    }
}

/// The toxic a kind maps to on a TCP dependency (`toxic = "..."` picks any other).
fn toxic_type(kind: FaultKind) -> Option<&'static str> {
    match kind {
        FaultKind::Latency => Some("latency"),
        FaultKind::Throttle => Some("bandwidth"),
        FaultKind::Hang => Some("timeout"),
        FaultKind::Reset => Some("reset_peer"),
        FaultKind::Truncate => Some("limit_data"),
        FaultKind::Abort | FaultKind::Down => None,
    }
}

fn tcp(index: usize, f: &Fault) -> Result<(Action, Value), Diagnostic> {
    if f.kind == FaultKind::Down {
        if let Some((k, p)) = f.params.iter().next() {
            return Err(diag(
                p.pos,
                index,
                k,
                "no parameters for a tcp `down`",
                &format!("`{k}`"),
            ));
        }
        return Ok((Action::Disable, json!({"enabled": false})));
    }
    if f.matcher.is_some() {
        return Err(diag(
            f.pos,
            index,
            "match",
            "no `match` on a tcp dependency (toxics act on whole connections)",
            "a match table",
        ));
    }
    let chosen = f.params.get("toxic");
    let type_name = match chosen.map(|p| &p.value) {
        Some(Value::String(t)) if TYPES.contains(&t.as_str()) => t.clone(),
        Some(v) => {
            let p = chosen.map_or(f.pos, |p| p.pos);
            return Err(diag(
                p,
                index,
                "toxic",
                &format!("one of {}", TYPES.join(", ")),
                &v.to_string(),
            ));
        }
        None => match toxic_type(f.kind) {
            Some(t) => t.to_string(),
            None => {
                return Err(diag(f.pos, index, "kind", "latency, throttle, hang, reset, truncate or down on a tcp dependency (abort needs protocol = \"http\")", &format!("{:?}", f.kind.as_str())));
            }
        },
    };
    let defaults = ToxicKind::from_attributes(&type_name, &Value::Null)
        .map(|k| k.attributes())
        .unwrap_or(Value::Null);
    let mut attrs = Map::new();
    let mut stream = "downstream".to_string();
    let mut name = format!("{}@{}", f.kind.as_str(), secs(f.at));
    for (key, p) in f.params.iter().filter(|(k, _)| *k != "toxic") {
        let bad = |expected: &str| diag(p.pos, index, key, expected, &p.value.to_string());
        match key.as_str() {
            "name" => name = text(&p.value).ok_or_else(|| bad("a name"))?,
            "stream" => match p.value.as_str() {
                Some(s @ ("upstream" | "downstream")) => stream = s.to_string(),
                _ => return Err(bad("\"upstream\" or \"downstream\"")),
            },
            _ => {
                let attr = if key == "delay" && type_name == "latency" {
                    "latency"
                } else {
                    key
                };
                if defaults.get(attr).is_none() {
                    let known: Vec<&str> = defaults
                        .as_object()
                        .map(|o| o.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    return Err(bad(&format!(
                        "a {type_name} attribute ({}, name, stream or toxic)",
                        known.join(", ")
                    )));
                }
                attrs.insert(
                    attr.to_string(),
                    number(&p.value).ok_or_else(|| {
                        bad("a number, or a duration such as \"200ms\" (sent as milliseconds)")
                    })?,
                );
            }
        }
    }
    let body = json!({"name": name, "type": type_name, "stream": stream, "toxicity": f.probability, "attributes": attrs});
    let toxic = Toxic::from_json(&body).map_err(|e| {
        diag(
            f.pos,
            index,
            "kind",
            "toxic attributes the proxy accepts",
            &e.to_string(),
        )
    })?;
    let params = toxic.to_json();
    Ok((Action::Toxics(vec![toxic]), params))
}

/// A toxic attribute: numbers as they are, durations as milliseconds.
fn number(v: &Value) -> Option<Value> {
    match v {
        Value::Number(_) => Some(v.clone()),
        Value::String(s) => parse_duration(s).ok().map(|d| json!(d.as_millis() as u64)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;

    fn scenario_with(dep: &str, faults: &str) -> String {
        format!(
            "name = \"t\"\n[target]\nbase_url = \"http://127.0.0.1:1\"\nallowed_hosts = [\"127.0.0.1\"]\n\
             [load]\nstages = [ {{ duration = \"10s\", rate = 1 }} ]\n[[request]]\nname = \"r\"\npath = \"/\"\n\
             [[dependency]]\nname = \"Users\"\nlisten = \"127.0.0.1:9101\"\nupstream = \"127.0.0.1:9100\"\nprotocol = \"{dep}\"\n{faults}"
        )
    }

    fn planned(dep: &str, faults: &str) -> Result<Vec<PlannedFault>, ScenarioError> {
        let plan = scenario::parse(&scenario_with(dep, faults), "s.toml").expect("scenario parses");
        plan_faults(&plan, "s.toml")
    }

    #[test]
    fn http_faults_become_proxy_specs() {
        let f = planned(
            "http",
            "[[fault]]\ndependency = \"Users\"\nat = \"2s\"\nduration = \"3s\"\nkind = \"latency\"\n\
             distribution = { kind = \"normal\", mean = \"200ms\", stddev = \"50ms\" }\nmatch = { method = \"GET\", path_prefix = \"/users\" }\n\
             [[fault]]\ndependency = \"Users\"\nat = \"4s\"\nduration = \"1s\"\nkind = \"abort\"\nstatus = 503\nprobability = 0.5\nheaders = { retry-after = \"2\" }\n",
        )
        .unwrap();
        assert_eq!(f.len(), 2);
        let Action::Http(lat) = &f[0].action else {
            panic!()
        };
        assert_eq!(lat.name, "latency@2s");
        assert_eq!(lat.matcher.path_prefix.as_deref(), Some("/users"));
        let ProxyKind::Latency(l) = &lat.kind else {
            panic!()
        };
        assert_eq!(l.mean.map(|m| m.as_millis_f64()), Some(200.0));
        let Action::Http(ab) = &f[1].action else {
            panic!()
        };
        assert_eq!(ab.probability, 0.5);
        let ProxyKind::Abort(a) = &ab.kind else {
            panic!()
        };
        assert_eq!(
            (a.status, a.headers.get("retry-after").map(String::as_str)),
            (503, Some("2"))
        );
        assert_eq!(f[1].until, Duration::from_secs(5));
    }

    #[test]
    fn every_bad_fault_is_reported_with_its_line() {
        let err = planned(
            "http",
            "[[fault]]\ndependency = \"Users\"\nat = \"1s\"\nduration = \"1s\"\nkind = \"abort\"\nstatus = 999\n\
             [[fault]]\ndependency = \"Users\"\nat = \"2s\"\nduration = \"1s\"\nkind = \"latency\"\ndelay = \"soon\"\n",
        )
        .unwrap_err();
        let text = err.to_string();
        assert_eq!(err.diagnostics.len(), 2, "{text}");
        assert!(
            text.contains("s.toml:20:") && text.contains("fault[0].status") && text.contains("999"),
            "{text}"
        );
        assert!(
            text.contains("s.toml:26:") && text.contains("fault[1].delay") && text.contains("soon"),
            "{text}"
        );
    }

    #[test]
    fn tcp_faults_become_toxics() {
        let f = planned(
            "tcp",
            "[[fault]]\ndependency = \"Users\"\nat = \"1s\"\nduration = \"1s\"\nkind = \"latency\"\ndelay = \"250ms\"\njitter = 10\n\
             [[fault]]\ndependency = \"Users\"\nat = \"3s\"\nduration = \"1s\"\nkind = \"down\"\n",
        )
        .unwrap();
        let Action::Toxics(t) = &f[0].action else {
            panic!()
        };
        assert_eq!(
            t[0].to_json()["attributes"],
            json!({"latency": 250, "jitter": 10})
        );
        assert_eq!(f[1].action, Action::Disable);
        let err = planned("tcp", "[[fault]]\ndependency = \"Users\"\nat = \"1s\"\nduration = \"1s\"\nkind = \"abort\"\nstatus = 503\n").unwrap_err();
        assert!(err.to_string().contains("abort needs protocol"), "{err}");
    }

    #[test]
    fn names_must_not_collide() {
        let f = "[[fault]]\ndependency = \"Users\"\nat = \"1s\"\nduration = \"1s\"\nkind = \"reset\"\nname = \"x\"\n";
        let later = f.replace("at = \"1s\"", "at = \"5s\"");
        let err = planned("http", &format!("{f}{later}")).unwrap_err();
        assert!(err.to_string().contains("twice"), "{err}");
    }
}
