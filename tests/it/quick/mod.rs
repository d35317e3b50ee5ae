//! Areas that take CPU, not time: the spec reader, verdicts over modelled and recorded results,
//! reports, the tidy rules. Nothing here waits on a schedule (see `main.rs` for why they run first).

mod reference_spec;
mod report_agreement;
mod report_baseline;
mod report_cli;
mod report_fixtures;
mod report_formats;
mod report_schema;
mod report_snapshots;
mod run_scenarios;
mod spec_breaker_forms;
mod spec_cli;
mod spec_corpus;
mod spec_fixtures;
mod spec_props;
mod spec_rate_prose;
mod tidy;
mod verdict_breaker;
mod verdict_demo;
mod verdict_rate_limit;
mod verdict_real;
mod verdict_retries;
mod verdict_robust;
mod verdict_slo;
