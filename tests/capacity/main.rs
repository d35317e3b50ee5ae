//! `redline capacity` searches, in a test binary of their own: the one area that needs the machine
//! to itself. Its assertions compare the rate a search finds with a queueing model within 10%, and
//! beside the other timed tests (in `tests/it`) the knee moved: four_workers ... poisson found
//! 109 req/s against a model of 125 (-12.5%), and with_two_operations failed, while the same five
//! tests alone passed. cargo runs test binaries one after another, so this one runs alone.

mod capacity;
mod capacity_support;

/// The heavy-load lane of `tests/it`'s harness keeps these searches one at a time.
#[path = "../it/support/lanes.rs"]
mod lanes;

mod support {
    pub(crate) use super::lanes;
}
