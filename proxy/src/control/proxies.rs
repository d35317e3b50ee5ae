//! Proxy-level operations both dialects share: create, update, delete, reset, populate, and a
//! proxy's Toxiproxy JSON shape. Each journals what it changed.

use serde::Deserialize;
use serde_json::{json, Value};

use super::journal::Actor;
use super::reply::Reply;
use super::Call;
use crate::fault::FaultSpec;
use crate::lease::Item;
use crate::registry::{Protocol, ProxyHandle, Registry, RegistryError};
use crate::tcp::TcpProxyConfig;
use crate::toxic::Toxic;

/// Where a proxy listens when the request names no address: loopback, any free port.
pub(crate) const DEFAULT_PROXY_LISTEN: &str = "127.0.0.1:0";

/// A proxy-create body: Toxiproxy's fields plus our `protocol`, `faults` and `toxics`.
#[derive(Debug, Deserialize)]
pub(crate) struct CreateBody {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub listen: String,
    #[serde(default)]
    pub upstream: String,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    #[serde(default)]
    pub toxics: Vec<Value>,
    /// HTTP proxies: the cap on open caller connections (default from the open-file limit).
    #[serde(default)]
    pub max_connections: Option<usize>,
}

/// A proxy-update body (every field optional; absent ones keep their value).
#[derive(Debug, Deserialize)]
pub(crate) struct UpdateBody {
    #[serde(default)]
    pub listen: Option<String>,
    #[serde(default)]
    pub upstream: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    /// HTTP proxies: a new cap on open caller connections.
    #[serde(default)]
    pub max_connections: Option<usize>,
}

fn http_only_cap() -> Reply {
    Reply::error(
        400,
        "max_connections applies to http proxies; a tcp proxy has no connection cap",
    )
}

/// Toxiproxy's proxy shape; HTTP proxies add `"protocol": "http"` (or `"http2"`) and have no toxics.
pub(crate) fn proxy_json(name: &str, p: &ProxyHandle) -> Value {
    let toxics: Vec<Value> = match p {
        ProxyHandle::Tcp(t) => t.toxics().iter().map(Toxic::to_json).collect(),
        ProxyHandle::Http(_) => Vec::new(),
    };
    let mut v = json!({
        "name": name,
        "listen": p.listen(),
        "upstream": p.upstream(),
        "enabled": p.enabled(),
        "toxics": toxics,
    });
    if let ProxyHandle::Http(h) = p {
        v["protocol"] = json!(p.protocol().as_str());
        v["faults"] = serde_json::to_value(h.faults()).unwrap_or(Value::Null);
    }
    v
}

/// Runs `f` on the TCP proxy `name`: 404 if there is none, 400 with `not_tcp` (told the
/// proxy's name) if it is an HTTP one.
pub(crate) fn with_tcp(
    reg: &Registry,
    name: &str,
    not_tcp: impl FnOnce(&str) -> String,
    f: impl FnOnce(&crate::tcp::TcpProxy) -> Reply,
) -> Reply {
    match reg.get(name).as_deref() {
        None => Reply::error(404, "proxy not found"),
        Some(ProxyHandle::Tcp(t)) => f(t),
        Some(ProxyHandle::Http(_)) => Reply::error(400, not_tcp(name)),
    }
}

pub(crate) fn bad_body(e: impl std::fmt::Display) -> Reply {
    Reply::error(400, format!("bad request body: {e}"))
}

/// Decodes a JSON object body into `T` (serde alone would also take an array for a struct).
pub(crate) fn parse_object<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Reply> {
    from_object(serde_json::from_slice(body).map_err(bad_body)?)
}

/// Decodes a JSON object into `T`, refusing any other JSON value.
pub(crate) fn from_object<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, Reply> {
    if !value.is_object() {
        return Err(bad_body("expected a JSON object"));
    }
    serde_json::from_value(value).map_err(bad_body)
}

pub(crate) fn registry_error(e: RegistryError) -> Reply {
    match e {
        RegistryError::Exists(_) => Reply::error(409, e.to_string()),
        RegistryError::NotFound(_) => Reply::error(404, e.to_string()),
        RegistryError::Bind { .. } => Reply::error(500, e.to_string()),
    }
}

