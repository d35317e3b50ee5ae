//! `redline merge RESULT.json|DIR... [--spec SPEC.md] [--scenario FILE] [--out DIR] [--format ...]
//! [--wait 10m] [--quiet]`: the segments of a distributed run -> one result.json, judged once
//! against the spec and rendered in every report, with `redline run`'s exit codes (a partial
//! merge, with segments missing, exits 1; a part of another run, 2).

use std::collections::btree_map::{BTreeMap, Entry};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context};

use crate::chaos::{hold, judge};
use crate::distributed::merge::{self, Part};
use crate::distributed::scenario_hash::scenario_hash;
use crate::engine::collect::stamp;
use crate::report::{self, Format};
use crate::result::RunResult;
use crate::scenario::{self, Plan};

use super::exit;
use super::run::{exit_code, write_outputs};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The segments' result.json files, or folders holding one sub-folder per segment
    /// (`DIR/*/result.json`; results that are not segments, such as an earlier merge, are skipped).
    #[arg(required = true, value_name = "RESULT.json|DIR")]
    pub parts: Vec<PathBuf>,
    /// The spec (Markdown) to judge; default: the scenario's `spec = "..."`.
    #[arg(long, value_name = "SPEC.md")]
    pub spec: Option<PathBuf>,
    /// The scenario the segments ran (request names, SLO rows, timeouts for the verdicts);
    /// default: the `scenario_file` recorded in segment 0's result. Its hash must match theirs.
    #[arg(long, value_name = "SCENARIO.toml")]
    pub scenario: Option<PathBuf>,
    /// Output folder (default: reports/<scenario name>-merged-<UTC timestamp>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Report formats to write, comma-separated: terminal, md, junit, json, csv, html
    /// [default: all]. result.json is always written.
    #[arg(long, value_delimiter = ',')]
    pub format: Vec<String>,
    /// Wait up to this long (e.g. 10m) for every segment's result to appear; then merge what is
    /// there (missing segments make the result partial).
    #[arg(long, value_name = "DURATION", value_parser = hold::parse_cap)]
    pub wait: Option<Duration>,
    /// Exit 1 when the share of failed requests (after warmup) is above this fraction (0..1).
    #[arg(long, value_name = "FRACTION")]
    pub max_error_rate: Option<f64>,
    /// Nothing on stderr but errors.
    #[arg(long)]
    pub quiet: bool,
    /// Judge even when the spec yields no testable claim (default: exit 2).
    #[arg(long)]
    pub allow_empty_spec: bool,
}

pub fn execute(args: Args) -> anyhow::Result<u8> {
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
    let started = Instant::now();
    let parts = gather_waiting(&args.parts, args.wait, args.quiet)?;
    let mut result = merge::merge(parts).map_err(anyhow::Error::msg)?;
    if !args.quiet {
        eprintln!(
            "merged {} parts in {:.1} ms",
            result.merged.as_ref().map_or(0, |m| m.segments.len()),
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
    let failed = judge_merged(&args, &mut result)?;
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("reports").join(format!(
            "{}-merged-{}",
            result.scenario,
            stamp(SystemTime::now())
        ))
    });
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create output folder {}", out.display()))?;
    write_outputs(&out, &formats, None, &result)?;
    let code = exit_code(&result, failed, args.max_error_rate);
    match &result.merged {
        Some(m) if m.partial && code == exit::OK => {
            println!(
                "FAILED: partial result: segments {:?} of {} missing",
                m.missing, m.count
            );
            Ok(exit::FAILED)
        }
        _ => Ok(code),
    }
}

/// Result files read so far (None: not a segment result, skipped), each read once, and the
/// parts of the last scan in the order named (a file given twice is there twice, and refused).
#[derive(Default)]
struct Found {
    read: BTreeMap<PathBuf, Option<Part>>,
    named: Vec<PathBuf>,
}

impl Found {
    fn parts(&self) -> impl Iterator<Item = &Part> + Clone {
        self.named
            .iter()
            .filter_map(|p| self.read.get(p).and_then(Option::as_ref))
    }
}

