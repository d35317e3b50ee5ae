//! The one integration-test binary of the redline crate: the areas in two groups, the shared
//! harness in `support`, and the helpers several areas share beside it (issue 19: one binary links
//! once, and its tests overlap instead of running binary after binary).
//!
//! libtest starts tests in name order, so `quick::` (CPU-bound: specs read, results judged and
//! rendered) is handed out first and is over in seconds; `timed::` (real servers and processes on
//! real-time schedules, some queued on a lane) starts after it and never shares the cores with a
//! burst of CPU-bound tests, which would stall the services whose pauses the verdicts time.
//!
//! The capacity searches are the one area with a binary of their own (`tests/capacity/`).

mod breaker_libs_support;
mod chaos_common;
mod common;
mod distributed_support;
mod grpc_dependency_support;
mod grpc_front_support;
mod load_h2_support;
mod reference_proxy_support;
mod refsvc;
mod report_common;
mod run_errors_support;
mod verdict_support;

mod support;

mod quick;
mod timed;