/// Validates a create body; `default_protocol` differs per dialect (Toxiproxy: tcp).
pub(crate) fn check_create(
    body: &CreateBody,
    default_protocol: Protocol,
) -> Result<Protocol, Reply> {
    if body.name.is_empty() {
        return Err(Reply::error(400, "missing required field: name"));
    }
    if body.upstream.is_empty() {
        return Err(Reply::error(400, "missing required field: upstream"));
    }
    match &body.protocol {
        None => Ok(default_protocol),
        Some(p) => Protocol::parse(p).ok_or_else(|| {
            Reply::error(
                400,
                format!(
                    "bad request body: protocol must be \"tcp\", \"http\" or \"http2\" (alias \"grpc\"), found {p:?}"
                ),
            )
        }),
    }
}

/// Creates (and starts, unless `enabled: false`) a proxy; the caller holds the ops lock. The
/// request's lease headers apply to the faults, toxics and disable it installs.
pub(crate) async fn create(
    reg: &Registry,
    body: CreateBody,
    protocol: Protocol,
    call: &Call,
) -> Result<Value, Reply> {
    let actor = &call.actor;
    super::leases::admit(reg, &call.grant)?;
    let listen = if body.listen.is_empty() {
        DEFAULT_PROXY_LISTEN.to_string()
    } else {
        body.listen.clone()
    };
    let enabled = body.enabled.unwrap_or(true);
    let handle = match protocol {
        Protocol::Tcp => {
            if body.max_connections.is_some() {
                return Err(http_only_cap());
            }
            if !body.faults.is_empty() {
                return Err(Reply::error(
                    400,
                    "faults apply to http proxies; a tcp proxy takes toxics",
                ));
            }
            let mut cfg = TcpProxyConfig::new(&body.name, listen, &body.upstream);
            cfg.enabled = enabled;
            for t in &body.toxics {
                cfg.toxics.push(
                    Toxic::from_json(t).map_err(|e| Reply::error(e.status(), e.to_string()))?,
                );
            }
            reg.add_tcp(cfg).await.map_err(registry_error)?
        }
        Protocol::Http | Protocol::Http2 => {
            if !body.toxics.is_empty() {
                return Err(Reply::error(
                    400,
                    "toxics apply to tcp proxies; an http proxy takes faults",
                ));
            }
            let mut faults = body.faults.clone();
            let http2 = protocol == Protocol::Http2;
            for f in &mut faults {
                f.validate().map_err(|e| Reply::error(400, e.to_string()))?;
                f.check_protocol(http2)
                    .map_err(|e| Reply::error(400, e.to_string()))?;
            }
            let cap = body.max_connections;
            let h = reg
                .add_http(&body.name, &listen, &body.upstream, |cfg| {
                    cfg.http2 = http2;
                    if let Some(n) = cap {
                        cfg.max_connections = n.max(1);
                    }
                })
                .await
                .map_err(registry_error)?;
            if let ProxyHandle::Http(p) = &*h {
                for f in faults {
                    if let Err(e) = p.add_fault(f) {
                        let _ = reg.remove(&body.name).await;
                        return Err(Reply::error(400, e.to_string()));
                    }
                }
                p.set_enabled(enabled);
            }
            h
        }
    };
    let leases = reg.leases();
    let name = &body.name;
    match &*handle {
        ProxyHandle::Http(h) => h
            .faults()
            .into_iter()
            .for_each(|f| leases.grant(name, Item::Fault(f.name), &call.grant)),
        ProxyHandle::Tcp(t) => t
            .toxics()
            .into_iter()
            .for_each(|x| leases.grant(name, Item::Toxic(x.name), &call.grant)),
    }
    if !enabled {
        leases.grant(name, Item::Disabled, &call.grant);
    }
    let shape = proxy_json(&body.name, &handle);
    reg.journal()
        .record(actor, "proxy.create", Some(&body.name), None, shape.clone());
    Ok(shape)
}

