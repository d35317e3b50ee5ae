//! Phase windows on the run's clock: the defaults (warmup, baseline, each fault, recovery) or the
//! scenario's own `[[phase]]` entries. Pure functions of the plan.

use std::time::Duration;

use crate::result::PhaseKind;

use super::Plan;

/// A named window [from, to) on the run's clock; requests belong to every window that contains
/// their intended send time.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseWindow {
    pub name: String,
    pub kind: PhaseKind,
    pub from: Duration,
    pub to: Duration,
}

impl PhaseWindow {
    pub fn contains(&self, t: Duration) -> bool {
        self.from <= t && t < self.to
    }
}

/// The phases of a run: warmup (if any), then the scenario's `[[phase]]` entries if it has some,
/// otherwise baseline, each fault window (`fault:<dependency>:<kind>`), and recovery after each.
pub fn phase_windows(plan: &Plan) -> Vec<PhaseWindow> {
    let end = plan.load.duration();
    let warmup = plan.load.warmup.min(end);
    let mut out = Vec::new();
    push(
        &mut out,
        "warmup",
        PhaseKind::Warmup,
        Duration::ZERO,
        warmup,
    );
    if !plan.phases.is_empty() {
        for p in &plan.phases {
            out.push(PhaseWindow {
                name: p.name.clone(),
                kind: kind_of(&p.name),
                from: p.from,
                to: p.to,
            });
        }
        return out;
    }
    let mut faults: Vec<_> = plan.faults.iter().filter(|f| f.at < end).collect();
    faults.sort_by_key(|f| f.at);
    let first = faults.first().map_or(end, |f| f.at.max(warmup));
    push(&mut out, "baseline", PhaseKind::Baseline, warmup, first);
    let mut covered = first;
    for (i, f) in faults.iter().enumerate() {
        if f.at > covered {
            push(
                &mut out,
                &format!("recovery-{i}"),
                PhaseKind::Recovery,
                covered,
                f.at,
            );
        }
        let mut name = format!("fault:{}:{}", f.dependency, f.kind.as_str());
        if out.iter().any(|w| w.name == name) {
            name = format!("{name}@{}s", f.at.as_secs_f64());
        }
        push(&mut out, &name, PhaseKind::Fault, f.at, f.end().min(end));
        covered = covered.max(f.end().min(end));
    }
    if !faults.is_empty() {
        push(&mut out, "recovery", PhaseKind::Recovery, covered, end);
    }
    out
}

fn push(out: &mut Vec<PhaseWindow>, name: &str, kind: PhaseKind, from: Duration, to: Duration) {
    if to > from {
        out.push(PhaseWindow {
            name: name.to_string(),
            kind,
            from,
            to,
        });
    }
}

fn kind_of(name: &str) -> PhaseKind {
    match name {
        "warmup" => PhaseKind::Warmup,
        "baseline" => PhaseKind::Baseline,
        "recovery" => PhaseKind::Recovery,
        n if n.starts_with("fault") => PhaseKind::Fault,
        _ => PhaseKind::Custom,
    }
}
