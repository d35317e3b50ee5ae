//! Command line: the only user of clap. One file per subcommand, each with `Args` and `execute`.

pub mod serve_dependency;
pub mod serve_reference;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod ca_file;
pub mod capacity;
pub mod demo;
pub mod fault;
mod grpc_protos;
pub mod merge;
mod panic_cleanup;
pub mod plan;
pub mod proxy;
pub mod report;
pub mod run;
mod run_plan;
pub mod segment;
pub mod spec;
pub mod stop;

/// Exit codes shared by every subcommand.
pub mod exit {
    /// The run happened and every check passed.
    pub const OK: u8 = 0;
    /// The run happened and a check or claim failed.
    pub const FAILED: u8 = 1;
    /// The scenario, spec or command line is wrong; nothing was run.
    pub const BAD_INPUT: u8 = 2;
    /// Interrupted by Ctrl-C (partial results were written); SIGTERM gives 143, SIGHUP 129
    /// (`stop::Signal::exit_code`).
    pub const INTERRUPTED: u8 = 130;
}

#[derive(Debug, Parser)]
#[command(
    name = "redline",
    version,
    about = "Load and chaos testing that checks a service against its spec"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole pipeline on the built-in reference service (UserService broken for a while) and judge it against its spec.
    Demo(demo::Args),
    /// Run a scenario against its target and write result.json.
    Run(run::Args),
    /// Design the run that judges a spec's claims within a time budget, from a base scenario.
    Plan(plan::Args),
    /// Search the highest rate at which every latency and error claim holds (bracket, bisect, verify).
    Capacity(capacity::Args),
    /// Merge the result.json files of a distributed run's segments into one result, judged once.
    Merge(merge::Args),
    /// Show the claims read from a Markdown service spec, with the line each came from.
    Spec(spec::Args),
    /// Run the reference service (resource API + circuit breaker on UserService) until Ctrl-C
    ServeReference(serve_reference::Args),
    /// Run the stub UserService the reference service depends on, until Ctrl-C
    ServeDependency(serve_dependency::Args),
    /// Render a saved result.json again (terminal, md, junit, json, csv, html), optionally against a baseline.
    Report(report::Args),
    /// Run a fault proxy (HTTP faults or TCP toxics) with a Toxiproxy-compatible control API.
    Proxy(proxy::Args),
    /// Add, remove or list HTTP faults on a running proxy through its control API.
    Fault(fault::Args),
}

/// Parses the command line, runs the subcommand and maps its outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome: anyhow::Result<u8> = match cli.command {
        Command::Demo(args) => demo::execute(args),
        Command::Run(args) => run::execute(args),
        Command::Plan(args) => plan::execute(args),
        Command::Capacity(args) => capacity::execute(args),
        Command::Merge(args) => merge::execute(args),
        Command::Spec(args) => spec::execute(args),
        Command::ServeReference(args) => serve_reference::execute(args),
        Command::ServeDependency(args) => serve_dependency::execute(args),
        Command::Report(args) => report::execute(args),
        Command::Proxy(args) => proxy::execute(args),
        Command::Fault(args) => fault::execute(args),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(exit::BAD_INPUT)
        }
    }
}
