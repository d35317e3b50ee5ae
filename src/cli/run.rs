//! `redline run SCENARIO.toml [--spec SPEC.md] [--out DIR] [--format ...] [--baseline OLD.json]
//! [--hold] [--control ADDR]`: check everything, run the load with its fault proxies and timeline,
//! judge the spec's claims, write result.json and the reports, print the terminal report, and
//! exit 0 (ok) / 1 (a claim failed, --max-error-rate, no request got an answer, the result could
//! not be written, or the run lost an attached proxy's control API) / 2 (bad input, nothing run) / 130, 143, 129
//! (stopped by SIGINT, SIGTERM, SIGHUP: see `stop.rs`).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context};

use crate::chaos::fault_spec::{plan_faults, PlannedFault};
use crate::chaos::installed::Installed;
use crate::chaos::{self, hold, judge, remote::Control, ChaosOptions};
use crate::engine::collect::stamp;
use crate::engine::StopSignal;
use crate::report::{self, terminal, Format, Report};
use crate::result::RunResult;
use crate::scenario::{self, DependencyProxy, Plan};
use crate::spec::Claims;

use super::segment::{self, SegmentRun};
use super::{exit, panic_cleanup, stop};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The scenario TOML file.
    pub scenario: PathBuf,
    /// The service spec (Markdown) to judge; default: the scenario's `spec = "..."`.
    #[arg(long, value_name = "SPEC.md")]
    pub spec: Option<PathBuf>,
    /// Run even when the spec yields no testable claim (default: exit 2, nothing run).
    #[arg(long)]
    pub allow_empty_spec: bool,
    /// Output folder (default: reports/<scenario name>-<UTC timestamp>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No live view and no announcements on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Exit 1 when the share of failed requests (after warmup) is above this fraction (0..1).
    #[arg(long, value_name = "FRACTION")]
    pub max_error_rate: Option<f64>,
    /// Report formats to write, comma-separated: terminal, md, junit, json, csv, html
    /// [default: all]. result.json is always written.
    #[arg(long, value_delimiter = ',')]
    pub format: Vec<String>,
    /// An older result.json: the reports compare each operation's percentiles with it.
    #[arg(long, value_name = "OLD.json")]
    pub baseline: Option<PathBuf>,
    /// Game day: after the timeline keep load, proxies and the control API up until Ctrl-C.
    #[arg(long)]
    pub hold: bool,
    /// Longest hold after the timeline (e.g. 30m, 1h).
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = hold::parse_cap)]
    pub hold_max: Duration,
    /// Serve the control API for the run's proxies here (with --hold: default 127.0.0.1:8474).
    #[arg(long, value_name = "ADDR")]
    pub control: Option<String>,
    /// How long an attached proxy keeps this run's faults without hearing from it (renewed
    /// every third of it): the proxy removes them by itself if the run dies or is cut off.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_lease)]
    pub fault_lease: Duration,
    /// Run segment I of N of a distributed run (arrival k belongs to segment k mod N);
    /// `auto/N` reads the index from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job).
    #[arg(long, value_name = "I/N")]
    pub segment: Option<String>,
    /// t = 0 of the run, shared by every segment: RFC 3339 (2026-12-02T07:00:00Z) or unix
    /// seconds. A process that starts later counts the arrivals it missed as dropped.
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<String>,
    /// Treat SCENARIO as a base (target, requests, dependencies): plan the run from the spec's
    /// claims as `redline plan` does, print the plan, run it, and follow up once on claims left
    /// inconclusive for a reason another phase fixes.
    #[arg(long)]
    pub plan: bool,
    /// With --plan: the longest the planned run and its follow-up may take together.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = super::plan::parse_budget)]
    pub budget: Duration,
    /// Keep no sample of response bodies (result.json's body_samples stays empty).
    #[arg(long)]
    pub no_bodies: bool,
}

fn parse_lease(text: &str) -> Result<Duration, String> {
    match redline_proxy::fault::Ms::parse(text) {
        Ok(m) if m.0 >= Duration::from_secs(1) => Ok(m.0),
        Ok(m) => Err(format!("expected at least 1s, found {:?}", m.0)),
        Err(e) => Err(format!("expected {e}")),
    }
}

/// Everything checked before anything starts.
struct Prepared {
    plan: Plan,
    file: String,
    faults: Vec<PlannedFault>,
    out: PathBuf,
    formats: Vec<Format>,
    spec: Option<(Claims, String)>,
    baseline: Option<RunResult>,
    /// Notes for the result about choices made before the run (e.g. the ready path adopted).
    notes: Vec<String>,
    /// This process's share of a distributed run (`--segment`, `--start-at`).
    distributed: SegmentRun,
}

