//! The Toxiproxy-compatible dialect: Toxiproxy 2.x's endpoints, JSON shapes, defaults, status
//! codes and quirks, so existing clients and test suites drive redline unchanged. Proxies made
//! here are TCP unless the body says `"protocol": "http"` (our extension).

use hyper::Method;
use serde_json::{json, Value};

use super::leases;
use super::proxies::{self, CreateBody, UpdateBody};
use super::reply::Reply;
use super::Call;
use crate::lease::Item;
use crate::registry::{Protocol, ProxyHandle, Registry};
use crate::tcp::TcpProxy;
use crate::toxic::{Toxic, ToxicError, ToxicPatch};

/// The Toxiproxy version whose API this dialect follows.
pub(crate) const TOXIPROXY_VERSION: &str = "2.12.0";

pub(crate) async fn route(reg: &Registry, call: &Call, segs: &[&str]) -> Reply {
    let m = &call.method;
    let post_or_patch = *m == Method::POST || *m == Method::PATCH;
    match segs {
        ["proxies"] if *m == Method::GET => index(reg),
        ["proxies"] if *m == Method::POST => create(reg, call).await,
        ["populate"] if *m == Method::POST => proxies::populate(reg, call).await,
        ["reset"] if *m == Method::POST => proxies::reset(reg, &call.actor).await,
        ["version"] if *m == Method::GET => Reply::json(
            200,
            &json!({"version": TOXIPROXY_VERSION, "redline": env!("CARGO_PKG_VERSION")}),
        ),
        ["proxies", p] if *m == Method::GET => match reg.get(p) {
            Some(h) => Reply::json(200, &proxies::proxy_json(p, &h)),
            None => Reply::error(404, "proxy not found"),
        },
        ["proxies", p] if post_or_patch => update(reg, call, p).await,
        ["proxies", p] if *m == Method::DELETE => {
            let _ops = reg.lock_ops().await;
            proxies::delete(reg, p, &call.actor).await
        }
        // Listing is harmless on an HTTP proxy (it has no toxics), so clients that list
        // before cleaning up keep working.
        ["proxies", p, "toxics"] if *m == Method::GET => match reg.get(p).as_deref() {
            None => Reply::error(404, "proxy not found"),
            Some(ProxyHandle::Http(_)) => Reply::json(200, &json!([])),
            Some(ProxyHandle::Tcp(t)) => Reply::json(
                200,
                &Value::Array(t.toxics().iter().map(Toxic::to_json).collect()),
            ),
        },
        ["proxies", p, "toxics"] if *m == Method::POST => add_toxic(reg, call, p),
        ["proxies", p, "toxics", t] if *m == Method::GET => {
            with_tcp(reg, p, |px| match px.toxic(t) {
                Some(toxic) => Reply::json(200, &toxic.to_json()),
                None => toxic_error(ToxicError::NotFound(t.to_string())),
            })
        }
        ["proxies", p, "toxics", t] if post_or_patch => update_toxic(reg, call, p, t),
        ["proxies", p, "toxics", t] if *m == Method::DELETE => {
            with_tcp(reg, p, |px| match px.remove_toxic(t) {
                Ok(_) => {
                    reg.leases().forget(p, &Item::Toxic(t.to_string()));
                    reg.journal().record(
                        &call.actor,
                        "toxic.remove",
                        Some(p),
                        Some(t),
                        Value::Null,
                    );
                    Reply::no_content()
                }
                Err(e) => toxic_error(e),
            })
        }
        ["proxies"]
        | ["populate"]
        | ["reset"]
        | ["version"]
        | ["proxies", _]
        | ["proxies", _, "toxics"]
        | ["proxies", _, "toxics", _] => Reply::error(405, "method not allowed"),
        _ => Reply::error(404, "not found"),
    }
}

fn index(reg: &Registry) -> Reply {
    let all: serde_json::Map<String, Value> = reg
        .list()
        .iter()
        .map(|(name, p)| (name.clone(), proxies::proxy_json(name, p)))
        .collect();
    Reply::json(200, &Value::Object(all))
}

async fn create(reg: &Registry, call: &Call) -> Reply {
    let body: CreateBody = match proxies::parse_object(&call.body) {
        Ok(v) => v,
        Err(reply) => return reply,
    };
    let protocol = match proxies::check_create(&body, Protocol::Tcp) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let _ops = reg.lock_ops().await;
    match proxies::create(reg, body, protocol, call).await {
        Ok(shape) => Reply::json(201, &shape),
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
        Ok(shape) => Reply::json(200, &shape),
        Err(reply) => reply,
    }
}

fn add_toxic(reg: &Registry, call: &Call, proxy: &str) -> Reply {
    with_tcp(reg, proxy, |p| {
        let mut body: Value = match proxies::parse_object(&call.body) {
            Ok(v) => v,
            Err(reply) => return reply,
        };
        // Our extension: `"expires_in"` (or the lease headers); the toxic's shape is unchanged.
        let grant = match leases::take_body_expiry(call, &mut body) {
            Ok(g) => g,
            Err(reply) => return reply,
        };
        if let Err(reply) = leases::admit(reg, &grant) {
            return reply;
        }
        match Toxic::from_json(&body).and_then(|t| p.add_toxic(t)) {
            Ok(t) => {
                reg.leases()
                    .grant(proxy, Item::Toxic(t.name.clone()), &grant);
                reg.journal().record(
                    &call.actor,
                    "toxic.add",
                    Some(proxy),
                    Some(&t.name),
                    t.to_json(),
                );
                Reply::json(200, &t.to_json())
            }
            Err(e) => toxic_error(e),
        }
    })
}

fn update_toxic(reg: &Registry, call: &Call, proxy: &str, name: &str) -> Reply {
    with_tcp(reg, proxy, |p| {
        let mut body: Value = match proxies::parse_object(&call.body) {
            Ok(v) => v,
            Err(reply) => return reply,
        };
        let grant = match leases::take_body_expiry(call, &mut body) {
            Ok(g) => g,
            Err(reply) => return reply,
        };
        let patch: ToxicPatch = match proxies::from_object(body) {
            Ok(v) => v,
            Err(reply) => return reply,
        };
        if let Err(reply) = leases::admit(reg, &grant) {
            return reply;
        }
        match p.update_toxic(name, &patch) {
            Ok(t) => {
                reg.leases()
                    .grant(proxy, Item::Toxic(t.name.clone()), &grant);
                reg.journal().record(
                    &call.actor,
                    "toxic.update",
                    Some(proxy),
                    Some(name),
                    t.to_json(),
                );
                Reply::json(200, &t.to_json())
            }
            Err(e) => toxic_error(e),
        }
    })
}

/// Runs `f` on a TCP proxy; 404 if there is no such proxy, 400 if it is an HTTP one.
fn with_tcp(reg: &Registry, name: &str, f: impl FnOnce(&TcpProxy) -> Reply) -> Reply {
    let not_tcp = |name: &str| {
        format!("toxics apply to tcp proxies; {name} is an http proxy (use /redline/proxies/{name}/faults)")
    };
    proxies::with_tcp(reg, name, not_tcp, f)
}

fn toxic_error(e: ToxicError) -> Reply {
    Reply::error(e.status(), e.to_string())
}