/// Applies a partial update as Toxiproxy does: a new listen or upstream restarts the proxy
/// (dropping its connections), then `enabled` is applied.
pub(crate) async fn update(
    reg: &Registry,
    name: &str,
    body: UpdateBody,
    call: &Call,
) -> Result<Value, Reply> {
    let actor = &call.actor;
    let p = reg
        .get(name)
        .ok_or_else(|| Reply::error(404, "proxy not found"))?;
    if body.enabled == Some(false) {
        super::leases::admit(reg, &call.grant)?;
    }
    if let Some(n) = body.max_connections {
        match &*p {
            ProxyHandle::Http(h) => h.set_max_connections(n),
            ProxyHandle::Tcp(_) => return Err(http_only_cap()),
        }
    }
    let enabled = body.enabled.unwrap_or_else(|| p.enabled());
    if let Some(listen) = body.listen.filter(|l| *l != p.listen()) {
        match &*p {
            ProxyHandle::Tcp(t) => {
                t.set_enabled(false)
                    .await
                    .map_err(|e| Reply::error(500, e.to_string()))?;
                t.set_listen(listen)
                    .await
                    .map_err(|e| Reply::error(500, e.to_string()))?;
            }
            ProxyHandle::Http(_) => {
                return Err(Reply::error(
                    400,
                    "an http proxy cannot change its listen address; delete and create it",
                ));
            }
        }
    }
    if let Some(upstream) = body.upstream.filter(|u| *u != p.upstream()) {
        p.set_upstream(upstream);
    }
    p.set_enabled(enabled)
        .await
        .map_err(|e| Reply::error(500, format!("cannot listen on {}: {e}", p.listen())))?;
    match body.enabled {
        Some(false) => reg.leases().grant(name, Item::Disabled, &call.grant),
        Some(true) => reg.leases().forget(name, &Item::Disabled),
        None => {}
    }
    let shape = proxy_json(name, &p);
    reg.journal()
        .record(actor, "proxy.update", Some(name), None, shape.clone());
    Ok(shape)
}

pub(crate) async fn delete(reg: &Registry, name: &str, actor: &Actor) -> Reply {
    match reg.remove(name).await {
        Ok(()) => {
            reg.journal()
                .record(actor, "proxy.delete", Some(name), None, Value::Null);
            Reply::no_content()
        }
        Err(e) => registry_error(e),
    }
}

/// Re-enables every proxy and removes every toxic and fault: clean passthrough at once.
pub(crate) async fn reset(reg: &Registry, actor: &Actor) -> Reply {
    for (name, p) in reg.list() {
        if let Err(e) = p.set_enabled(true).await {
            return Reply::error(
                500,
                format!("proxy {name}: cannot listen on {}: {e}", p.listen()),
            );
        }
        p.clear();
    }
    reg.leases().clear_items();
    reg.journal()
        .record(actor, "reset", None, None, Value::Null);
    Reply::no_content()
}

/// Creates or replaces the listed proxies (kept as they are when listen and upstream match).
/// The whole list is validated before anything changes.
pub(crate) async fn populate(reg: &Registry, call: &Call) -> Reply {
    let (body, actor) = (&call.body[..], &call.actor);
    let items: Vec<Value> = match serde_json::from_slice(body) {
        Ok(l) => l,
        Err(e) => return bad_body(e),
    };
    let mut list: Vec<CreateBody> = Vec::with_capacity(items.len());
    for item in items {
        match from_object(item) {
            Ok(b) => list.push(b),
            Err(reply) => return reply,
        }
    }
    let mut protocols = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        if list[..i].iter().any(|o| o.name == item.name) {
            return Reply::error(400, format!("duplicate proxy name {:?}", item.name));
        }
        match check_create(item, Protocol::Tcp) {
            Ok(p) => protocols.push(p),
            Err(_) => {
                let field = if item.name.is_empty() {
                    "name"
                } else {
                    "upstream"
                };
                return Reply::error(
                    400,
                    format!("missing required field: {field} at proxy {}", i + 1),
                );
            }
        }
    }
    let _ops = reg.lock_ops().await;
    let mut done = Vec::new();
    for (item, protocol) in list.into_iter().zip(protocols) {
        if let Some(existing) = reg.get(&item.name) {
            let same_listen = item.listen.is_empty() || item.listen == existing.listen();
            if same_listen
                && item.upstream == existing.upstream()
                && existing.protocol() == protocol
            {
                done.push(proxy_json(&item.name, &existing));
                continue;
            }
            let _ = reg.remove(&item.name).await;
            let detail = json!({"replaced_by_populate": true});
            reg.journal()
                .record(actor, "proxy.delete", Some(&item.name), None, detail);
        }
        match create(reg, item, protocol, call).await {
            Ok(v) => done.push(v),
            Err(reply) => {
                let status = reply.status();
                let error = reply.message().unwrap_or("populate failed").to_string();
                return Reply::json(
                    status,
                    &json!({"error": error, "status": status, "proxies": done}),
                );
            }
        }
    }
    Reply::json(201, &json!({"proxies": done}))
}
