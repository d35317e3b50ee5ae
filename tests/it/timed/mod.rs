//! Areas that run real servers and processes on real-time schedules: the engine, chaos runs, the
//! reference service behind a fault proxy, breaker libraries, capacity searches, distributed runs.
//! The long ones queue on their own lane (a lock); see ARCHITECTURE.md, Tests.

mod body_samples;
mod breaker_libs;
mod chaos_gameday;
mod chaos_ready;
mod chaos_run;
mod chaos_safety;
mod chaos_tcp_log;
mod claims_fastapi;
mod claims_reference;
mod demo_cli;
mod distributed;
mod grpc_dependency;
mod grpc_front;
mod load_grpc;
mod load_h2;
mod plan_breaker_libs;
mod plan_reference;
mod proxy_cli;
mod reference_api;
mod reference_breaker;
mod reference_cli;
mod reference_proxy_breaker;
mod reference_proxy_faults;
mod reference_resilience;
mod run_cli;
mod run_engine;
mod run_errors;
mod run_header_templates;
mod run_http1;
