//! Command line: the only user of clap. One file per subcommand, each with `Args` and `execute`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes shared by every subcommand.
pub mod exit {
    /// The run happened and every check passed.
    pub const OK: u8 = 0;
    /// The run happened and a check or claim failed.
    pub const FAILED: u8 = 1;
    /// The scenario, spec or command line is wrong; nothing was run.
    pub const BAD_INPUT: u8 = 2;
    /// Interrupted by Ctrl-C (partial results were written).
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
enum Command {}

/// Parses the command line, runs the subcommand and maps its outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome: anyhow::Result<u8> = match cli.command {};
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(exit::BAD_INPUT)
        }
    }
}
