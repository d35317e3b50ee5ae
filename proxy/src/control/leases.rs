//! Leases over the control API: the `/redline/leases` routes (renew, release, list), reading
//! what an install asked for (`X-Redline-Owner` / `X-Redline-Expires-In` headers, or a body's
//! `"expires_in"`), and showing each fault's `expires_at` and `owner` in native answers.

use std::time::Duration;

use hyper::Method;
use serde_json::{json, Value};

use super::reply::Reply;
use super::Call;
use crate::fault::Ms;
use crate::lease::{Grant, Item, Lapsed, LeaseView, DEFAULT_LEASE};
use crate::registry::Registry;

/// Header naming the install's owner (a run id); its lease must be renewed.
pub const OWNER_HEADER: &str = "x-redline-owner";
/// Header giving the install's own lifetime, e.g. `10m`.
pub const EXPIRES_HEADER: &str = "x-redline-expires-in";

/// `/redline/leases[/{owner}]`.
pub(crate) fn route(reg: &Registry, call: &Call, segs: &[&str]) -> Reply {
    let m = &call.method;
    match segs {
        [] if *m == Method::GET => Reply::json(
            200,
            &json!({
                "leases": reg.leases().views(),
                "max_fault_ttl_ms": reg.leases().max_ttl().map(|d| d.as_millis() as u64),
            }),
        ),
        [owner] if *m == Method::POST || *m == Method::PUT => renew(reg, call, owner),
        [owner] if *m == Method::GET => match reg.leases().owner(owner) {
            Some((lease, at)) => Reply::json(200, &owner_json(reg, owner, lease, at)),
            None => Reply::error(404, format!("no live lease for {owner}")),
        },
        // The owner is done: what it still has goes at the reaper's next pass.
        [owner] if *m == Method::DELETE => {
            reg.leases().release(owner);
            Reply::no_content()
        }
        _ => Reply::error(
            404,
            "not found (leases: GET /redline/leases, POST|GET|DELETE /redline/leases/{owner})",
        ),
    }
}

fn renew(reg: &Registry, call: &Call, owner: &str) -> Reply {
    let lease = if call.body.iter().all(u8::is_ascii_whitespace) {
        DEFAULT_LEASE
    } else {
        let body: Value = match super::proxies::parse_object(&call.body) {
            Ok(v) => v,
            Err(reply) => return reply,
        };
        match duration_field(&body, "lease") {
            Ok(d) => d.unwrap_or(DEFAULT_LEASE),
            Err(reply) => return reply,
        }
    };
    if lease.is_zero() {
        return Reply::error(400, "field `lease`: expected a duration above 0, found 0");
    }
    match reg.leases().renew(owner, lease) {
        Ok(_) => {
            let at = reg.leases().owner(owner).map_or(0, |(_, at)| at);
            Reply::json(200, &owner_json(reg, owner, lease, at))
        }
        Err(e) => lapsed(e),
    }
}

fn owner_json(reg: &Registry, owner: &str, lease: Duration, at: u64) -> Value {
    let items: Vec<LeaseView> = reg
        .leases()
        .views()
        .into_iter()
        .filter(|v| v.owner.as_deref() == Some(owner))
        .collect();
    json!({"owner": owner, "lease_ms": lease.as_millis() as u64, "expires_at": at, "items": items})
}

/// 410 Gone: the owner's lease lapsed and its faults were removed.
pub(crate) fn lapsed(e: Lapsed) -> Reply {
    Reply::error(410, e.to_string())
}

/// The lease asked for by an API request's headers (400 when a value cannot be read).
pub(crate) fn from_headers(headers: &hyper::HeaderMap) -> Result<Grant, Reply> {
    let text = |name: &str| -> Result<Option<String>, Reply> {
        match headers.get(name) {
            None => Ok(None),
            Some(v) => v
                .to_str()
                .map(|s| Some(s.trim().to_string()).filter(|s| !s.is_empty()))
                .map_err(|_| Reply::error(400, format!("header {name}: expected text"))),
        }
    };
    let owner = text(OWNER_HEADER)?;
    let expires_in = match text(EXPIRES_HEADER)? {
        None => None,
        Some(t) => Some(parse_duration(EXPIRES_HEADER, &t)?),
    };
    Ok(Grant { owner, expires_in })
}

/// Takes `"expires_in"` out of a fault or toxic body (so the rest keeps its own shape) and
/// merges it into the headers' grant (the body wins).
pub(crate) fn take_body_expiry(call: &Call, body: &mut Value) -> Result<Grant, Reply> {
    let mut grant = call.grant.clone();
    let found = duration_field(body, "expires_in")?;
    if let Some(obj) = body.as_object_mut() {
        obj.remove("expires_in");
    }
    if found.is_some() {
        grant.expires_in = found;
    }
    check_not_zero(&grant)?;
    Ok(grant)
}

fn check_not_zero(grant: &Grant) -> Result<(), Reply> {
    match grant.expires_in {
        Some(d) if d.is_zero() => Err(Reply::error(
            400,
            "field `expires_in`: expected a duration above 0, found 0",
        )),
        _ => Ok(()),
    }
}

fn duration_field(body: &Value, key: &str) -> Result<Option<Duration>, Reply> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_duration(&format!("field `{key}`"), s).map(Some),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(|ms| Some(Duration::from_millis(ms)))
            .ok_or_else(|| {
                Reply::error(
                    400,
                    format!("field `{key}`: expected a duration like \"10m\" or integer milliseconds, found {n}"),
                )
            }),
        Some(other) => Err(Reply::error(
            400,
            format!("field `{key}`: expected a duration like \"10m\", found {other}"),
        )),
    }
}

fn parse_duration(what: &str, text: &str) -> Result<Duration, Reply> {
    Ms::parse(text)
        .map(|m| m.0)
        .map_err(|e| Reply::error(400, format!("{what}: expected {e}")))
}

/// Records an install's lease, or refuses it (410) for an owner whose lease lapsed.
pub(crate) fn admit(reg: &Registry, grant: &Grant) -> Result<(), Reply> {
    reg.leases().admit(grant).map_err(lapsed)
}

/// A fault's JSON with its lease (`expires_at`, `owner`) when it has one.
pub(crate) fn with_lease(reg: &Registry, proxy: &str, mut fault: Value) -> Value {
    let Some(name) = fault["name"].as_str().map(str::to_string) else {
        return fault;
    };
    if let Some(v) = reg.leases().view(proxy, &Item::Fault(name)) {
        if let Some(at) = v.expires_at {
            fault["expires_at"] = json!(at);
        }
        if let Some(o) = v.owner {
            fault["owner"] = json!(o);
        }
    }
    fault
}

/// Every lease on `proxy` (faults, toxics, disabled).
pub(crate) fn of_proxy(reg: &Registry, proxy: &str) -> Vec<LeaseView> {
    reg.leases()
        .views()
        .into_iter()
        .filter(|v| v.proxy == proxy)
        .collect()
}
