//! The planned scenario as commented TOML: a header (budget, timeline, what is dropped, what needs
//! a longer run, what is not planned), the base as the user wrote it, then `[load]` with one
//! commented stage per segment and one commented `[[fault]]` per fault.

use std::fmt::Write;

use super::assemble::Placed;
use super::base::Base;
use super::baseline::Baseline;
use super::breaker_phases::fmt2;
use super::budget::Fit;
use super::Input;

/// A duration the scenario reader takes: whole milliseconds.
fn dur(s: f64) -> String {
    format!("\"{}ms\"", (s * 1000.0).round() as u64)
}

fn comment_block(out: &mut String, title: &str, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(out, "# {title}");
    for l in lines {
        let _ = writeln!(out, "#   - {l}");
    }
}

#[allow(clippy::too_many_arguments)]
pub fn render(
    input: &Input,
    base: &Base,
    rates: &Baseline,
    fit: &Fit,
    placed: &Placed,
    needs_longer: &[String],
    not_planned: &[String],
    phases: &[String],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Planned by `redline plan {} --scenario {} --budget {}s`: {} s in all.\n\
         # Each stage and fault below says which claims it is for and why its rate and length; the\n\
         # rest of the file is the base scenario as written (the tables the plan writes are commented out).",
        input.spec_file,
        input.base_file,
        fmt2(input.budget_s),
        fmt2(placed.total_s)
    );
    comment_block(&mut out, "Phases of the run:", phases);
    let mut whats: Vec<&str> = Vec::new();
    for n in &fit.kept {
        if !whats.contains(&n.what.as_str()) {
            whats.push(&n.what);
        }
    }
    let claims: Vec<String> = std::iter::once(format!("baseline: {}", whats.join(", ")))
        .chain(
            fit.blocks
                .iter()
                .map(|b| format!("{}: {}", b.label, b.claims.join("; "))),
        )
        .collect();
    comment_block(&mut out, "Claims planned for:", &claims);
    comment_block(&mut out, "Dropped to fit the budget:", &fit.dropped);
    comment_block(
        &mut out,
        "Needs a longer run (stays inconclusive, saying so):",
        needs_longer,
    );
    comment_block(&mut out, "Not planned:", not_planned);
    out.push('\n');
    out.push_str(&base.text);
    let _ = writeln!(
        out,
        "\n# ---- planned by redline plan ----\n\n# Baseline rate: {}.\n[load]\nmodel = \"open\"\n\
         arrival = \"uniform\"  # evenly spaced: the low-rate phases rely on the gap between requests\n\
         warmup = {}\nstages = [",
        rates.rate_why,
        dur(super::WARMUP_S)
    );
    for (start, s) in &placed.stages {
        let _ = writeln!(
            out,
            "  # {}–{} s {}: {}\n  {{ duration = {}, rate = {} }},",
            fmt2(*start),
            fmt2(start + s.length_s),
            s.name,
            s.why,
            dur(s.length_s),
            s.rate
        );
    }
    out.push_str("]\n");
    for f in &placed.faults {
        let _ = writeln!(
            out,
            "\n# {}\n[[fault]]\ndependency = {:?}\nat = {}\nduration = {}\nkind = {:?}",
            f.why,
            f.dependency,
            dur(f.at_s),
            dur(f.duration_s),
            f.kind
        );
        if f.probability < 1.0 {
            let _ = writeln!(out, "probability = {}", f.probability);
        }
        if let Some(s) = f.status {
            let _ = writeln!(out, "status = {s}");
        }
        if let Some(n) = f.every {
            let _ = writeln!(out, "every = {n}");
        }
    }
    out
}
