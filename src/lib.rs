//! redline: load and chaos testing that checks a service against the promises in its spec.
//!
//! See ARCHITECTURE.md for the code map and each module's invariants.

pub mod cli;
pub mod result;
pub mod spec;
pub mod verdict;
