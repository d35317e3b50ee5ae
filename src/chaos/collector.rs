//! Reads the proxies while the run goes: every 250 ms the change journal (faults made by hand)
//! and each HTTP dependency's log (before the proxy's ring forgets it), and each TCP proxy's
//! connection counters and connection log. Ends with one last read after the load has settled.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::watch;

use super::book::FaultBook;
use super::conn_report::ConnCollector;
use super::dependency_report::LogCollector;
use super::live::DepSeconds;
use super::proxies::{tcp_connections, Endpoint, Proxies};
use crate::result::{AppliedFault, DependencyReport, DependencySecond};
use crate::scenario::Protocol;

const TICK: Duration = Duration::from_millis(250);

/// What was read, per dependency (by index in `Proxies::deps`).
pub struct Collected {
    logs: Vec<Option<LogCollector>>,
    tcp: Vec<TcpSeconds>,
    conns: Vec<Option<ConnCollector>>,
    pub notes: Vec<String>,
}

/// Connections accepted per second by a TCP proxy, from counter deltas.
#[derive(Default)]
struct TcpSeconds {
    last: u64,
    seconds: Vec<DependencySecond>,
}

struct State {
    logs: Vec<Option<LogCollector>>,
    tcp: Vec<TcpSeconds>,
    conns: Vec<Option<ConnCollector>>,
    local_seq: u64,
    /// Journal cursor per attached control API.
    remote_seq: BTreeMap<String, u64>,
    notes: Vec<String>,
}

/// Reads until `done`, then once more; returns everything read.
pub async fn run(
    proxies: Arc<Proxies>,
    book: FaultBook,
    origin: Instant,
    mut done: watch::Receiver<bool>,
    live: watch::Sender<DepSeconds>,
) -> Collected {
    let mut st = State {
        logs: proxies
            .deps
            .iter()
            .map(|d| {
                d.protocol
                    .is_http()
                    .then(|| LogCollector::starting_at(d.log_from))
            })
            .collect(),
        tcp: proxies.deps.iter().map(|_| TcpSeconds::default()).collect(),
        conns: proxies
            .deps
            .iter()
            .map(|d| (d.protocol == Protocol::Tcp).then(|| ConnCollector::starting_at(d.log_from)))
            .collect(),
        local_seq: 0,
        remote_seq: BTreeMap::new(),
        notes: Vec::new(),
    };
    loop {
        let finished = tokio::select! {
            _ = tokio::time::sleep(TICK) => false,
            _ = done.wait_for(|d| *d) => true,
        };
        read_once(&proxies, &book, origin, &mut st).await;
        let _ = live.send(recent(&proxies, &st));
        if finished {
            break;
        }
    }
    Collected {
        logs: st.logs,
        tcp: st.tcp,
        conns: st.conns,
        notes: st.notes,
    }
}

async fn read_once(proxies: &Proxies, book: &FaultBook, origin: Instant, st: &mut State) {
    let dep_of = |proxy: &str| -> String {
        proxies
            .deps
            .iter()
            .find(|d| match &d.endpoint {
                Endpoint::Local(_) => d.name == proxy,
                Endpoint::Remote { proxy: p, .. } => p == proxy,
            })
            .map_or_else(|| proxy.to_string(), |d| d.name.clone())
    };
    for c in proxies.local_journal(st.local_seq) {
        st.local_seq = c.seq + 1;
        super::journal::record(book, &c, &dep_of);
    }
    for d in &proxies.deps {
        let Endpoint::Remote { control, .. } = &d.endpoint else {
            continue;
        };
        let since = st
            .remote_seq
            .get(&control.authority)
            .copied()
            .unwrap_or(d.journal_from);
        if let Ok((changes, next)) = proxies.remote_journal(d, since).await {
            for c in &changes {
                super::journal::record(book, c, &dep_of);
            }
            st.remote_seq.insert(control.authority.clone(), next);
        }
    }
    let faults = book.snapshot();
    for (i, d) in proxies.deps.iter().enumerate() {
        if let Some(log) = st.logs[i].as_mut() {
            match proxies.log_since(d, log.next_seq).await {
                Ok(Some(entries)) => log.take(entries, &d.name, &faults),
                Ok(None) => {}
                Err(e) => {
                    let note = format!("dependency {}: log not readable: {e}", d.name);
                    if !st.notes.contains(&note) {
                        st.notes.push(note);
                    }
                }
            }
        } else if let Some(n) = proxies.stats(d).await.as_ref().and_then(tcp_connections) {
            let t = &mut st.tcp[i];
            let second = origin.elapsed().as_secs() as usize;
            while t.seconds.len() <= second {
                let t_s = t.seconds.len() as u32;
                t.seconds.push(DependencySecond {
                    t_s,
                    ..Default::default()
                });
            }
            t.seconds[second].requests += n.saturating_sub(t.last);
            t.seconds[second].ok += n.saturating_sub(t.last);
            t.last = n;
        }
        if let Some(conns) = st.conns[i].as_mut() {
            match proxies.connections_since(d, conns.next_seq).await {
                Ok(Some(entries)) => conns.take(entries),
                Ok(None) => {}
                Err(e) => {
                    let note = format!("dependency {}: connection log not readable: {e}", d.name);
                    if !st.notes.contains(&note) {
                        st.notes.push(note);
                    }
                }
            }
        }
    }
}

