//! The native dialect under `/redline`: HTTP faults per proxy (JSON `FaultSpec`), the
//! dependency-side log and its summary, counters, the change journal, and proxy management
//! that also covers HTTP proxies. Routes are listed in ARCHITECTURE.md.

use hyper::Method;
use serde_json::{json, Value};

use super::leases;
use super::proxies::{self, CreateBody, UpdateBody};
use super::reply::Reply;
use super::Call;
use crate::fault::{FaultError, FaultSpec};
use crate::http::HttpProxy;
use crate::lease::Item;
use crate::registry::{Protocol, ProxyHandle, Registry};
use crate::tcp::TcpProxy;

pub(crate) async fn route(reg: &Registry, call: &Call, segs: &[&str]) -> Reply {
    let m = &call.method;
    match segs {
        ["proxies"] if *m == Method::GET => Reply::json(
            200,
            &Value::Array(reg.list().iter().map(|(n, p)| detail(reg, n, p)).collect()),
        ),
        ["proxies"] if *m == Method::POST => create(reg, call).await,
        ["proxies", p] if *m == Method::GET => match reg.get(p) {
            Some(h) => Reply::json(200, &detail(reg, p, &h)),
            None => Reply::error(404, "proxy not found"),
        },
        ["proxies", p] if *m == Method::PATCH => update(reg, call, p).await,
        ["proxies", p] if *m == Method::DELETE => {
            let _ops = reg.lock_ops().await;
            proxies::delete(reg, p, &call.actor).await
        }
        ["proxies", p, "faults"] if *m == Method::GET => {
            with_http(reg, p, |h| Reply::json(200, &faults_json(reg, p, h)))
        }
        ["proxies", p, "faults"] if *m == Method::POST => {
            with_http(reg, p, |h| add_fault(reg, call, p, h))
        }
        ["proxies", p, "faults"] if *m == Method::DELETE => with_http(reg, p, |h| {
            h.clear_faults();
            reg.leases().forget_proxy(p, &["fault"]);
            reg.journal()
                .record(&call.actor, "faults.clear", Some(p), None, Value::Null);
            Reply::no_content()
        }),
        ["proxies", p, "faults", f] if *m == Method::GET => {
            with_http(reg, p, |h| match find(h, f) {
                Some(spec) => Reply::json(200, &fault_json(reg, p, &spec)),
                None => fault_error(FaultError::NotFound(f.to_string())),
            })
        }
        ["proxies", p, "faults", f]
            if *m == Method::PUT || *m == Method::POST || *m == Method::PATCH =>
        {
            with_http(reg, p, |h| update_fault(reg, call, p, f, h))
        }
        ["proxies", p, "faults", f] if *m == Method::DELETE => with_http(reg, p, |h| {
            if !h.remove_fault(f) {
                return fault_error(FaultError::NotFound(f.to_string()));
            }
            reg.leases().forget(p, &Item::Fault(f.to_string()));
            reg.journal()
                .record(&call.actor, "fault.remove", Some(p), Some(f), Value::Null);
            Reply::no_content()
        }),
        ["proxies", p, "log"] if *m == Method::GET => with_http(reg, p, |h| log(call, p, h)),
        ["proxies", p, "log", "summary"] if *m == Method::GET => {
            with_http(reg, p, |h| Reply::of(200, &h.log_summary()))
        }
        ["proxies", p, "connections"] if *m == Method::GET => {
            with_tcp(reg, p, |t| connections(call, p, t))
        }
        ["proxies", p, "connections", "summary"] if *m == Method::GET => {
            with_tcp(reg, p, |t| Reply::of(200, &t.connections_summary()))
        }
        ["proxies", p, "stats"] if *m == Method::GET => match reg.get(p) {
            Some(h) => Reply::of(200, &h.stats()),
            None => Reply::error(404, "proxy not found"),
        },
        ["journal"] if *m == Method::GET => {
            let since = match parse_u64(call, "since") {
                Ok(s) => s,
                Err(reply) => return reply,
            };
            let next = reg.journal().next_seq();
            Reply::json(
                200,
                &json!({"changes": reg.journal().since(since), "next": next}),
            )
        }
        ["reset"] if *m == Method::POST => proxies::reset(reg, &call.actor).await,
        ["leases", rest @ ..] => leases::route(reg, call, rest),
        _ => Reply::error(
            404,
            "not found (see ARCHITECTURE.md for the /redline routes)",
        ),
    }
}

