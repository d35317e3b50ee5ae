//! Fault leases, the proxy's dead man's switch: a fault, toxic or disabled proxy may carry an end
//! time (its own `expires_in`, capped by `--max-fault-ttl`) and an owner (a run id) whose lease
//! must be renewed. The proxy removes what is due by itself (`reaper`), whatever its owner does.
//!
//! Invariants: every install states its lease anew (no lease asked = none kept, unless the cap
//! applies); a removal by any other means forgets the lease; an owner whose lease lapsed stays
//! known as lapsed (bounded), so a late renewal learns its faults are gone instead of re-arming.

pub mod reaper;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// Lease of an owner that installs faults without renewing first.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

/// Lapsed owners remembered (for the answer to a late renewal).
const LAPSED_KEPT: usize = 256;

/// What a lease is on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Item {
    /// An HTTP fault, by name.
    Fault(String),
    /// A TCP toxic, by name.
    Toxic(String),
    /// The proxy is disabled (switched off) until this ends.
    Disabled,
}

impl Item {
    pub fn kind(&self) -> &'static str {
        match self {
            Item::Fault(_) => "fault",
            Item::Toxic(_) => "toxic",
            Item::Disabled => "disabled",
        }
    }

    pub fn name(&self) -> Option<&str> {
        match self {
            Item::Fault(n) | Item::Toxic(n) => Some(n),
            Item::Disabled => None,
        }
    }
}

/// What one install call asked for (headers `X-Redline-Owner` / `X-Redline-Expires-In`, or the
/// body's `expires_in`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grant {
    pub owner: Option<String>,
    pub expires_in: Option<Duration>,
}

/// One item's lease as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeaseView {
    pub proxy: String,
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// When the proxy removes it, Unix epoch milliseconds (absent: only when its owner stops
    /// renewing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
}

/// Why an item is being removed by the proxy itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// Its own end time (expires_in, a scheduled fault's end, or the cap) passed.
    Ended,
    /// Its owner stopped renewing.
    Lapsed,
}

/// An item due for removal now.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    pub proxy: String,
    pub item: Item,
    pub owner: Option<String>,
    pub why: Why,
}

/// An owner's renewal was refused: its lease lapsed and its faults were removed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the lease of {owner} lapsed {ago_ms} ms ago and the proxy removed its faults")]
pub struct Lapsed {
    pub owner: String,
    pub ago_ms: u64,
}

#[derive(Debug, Clone)]
struct ItemLease {
    owner: Option<String>,
    ends: Option<Instant>,
}

#[derive(Debug, Clone)]
struct OwnerLease {
    ends: Instant,
    lease: Duration,
}

#[derive(Default)]
struct State {
    items: BTreeMap<(String, Item), ItemLease>,
    owners: BTreeMap<String, OwnerLease>,
    lapsed: VecDeque<(String, Instant)>,
}

/// Every lease of one registry.
pub struct Leases {
    state: Mutex<State>,
    max_ttl: Mutex<Option<Duration>>,
}

impl Default for Leases {
    fn default() -> Self {
        Leases::new()
    }
}

impl Leases {
    pub fn new() -> Leases {
        Leases {
            state: Mutex::new(State::default()),
            max_ttl: Mutex::new(None),
        }
    }

    /// Caps the lifetime of everything installed from now on (`--max-fault-ttl`).
    pub fn set_max_ttl(&self, cap: Option<Duration>) {
        *self.max_ttl.lock().unwrap_or_else(|e| e.into_inner()) = cap;
    }

