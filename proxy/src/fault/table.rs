//! The installed faults of one proxy and the per-request choice among them (seeded coin flips).

use super::{Abort, FaultError, FaultKind, FaultSpec, Hang};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::time::Duration;

/// What the matcher looks at.
pub struct RequestView<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// Header fields as received (name, value); names compare case-insensitively.
    pub headers: &'a [(&'a str, &'a [u8])],
}

/// What to do to one request, with random parts already drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Delay(Duration),
    Abort(Abort),
    Hang(Hang),
    Reset,
    Truncate(u64),
    Throttle(u64),
    Down,
}

/// The fault picked for a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub name: String,
    /// Index into `KIND_NAMES`.
    pub kind: usize,
    pub action: Action,
}

struct Entry {
    spec: FaultSpec,
    /// Requests this fault's matcher accepted so far (for `first` / `every`).
    matched: u64,
}

/// Faults in installation order; the first one whose matcher, limit and coin all agree wins, so
/// a request gets at most one fault. Coins come from one seeded RNG, so the same seed and the
/// same request order reproduce the same choices.
pub struct FaultTable {
    entries: Vec<Entry>,
    rng: StdRng,
}

impl FaultTable {
    pub fn new(seed: u64) -> FaultTable {
        FaultTable {
            entries: Vec::new(),
            rng: StdRng::seed_from_u64(seed),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn add(&mut self, mut spec: FaultSpec) -> Result<(), FaultError> {
        spec.validate()?;
        if self.entries.iter().any(|e| e.spec.name == spec.name) {
            return Err(FaultError::Exists(spec.name));
        }
        self.entries.push(Entry { spec, matched: 0 });
        Ok(())
    }

    /// Replaces the fault called `name` in place (it may be renamed); its counters restart.
    pub fn update(&mut self, name: &str, mut spec: FaultSpec) -> Result<(), FaultError> {
        if spec.name.trim().is_empty() {
            spec.name = name.to_string();
        }
        spec.validate()?;
        let Some(at) = self.entries.iter().position(|e| e.spec.name == name) else {
            return Err(FaultError::NotFound(name.to_string()));
        };
        if spec.name != name && self.entries.iter().any(|e| e.spec.name == spec.name) {
            return Err(FaultError::Exists(spec.name));
        }
        self.entries[at] = Entry { spec, matched: 0 };
        Ok(())
    }

    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| e.spec.name != name);
        self.entries.len() != before
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn specs(&self) -> Vec<FaultSpec> {
        self.entries.iter().map(|e| e.spec.clone()).collect()
    }

    /// True when a `down` fault applies to every request: the listener must be closed.
    pub fn unconditional_down(&self) -> bool {
        self.entries
            .iter()
            .any(|e| matches!(e.spec.kind, FaultKind::Down(_)) && e.spec.is_unconditional())
    }

    /// Picks the fault for one request, or `None` for clean passthrough.
    pub fn decide(&mut self, req: &RequestView<'_>) -> Option<Decision> {
        for entry in &mut self.entries {
            let spec = &entry.spec;
            if !spec.matcher.matches(req) {
                continue;
            }
            entry.matched += 1;
            if !spec.limit.admits(entry.matched) {
                continue;
            }
            // Draw only for real coins, so adding a certain fault does not shift other draws.
            if spec.probability < 1.0 && self.rng.gen::<f64>() >= spec.probability {
                continue;
            }
            let action = match &spec.kind {
                FaultKind::Latency(l) => Action::Delay(l.sample(&mut self.rng)),
                FaultKind::Abort(a) => Action::Abort(a.clone()),
                FaultKind::Hang(h) => Action::Hang(h.clone()),
                FaultKind::Reset(_) => Action::Reset,
                FaultKind::Truncate(t) => Action::Truncate(t.bytes),
                FaultKind::Throttle(t) => Action::Throttle(t.bytes_per_sec),
                FaultKind::Down(_) => Action::Down,
            };
            return Some(Decision {
                name: spec.name.clone(),
                kind: spec.kind.index(),
                action,
            });
        }
        None
    }
}
