//! The plan of one step: the scenario with its `[load]` replaced by one open-model stage at the
//! step's rate (warm-up slice first), one `baseline` phase over the judged window, and its faults
//! either removed or spread over the whole step (`--with-faults`).

use std::time::Duration;

use crate::scenario::{Arrival, Model, PhaseSpec, Plan, Pos, Stage};

/// The step's plan: `warmup` then `judged` at `rate` req/s.
pub fn step_plan(
    plan: &Plan,
    rate: f64,
    warmup: Duration,
    judged: Duration,
    with_faults: bool,
) -> Plan {
    let mut p = plan.clone();
    let total = warmup + judged;
    p.load.model = Model::Open {
        arrival: arrival(plan),
        stages: vec![Stage {
            duration: total,
            rate,
            ramp: false,
        }],
    };
    p.load.warmup = warmup;
    p.phases = vec![PhaseSpec {
        name: "baseline".to_string(),
        from: warmup,
        to: total,
        pos: Pos::default(),
    }];
    if with_faults {
        for f in &mut p.faults {
            f.at = Duration::ZERO;
            f.duration = total;
        }
    } else {
        p.faults.clear();
    }
    p
}

/// The scenario's arrival process; uniform for a closed-model scenario (capacity is open-model).
pub fn arrival(plan: &Plan) -> Arrival {
    match &plan.load.model {
        Model::Open { arrival, .. } => *arrival,
        Model::Closed { .. } => Arrival::Uniform,
    }
}

/// A short closed-model probe (`users` at once for `length`) that tells the search where to start
/// when no `--min` is given.
pub fn probe_plan(plan: &Plan, users: u32, length: Duration) -> Plan {
    let mut p = plan.clone();
    p.load.model = Model::Closed {
        users: std::num::NonZeroU32::new(users.max(1)).expect("at least one"),
        duration: length,
        think_time: Duration::ZERO,
    };
    p.load.warmup = Duration::ZERO;
    p.phases.clear();
    p.faults.clear();
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        let src = "name = \"t\"\n[target]\nbase_url = \"http://127.0.0.1:1\"\nallowed_hosts = [\"127.0.0.1\"]\n\
                   [load]\narrival = \"poisson\"\nwarmup = \"5s\"\nstages = [ { duration = \"60s\", rate = 10 }, { duration = \"1m\", rate = 99, ramp = true } ]\n\
                   [[request]]\nname = \"get\"\npath = \"/\"\n\
                   [[dependency]]\nname = \"D\"\nlisten = \"127.0.0.1:2\"\nupstream = \"127.0.0.1:3\"\n\
                   [[fault]]\ndependency = \"D\"\nat = \"20s\"\nduration = \"10s\"\nkind = \"abort\"\nstatus = 503\n";
        crate::scenario::parse(src, "t.toml").unwrap()
    }

    #[test]
    fn a_step_replaces_the_stages_keeps_the_arrival_and_judges_one_window() {
        let p = step_plan(
            &plan(),
            250.0,
            Duration::from_millis(500),
            Duration::from_secs(3),
            false,
        );
        let Model::Open { arrival, stages } = &p.load.model else {
            panic!("open")
        };
        assert_eq!(*arrival, Arrival::Poisson);
        assert_eq!(stages.len(), 1);
        assert_eq!(
            (stages[0].rate, stages[0].duration),
            (250.0, Duration::from_millis(3500))
        );
        assert!(p.faults.is_empty() && p.dependencies.len() == 1);
        let phases = crate::scenario::phase_windows(&p);
        let names: Vec<_> = phases.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(names, ["warmup", "baseline"]);
        assert_eq!(phases[1].kind, crate::result::PhaseKind::Baseline);
    }

    #[test]
    fn with_faults_every_fault_spans_the_step() {
        let p = step_plan(
            &plan(),
            10.0,
            Duration::from_secs(1),
            Duration::from_secs(2),
            true,
        );
        assert_eq!(p.faults.len(), 1);
        assert_eq!(
            (p.faults[0].at, p.faults[0].end()),
            (Duration::ZERO, Duration::from_secs(3))
        );
    }
}
