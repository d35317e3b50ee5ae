//! The run's fault proxies: started in-process on the run's clock (`listen` + `upstream`), or
//! attached to a running `redline proxy` over its control API (`control` + `proxy`). One API to
//! apply and remove a planned fault, read the dependency-side log and the change journal, and
//! put every proxy back to clean passthrough.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use redline_proxy::control::journal::Change;
use redline_proxy::log::{LogEntry, LogSummary};
use redline_proxy::registry::{ProxyHandle, Registry};
use redline_proxy::tcp::{ConnEntry, TcpProxyConfig};
use serde_json::{json, Value};

use super::fault_spec::Action;
use super::installed::Installed;
use super::remote::{seg, Control, RemoteError, ACTOR};
use crate::scenario::{DependencyProxy, Plan, Protocol};

/// Where a dependency's proxy lives.
pub enum Endpoint {
    Local(Arc<ProxyHandle>),
    Remote { control: Control, proxy: String },
}

/// One `[[dependency]]` with its running proxy.
pub struct Dep {
    pub name: String,
    pub protocol: Protocol,
    pub listen: String,
    pub upstream: String,
    pub endpoint: Endpoint,
    /// Add to a remote proxy's `t_ms` to get the run's clock (0 for local proxies).
    pub offset_ms: f64,
    /// First journal entry of an attached proxy's process that belongs to this run.
    pub journal_from: u64,
    /// First log entry (connection log entry for TCP) of an attached proxy that belongs to this
    /// run, and (HTTP) its injected
    /// faults per kind counted before the run (the proxy's summary covers its whole life).
    pub log_from: u64,
    pub faults_before: BTreeMap<String, u64>,
    /// An attached HTTP proxy's connections refused and shed at its cap before the run.
    pub refused_before: u64,
    pub shed_before: u64,
}

/// Every proxy of the run, and the registry the in-process ones live in (served by the
/// control API when one is asked for).
pub struct Proxies {
    pub registry: Arc<Registry>,
    pub deps: Vec<Dep>,
    /// What the run has installed on attached proxies (shared with the Ctrl-C handler).
    pub installed: Installed,
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("dependency {dependency}: cannot start its proxy: {why}")]
    Start { dependency: String, why: String },
    #[error("dependency {dependency}: cannot attach to proxy {proxy:?}: {why}")]
    Attach {
        dependency: String,
        proxy: String,
        why: String,
    },
}

