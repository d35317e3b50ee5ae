//! redline: load and chaos testing that checks a service against the promises in its spec.
//!
//! See ARCHITECTURE.md for the code map and each module's invariants.

pub mod capacity;
pub mod chaos;
pub mod cli;
pub mod demo;
pub mod distributed;
pub mod engine;
pub mod plan;
pub mod report;
pub mod result;
pub mod scenario;
pub mod spec;
pub mod verdict;