/// A proxy with its kind, faults (with their leases) or toxics, leases, and counters.
fn detail(reg: &Registry, name: &str, p: &ProxyHandle) -> Value {
    let mut v = proxies::proxy_json(name, p);
    v["protocol"] = json!(p.protocol().as_str());
    if let ProxyHandle::Http(h) = p {
        v["faults"] = faults_json(reg, name, h);
    }
    v["leases"] = serde_json::to_value(leases::of_proxy(reg, name)).unwrap_or(Value::Null);
    v["stats"] = serde_json::to_value(p.stats()).unwrap_or(Value::Null);
    v
}

/// A fault as the native API shows it: the spec plus `expires_at` and `owner` when leased.
fn fault_json(reg: &Registry, proxy: &str, spec: &FaultSpec) -> Value {
    leases::with_lease(
        reg,
        proxy,
        serde_json::to_value(spec).unwrap_or(Value::Null),
    )
}

fn faults_json(reg: &Registry, proxy: &str, h: &HttpProxy) -> Value {
    Value::Array(
        h.faults()
            .iter()
            .map(|f| fault_json(reg, proxy, f))
            .collect(),
    )
}

/// A fault body: its lease fields taken out, the rest read as a `FaultSpec`.
fn fault_body(call: &Call) -> Result<(FaultSpec, crate::lease::Grant), Reply> {
    let mut body: Value = proxies::parse_object(&call.body)?;
    let grant = leases::take_body_expiry(call, &mut body)?;
    let spec = proxies::from_object(body)?;
    Ok((spec, grant))
}

async fn create(reg: &Registry, call: &Call) -> Reply {
    let body: CreateBody = match proxies::parse_object(&call.body) {
        Ok(v) => v,
        Err(reply) => return reply,
    };
    let protocol = match proxies::check_create(&body, Protocol::Http) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let name = body.name.clone();
    let _ops = reg.lock_ops().await;
    match proxies::create(reg, body, protocol, call).await {
        Ok(_) => match reg.get(&name) {
            Some(h) => Reply::json(201, &detail(reg, &name, &h)),
            None => Reply::error(500, "proxy vanished after creation"),
        },
        Err(reply) => reply,
    }
}

async fn update(reg: &Registry, call: &Call, name: &str) -> Reply {
    let body: UpdateBody = match proxies::parse_object(&call.body) {
        Ok(v) => v,
        Err(reply) => return reply,
    };
    let _ops = reg.lock_ops().await;
    match proxies::update(reg, name, body, call).await {
        Ok(_) => match reg.get(name) {
            Some(h) => Reply::json(200, &detail(reg, name, &h)),
            None => Reply::error(404, "proxy not found"),
        },
        Err(reply) => reply,
    }
}

fn add_fault(reg: &Registry, call: &Call, proxy: &str, h: &HttpProxy) -> Reply {
    let (mut spec, grant) = match fault_body(call) {
        Ok(s) => s,
        Err(reply) => return reply,
    };
    if let Err(e) = spec.validate() {
        return fault_error(e);
    }
    if let Err(reply) = leases::admit(reg, &grant) {
        return reply;
    }
    let name = spec.name.clone();
    if let Err(e) = h.add_fault(spec) {
        return fault_error(e);
    }
    reg.leases().grant(proxy, Item::Fault(name.clone()), &grant);
    let stored = find(h, &name).map_or(Value::Null, |f| fault_json(reg, proxy, &f));
    reg.journal().record(
        &call.actor,
        "fault.add",
        Some(proxy),
        Some(&name),
        stored.clone(),
    );
    Reply::json(201, &stored)
}