/// Reads the parts, waiting (when asked) until every segment of the run is there.
fn gather_waiting(
    paths: &[PathBuf],
    wait: Option<Duration>,
    quiet: bool,
) -> anyhow::Result<Vec<Part>> {
    let mut found = Found::default();
    let Some(wait) = wait else {
        scan(paths, true, &mut found)?;
        return parts_of(&found, paths);
    };
    let deadline = Instant::now() + wait;
    let mut said = false;
    loop {
        scan(paths, false, &mut found)?;
        let present = found.parts().count();
        if complete(found.parts()) {
            return parts_of(&found, paths);
        }
        if Instant::now() >= deadline {
            if !quiet {
                eprintln!(
                    "waited {:.0} s: merging the {present} parts found",
                    wait.as_secs_f64()
                );
            }
            scan(paths, true, &mut found)?;
            return parts_of(&found, paths);
        }
        if !said && !quiet {
            eprintln!(
                "waiting up to {:.0} s for every segment's result.json ({present} found)",
                wait.as_secs_f64()
            );
            said = true;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// True when the parts hold every index of their run.
fn complete<'a>(parts: impl Iterator<Item = &'a Part> + Clone) -> bool {
    let Some(count) = parts
        .clone()
        .find_map(|p| p.result.segment.as_ref().map(|s| s.count))
    else {
        return false;
    };
    let mut seen: Vec<u32> = parts.map(Part::index).collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len() as u32 == count
}

/// Every part named: files as given, folders as their `*/result.json` segment results (others
/// skipped); files not read before are read. When not `strict`, files that do not exist (yet)
/// are left for a later scan.
fn scan(paths: &[PathBuf], strict: bool, found: &mut Found) -> anyhow::Result<()> {
    found.named.clear();
    for path in paths {
        let files: Vec<PathBuf> = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read folder {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path().join("result.json")))
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            files
        } else if strict || path.exists() {
            vec![path.clone()]
        } else {
            Vec::new()
        };
        for file in files {
            if let Entry::Vacant(slot) = found.read.entry(file.clone()) {
                let part = load(slot.key())?;
                // A folder may also hold a merged result: only segments are parts.
                let keep = part.result.segment.is_some() || !path.is_dir();
                slot.insert(keep.then_some(part));
            }
            found.named.push(file);
        }
    }
    Ok(())
}

/// The segment results found; an error when there is none.
fn parts_of(found: &Found, paths: &[PathBuf]) -> anyhow::Result<Vec<Part>> {
    let parts: Vec<Part> = found.parts().cloned().collect();
    if parts.is_empty() {
        bail!(
            "no segment result found in {} (expected result.json files of `redline run --segment I/N`, or folders holding them)",
            paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(parts)
}

fn load(path: &Path) -> anyhow::Result<Part> {
    Ok(Part {
        file: path.display().to_string(),
        result: super::report::load(path)?,
    })
}

/// Judges the spec (`--spec`, else the scenario's own) on the merged result; true if a verdict
/// failed. Needs the scenario, and refuses one whose hash differs from the parts'.
fn judge_merged(args: &Args, result: &mut RunResult) -> anyhow::Result<bool> {
    let scenario_path = args
        .scenario
        .clone()
        .or_else(|| result.scenario_file.clone().map(PathBuf::from));
    let plan = match &scenario_path {
        Some(path) if args.scenario.is_some() || path.exists() => Some(read_plan(path, result)?),
        _ => None,
    };
    let spec_path = match &plan {
        Some((plan, path)) => judge::spec_path(args.spec.as_deref(), plan, path),
        None => args.spec.clone(),
    };
    let Some(spec_path) = spec_path else {
        return Ok(false);
    };
    let Some((plan, scenario_path)) = plan else {
        bail!(
            "--spec {}: judging needs the scenario the segments ran (request names, SLO rows, timeouts): give --scenario FILE",
            spec_path.display()
        );
    };
    let text = std::fs::read_to_string(&spec_path)
        .with_context(|| format!("cannot read spec {}", spec_path.display()))?;
    let claims = crate::spec::parse(&text);
    if !args.allow_empty_spec {
        crate::spec::require_testable(&claims, &spec_path.display().to_string())?;
    }
    let spec_file = spec_path.display().to_string();
    Ok(judge::judge_into(
        result,
        &plan,
        &claims,
        &spec_file,
        &scenario_path.display().to_string(),
    ))
}

/// Reads the scenario and checks it is the one the parts ran.
fn read_plan(path: &Path, result: &RunResult) -> anyhow::Result<(Plan, PathBuf)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read scenario {}", path.display()))?;
    let hash = scenario_hash(text.as_bytes());
    if let Some(m) = &result.merged {
        if m.scenario_hash != hash {
            bail!(
                "{}: scenario hash {hash} differs from the segments' {}: not the scenario they ran (give the same file with --scenario)",
                path.display(),
                m.scenario_hash
            );
        }
    }
    let plan = scenario::parse(&text, &path.display().to_string())?;
    Ok((plan, path.to_path_buf()))
}
