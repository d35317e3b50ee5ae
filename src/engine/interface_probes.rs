//! The version-conflict and stated-limit probes, after the load (beside the idempotency probe).
//!
//! `stale_version`: a GET of the update's own path reads the current version (`field` of the JSON
//! answer), the update is sent once with it (its JSON body's `field` replaced), then the same
//! update again: by then its version is stale. `probe_limits`: one send beyond each limit the spec
//! states (`Plan::stated_limits`): a query parameter at max + 1 on a GET request (set, or replaced
//! if the path has it), a body of max + 1 bytes (the rendered body padded with spaces, still the
//! same JSON) on a request that has a body. Each send on its own connection (`one_shot`).

use bytes::Bytes;
use serde_json::Value;

use super::one_shot::{self, OneShot, Tag};
use crate::result::{ConflictProbe, LimitProbe};
use crate::scenario::{Plan, ProbeLimit, RequestSpec, Scheme, StaleVersion};

/// Probes every marked request of `plan` (plain HTTP only: an `https` target gets a note instead).
pub async fn probe_all(
    plan: &Plan,
    notes: &mut Vec<String>,
) -> (Vec<ConflictProbe>, Vec<LimitProbe>) {
    let (mut conflicts, mut limits) = (Vec::new(), Vec::new());
    let marked = |r: &RequestSpec| r.stale_version.is_some() || r.probe_limits;
    if !plan.requests.iter().any(marked) {
        return (conflicts, limits);
    }
    if plan.target.base_url.scheme == Scheme::Https {
        notes.push("conflict and limit probes skipped: they speak plain HTTP only".into());
        return (conflicts, limits);
    }
    for (i, r) in plan.requests.iter().enumerate() {
        if let Some(sv) = &r.stale_version {
            conflicts.push(conflict(plan, r, i as u64, sv).await);
        }
        if r.probe_limits {
            for l in &plan.stated_limits {
                if let Some(p) = beyond(plan, r, i as u64, l).await {
                    limits.push(p);
                }
            }
        }
    }
    (conflicts, limits)
}

fn probe_key(plan: &Plan, what: &str, i: u64) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("redline-{what}-{:x}-{i}-{nanos:x}", plan.seed)
}

async fn conflict(plan: &Plan, r: &RequestSpec, i: u64, sv: &StaleVersion) -> ConflictProbe {
    let key = probe_key(plan, "conflict", i);
    let mut update = one_shot::render(plan, r, i);
    let mut read = update.clone();
    read.method = "GET".into();
    read.body = Bytes::new();
    read.headers
        .retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
    let mut p = ConflictProbe {
        request: r.name.clone(),
        field: sv.field.clone(),
        path: update.path.clone(),
        ..ConflictProbe::default()
    };
    let (a, body) = one_shot::send(plan, &read, "read", Tag::new(plan, &key, 0), i, true).await;
    let ok = a.status.is_some_and(|s| (200..300).contains(&s));
    p.answers.push(a);
    let version = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get(&sv.field).cloned())
        .filter(|_| ok);
    let Some(version) = version else {
        p.stopped = Some(format!("the GET answer has no {:?} field", sv.field));
        return p;
    };
    let mut json = match serde_json::from_slice::<Value>(&update.body) {
        Ok(Value::Object(m)) => m,
        _ => {
            p.stopped = Some("the request's body is not a JSON object".into());
            return p;
        }
    };
    json.insert(sv.field.clone(), version.clone());
    update.body = Bytes::from(serde_json::to_vec(&json).unwrap_or_default());
    p.version = Some(version);
    for (n, kind) in [(1, "current"), (2, "stale")] {
        let tag = Tag::new(plan, &key, n);
        let (a, _) = one_shot::send(plan, &update, kind, tag, i, true).await;
        let ok = a.status.is_some_and(|s| (200..300).contains(&s));
        p.answers.push(a);
        if n == 1 && !ok {
            p.stopped = Some("the update with the current version did not succeed".into());
            break;
        }
    }
    p
}

/// One send beyond `l` for request `r`, or None when `l` does not apply to it (a query limit on
/// a request other than GET, a body cap on a request without a body).
async fn beyond(plan: &Plan, r: &RequestSpec, i: u64, l: &ProbeLimit) -> Option<LimitProbe> {
    let mut req: OneShot = one_shot::render(plan, r, i);
    let over = l.max.saturating_add(1);
    let sent = if l.body {
        let has_body =
            !req.body.is_empty() || matches!(r.method.as_str(), "POST" | "PUT" | "PATCH");
        if !has_body || r.method == "GET" {
            return None;
        }
        let size = usize::try_from(over).ok().filter(|n| *n <= 64 << 20)?;
        let mut body = req.body.to_vec();
        body.resize(size.max(body.len()), b' ');
        req.body = Bytes::from(body);
        format!("{}-byte body", req.body.len())
    } else {
        if r.method != "GET" {
            return None;
        }
        req.path = with_param(&req.path, &l.name, over);
        format!("{}={over}", l.name)
    };
    let key = probe_key(plan, "limit", i);
    let tag = Tag::new(plan, &format!("{key}-{}", l.name), 0);
    let (answer, body) = one_shot::send(plan, &req, "beyond", tag, i, true).await;
    Some(LimitProbe {
        request: r.name.clone(),
        name: l.name.clone(),
        max: l.max,
        sent,
        answer,
        items: serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| items(&v)),
    })
}

/// `path` with query parameter `name` set to `value` (replaced where it is, else appended).
fn with_param(path: &str, name: &str, value: u64) -> String {
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    let set = format!("{name}={value}");
    match pairs.iter_mut().find(|p| p.split('=').next() == Some(name)) {
        Some(p) => *p = set,
        None => pairs.push(set),
    }
    format!("{base}?{}", pairs.join("&"))
}

/// The JSON array's length, or the longest array among the object's values.
fn items(v: &Value) -> Option<usize> {
    match v {
        Value::Array(a) => Some(a.len()),
        Value::Object(m) => m.values().filter_map(|v| v.as_array().map(Vec::len)).max(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_param_is_replaced_or_appended_and_items_are_counted() {
        assert_eq!(
            with_param("/items?page=2&per_page=25", "per_page", 101),
            "/items?page=2&per_page=101"
        );
        assert_eq!(with_param("/things", "limit", 101), "/things?limit=101");
        assert_eq!(with_param("/t?limitx=1", "limit", 5), "/t?limitx=1&limit=5");
        let page = serde_json::json!({"items": [1, 2, 3], "tags": [1], "total": 9});
        assert_eq!(items(&page), Some(3));
        assert_eq!(items(&serde_json::json!([1, 2])), Some(2));
        assert_eq!(items(&serde_json::json!({"n": 1})), None);
    }
}
