//! `redline run SCENARIO.toml [--out DIR] [--quiet] [--max-error-rate X]`: run a scenario,
//! write result.json atomically, print a summary, exit 0/1/2/130.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{bail, Context};
use tokio::sync::mpsc;

use crate::engine::collect::stamp;
use crate::engine::{run_scenario, RunOptions, StopSignal};
use crate::result::{RunResult, TimelineBucket};
use crate::scenario;

use super::exit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario TOML file.
    pub scenario: PathBuf,
    /// Output folder (default: reports/<scenario name>-<UTC timestamp>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No live progress line.
    #[arg(long)]
    pub quiet: bool,
    /// Exit 1 when the share of failed requests (after warmup) is above this fraction (0..1).
    #[arg(long, value_name = "FRACTION")]
    pub max_error_rate: Option<f64>,
}

pub fn execute(args: Args) -> anyhow::Result<u8> {
    if let Some(x) = args.max_error_rate {
        if !(0.0..=1.0).contains(&x) {
            bail!("--max-error-rate: expected a fraction from 0 to 1, found {x}");
        }
    }
    let file = args.scenario.display().to_string();
    let text = std::fs::read_to_string(&args.scenario)
        .with_context(|| format!("cannot read scenario {file}"))?;
    let plan = match scenario::parse(&text, &file) {
        Ok(plan) => plan,
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(exit::BAD_INPUT);
        }
    };
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("reports").join(format!("{}-{}", plan.name, stamp(SystemTime::now())))
    });
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create output folder {}", out.display()))?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        let stop = StopSignal::new();
        tokio::spawn(ctrl_c(stop.clone()));
        let live = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(progress(rx));
            tx
        });
        let options = RunOptions {
            scenario_file: Some(file.clone()),
            stop,
            live,
            ..RunOptions::default()
        };
        run_scenario(&plan, options).await
    })?;
    if !args.quiet && std::io::stderr().is_terminal() {
        eprint!("\r\x1b[2K");
    }
    let path = out.join("result.json");
    write_atomically(&path, &result)?;
    print_summary(&result, &path);
    Ok(exit_code(&result, args.max_error_rate))
}

fn exit_code(result: &RunResult, max_error_rate: Option<f64>) -> u8 {
    if result.interrupted {
        return exit::INTERRUPTED;
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
    match max_error_rate {
        Some(max) if rate > max => {
            println!(
                "FAILED: error rate {:.2}% is above --max-error-rate {:.2}%",
                rate * 100.0,
                max * 100.0
            );
            exit::FAILED
        }
        _ => exit::OK,
    }
}

/// First Ctrl-C stops the load (the partial result is written); a second one exits at once.
async fn ctrl_c(stop: StopSignal) {
    if tokio::signal::ctrl_c().await.is_ok() {
        eprintln!("\ninterrupted: stopping the load and writing the partial result (Ctrl-C again to quit now)");
        stop.stop();
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(exit::INTERRUPTED as i32);
        }
    }
}

async fn progress(mut rx: mpsc::UnboundedReceiver<TimelineBucket>) {
    let (mut sent, mut errors) = (0u64, 0u64);
    while let Some(b) = rx.recv().await {
        sent += b.sent;
        errors += b.errors;
        let p99 = b.ops.values().map(|o| o.p99_ms).fold(0.0, f64::max);
        eprint!(
            "\r\x1b[2K[{:>4}s] {:>8} req/s  sent {:>9}  errors {:>7}  in flight {:>6}  p99 {:>8.1} ms",
            b.t_s + 1,
            b.completed,
            sent,
            errors,
            b.in_flight,
            p99
        );
        let _ = std::io::stderr().flush();
    }
}

/// Writes `result` to a temporary file beside `path`, then renames it into place.
fn write_atomically(path: &Path, result: &RunResult) -> anyhow::Result<()> {
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

fn print_summary(r: &RunResult, path: &Path) {
    let t = &r.totals;
    println!(
        "{}{}: {:.1} s, sent {}, completed {}, errors {}, dropped {}, {:.1} req/s",
        r.scenario,
        if r.interrupted { " (INTERRUPTED)" } else { "" },
        r.duration_s,
        t.sent,
        t.completed,
        t.errors,
        t.dropped,
        t.rps
    );
    if r.warmup_s > 0.0 {
        println!("statistics exclude the first {:.1} s of warmup; latency is from the intended send time", r.warmup_s);
    }
    println!(
        "{:<24} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "request", "count", "errors", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"
    );
    for (name, o) in &r.operations {
        let l = &o.latency_ms;
        println!(
            "{:<24} {:>9} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            truncate(name, 24),
            o.count,
            o.errors,
            l.p50,
            l.p90,
            l.p99,
            l.p999,
            l.max
        );
        for (kind, n) in &o.error_kinds {
            println!("{:<24}   {n} {kind}", "");
        }
    }
    println!("result: {}", path.display());
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(['…']).collect()
    }
}
