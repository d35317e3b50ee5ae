//! The in-memory item store: ids in order, optimistic versions, paginated listing.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

/// One stored resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub id: u64,
    pub name: String,
    pub value: serde_json::Value,
    /// Incremented on every update; an update must name the version it read.
    pub version: u64,
}

/// Why a store operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("item {0} not found")]
    NotFound(u64),
    #[error("item {id} is at version {current}, the update named version {expected}")]
    VersionConflict {
        id: u64,
        expected: u64,
        current: u64,
    },
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page {
    pub items: Vec<Item>,
    pub page: u32,
    pub per_page: u32,
    pub total: usize,
    pub has_more: bool,
}

#[derive(Debug, Default)]
struct Inner {
    items: BTreeMap<u64, Item>,
    next_id: u64,
}

/// Thread-safe store; every operation is short, so a plain mutex serves.
#[derive(Debug, Default)]
pub struct Store {
    inner: Mutex<Inner>,
}

impl Store {
    /// A store holding items 1..=count, so reads succeed from the first request.
    pub fn seeded(count: u32) -> Self {
        let items = (1..=u64::from(count))
            .map(|id| {
                let item = Item {
                    id,
                    name: format!("item-{id}"),
                    value: serde_json::json!({ "weight": id % 97 }),
                    version: 1,
                };
                (id, item)
            })
            .collect();
        Self {
            inner: Mutex::new(Inner {
                items,
                next_id: u64::from(count) + 1,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, id: u64) -> Result<Item, StoreError> {
        self.lock()
            .items
            .get(&id)
            .cloned()
            .ok_or(StoreError::NotFound(id))
    }

    /// Page `page` (1-based) of `per_page` items in id order.
    pub fn list(&self, page: u32, per_page: u32) -> Page {
        let inner = self.lock();
        let skip = (page.saturating_sub(1) as usize).saturating_mul(per_page as usize);
        let items: Vec<Item> = inner
            .items
            .values()
            .skip(skip)
            .take(per_page as usize)
            .cloned()
            .collect();
        let total = inner.items.len();
        Page {
            has_more: skip + items.len() < total,
            items,
            page,
            per_page,
            total,
        }
    }

    pub fn create(&self, name: String, value: serde_json::Value) -> Item {
        let mut inner = self.lock();
        let id = inner.next_id;
        inner.next_id += 1;
        let item = Item {
            id,
            name,
            value,
            version: 1,
        };
        inner.items.insert(id, item.clone());
        item
    }

    /// Replaces name and value if the caller read the current version; bumps the version.
    pub fn update(
        &self,
        id: u64,
        expected: u64,
        name: String,
        value: serde_json::Value,
    ) -> Result<Item, StoreError> {
        let mut inner = self.lock();
        let item = inner.items.get_mut(&id).ok_or(StoreError::NotFound(id))?;
        if item.version != expected {
            return Err(StoreError::VersionConflict {
                id,
                expected,
                current: item.version,
            });
        }
        item.name = name;
        item.value = value;
        item.version += 1;
        Ok(item.clone())
    }

    pub fn delete(&self, id: u64) -> Result<(), StoreError> {
        self.lock()
            .items
            .remove(&id)
            .map(|_| ())
            .ok_or(StoreError::NotFound(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn crud_with_optimistic_versions() {
        let s = Store::seeded(3);
        assert_eq!(s.get(2).unwrap().name, "item-2");
        let created = s.create("new".into(), json!(1));
        assert_eq!(created.id, 4);
        let updated = s.update(4, 1, "renamed".into(), json!(2)).unwrap();
        assert_eq!(updated.version, 2);
        assert_eq!(
            s.update(4, 1, "stale".into(), json!(3)),
            Err(StoreError::VersionConflict {
                id: 4,
                expected: 1,
                current: 2
            })
        );
        s.delete(4).unwrap();
        assert_eq!(s.get(4), Err(StoreError::NotFound(4)));
        assert_eq!(s.delete(4), Err(StoreError::NotFound(4)));
    }

    #[test]
    fn pages_cover_the_store_once() {
        let s = Store::seeded(25);
        let p1 = s.list(1, 10);
        assert_eq!((p1.items.len(), p1.total, p1.has_more), (10, 25, true));
        assert_eq!(p1.items[0].id, 1);
        let p3 = s.list(3, 10);
        assert_eq!((p3.items.len(), p3.has_more), (5, false));
        assert_eq!(p3.items[0].id, 21);
        assert!(s.list(4, 10).items.is_empty());
    }
}
