//! `redline capacity SCENARIO.toml [--spec SPEC.md] [--min RATE] [--max RATE] [--precision 5%]
//! [--step 20s] [--budget 5m] [--peak RATE] [--with-faults] [--p99 200ms --max-error-rate 1% ...]`:
//! searches the highest rate at which every claim holds, writes result.json (with `capacity`) and
//! the reports, and exits 0 (at or above every throughput claim, or none stated) / 1 (below one) /
//! 2 (bad input) / 130 (Ctrl-C) / 143 (SIGTERM) / 129 (SIGHUP), through the shared `cli::stop`; interrupted, the partial search is written.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context};

use crate::capacity::{self, answer, Flags, Setup};
use crate::chaos::fault_spec::plan_faults;
use crate::chaos::installed::Installed;
use crate::chaos::judge;
use crate::engine::collect::stamp;
use crate::engine::StopSignal;
use crate::report::{self, terminal, Format, Report};
use crate::result::{RunResult, VerdictStatus};
use crate::scenario::duration::parse_duration;
use crate::spec::Claims;

use super::exit;
use super::run::{check_hosts, write_atomically};
use super::stop;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario TOML file (its target, requests and arrival process; its stages are replaced).
    pub scenario: PathBuf,
    /// The service spec (Markdown) whose claims must hold; default: the scenario's `spec = "..."`.
    #[arg(long, value_name = "SPEC.md")]
    pub spec: Option<PathBuf>,
    /// First rate (req/s); default: half of what a short 16-user probe gets answered.
    #[arg(long, value_name = "RATE", value_parser = parse_rate)]
    pub min: Option<f64>,
    /// Never offer more than this (req/s).
    #[arg(long, value_name = "RATE", default_value = "100000", value_parser = parse_rate)]
    pub max: f64,
    /// Stop bisecting when the bracket is this narrow (relative): "5%" or 0.05.
    #[arg(long, value_name = "PCT", default_value = "5%", value_parser = parse_fraction)]
    pub precision: f64,
    /// Length of one step (a fifth of it, 0.5 s to 5 s, is a warm-up slice before it).
    #[arg(long, value_name = "DURATION", default_value = "20s", value_parser = parse_positive)]
    pub step: Duration,
    /// Longest the whole search may take.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_positive)]
    pub budget: Duration,
    /// The peak rate (req/s) a spec claim like "2x peak" multiplies.
    #[arg(long, value_name = "RATE", value_parser = parse_rate)]
    pub peak: Option<f64>,
    /// Apply the scenario's faults throughout every step ("capacity while UserService is slow").
    #[arg(long)]
    pub with_faults: bool,
    /// Every step's P50 must be at most this (all requests), besides the spec's claims.
    #[arg(long, value_name = "DURATION", value_parser = parse_positive)]
    pub p50: Option<Duration>,
    /// Every step's P95 must be at most this.
    #[arg(long, value_name = "DURATION", value_parser = parse_positive)]
    pub p95: Option<Duration>,
    /// Every step's P99 must be at most this.
    #[arg(long, value_name = "DURATION", value_parser = parse_positive)]
    pub p99: Option<Duration>,
    /// Every step's share of errors must be at most this: "1%" or 0.01.
    #[arg(long, value_name = "PCT", value_parser = parse_fraction)]
    pub max_error_rate: Option<f64>,
    /// Output folder (default: reports/<scenario name>-capacity-<UTC timestamp>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Report formats to write, comma-separated: terminal, md, junit, json, csv, html
    /// [default: all]. result.json is always written.
    #[arg(long, value_delimiter = ',')]
    pub format: Vec<String>,
    /// No progress on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Search even when the spec yields no testable claim (default: exit 2, nothing run).
    #[arg(long)]
    pub allow_empty_spec: bool,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let t = text.trim().trim_end_matches("/s").trim_end_matches("req");
    match t.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!(
            "expected a rate above 0 in requests per second, found {text:?}"
        )),
    }
}

fn parse_fraction(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0),
        None => t.parse::<f64>(),
    };
    match v {
        Ok(f) if (0.0..1.0).contains(&f) => Ok(f),
        _ => Err(format!(
            "expected a share such as 5% or 0.05 (below 100%), found {text:?}"
        )),
    }
}

fn parse_positive(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d.is_zero() {
        return Err(format!("expected a duration above zero, found {text:?}"));
    }
    Ok(d)
}

/// Checked before anything starts.
struct Prepared {
    setup: Setup,
    spec: Option<(Claims, String)>,
    out: PathBuf,
    formats: Vec<Format>,
}

