//! `redline demo [--out DIR] [--quiet] [--format ...] [--scenario FILE]`: the whole pipeline on the
//! built-in reference service, with no setup; exits like `redline run` (0 / 1 / 2 / 130).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;

use crate::demo::run::{self as demo, DemoError, DemoOptions, DemoPlan};
use crate::engine::collect::stamp;
use crate::engine::StopSignal;
use crate::report::{self, terminal, Format, Report};
use crate::result::{BreakerEpisode, RunResult};
use crate::scenario::{phase_windows, Plan};

use super::exit;
use super::run::{exit_code, write_atomically};
use super::stop;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output folder (default: reports/demo-<UTC timestamp>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No introduction and no live view on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Report formats to write, comma-separated: terminal, md, junit, json, csv, html
    /// [default: all]. result.json is always written.
    #[arg(long, value_delimiter = ',')]
    pub format: Vec<String>,
    /// Run this hand-written scenario instead of the planned one (e.g. scenarios/demo.toml). Its
    /// target and its one `[[dependency]]` (UserService) are replaced by the demo's own services.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
}

pub fn execute(args: Args) -> anyhow::Result<u8> {
    let mut formats = Vec::new();
    for f in &args.format {
        formats.extend(report::parse_formats(f)?);
    }
    if formats.is_empty() {
        formats = Format::ALL.to_vec();
    }
    let mut longer = Vec::new();
    let prepared = match &args.scenario {
        None => {
            let planned = planned()?;
            if !args.quiet {
                super::plan::summary(&planned, &mut std::io::stderr().lock())?;
            }
            longer = planned.needs_longer.clone();
            demo::prepare(&planned.toml, demo::BASE_FILE)
        }
        Some(path) => {
            let file = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read scenario {file}"))?;
            demo::prepare(&text, &file)
        }
    };
    let prepared = match prepared {
        Ok(p) => p,
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(exit::BAD_INPUT);
        }
    };
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("reports").join(format!("demo-{}", stamp(SystemTime::now())))
    });
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create output folder {}", out.display()))?;
    if !args.quiet {
        introduce(&prepared);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let live = !args.quiet && std::io::stderr().is_terminal();
    let (outcome, stopper) = runtime.block_on(async {
        let stop = StopSignal::new();
        // The demo's proxies are in-process: they stop with it, nothing to remove remotely.
        let stopper = stop::watch(stop.clone(), Default::default());
        (
            demo::run(prepared, DemoOptions { stop, live }).await,
            stopper,
        )
    });
    let mut outcome = match outcome {
        Ok(o) => o,
        Err(err @ DemoError::Chaos(_)) | Err(err @ DemoError::Start { .. }) => {
            return Err(err.into())
        }
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(exit::BAD_INPUT);
        }
    };
    stopper.stamp(&mut outcome.result);
    for l in &longer {
        outcome
            .result
            .notes
            .push(format!("plan: {l} (inconclusive for that reason)"));
    }
    finish(&outcome.result, &out, &formats)?;
    print_breaker_story(&outcome.result.breaker_episodes);
    if !longer.is_empty() {
        println!(
            "inconclusive because they need a run longer than the demo's {} s: {}",
            demo::BUDGET_S,
            longer.join("; ")
        );
    }
    Ok(exit_code(&outcome.result, outcome.failed, None))
}

/// The demo's run, planned from the embedded base and spec within `demo::BUDGET_S`.
fn planned() -> anyhow::Result<crate::plan::Planned> {
    let claims = crate::spec::parse(demo::SPEC);
    let input = crate::plan::Input {
        claims: &claims,
        spec_file: demo::SPEC_FILE,
        base_text: demo::BASE,
        base_file: demo::BASE_FILE,
        budget_s: demo::BUDGET_S,
        focus: None,
    };
    crate::plan::plan(&input)
        .map_err(|e| anyhow::anyhow!("cannot plan the demo:\n  {}", e.join("\n  ")))
}

/// What is about to happen, from the plan itself (so a different `--scenario` is described right).
fn introduce(p: &DemoPlan) {
    eprintln!(
        "redline demo: the reference service (scenarios/specs/reference-service.md) with UserService behind a fault proxy, all on 127.0.0.1"
    );
    let plan: &Plan = &p.plan;
    let phases: Vec<String> = phase_windows(plan)
        .iter()
        .map(|w| {
            format!(
                "{} {:.0}-{:.0} s",
                w.name,
                w.from.as_secs_f64(),
                w.to.as_secs_f64()
            )
        })
        .collect();
    eprintln!(
        "scenario {}: {:.0} s of load ({}), phases: {}",
        p.file,
        plan.load.duration().as_secs_f64(),
        plan.requests
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        phases.join(", ")
    );
    for f in &plan.faults {
        let share = if f.probability < 1.0 {
            format!(" on {:.0}% of calls", f.probability * 100.0)
        } else {
            String::new()
        };
        eprintln!(
            "fault: {} {}{share} from {:.0} s for {:.0} s",
            f.dependency,
            f.kind.as_str(),
            f.at.as_secs_f64(),
            f.duration.as_secs_f64()
        );
    }
}

/// Writes result.json (atomically) and the reports, and prints the terminal report.
fn finish(result: &RunResult, out: &Path, formats: &[Format]) -> anyhow::Result<()> {
    let path = out.join("result.json");
    write_atomically(&path, result)?;
    let report = Report::new(result);
    let files: Vec<Format> = formats
        .iter()
        .copied()
        .filter(|f| *f != Format::Json)
        .collect();
    report::write_report(&report, out, &files)
        .with_context(|| format!("cannot write reports into {}", out.display()))?;
    let mut stdout = std::io::stdout().lock();
    terminal::write_styled(&report, &mut stdout, terminal::stdout_supports_color())?;
    writeln!(stdout, "\nresult: {}", path.display())?;
    if !files.is_empty() {
        writeln!(stdout, "reports: {}", out.display())?;
    }
    stdout.flush()?;
    Ok(())
}

/// The breaker's story in one line per episode: what a reader should take from the demo.
fn print_breaker_story(episodes: &[BreakerEpisode]) {
    for e in episodes {
        let open = e
            .open_for_s
            .map_or("until the end".to_string(), |s| format!("{s:.1} s"));
        println!(
            "breaker on {}: opened at {:.1} s after {} failed calls, stayed open {open}, {} probe(s), then {}",
            e.dependency, e.opened_at_s, e.failures_before_open, e.probes, e.outcome
        );
    }
}