pub fn execute(args: Args) -> anyhow::Result<u8> {
    if args.plan {
        return super::run_plan::execute(args);
    }
    let p = prepare(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let live = !args.quiet && std::io::stderr().is_terminal();
    let control = args.control.clone().or_else(|| {
        args.hold
            .then(|| redline_proxy::control::DEFAULT_LISTEN.to_string())
    });
    let installed = Installed::with_lease(args.fault_lease);
    panic_cleanup::install(installed.clone());
    let (outcome, stopper) = runtime.block_on(async {
        let stop = StopSignal::new();
        let stopper = stop::watch(stop.clone(), installed.clone());
        let opts = ChaosOptions {
            scenario_file: Some(p.file.clone()),
            stop,
            live,
            hold: args.hold.then_some(args.hold_max),
            control,
            workers: None,
            announce: !args.quiet,
            installed: installed.clone(),
            feed: None,
            segment: p.distributed.segment.clone(),
            start_at: p.distributed.start_at,
        };
        (chaos::run(&p.plan, p.faults.clone(), opts).await, stopper)
    });
    // Ended (or failed) with a control API that did not answer: say what is still broken.
    warn_left(&installed);
    let mut result = outcome?;
    stopper.stamp(&mut result);
    result.notes.extend(p.notes.iter().cloned());
    let failed = panic_cleanup::judge_or_note(&mut result, |r| judge_claims(&p, &args.scenario, r));
    if let Err(e) = panic_cleanup::contain("writing the result", || finish(&p, &result)) {
        eprintln!(
            "error: {e:#}
(the run's faults were removed before this; exit 1)"
        );
        return Ok(exit::FAILED);
    }
    Ok(exit_code(&result, failed, args.max_error_rate))
}

/// Reads and checks the scenario, its faults, the spec and the baseline; any problem is an
/// error (exit 2) before a proxy starts or a request is sent.
fn prepare(args: &Args) -> anyhow::Result<Prepared> {
    if let Some(x) = args.max_error_rate {
        if !(0.0..=1.0).contains(&x) {
            bail!("--max-error-rate: expected a fraction from 0 to 1, found {x}");
        }
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
    let mut plan = scenario::parse(&text, &file)?;
    super::ca_file::resolve(&mut plan, &args.scenario, &file)?;
    super::grpc_protos::resolve(&mut plan, &args.scenario, &file)?;
    let mut faults = plan_faults(&plan, &file)?;
    check_hosts(&plan, &file)?;
    if args.no_bodies {
        plan.target.sample_bodies = false;
    }
    let distributed = segment::prepare(
        args.segment.as_deref(),
        args.start_at.as_deref(),
        args.hold,
        &text,
        &file,
        &mut plan,
        &mut faults,
    )?;
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
    let mut notes: Vec<String> = spec
        .as_ref()
        .filter(|_| {
            distributed
                .segment
                .as_ref()
                .is_none_or(|(s, _)| s.index == 0)
        })
        .and_then(|(claims, _)| judge::adopt_ready_path(&mut plan, claims))
        .into_iter()
        .collect();
    if let Some(note) = spec
        .as_ref()
        .and_then(|(claims, _)| judge::adopt_traceparent(&mut plan, claims))
    {
        notes.push(note);
    }
    if let Some(note) = spec
        .as_ref()
        .and_then(|(claims, _)| judge::adopt_limits(&mut plan, claims))
    {
        notes.push(note);
    }
    // A segment measured a share of the load: the spec is judged once, on the merge.
    let spec = match spec {
        Some((_, path)) if distributed.is_split() => {
            notes.push(format!(
                "spec {path} not judged on one segment: judge it on the merged result (`redline merge ... --spec {path}`)"
            ));
            None
        }
        other => other,
    };
    let baseline = match &args.baseline {
        Some(path) => Some(super::report::load(path)?),
        None => None,
    };
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("reports").join(format!("{}-{}", plan.name, stamp(SystemTime::now())))
    });
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create output folder {}", out.display()))?;
    Ok(Prepared {
        plan,
        file,
        faults,
        out,
        formats,
        spec,
        baseline,
        notes,
        distributed,
    })
}

/// The proxies connect to upstreams and control APIs: those hosts must be allowed too.
pub(super) fn check_hosts(plan: &Plan, file: &str) -> anyhow::Result<()> {
    let allowed = |h: &str| {
        plan.target
            .allowed_hosts
            .iter()
            .any(|a| a.eq_ignore_ascii_case(h))
    };
    let mut problems = Vec::new();
    for d in &plan.dependencies {
        let (key, host) = match &d.attach {
            DependencyProxy::Local { upstream, .. } => (
                "upstream",
                upstream
                    .rsplit_once(':')
                    .map_or(upstream.as_str(), |(h, _)| h)
                    .trim_matches(['[', ']'])
                    .to_string(),
            ),
            DependencyProxy::Attach { control, .. } => {
                ("control", Control::new(control).host().to_string())
            }
        };
        if !allowed(&host) {
            problems.push(format!(
                "  {file}:{}:{}: `dependency.{key}` of {:?}: expected a host listed in target.allowed_hosts ({}), found {host:?}",
                d.pos.line,
                d.pos.column,
                d.name,
                plan.target.allowed_hosts.join(", ")
            ));
        }
    }
    if !problems.is_empty() {
        bail!(
            "{file}: hosts not allowed (nothing was started):\n{}",
            problems.join("\n")
        );
    }
    Ok(())
}

/// Judges the spec's claims (when there is a spec) into the result; true if a verdict failed.
fn judge_claims(p: &Prepared, scenario: &Path, result: &mut RunResult) -> bool {
    let Some((claims, spec_file)) = &p.spec else {
        return false;
    };
    judge::judge_into(
        result,
        &p.plan,
        claims,
        spec_file,
        &scenario.display().to_string(),
    )
}

/// Writes result.json (atomically) and the reports, and prints the terminal report.
fn finish(p: &Prepared, result: &RunResult) -> anyhow::Result<()> {
    write_outputs(&p.out, &p.formats, p.baseline.as_ref(), result)
}

/// Writes `out`/result.json (atomically) and the reports in `formats`, and prints the terminal
/// report (shared with `redline merge`).
pub(super) fn write_outputs(
    out: &Path,
    formats: &[Format],
    baseline: Option<&RunResult>,
    result: &RunResult,
) -> anyhow::Result<()> {
    let path = out.join("result.json");
    write_atomically(&path, result)?;
    let report = match baseline {
        Some(old) => Report::with_baseline(result, old),
        None => Report::new(result),
    };
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

/// The exit code of a finished run (shared with `redline demo`).
pub(super) fn exit_code(
    result: &RunResult,
    verdict_failed: bool,
    max_error_rate: Option<f64>,
) -> u8 {
    if result.interrupted {
        if result.interrupted_by.as_deref() == Some(chaos::lease::CONTROL_LOST) {
            println!(
                "FAILED: the run lost an attached proxy's control API and stopped (see the notes)"
            );
            return exit::FAILED;
        }
        return stop::Signal::exit_code_for(result.interrupted_by.as_deref());
    }
    // Nothing answered at all: a failed run, with or without a spec.
    if let Some(line) = crate::report::unanswered::nothing_answered(result) {
        println!("FAILED: {line}");
        return exit::FAILED;
    }
    let (count, errors) = result
        .operations
        .values()
        .fold((0, 0), |(c, e), o| (c + o.count, e + o.errors));
    let rate = if count > 0 {
        errors as f64 / count as f64
    } else {
        0.0
    };
    if let Some(max) = max_error_rate.filter(|m| rate > *m) {
        println!(
            "FAILED: error rate {:.2}% is above --max-error-rate {:.2}%",
            rate * 100.0,
            max * 100.0
        );
        return exit::FAILED;
    }
    if verdict_failed {
        println!("FAILED: at least one claim of the spec failed (see the verdicts above)");
        return exit::FAILED;
    }
    exit::OK
}

/// Names every fault still installed on an attached proxy, with the command that removes it.
fn warn_left(installed: &Installed) {
    let left = installed.left();
    for (what, command) in &left {
        eprintln!("STILL INSTALLED: {what}\n  remove it with: {command}");
    }
    if !left.is_empty() {
        eprintln!(
            "  (the proxy removes them by itself within the {} s lease of run {}, once it gets no renewal)",
            installed.lease().as_secs_f64(),
            installed.run_id()
        );
    }
}

/// Writes `result` to a temporary file beside `path`, then renames it into place.
pub(super) fn write_atomically(path: &Path, result: &RunResult) -> anyhow::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let json = serde_json::to_vec_pretty(result)?;
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(&json)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot move result into {}", path.display()))?;
    Ok(())
}