pub fn execute(args: Args) -> anyhow::Result<u8> {
    let p = prepare(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (outcome, stopper) = runtime.block_on(async {
        let stopper = stop::watch(p.setup.stop.clone(), p.setup.installed.clone());
        (capacity::run(&p.setup).await, stopper)
    });
    for (what, command) in p.setup.installed.left() {
        eprintln!("STILL INSTALLED: {what}\n  remove it with: {command}");
    }
    let outcome = outcome?;
    let mut result = outcome.result.clone().unwrap_or_else(|| RunResult {
        scenario: p.setup.plan.name.clone(),
        scenario_file: Some(p.setup.scenario_file.clone()),
        seed: p.setup.plan.seed,
        ..RunResult::default()
    });
    let cap = outcome.capacity.clone();
    result.verdicts = vec![answer::search_verdict(&cap)];
    result.verdicts.extend(outcome.verdicts.iter().cloned());
    let spec_file = p.spec.as_ref().map(|(_, f)| f.clone());
    if let Some((claims, file)) = &p.spec {
        result.verdicts.extend(answer::throughput_verdicts(
            &claims.throughput,
            args.peak,
            &cap,
            outcome.upper_failed,
            file,
        ));
    }
    result.spec = spec_file;
    // Steps run without faults (or with them throughout): no fallback window was judged.
    result.fallback_windows.get_or_insert_with(Vec::new);
    result.interrupted = outcome.interrupted;
    result.notes.extend(outcome.notes.iter().cloned());
    if let Some(step) = outcome.shown_step {
        result.notes.push(format!(
            "capacity: the figures and verdicts above are those of step {step} ({})",
            answer::summary(&cap)
        ));
    }
    result.capacity = Some(cap);
    stopper.stamp(&mut result);
    finish(&p, &result)?;
    Ok(exit_code(&result, stopper.signal()))
}

fn prepare(args: &Args) -> anyhow::Result<Prepared> {
    if args.min.is_some_and(|m| m > args.max) {
        bail!(
            "--min {} is above --max {}",
            args.min.unwrap_or(0.0),
            args.max
        );
    }
    if args.step * 2 > args.budget {
        bail!(
            "--budget {:?} is shorter than two steps of --step {:?}: nothing could be verified",
            args.budget,
            args.step
        );
    }
    let mut formats = Vec::new();
    for f in &args.format {
        formats.extend(report::parse_formats(f)?);
    }
    if formats.is_empty() {
        formats = Format::ALL.to_vec();
    }
    let file = args.scenario.display().to_string();
    let text = std::fs::read_to_string(&args.scenario)
        .with_context(|| format!("cannot read scenario {file}"))?;
    let mut plan = crate::scenario::parse(&text, &file)?;
    super::ca_file::resolve(&mut plan, &args.scenario, &file)?;
    super::grpc_protos::resolve(&mut plan, &args.scenario, &file)?;
    plan_faults(&plan, &file)?;
    check_hosts(&plan, &file)?;
    let spec = match judge::spec_path(args.spec.as_deref(), &plan, &args.scenario) {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read spec {}", path.display()))?;
            let (claims, shown) = (crate::spec::parse(&text), path.display().to_string());
            if !args.allow_empty_spec {
                crate::spec::require_testable(&claims, &shown)?;
            }
            Some((claims, shown))
        }
    };
    let flags = Flags {
        p50: args.p50,
        p95: args.p95,
        p99: args.p99,
        max_error_rate: args.max_error_rate,
    };
    let criteria = capacity::criteria(
        &plan,
        spec.as_ref().map(|(c, f)| (c, f.as_str())),
        &flags,
        &file,
    )
    .map_err(anyhow::Error::msg)?;
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("reports").join(format!(
            "{}-capacity-{}",
            plan.name,
            stamp(SystemTime::now())
        ))
    });
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create output folder {}", out.display()))?;
    let setup = Setup {
        plan,
        scenario_file: file,
        with_faults: args.with_faults,
        criteria,
        min: args.min,
        max: args.max,
        precision: args.precision,
        step: args.step,
        budget: args.budget,
        stop: StopSignal::new(),
        live: !args.quiet && std::io::stderr().is_terminal(),
        announce: !args.quiet,
        installed: Installed::default(),
    };
    Ok(Prepared {
        setup,
        spec,
        out,
        formats,
    })
}

/// Writes result.json and the reports, and prints the terminal report and the answer.
fn finish(p: &Prepared, result: &RunResult) -> anyhow::Result<()> {
    let path = p.out.join("result.json");
    write_atomically(&path, result)?;
    let report = Report::new(result);
    let files: Vec<Format> = p
        .formats
        .iter()
        .copied()
        .filter(|f| *f != Format::Json)
        .collect();
    report::write_report(&report, &p.out, &files)
        .with_context(|| format!("cannot write reports into {}", p.out.display()))?;
    let mut stdout = std::io::stdout().lock();
    terminal::write_styled(&report, &mut stdout, terminal::stdout_supports_color())?;
    if let Some(c) = &result.capacity {
        writeln!(stdout, "\n{}", answer::summary(c))?;
    }
    writeln!(stdout, "result: {}", path.display())?;
    if !files.is_empty() {
        writeln!(stdout, "reports: {}", p.out.display())?;
    }
    stdout.flush()?;
    Ok(())
}

/// 130/143 when interrupted, 1 when a throughput claim failed, else 0.
fn exit_code(result: &RunResult, signal: Option<stop::Signal>) -> u8 {
    if result.interrupted {
        return signal.map_or(exit::INTERRUPTED, stop::Signal::exit_code);
    }
    let failed = result
        .verdicts
        .iter()
        .any(|v| v.id.starts_with("capacity.throughput") && v.status == VerdictStatus::Fail);
    if failed {
        println!(
            "FAILED: the capacity is below a throughput claim of the spec (see the verdicts above)"
        );
        return exit::FAILED;
    }
    exit::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_shares_read_as_written() {
        assert_eq!(parse_rate("250"), Ok(250.0));
        assert_eq!(parse_rate("250/s"), Ok(250.0));
        assert!(parse_rate("0").is_err() && parse_rate("fast").is_err());
        assert_eq!(parse_fraction("5%"), Ok(0.05));
        assert_eq!(parse_fraction("0.01"), Ok(0.01));
        assert!(parse_fraction("150%").is_err());
    }
}