fn unix_ms(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

impl Proxies {
    /// Starts (or attaches to) every dependency's proxy; `origin`/`started_at` are t = 0 of the
    /// run; `installed` records the faults this run puts on attached proxies.
    pub async fn start(
        plan: &Plan,
        origin: Instant,
        started_at: SystemTime,
        installed: Installed,
    ) -> Result<Proxies, ProxyError> {
        let registry = Arc::new(Registry::new(plan.seed, origin));
        let mut proxies = Proxies {
            registry: registry.clone(),
            deps: Vec::new(),
            installed,
        };
        for d in &plan.dependencies {
            let dep = match &d.attach {
                DependencyProxy::Local { listen, upstream } => {
                    let handle =
                        start_local(&registry, &d.name, d.protocol, listen, upstream).await;
                    let handle = match handle {
                        Ok(h) => h,
                        Err(why) => {
                            proxies.stop().await;
                            return Err(ProxyError::Start {
                                dependency: d.name.clone(),
                                why,
                            });
                        }
                    };
                    Dep {
                        name: d.name.clone(),
                        protocol: d.protocol,
                        listen: handle.listen(),
                        upstream: handle.upstream(),
                        endpoint: Endpoint::Local(handle),
                        offset_ms: 0.0,
                        journal_from: 0,
                        log_from: 0,
                        faults_before: BTreeMap::new(),
                        refused_before: 0,
                        shed_before: 0,
                    }
                }
                DependencyProxy::Attach { control, proxy } => {
                    match attach(&d.name, d.protocol, control, proxy, started_at).await {
                        Ok(dep) => dep,
                        Err(why) => {
                            proxies.stop().await;
                            return Err(ProxyError::Attach {
                                dependency: d.name.clone(),
                                proxy: proxy.clone(),
                                why,
                            });
                        }
                    }
                }
            };
            proxies.deps.push(dep);
        }
        Ok(proxies)
    }

    pub fn dep(&self, name: &str) -> Option<&Dep> {
        self.deps.iter().find(|d| d.name == name)
    }

    /// Installs a planned fault's action on `dep`'s proxy. On an attached proxy the action is
    /// recorded in `installed` first, so nothing sent can be forgotten at teardown, and it is
    /// installed under the run's lease, ending by itself after `expires_in` (its scheduled end).
    pub async fn apply(
        &self,
        dep: &Dep,
        action: &Action,
        expires_in: Option<std::time::Duration>,
    ) -> Result<(), String> {
        let (control, proxy) = match &dep.endpoint {
            Endpoint::Local(h) => return apply_local(h, action).await,
            Endpoint::Remote { control, proxy } => (control, proxy),
        };
        // One call per toxic, each recorded on its own: a refused one is not installed.
        let calls: Vec<(Action, &str, String, Value)> = match action {
            Action::Http(spec) => vec![(
                action.clone(),
                "POST",
                format!("/redline/proxies/{}/faults", seg(proxy)),
                serde_json::to_value(spec).map_err(|e| e.to_string())?,
            )],
            Action::Toxics(toxics) => toxics
                .iter()
                .map(|t| {
                    (
                        Action::Toxics(vec![t.clone()]),
                        "POST",
                        format!("/proxies/{}/toxics", seg(proxy)),
                        t.to_json(),
                    )
                })
                .collect(),
            Action::Disable => vec![(
                Action::Disable,
                "POST",
                format!("/proxies/{}", seg(proxy)),
                json!({"enabled": false}),
            )],
        };
        let headers = super::lease::install_headers(self.installed.run_id(), expires_in);
        for (one, method, path, body) in calls {
            let Some(_sending) = self.installed.record(&dep.name, control, proxy, &one) else {
                return Err("the run is ending: not applied".into());
            };
            match control
                .call_with(method, &path, Some(&body), &headers)
                .await
            {
                Ok(_) => {}
                Err(e @ RemoteError::Status { .. }) => {
                    // The proxy answered and refused: nothing was installed.
                    self.installed.forget(control, proxy, &one);
                    return Err(e.to_string());
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    }

    /// Undoes a planned fault's action (a fault already gone is not an error).
    pub async fn remove(&self, dep: &Dep, action: &Action) -> Result<(), String> {
        let done = remove_action(dep, action).await;
        if let (Ok(()), Endpoint::Remote { control, proxy }) = (&done, &dep.endpoint) {
            self.installed.forget(control, proxy, action);
        }
        done
    }

    /// Clean passthrough everywhere: every fault and toxic removed, every proxy listening.
    /// Returns the problems met (attached proxies that could not be reached).
    pub async fn clear_all(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for d in &self.deps {
            match (clear(d).await, &d.endpoint) {
                (Err(e), _) => problems.push(format!(
                    "dependency {}: could not remove its faults: {e}",
                    d.name
                )),
                (Ok(()), Endpoint::Remote { control, proxy }) => {
                    self.installed.forget_proxy(control, proxy)
                }
                (Ok(()), Endpoint::Local(_)) => {}
            }
        }
        problems
    }

    /// Stops the in-process proxies (attached ones keep running, cleared).
    pub async fn stop(&self) {
        self.registry.stop_all().await;
    }

    /// New log entries of an HTTP dependency, on the run's clock; `None` for TCP ones.
    pub async fn log_since(&self, dep: &Dep, seq: u64) -> Result<Option<Vec<LogEntry>>, String> {
        match &dep.endpoint {
            Endpoint::Local(h) => Ok(match &**h {
                ProxyHandle::Http(p) => Some(p.log_since(seq)),
                ProxyHandle::Tcp(_) => None,
            }),
            Endpoint::Remote { .. } if dep.protocol == Protocol::Tcp => Ok(None),
            Endpoint::Remote { control, proxy } => {
                let path = format!("/redline/proxies/{}/log?since={seq}&limit=5000", seg(proxy));
                let v = control
                    .call("GET", &path, None)
                    .await
                    .map_err(|e| e.to_string())?;
                let mut entries: Vec<LogEntry> =
                    serde_json::from_value(v["entries"].clone()).map_err(|e| e.to_string())?;
                for e in &mut entries {
                    e.t_ms += dep.offset_ms;
                }
                Ok(Some(entries))
            }
        }
    }

    /// Connections of a TCP dependency that ended since `seq`, on the run's clock; `None` for
    /// HTTP ones.
    pub async fn connections_since(
        &self,
        dep: &Dep,
        seq: u64,
    ) -> Result<Option<Vec<ConnEntry>>, String> {
        match &dep.endpoint {
            Endpoint::Local(h) => Ok(match &**h {
                ProxyHandle::Tcp(p) => Some(p.connections_since(seq)),
                ProxyHandle::Http(_) => None,
            }),
            Endpoint::Remote { .. } if dep.protocol.is_http() => Ok(None),
            Endpoint::Remote { control, proxy } => {
                let path = format!(
                    "/redline/proxies/{}/connections?since={seq}&limit=5000",
                    seg(proxy)
                );
                let v = control
                    .call("GET", &path, None)
                    .await
                    .map_err(|e| e.to_string())?;
                let mut entries: Vec<ConnEntry> =
                    serde_json::from_value(v["entries"].clone()).map_err(|e| e.to_string())?;
                for e in &mut entries {
                    e.t_ms += dep.offset_ms;
                }
                Ok(Some(entries))
            }
        }
    }

    /// The proxy's own running aggregates (HTTP), seconds shifted to the run's clock.
    pub async fn summary(&self, dep: &Dep) -> Option<LogSummary> {
        match &dep.endpoint {
            Endpoint::Local(h) => match &**h {
                ProxyHandle::Http(p) => Some(p.log_summary()),
                ProxyHandle::Tcp(_) => None,
            },
            Endpoint::Remote { .. } if dep.protocol == Protocol::Tcp => None,
            Endpoint::Remote { control, proxy } => {
                let path = format!("/redline/proxies/{}/log/summary", seg(proxy));
                let v = control.call("GET", &path, None).await.ok()?;
                let mut summary: LogSummary = serde_json::from_value(v).ok()?;
                for (kind, n) in summary.by_fault_kind.iter_mut() {
                    *n = n.saturating_sub(dep.faults_before.get(kind).copied().unwrap_or(0));
                }
                summary.by_fault_kind.retain(|_, n| *n > 0);
                Some(summary)
            }
        }
    }

    /// Counters of a dependency's proxy (connections and bytes for TCP ones).
    pub async fn stats(&self, dep: &Dep) -> Option<Value> {
        match &dep.endpoint {
            Endpoint::Local(h) => serde_json::to_value(h.stats()).ok(),
            Endpoint::Remote { control, proxy } => control
                .call(
                    "GET",
                    &format!("/redline/proxies/{}/stats", seg(proxy)),
                    None,
                )
                .await
                .ok(),
        }
    }

    /// Journal changes with `seq >= since` of the in-process registry, on the run's clock.
    pub fn local_journal(&self, since: u64) -> Vec<Change> {
        self.registry.journal().since(since)
    }

    /// Journal changes of an attached proxy's process, shifted to the run's clock.
    pub async fn remote_journal(
        &self,
        dep: &Dep,
        since: u64,
    ) -> Result<(Vec<Change>, u64), String> {
        let Endpoint::Remote { control, .. } = &dep.endpoint else {
            return Ok((Vec::new(), since));
        };
        let v = control
            .call("GET", &format!("/redline/journal?since={since}"), None)
            .await
            .map_err(|e| e.to_string())?;
        let mut changes: Vec<Change> =
            serde_json::from_value(v["changes"].clone()).map_err(|e| e.to_string())?;
        for c in &mut changes {
            c.t_ms += dep.offset_ms;
        }
        Ok((changes, v["next"].as_u64().unwrap_or(since)))
    }
}

/// A stats snapshot's TCP connection count, if it is a TCP proxy's.
pub fn tcp_connections(stats: &Value) -> Option<u64> {
    stats.get("bytes_downstream")?;
    stats.get("connections")?.as_u64()
}

async fn start_local(
    reg: &Registry,
    name: &str,
    protocol: Protocol,
    listen: &str,
    upstream: &str,
) -> Result<Arc<ProxyHandle>, String> {
    let _ops = reg.lock_ops().await;
    let started = match protocol {
        Protocol::Http | Protocol::Http2 => {
            let http2 = protocol == Protocol::Http2;
            reg.add_http(name, listen, upstream, |c| c.http2 = http2)
                .await
        }
        Protocol::Tcp => {
            reg.add_tcp(TcpProxyConfig::new(name, listen, upstream))
                .await
        }
    };
    started.map_err(|e| e.to_string())
}

async fn attach(
    name: &str,
    protocol: Protocol,
    url: &str,
    proxy: &str,
    started_at: SystemTime,
) -> Result<Dep, String> {
    let control = Control::new(url);
    let path = format!("/redline/proxies/{}", seg(proxy));
    // Enabling is a journaled change: its journal entry tells us the remote clock's origin.
    let shape = control
        .call("PATCH", &path, Some(&json!({"enabled": true})))
        .await
        .map_err(|e| e.to_string())?;
    let remote_protocol = shape["protocol"].as_str().unwrap_or("tcp");
    let wanted = protocol.as_str();
    if remote_protocol != wanted {
        return Err(format!(
            "it is a {remote_protocol} proxy, the scenario says protocol = {wanted:?}"
        ));
    }
    let dep = Dep {
        name: name.to_string(),
        protocol,
        listen: shape["listen"].as_str().unwrap_or_default().to_string(),
        upstream: shape["upstream"].as_str().unwrap_or_default().to_string(),
        endpoint: Endpoint::Remote {
            control: control.clone(),
            proxy: proxy.to_string(),
        },
        offset_ms: 0.0,
        journal_from: 0,
        log_from: 0,
        faults_before: BTreeMap::new(),
        refused_before: 0,
        shed_before: 0,
    };
    clear(&dep).await?;
    let stats = control
        .call(
            "GET",
            &format!("/redline/proxies/{}/stats", seg(proxy)),
            None,
        )
        .await
        .unwrap_or_default();
    let count = |k: &str| stats[k].as_u64().unwrap_or(0);
    let (refused_before, shed_before) = (count("connections_rejected"), count("connections_shed"));
    let journal = control
        .call("GET", "/redline/journal", None)
        .await
        .map_err(|e| e.to_string())?;
    let changes: Vec<Change> =
        serde_json::from_value(journal["changes"].clone()).map_err(|e| e.to_string())?;
    let ours = changes
        .iter()
        .rev()
        .find(|c| c.actor == ACTOR && c.proxy.as_deref() == Some(proxy));
    let offset_ms = ours.map_or(0.0, |c| (c.unix_ms as f64 - c.t_ms) - unix_ms(started_at));
    // Changes made before the run (and the run's own clearing) are not the run's faults.
    let journal_from = journal["next"].as_u64().unwrap_or(0);
    let (log_from, faults_before) = match protocol {
        Protocol::Tcp => {
            // Connections that ended before the run are not the run's.
            let path = format!("/redline/proxies/{}/connections/summary", seg(proxy));
            let total = control
                .call("GET", &path, None)
                .await
                .ok()
                .and_then(|v| v["total"].as_u64())
                .unwrap_or(0);
            (total, BTreeMap::new())
        }
        Protocol::Http | Protocol::Http2 => {
            let path = format!("/redline/proxies/{}/log/summary", seg(proxy));
            let summary: LogSummary = control
                .call("GET", &path, None)
                .await
                .ok()
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default();
            (summary.total, summary.by_fault_kind)
        }
    };
    Ok(Dep {
        offset_ms,
        journal_from,
        log_from,
        faults_before,
        refused_before,
        shed_before,
        ..dep
    })
}

async fn clear(d: &Dep) -> Result<(), String> {
    match &d.endpoint {
        Endpoint::Local(h) => {
            h.clear();
            h.set_enabled(true).await.map_err(|e| e.to_string())
        }
        Endpoint::Remote { control, proxy } => {
            let p = seg(proxy);
            control
                .call(
                    "POST",
                    &format!("/proxies/{p}"),
                    Some(&json!({"enabled": true})),
                )
                .await
                .map_err(|e| e.to_string())?;
            if d.protocol.is_http() {
                return control
                    .call("DELETE", &format!("/redline/proxies/{p}/faults"), None)
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string());
            }
            let toxics = control
                .call("GET", &format!("/proxies/{p}/toxics"), None)
                .await
                .map_err(|e| e.to_string())?;
            for t in toxics.as_array().into_iter().flatten() {
                if let Some(n) = t["name"].as_str() {
                    gone_ok(
                        control
                            .call("DELETE", &format!("/proxies/{p}/toxics/{}", seg(n)), None)
                            .await,
                    )?;
                }
            }
            Ok(())
        }
    }
}

async fn remove_action(dep: &Dep, action: &Action) -> Result<(), String> {
    match (&dep.endpoint, action) {
        (Endpoint::Local(h), _) => {
            remove_local(h, action).await;
            Ok(())
        }
        (Endpoint::Remote { control, proxy }, Action::Http(spec)) => {
            let path = format!("/redline/proxies/{}/faults/{}", seg(proxy), seg(&spec.name));
            gone_ok(control.call("DELETE", &path, None).await)
        }
        (Endpoint::Remote { control, proxy }, Action::Toxics(toxics)) => {
            for t in toxics {
                let path = format!("/proxies/{}/toxics/{}", seg(proxy), seg(&t.name));
                gone_ok(control.call("DELETE", &path, None).await)?;
            }
            Ok(())
        }
        (Endpoint::Remote { control, proxy }, Action::Disable) => {
            let body = json!({"enabled": true});
            control
                .call("POST", &format!("/proxies/{}", seg(proxy)), Some(&body))
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        }
    }
}

fn gone_ok(r: Result<Value, super::remote::RemoteError>) -> Result<(), String> {
    match r {
        Ok(_) => Ok(()),
        Err(super::remote::RemoteError::Status { status: 404, .. }) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

async fn apply_local(h: &ProxyHandle, action: &Action) -> Result<(), String> {
    match (h, action) {
        (ProxyHandle::Http(p), Action::Http(spec)) => {
            p.add_fault((**spec).clone()).map_err(|e| e.to_string())
        }
        (ProxyHandle::Tcp(p), Action::Toxics(toxics)) => {
            for t in toxics {
                p.add_toxic(t.clone()).map_err(|e| e.to_string())?;
            }
            Ok(())
        }
        (ProxyHandle::Tcp(p), Action::Disable) => {
            p.set_enabled(false).await.map_err(|e| e.to_string())
        }
        _ => Err("fault does not fit the proxy's protocol".into()),
    }
}

async fn remove_local(h: &ProxyHandle, action: &Action) {
    match (h, action) {
        (ProxyHandle::Http(p), Action::Http(spec)) => {
            p.remove_fault(&spec.name);
        }
        (ProxyHandle::Tcp(p), Action::Toxics(toxics)) => {
            for t in toxics {
                let _ = p.remove_toxic(&t.name);
            }
        }
        (ProxyHandle::Tcp(p), Action::Disable) => {
            let _ = p.set_enabled(true).await;
        }
        _ => {}
    }
}