fn update_fault(reg: &Registry, call: &Call, proxy: &str, name: &str, h: &HttpProxy) -> Reply {
    let (mut spec, grant) = match fault_body(call) {
        Ok(s) => s,
        Err(reply) => return reply,
    };
    if spec.name.is_empty() {
        spec.name = name.to_string();
    }
    if let Err(e) = spec.validate() {
        return fault_error(e);
    }
    if let Err(reply) = leases::admit(reg, &grant) {
        return reply;
    }
    let new_name = spec.name.clone();
    if let Err(e) = h.update_fault(name, spec) {
        return fault_error(e);
    }
    reg.leases().forget(proxy, &Item::Fault(name.to_string()));
    reg.leases()
        .grant(proxy, Item::Fault(new_name.clone()), &grant);
    let stored = find(h, &new_name).map_or(Value::Null, |f| fault_json(reg, proxy, &f));
    reg.journal().record(
        &call.actor,
        "fault.update",
        Some(proxy),
        Some(name),
        stored.clone(),
    );
    Reply::json(200, &stored)
}

fn log(call: &Call, proxy: &str, h: &HttpProxy) -> Reply {
    page(call, proxy, |since| h.log_since(since), |e| e.seq)
}

/// The connection log of a TCP proxy, from `since`, at most `limit` entries.
fn connections(call: &Call, proxy: &str, t: &TcpProxy) -> Reply {
    page(call, proxy, |since| t.connections_since(since), |e| e.seq)
}

/// One page of a log: entries from `?since=N` (default 0), at most `?limit=M`, and the cursor
/// to ask for next.
fn page<E: serde::Serialize>(
    call: &Call,
    proxy: &str,
    read: impl FnOnce(u64) -> Vec<E>,
    seq: impl Fn(&E) -> u64,
) -> Reply {
    let since = match parse_u64(call, "since") {
        Ok(s) => s,
        Err(reply) => return reply,
    };
    let mut entries = read(since);
    if let Some(limit) = call
        .query_param("limit")
        .and_then(|l| l.parse::<usize>().ok())
    {
        entries.truncate(limit);
    }
    let next = entries.last().map_or(since, |e| seq(e) + 1);
    Reply::json(
        200,
        &json!({"proxy": proxy, "entries": entries, "next": next}),
    )
}

/// Runs `f` on a TCP proxy; 404 if there is no such proxy, 400 if it is an HTTP one.
fn with_tcp(reg: &Registry, name: &str, f: impl FnOnce(&TcpProxy) -> Reply) -> Reply {
    let not_tcp = |name: &str| {
        format!("the connection log is for tcp proxies; {name} is http (use /redline/proxies/{name}/log)")
    };
    proxies::with_tcp(reg, name, not_tcp, f)
}

fn find(h: &HttpProxy, name: &str) -> Option<FaultSpec> {
    h.faults().into_iter().find(|f| f.name == name)
}

fn parse_u64(call: &Call, key: &str) -> Result<u64, Reply> {
    match call.query_param(key) {
        None => Ok(0),
        Some(v) => v.parse().map_err(|_| {
            Reply::error(
                400,
                format!("query parameter `{key}`: expected a non-negative integer, found {v:?}"),
            )
        }),
    }
}

/// Runs `f` on an HTTP proxy; 404 if there is no such proxy, 400 if it is a TCP one.
fn with_http(reg: &Registry, name: &str, f: impl FnOnce(&HttpProxy) -> Reply) -> Reply {
    match reg.get(name).as_deref() {
        None => Reply::error(404, "proxy not found"),
        Some(ProxyHandle::Http(h)) => f(h),
        Some(ProxyHandle::Tcp(_)) => Reply::error(
            400,
            format!("faults and the request log are for http proxies; {name} is tcp (use /proxies/{name}/toxics)"),
        ),
    }
}

fn fault_error(e: FaultError) -> Reply {
    let status = match e {
        FaultError::Exists(_) => 409,
        FaultError::NotFound(_) => 404,
        _ => 400,
    };
    Reply::error(status, e.to_string())
}
