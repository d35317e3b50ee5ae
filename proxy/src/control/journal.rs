//! The change journal: every change made to proxies over the control API (who, when, what),
//! kept in a bounded ring so a chaos run can copy it into result.json.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One change, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// From 0 in recording order; gaps show entries dropped from the ring.
    pub seq: u64,
    /// Milliseconds since the registry's clock origin (the run start in a chaos run).
    pub t_ms: f64,
    /// Wall-clock time, milliseconds since the Unix epoch.
    pub unix_ms: u64,
    /// Who made it: the `X-Redline-Actor` header if sent, else the peer address.
    pub actor: String,
    /// Peer address of the API client.
    #[serde(default)]
    pub peer: Option<String>,
    /// What was done, e.g. `fault.add`, `toxic.remove`, `proxy.update`, `reset`.
    pub action: String,
    /// Proxy concerned, if one.
    #[serde(default)]
    pub proxy: Option<String>,
    /// Fault or toxic concerned, if one.
    #[serde(default)]
    pub target: Option<String>,
    /// The state after the change (the fault, toxic or proxy as JSON), or null for removals.
    #[serde(default)]
    pub detail: Value,
}

/// Who is making a change (the API request's origin).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Actor {
    pub name: String,
    pub peer: Option<String>,
}

/// A bounded, thread-safe ring of changes.
pub struct Journal {
    origin: Instant,
    capacity: usize,
    inner: Mutex<(u64, VecDeque<Change>)>,
}

impl Journal {
    pub fn new(origin: Instant, capacity: usize) -> Journal {
        Journal {
            origin,
            capacity: capacity.max(1),
            inner: Mutex::new((0, VecDeque::new())),
        }
    }

    /// Records a change now.
    pub fn record(
        &self,
        actor: &Actor,
        action: &str,
        proxy: Option<&str>,
        target: Option<&str>,
        detail: Value,
    ) {
        let unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let t_ms = self.origin.elapsed().as_secs_f64() * 1000.0;
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let seq = inner.0;
        inner.0 += 1;
        if inner.1.len() == self.capacity {
            inner.1.pop_front();
        }
        inner.1.push_back(Change {
            seq,
            t_ms,
            unix_ms,
            actor: actor.name.clone(),
            peer: actor.peer.clone(),
            action: action.to_string(),
            proxy: proxy.map(str::to_string),
            target: target.map(str::to_string),
            detail,
        });
    }

    /// Changes with `seq >= since` still kept, oldest first.
    pub fn since(&self, since: u64) -> Vec<Change> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.1.iter().filter(|c| c.seq >= since).cloned().collect()
    }

    /// The sequence number the next change will get.
    pub fn next_seq(&self) -> u64 {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_n_in_order() {
        let j = Journal::new(Instant::now(), 3);
        let who = Actor {
            name: "me".into(),
            peer: None,
        };
        for i in 0..5 {
            j.record(
                &who,
                "fault.add",
                Some("db"),
                Some(&format!("f{i}")),
                Value::Null,
            );
        }
        let seqs: Vec<u64> = j.since(0).iter().map(|c| c.seq).collect();
        assert_eq!(seqs, [2, 3, 4]);
        assert_eq!(j.since(4).len(), 1);
        assert_eq!(j.next_seq(), 5);
    }
}