/// The last few seconds per dependency, for the live view.
fn recent(proxies: &Proxies, st: &State) -> DepSeconds {
    let mut out = DepSeconds::new();
    for (i, d) in proxies.deps.iter().enumerate() {
        let seconds: Vec<DependencySecond> = match &st.logs[i] {
            Some(log) => (0..log.seconds_len())
                .rev()
                .take(4)
                .filter_map(|s| log.second(s).cloned())
                .collect(),
            None => st.tcp[i].seconds.iter().rev().take(4).cloned().collect(),
        };
        out.insert(d.name.clone(), seconds);
    }
    out
}

impl Collected {
    /// One report per dependency; `faults` are the run's final fault windows.
    pub async fn reports(
        self,
        proxies: &Proxies,
        faults: &[AppliedFault],
    ) -> BTreeMap<String, DependencyReport> {
        let mut out = BTreeMap::new();
        let sides = self.logs.into_iter().zip(self.tcp).zip(self.conns);
        for (d, ((log, tcp), conns)) in proxies.deps.iter().zip(sides) {
            let report = match log {
                Some(log) => {
                    let kinds = proxies.summary(d).await.map(|s| s.by_fault_kind);
                    let mut r = log.report(&d.listen, &d.upstream, &d.name, faults, kinds);
                    r.connection_cap = super::cap_report::read(proxies, d).await;
                    r
                }
                None => {
                    let mut r = tcp_report(
                        d.listen.clone(),
                        d.upstream.clone(),
                        tcp,
                        proxies.stats(d).await,
                    );
                    if let Some(c) = conns {
                        let (connections, gave_up) = c.report();
                        r.connections = Some(connections);
                        r.gave_up_ms = gave_up;
                    }
                    r
                }
            };
            out.insert(d.name.clone(), report);
        }
        out
    }
}

fn tcp_report(
    listen: String,
    upstream: String,
    t: TcpSeconds,
    stats: Option<Value>,
) -> DependencyReport {
    let stats = stats.unwrap_or(Value::Null);
    let count = |k: &str| stats.get(k).and_then(Value::as_u64).unwrap_or(0);
    let mut outcomes = BTreeMap::new();
    for k in ["upstream_errors", "refused"] {
        if count(k) > 0 {
            outcomes.insert(k.to_string(), count(k));
        }
    }
    let faults_injected = stats
        .get("toxics_applied")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| Some((p.get(0)?.as_str()?.to_string(), p.get(1)?.as_u64()?)))
                .collect()
        })
        .unwrap_or_default();
    DependencyReport {
        listen,
        upstream,
        protocol: "tcp".into(),
        requests: count("connections"),
        per_second: t.seconds.into_iter().filter(|s| s.requests > 0).collect(),
        outcomes,
        faults_injected,
        gave_up_ms: None,
        log: Vec::new(),
        log_truncated: false,
        connections: None,
        connection_cap: None,
    }
}
