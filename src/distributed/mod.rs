//! Distributed runs: one scenario split into N segments run by N processes (a Kubernetes
//! Indexed Job), each writing a normal result.json marked with its segment, and the exact merge
//! of those parts into one result that is judged once.
//!
//! `segment_arg` reads `--segment I/N | auto/N`, `start_at` the shared t = 0 and the clock a
//! late process derives from it, `scenario_hash` the parts' common fingerprint, `merge` the
//! checks and the sums (histograms added, timelines summed second by second, client logs merged).

pub mod merge;
pub mod scenario_hash;
pub mod segment_arg;
pub mod start_at;
