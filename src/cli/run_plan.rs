//! `redline run BASE.toml --spec SPEC.md --plan [--budget 10m]`: plan the run (`plan::plan`),
//! print the plan, write it as `planned.toml` in the output folder, run it, then one follow-up
//! run (in `follow-up/`) for the claims left inconclusive for a fixable reason, within the budget
//! left; the follow-up's pass/fail verdicts replace those in result.json, each saying so.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context};

use crate::chaos::judge;
use crate::engine::collect::stamp;
use crate::plan::{self, follow_up, Planned};
use crate::report::{self, Format};
use crate::result::VerdictStatus;

use super::run::{exit_code, write_outputs, Args};
use super::{exit, plan as plan_cli};

pub fn execute(args: Args) -> anyhow::Result<u8> {
    let file = args.scenario.display().to_string();
    let text = std::fs::read_to_string(&args.scenario)
        .with_context(|| format!("cannot read base scenario {file}"))?;
    let base = plan::base::read(&text, &file).map_err(anyhow::Error::msg)?;
    let Some(spec_path) = judge::spec_path(args.spec.as_deref(), &base.plan, &args.scenario) else {
        bail!(
            "--plan needs a spec to plan from: give --spec SPEC.md or `spec = \"...\"` in {file}"
        );
    };
    let (claims, spec_file) = plan_cli::read_spec(&spec_path)?;
    let planned = plan_cli::make(&claims, &spec_file, &args.scenario, args.budget)?;
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("reports").join(format!("{}-{}", base.plan.name, stamp(SystemTime::now())))
    });
    let first = write_plan(&out, &planned)?;
    plan_cli::summary(&planned, &mut std::io::stderr().lock())?;
    eprintln!("plan: {}", first.display());
    let code = run_one(&args, &first, &spec_path, &out)?;
    if ![exit::OK, exit::FAILED].contains(&code) {
        return Ok(code);
    }
    let mut result = super::report::load(&out.join("result.json"))?;
    let deps: Vec<String> = base
        .plan
        .dependencies
        .iter()
        .map(|d| d.name.clone())
        .collect();
    let focus = follow_up::focus(&result, &deps);
    if focus.is_empty() {
        eprintln!("follow-up: none needed (nothing left inconclusive that another phase can fix)");
        return Ok(code);
    }
    let left = args.budget.as_secs_f64() - planned.total_s;
    let input = plan::Input {
        claims: &claims,
        spec_file: &spec_file,
        base_text: &text,
        base_file: &file,
        budget_s: left,
        focus: Some(&focus),
    };
    let useless = |p: &Planned| p.blocks.is_empty() && !focus.baseline;
    let again = match plan::plan(&input) {
        Ok(p) if !useless(&p) => p,
        outcome => {
            let why = match outcome {
                Err(why) => why,
                Ok(p) => p.dropped,
            };
            let note = format!(
                "follow-up not run for {}: {}",
                focus.ids.join(", "),
                why.join("; ")
            );
            eprintln!("{note}");
            result.notes.push(note);
            return finish(&args, &out, &result);
        }
    };
    let dir = out.join("follow-up");
    let second = write_plan(&dir, &again)?;
    eprintln!("follow-up for {}:", focus.ids.join(", "));
    plan_cli::summary(&again, &mut std::io::stderr().lock())?;
    let code = run_one(&args, &second, &spec_path, &dir)?;
    if ![exit::OK, exit::FAILED].contains(&code) {
        return Ok(code);
    }
    let follow = super::report::load(&dir.join("result.json"))?;
    let replaced = follow_up::merge(&mut result, &follow, &focus, &dir.display().to_string());
    eprintln!(
        "follow-up decided {} of {} verdict(s)",
        replaced.len(),
        focus.ids.len()
    );
    finish(&args, &out, &result)
}

fn write_plan(dir: &Path, p: &Planned) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create output folder {}", dir.display()))?;
    let path = dir.join("planned.toml");
    std::fs::write(&path, &p.toml).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Runs one planned scenario as `redline run` does, into `out`.
fn run_one(args: &Args, scenario: &Path, spec: &Path, out: &Path) -> anyhow::Result<u8> {
    let mut one = args.clone();
    one.plan = false;
    one.scenario = scenario.to_path_buf();
    one.spec = Some(spec.to_path_buf());
    one.out = Some(out.to_path_buf());
    one.budget = Duration::ZERO;
    super::run::execute(one)
}

/// Writes the merged result and reports again and prints them.
fn finish(args: &Args, out: &Path, result: &crate::result::RunResult) -> anyhow::Result<u8> {
    let mut formats = Vec::new();
    for f in &args.format {
        formats.extend(report::parse_formats(f)?);
    }
    if formats.is_empty() {
        formats = Format::ALL.to_vec();
    }
    println!("\n==== after the follow-up ====");
    write_outputs(out, &formats, None, result)?;
    let failed = result
        .verdicts
        .iter()
        .any(|v| v.status == VerdictStatus::Fail);
    Ok(exit_code(result, failed, args.max_error_rate))
}
