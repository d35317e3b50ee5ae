//! The one integration-test binary of the redline crate: one module per area, the shared
//! harness in `support`, helpers that several areas share beside it (issue 19: one binary links
//! once, and its tests overlap instead of running binary after binary).

mod breaker_libs_support;
mod capacity_support;
mod chaos_common;
mod common;
mod distributed_support;
mod grpc_dependency_support;
mod load_h2_support;
mod reference_proxy_support;
mod refsvc;
mod report_common;
mod run_errors_support;
mod verdict_support;

mod support;

mod body_samples;
mod breaker_libs;
mod capacity;
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
mod load_grpc;
mod load_h2;
mod proxy_cli;
mod reference_api;
mod reference_breaker;
mod reference_cli;
mod reference_proxy_breaker;
mod reference_proxy_faults;
mod reference_resilience;
mod reference_spec;
mod report_agreement;
mod report_baseline;
mod report_cli;
mod report_fixtures;
mod report_formats;
mod report_schema;
mod report_snapshots;
mod run_cli;
mod run_engine;
mod run_errors;
mod run_header_templates;
mod run_http1;
mod run_scenarios;
mod spec_breaker_forms;
mod spec_cli;
mod spec_corpus;
mod spec_fixtures;
mod spec_props;
mod spec_rate_prose;
mod verdict_breaker;
mod verdict_demo;
mod verdict_rate_limit;
mod verdict_real;
mod verdict_retries;
mod verdict_robust;
mod verdict_slo;