    pub fn max_ttl(&self) -> Option<Duration> {
        *self.max_ttl.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Refuses an install for an owner whose lease already lapsed (its run is gone or cut off).
    pub fn admit(&self, grant: &Grant) -> Result<(), Lapsed> {
        let Some(owner) = &grant.owner else {
            return Ok(());
        };
        let st = self.lock();
        match st.lapsed.iter().find(|(o, _)| o == owner) {
            Some((_, at)) => Err(Lapsed {
                owner: owner.clone(),
                ago_ms: at.elapsed().as_millis() as u64,
            }),
            None => Ok(()),
        }
    }

    /// Records what an install of `item` on `proxy` asked for (replacing any earlier lease).
    pub fn grant(&self, proxy: &str, item: Item, grant: &Grant) {
        let now = Instant::now();
        let cap = self.max_ttl().map(|c| now + c);
        let own = grant.expires_in.map(|d| now + d);
        let ends = match (own, cap) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut st = self.lock();
        let key = (proxy.to_string(), item);
        if grant.owner.is_none() && ends.is_none() {
            st.items.remove(&key);
            return;
        }
        if let Some(owner) = &grant.owner {
            st.owners.entry(owner.clone()).or_insert(OwnerLease {
                ends: now + DEFAULT_LEASE,
                lease: DEFAULT_LEASE,
            });
        }
        st.items.insert(
            key,
            ItemLease {
                owner: grant.owner.clone(),
                ends,
            },
        );
    }

    /// Forgets the lease of an item removed by other means.
    pub fn forget(&self, proxy: &str, item: &Item) {
        self.lock().items.remove(&(proxy.to_string(), item.clone()));
    }

    /// Forgets every lease on `proxy` (deleted, or cleared).
    pub fn forget_proxy(&self, proxy: &str, kinds: &[&str]) {
        self.lock()
            .items
            .retain(|(p, i), _| !(p == proxy && kinds.contains(&i.kind())));
    }

    /// Forgets every item lease (a reset).
    pub fn clear_items(&self) {
        self.lock().items.clear();
    }

    /// Extends `owner`'s lease to now + `lease` (creating it); refused once it lapsed.
    pub fn renew(&self, owner: &str, lease: Duration) -> Result<Vec<LeaseView>, Lapsed> {
        self.admit(&Grant {
            owner: Some(owner.to_string()),
            expires_in: None,
        })?;
        let now = Instant::now();
        self.lock().owners.insert(
            owner.to_string(),
            OwnerLease {
                ends: now + lease,
                lease,
            },
        );
        Ok(self
            .views()
            .into_iter()
            .filter(|v| v.owner.as_deref() == Some(owner))
            .collect())
    }

    /// Ends `owner`'s lease now (its run is over): whatever it still has is removed by the
    /// reaper's next pass, and later renewals are refused. False if it had no live lease.
    pub fn release(&self, owner: &str) -> bool {
        let mut st = self.lock();
        match st.owners.get_mut(owner) {
            Some(o) => {
                o.ends = Instant::now();
                true
            }
            None => false,
        }
    }

    /// When `item` on `proxy` will be removed by the proxy, and who owns it.
    pub fn view(&self, proxy: &str, item: &Item) -> Option<LeaseView> {
        let st = self.lock();
        let lease = st.items.get(&(proxy.to_string(), item.clone()))?;
        Some(view_of(&st, proxy, item, lease))
    }

    /// Every item lease.
    pub fn views(&self) -> Vec<LeaseView> {
        let st = self.lock();
        st.items
            .iter()
            .map(|((p, i), l)| view_of(&st, p, i, l))
            .collect()
    }

    /// `owner`'s lease: its length and when it lapses (Unix ms), if it is live.
    pub fn owner(&self, owner: &str) -> Option<(Duration, u64)> {
        let st = self.lock();
        st.owners.get(owner).map(|o| (o.lease, unix_ms_at(o.ends)))
    }

    /// Takes every item due at `now` out of the table (the caller removes them from the proxies);
    /// owners whose lease lapsed become lapsed.
    pub fn take_due(&self, now: Instant) -> Vec<Due> {
        let mut st = self.lock();
        let lapsed: Vec<String> = st
            .owners
            .iter()
            .filter(|(_, o)| o.ends <= now)
            .map(|(n, _)| n.clone())
            .collect();
        for owner in &lapsed {
            st.owners.remove(owner);
            if st.lapsed.len() == LAPSED_KEPT {
                st.lapsed.pop_front();
            }
            st.lapsed.push_back((owner.clone(), now));
        }
        let mut due = Vec::new();
        let State { items, owners, .. } = &mut *st;
        items.retain(|(proxy, item), l| {
            let ended = l.ends.is_some_and(|e| e <= now);
            let orphan = l.owner.as_ref().is_some_and(|o| !owners.contains_key(o));
            if !(ended || orphan) {
                return true;
            }
            due.push(Due {
                proxy: proxy.clone(),
                item: item.clone(),
                owner: l.owner.clone(),
                why: if ended { Why::Ended } else { Why::Lapsed },
            });
            false
        });
        due
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn view_of(st: &State, proxy: &str, item: &Item, l: &ItemLease) -> LeaseView {
    let owner_end = l
        .owner
        .as_ref()
        .and_then(|o| st.owners.get(o))
        .map(|o| o.ends);
    let ends = match (l.ends, owner_end) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    LeaseView {
        proxy: proxy.to_string(),
        kind: item.kind(),
        name: item.name().map(str::to_string),
        owner: l.owner.clone(),
        expires_at: ends.map(unix_ms_at),
    }
}

/// `at` on the wall clock, Unix epoch milliseconds.
pub fn unix_ms_at(at: Instant) -> u64 {
    let now_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let now = Instant::now();
    let t = if at >= now {
        now_unix + (at - now)
    } else {
        now_unix.saturating_sub(now - at)
    };
    t.as_millis() as u64
}

#[cfg(test)]
mod tests;
