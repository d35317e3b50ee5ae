//! Lanes shared by more than one area: tests that would skew each other's measurements queue here
//! and run one at a time, while everything else overlaps them.

use std::sync::{Mutex, MutexGuard};

static HEAVY_LOAD: Mutex<()> = Mutex::new(());

/// The lane of tests that drive hundreds of requests per second through several processes and
/// assert rates or percentiles (capacity searches, distributed runs): two at once on 2 cores would
/// move each other's knee and tails. Held for the whole test; a panic in a holder frees it.
pub fn heavy_load() -> MutexGuard<'static, ()> {
    HEAVY_LOAD.lock().unwrap_or_else(|e| e.into_inner())
}
