//! Error-class probes: for each error class whose trigger a request variation can send (an invalid
//! body, an unknown id, a method the endpoint does not serve, a request without its credentials),
//! a copy of a base request varied to provoke it, at a small share of the load; the classes no
//! variation of the base can provoke are said per class. The base's own weights are scaled so the
//! probes stay a small share and every planned rate still holds (the baseline reads the result).

use std::fmt::Write;

use super::base::REPLACED_MARK;
use crate::scenario::{Plan, RequestSpec};
use crate::spec::claims::{Claims, ErrorClass};

/// Most of the load the probes take together: every other claim keeps at least 99% of its samples.
pub const PROBE_SHARE: f64 = 0.01;
/// Headers that carry a caller's credentials, left out to provoke "unknown caller".
const CREDENTIALS: [&str; 5] = [
    "authorization",
    "x-api-key",
    "api-key",
    "x-auth-token",
    "proxy-authorization",
];
/// Methods a probe sends as "a method the endpoint does not serve", if no base request sends it.
const UNSERVED: [&str; 2] = ["PATCH", "TRACE"];

/// One planned variation.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub name: String,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub status: u16,
    /// The comment above it: which class, from which request, how.
    pub why: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Probes {
    pub probes: Vec<Probe>,
    /// Classes no variation of the base provokes, and why.
    pub not_planned: Vec<String>,
}

fn copy(r: &RequestSpec, class: &ErrorClass, status: u16, how: &str) -> Probe {
    Probe {
        name: format!("probe-{status}-{}", r.name),
        method: r.method.clone(),
        path: r.path.source().to_string(),
        headers: r.headers.clone(),
        body: r.body.source().to_string(),
        status,
        why: format!(
            "error class {} ({status}, line {}): {} {how}",
            class.error_type, class.line, r.name
        ),
    }
}

/// `{{random_int a b}}` in `path` replaced by an id far past `b`: (path, id).
fn unknown_id(path: &str) -> Option<(String, u64)> {
    let start = path.find("{{random_int")?;
    let end = start + path[start..].find("}}")? + 2;
    let inner = path[start + 2..end - 2].trim();
    let hi: u64 = inner.split_whitespace().nth(2)?.parse().ok()?;
    let id = hi.checked_mul(1000)?.checked_add(1)?;
    Some((format!("{}{id}{}", &path[..start], &path[end..]), id))
}

fn one(plan: &Plan, class: &ErrorClass, status: u16) -> Result<Option<Probe>, String> {
    let reqs = || plan.requests.iter().filter(|r| r.grpc.is_none());
    let probe = match status {
        400 | 422 => {
            let Some(r) = reqs().find(|r| !r.body.source().is_empty()) else {
                return Err(
                    "no request of the base sends a body the plan could make invalid".into(),
                );
            };
            let mut p = copy(r, class, status, "with a body that is not valid JSON");
            p.body = "{\"redline_probe\": ".into();
            p
        }
        404 => {
            let found = reqs()
                .filter(|r| r.method == "GET")
                .find_map(|r| unknown_id(r.path.source()).map(|x| (r, x)));
            let Some((r, (path, id))) = found else {
                return Err("no GET request of the base has a `{{random_int a b}}` id to send past its range".into());
            };
            let mut p = copy(
                r,
                class,
                status,
                &format!("for id {id}, a thousand times its highest id"),
            );
            p.path = path;
            p
        }
        405 => {
            let Some(m) = UNSERVED
                .iter()
                .find(|m| !plan.requests.iter().any(|r| r.method == **m))
            else {
                return Err("the base already sends every method the plan would vary to".into());
            };
            let Some(r) = reqs().find(|r| r.method == "GET") else {
                return Err("no GET request of the base to send with another method".into());
            };
            let mut p = copy(
                r,
                class,
                status,
                &format!("sent as {m}, a method no request of the base sends"),
            );
            p.method = m.to_string();
            p.body.clear();
            p
        }
        401 | 403 => {
            let credential = |h: &(String, String)| CREDENTIALS.contains(&h.0.as_str());
            let Some(r) = reqs().find(|r| r.headers.iter().any(credential)) else {
                return Err(format!(
                    "no request of the base carries a credential header ({}) the plan could leave out",
                    CREDENTIALS.join(", ")
                ));
            };
            let mut p = copy(r, class, status, "without its credential header");
            p.headers.retain(|h| !credential(h));
            p
        }
        413 => return Err("the spec states no body size limit to send past".into()),
        // Conflicts come from the base's own requests, 429 from the rate-limit plan, 5xx from faults.
        _ => return Ok(None),
    };
    Ok(Some(probe))
}

/// The probes for the spec's error classes against the base's requests.
pub fn plan(plan: &Plan, claims: &Claims) -> Probes {
    let mut out = Probes::default();
    for class in &claims.error_classes {
        let Some(status) = class.status else { continue };
        if out.probes.iter().any(|p| p.status == status) {
            continue;
        }
        match one(plan, class, status) {
            Ok(Some(p)) => out.probes.push(p),
            Ok(None) => {}
            Err(why) => out.not_planned.push(format!(
                "error class {} ({status}, line {}): {why}",
                class.error_type, class.line
            )),
        }
    }
    out
}

/// Factor the base's weights are multiplied by so the probes (weight 1 each) take at most
/// `PROBE_SHARE` of the load.
pub fn weight_factor(plan: &Plan, probes: usize) -> u32 {
    let total: f64 = plan
        .requests
        .iter()
        .map(|r| f64::from(r.weight.get()))
        .sum();
    let need = probes as f64 * (1.0 - PROBE_SHARE) / (PROBE_SHARE * total.max(1.0));
    need.ceil().max(1.0) as u32
}

fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The base text with each request's weight multiplied by `factor` (a `weight` written in the base
/// is commented out and restated after its table's header) and the probes appended.
pub fn apply(text: &str, plan: &Plan, probes: &[Probe], factor: u32) -> String {
    let mut out = String::with_capacity(text.len() + 512 * (probes.len() + 1));
    let mut index = 0;
    let mut in_request = false;
    for line in text.lines() {
        let t = line.trim();
        let head = t.split_once('#').map_or(t, |(h, _)| h).trim_end();
        if head.starts_with('[') && head.ends_with(']') {
            let compact: String = head.chars().filter(|c| !c.is_whitespace()).collect();
            in_request = compact == "[[request]]";
            out.push_str(line);
            out.push('\n');
            if in_request {
                let w = plan.requests.get(index).map_or(1, |r| r.weight.get());
                index += 1;
                let _ = writeln!(
                    out,
                    "weight = {}  # planned: {w} × {factor}, so the error-class probes stay {} of the load",
                    u64::from(w) * u64::from(factor),
                    super::breaker_phases::fmt2(PROBE_SHARE * 100.0) + "%"
                );
            }
            continue;
        }
        let key = head.split('=').next().unwrap_or("").trim();
        if in_request && key == "weight" {
            out.push_str(REPLACED_MARK);
        }
        out.push_str(line);
        out.push('\n');
    }
    if probes.is_empty() {
        return out;
    }
    out.push_str("\n# ---- error-class probes planned by redline plan (weight 1 each) ----\n");
    for p in probes {
        let headers: Vec<String> = p
            .headers
            .iter()
            .map(|(k, v)| format!("{} = {}", quoted(k), quoted(v)))
            .collect();
        let _ = writeln!(
            out,
            "\n# {}\n[[request]]\nname = {}\nmethod = {}\npath = {}",
            p.why,
            quoted(&p.name),
            quoted(&p.method),
            quoted(&p.path)
        );
        if !headers.is_empty() {
            let _ = writeln!(out, "headers = {{ {} }}", headers.join(", "));
        }
        if !p.body.is_empty() {
            let _ = writeln!(out, "body = {}", quoted(&p.body));
        }
        let _ = writeln!(out, "expect_status = [{}]\nweight = 1", p.status);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "name = \"b\"\n[target]\nbase_url = \"http://127.0.0.1:1\"\nallowed_hosts = [\"127.0.0.1\"]\n\
        [[request]]\nname = \"get\"\npath = \"/items/{{random_int 1 1000}}\"\nheaders = { x-client-key = \"k1\" }\n\
        [[request]] # writes\nname = \"create\"\nmethod = \"POST\"\nweight = 3\npath = \"/items\"\nbody = '{\"name\": \"a\"}'\n";

    fn class(t: &str, status: u16) -> ErrorClass {
        ErrorClass {
            error_type: t.into(),
            status: Some(status),
            code: None,
            retryable: None,
            line: 9,
        }
    }

    fn claims(classes: Vec<ErrorClass>) -> Claims {
        Claims {
            error_classes: classes,
            ..Claims::default()
        }
    }

    #[test]
    fn each_class_gets_its_variation_or_a_reason() {
        let base = super::super::base::read(BASE, "base.toml").unwrap();
        let c = claims(vec![
            class("Validation", 400),
            class("NotFound", 404),
            class("Method", 405),
            class("Unknown", 401),
            class("TooLarge", 413),
            class("Conflict", 409),
        ]);
        let p = plan(&base.plan, &c);
        let names: Vec<&str> = p.probes.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            ["probe-400-create", "probe-404-get", "probe-405-get"]
        );
        assert_eq!(p.probes[0].body, "{\"redline_probe\": ");
        assert_eq!(p.probes[1].path, "/items/1000001");
        assert_eq!(p.probes[2].method, "PATCH");
        assert_eq!(
            p.probes[2].headers,
            [("x-client-key".to_string(), "k1".to_string())]
        );
        assert_eq!(p.not_planned.len(), 2, "{:?}", p.not_planned);
        assert!(
            p.not_planned[0].contains("Unknown (401, line 9): no request"),
            "{:?}",
            p.not_planned
        );
        assert!(p.not_planned[1].contains("no body size limit"));
    }

    #[test]
    fn the_probes_take_at_most_their_share_and_the_result_parses() {
        let base = super::super::base::read(BASE, "base.toml").unwrap();
        let c = claims(vec![
            class("Validation", 400),
            class("NotFound", 404),
            class("Method", 405),
        ]);
        let p = plan(&base.plan, &c);
        let f = weight_factor(&base.plan, p.probes.len());
        // 3 probes against weights 1 + 3: 3 / (4f + 3) <= 1%.
        assert_eq!(f, 75);
        let text = apply(&base.text, &base.plan, &p.probes, f);
        let again = super::super::base::read(&text, "base.toml").unwrap();
        let weights: Vec<u32> = again.plan.requests.iter().map(|r| r.weight.get()).collect();
        assert_eq!(weights, [75, 225, 1, 1, 1]);
        let share = 3.0 / weights.iter().sum::<u32>() as f64;
        assert!(share <= PROBE_SHARE, "{share}");
        assert!(
            text.contains(&format!("{REPLACED_MARK}weight = 3")),
            "{text}"
        );
        let probe = &again.plan.requests[3];
        assert_eq!(probe.path.source(), "/items/1000001");
        assert_eq!(probe.expect_status, [404]);
        assert!(probe.operation.is_none());
    }
}
