//! The toxics of one TCP proxy as every connection sees them: an immutable snapshot, published
//! through a `watch` channel so a change reaches live connections without locks on the data path.

use std::sync::Arc;

use crate::toxic::{Stream, Toxic, ToxicError, ToxicPatch};

/// One toxic with the identity connections use to notice it was added, changed or removed.
#[derive(Debug)]
pub(crate) struct Entry {
    /// Unique within the proxy; a toxic removed and added again gets a new id.
    pub id: u64,
    /// Changes on every update, so connections restart the toxic (and re-roll toxicity).
    pub version: u64,
    pub toxic: Toxic,
}

/// Snapshot of a proxy's toxics, in the order they were added.
#[derive(Debug, Default)]
pub(crate) struct ToxicSet {
    /// Bumped on every change; a connection whose chain has an older generation reconciles.
    pub generation: u64,
    pub entries: Vec<Arc<Entry>>,
}

impl ToxicSet {
    pub fn find(&self, name: &str) -> Option<&Arc<Entry>> {
        self.entries.iter().find(|e| e.toxic.name == name)
    }

    /// The toxics as Toxiproxy lists them: upstream ones first, each stream in insertion order.
    pub fn listed(&self) -> Vec<Toxic> {
        let of = |s: Stream| {
            self.entries
                .iter()
                .filter(move |e| e.toxic.stream == s)
                .map(|e| e.toxic.clone())
        };
        of(Stream::Upstream).chain(of(Stream::Downstream)).collect()
    }

    pub fn add(&mut self, toxic: Toxic, id: u64) -> Result<Toxic, ToxicError> {
        if self.find(&toxic.name).is_some() {
            return Err(ToxicError::AlreadyExists(toxic.name));
        }
        self.generation += 1;
        self.entries.push(Arc::new(Entry {
            id,
            version: self.generation,
            toxic: toxic.clone(),
        }));
        Ok(toxic)
    }

    pub fn update(&mut self, name: &str, patch: &ToxicPatch) -> Result<Toxic, ToxicError> {
        let at = self.position(name)?;
        let updated = self.entries[at].toxic.patched(patch)?;
        self.generation += 1;
        let id = self.entries[at].id;
        self.entries[at] = Arc::new(Entry {
            id,
            version: self.generation,
            toxic: updated.clone(),
        });
        Ok(updated)
    }

    pub fn remove(&mut self, name: &str) -> Result<Toxic, ToxicError> {
        let at = self.position(name)?;
        self.generation += 1;
        Ok(self.entries.remove(at).toxic.clone())
    }

    /// Removes every toxic; returns whether there was any.
    pub fn clear(&mut self) -> bool {
        if self.entries.is_empty() {
            return false;
        }
        self.generation += 1;
        self.entries.clear();
        true
    }

    fn position(&self, name: &str) -> Result<usize, ToxicError> {
        self.entries
            .iter()
            .position(|e| e.toxic.name == name)
            .ok_or_else(|| ToxicError::NotFound(name.to_string()))
    }
}
