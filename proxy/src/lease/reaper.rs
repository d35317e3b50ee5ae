//! The task that removes what a lease no longer covers: every 100 ms it takes the due items out
//! of the registry's `Leases`, removes them from their proxies, journals each removal with actor
//! `lease-expired`, and prints one line per owner whose lease lapsed (one per ended item).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{Due, Item, Why};
use crate::control::journal::Actor;
use crate::registry::{ProxyHandle, Registry};

/// The journal's actor for removals the proxy made by itself.
pub const ACTOR: &str = "lease-expired";

/// How often due items are looked for: the removal is at most this late.
const TICK: Duration = Duration::from_millis(100);

/// Runs until `stop` turns true (or its sender is dropped).
pub fn spawn(reg: Arc<Registry>, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                changed = stop.changed() => if changed.is_err() || *stop.borrow() { return },
            }
            let due = reg.leases().take_due(Instant::now());
            if !due.is_empty() {
                reap(&reg, due).await;
            }
        }
    })
}

/// Removes `due` from the proxies; returns the lines it printed.
pub async fn reap(reg: &Registry, due: Vec<Due>) -> Vec<String> {
    let actor = Actor {
        name: ACTOR.to_string(),
        peer: None,
    };
    let mut lapsed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut lines = Vec::new();
    for d in due {
        let Some(handle) = reg.get(&d.proxy) else {
            continue;
        };
        let Some(action) = remove(&handle, &d.item).await else {
            continue;
        };
        let reason = match d.why {
            Why::Ended => "its end time passed",
            Why::Lapsed => "its owner's lease was not renewed",
        };
        let mut detail = json!({"owner": d.owner, "reason": reason});
        if d.item == Item::Disabled {
            detail["enabled"] = json!(true);
        }
        reg.journal()
            .record(&actor, action, Some(&d.proxy), d.item.name(), detail);
        let what = describe(&d.proxy, &d.item);
        match (d.why, &d.owner) {
            (Why::Lapsed, Some(owner)) => lapsed.entry(owner.clone()).or_default().push(what),
            _ => lines.push(format!(
                "redline proxy: {ACTOR}: removed {what}: {reason}{}",
                d.owner
                    .as_deref()
                    .map(|o| format!(" (owner {o})"))
                    .unwrap_or_default()
            )),
        }
    }
    for (owner, items) in lapsed {
        lines.push(format!(
            "redline proxy: {ACTOR}: {owner} stopped renewing its lease; removed its {}",
            items.join(", ")
        ));
    }
    for l in &lines {
        println!("{l}");
    }
    lines
}

fn describe(proxy: &str, item: &Item) -> String {
    match item {
        Item::Fault(n) => format!("fault {n} on proxy {proxy}"),
        Item::Toxic(n) => format!("toxic {n} on proxy {proxy}"),
        Item::Disabled => format!("disable of proxy {proxy} (enabled again)"),
    }
}

/// Removes one item; the journal action, or None when it was already gone.
async fn remove(handle: &ProxyHandle, item: &Item) -> Option<&'static str> {
    match (handle, item) {
        (ProxyHandle::Http(h), Item::Fault(n)) => h.remove_fault(n).then_some("fault.remove"),
        (ProxyHandle::Tcp(t), Item::Toxic(n)) => t.remove_toxic(n).ok().map(|_| "toxic.remove"),
        (_, Item::Disabled) if !handle.enabled() => {
            handle.set_enabled(true).await.ok().map(|_| "proxy.update")
        }
        _ => None,
    }
}
