//! `redline plan SPEC.md --scenario BASE.toml [--budget 10m] [--out PLANNED.toml]`: design the
//! run that judges the spec's claims within the budget and write it as a commented scenario
//! (stdout without `--out`); the summary goes to stderr. Bad input: exit 2 with what is missing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};

use crate::plan::{self, Planned};
use crate::spec::Claims;

use super::exit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The service spec (Markdown).
    pub spec: PathBuf,
    /// The base scenario: target, requests, dependencies (its [load] and [[fault]] are replaced).
    #[arg(long, value_name = "BASE.toml")]
    pub scenario: PathBuf,
    /// Longest run the plan may take.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_budget)]
    pub budget: Duration,
    /// Write the planned scenario here (default: stdout).
    #[arg(long, value_name = "PLANNED.toml")]
    pub out: Option<PathBuf>,
}

pub fn parse_budget(text: &str) -> Result<Duration, String> {
    crate::scenario::duration::parse_duration(text)
        .map_err(|e| format!("expected a duration such as 90s or 3m: {e}"))
}

pub fn execute(args: Args) -> anyhow::Result<u8> {
    let (claims, spec_file) = read_spec(&args.spec)?;
    let planned = make(&claims, &spec_file, &args.scenario, args.budget)?;
    match &args.out {
        Some(p) => {
            std::fs::write(p, &planned.toml)
                .with_context(|| format!("cannot write {}", p.display()))?;
            summary(&planned, &mut std::io::stderr().lock())?;
            eprintln!("plan: {}", p.display());
        }
        None => {
            std::io::stdout()
                .lock()
                .write_all(planned.toml.as_bytes())?;
            summary(&planned, &mut std::io::stderr().lock())?;
        }
    }
    Ok(exit::OK)
}

/// Reads the spec; a spec without a testable claim is bad input.
pub fn read_spec(path: &Path) -> anyhow::Result<(Claims, String)> {
    let shown = path.display().to_string();
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read spec {shown}"))?;
    let claims = crate::spec::parse(&text);
    crate::spec::require_testable(&claims, &shown)?;
    Ok((claims, shown))
}

/// Plans from the base file; every reason it cannot is in the error (exit 2).
pub fn make(
    claims: &Claims,
    spec_file: &str,
    base: &Path,
    budget: Duration,
) -> anyhow::Result<Planned> {
    let base_file = base.display().to_string();
    let base_text = std::fs::read_to_string(base)
        .with_context(|| format!("cannot read base scenario {base_file}"))?;
    let input = plan::Input {
        claims,
        spec_file,
        base_text: &base_text,
        base_file: &base_file,
        budget_s: budget.as_secs_f64(),
        focus: None,
    };
    match plan::plan(&input) {
        Ok(p) => Ok(p),
        Err(problems) => bail!("cannot plan a run:\n  {}", problems.join("\n  ")),
    }
}

/// The plan in a few lines: its phases, what it dropped and what needs longer.
pub fn summary(p: &Planned, w: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        w,
        "plan: {} s in all",
        crate::plan::breaker_phases::fmt2(p.total_s)
    )?;
    for l in &p.timeline {
        writeln!(w, "  {l}")?;
    }
    for (title, lines) in [
        ("dropped to fit the budget", &p.dropped),
        ("needs a longer run", &p.needs_longer),
        ("not planned", &p.not_planned),
    ] {
        if !lines.is_empty() {
            writeln!(w, "{title}:")?;
            for l in lines {
                writeln!(w, "  - {l}")?;
            }
        }
    }
    Ok(())
}
