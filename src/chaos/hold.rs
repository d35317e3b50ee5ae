//! Game-day hold: after the scheduled timeline the load goes on at the last stage's rate (or
//! with the same users), bounded by a cap, until Ctrl-C, while faults are changed by hand.
//! Done by extending the plan the engine runs, so the engine needs no special mode.

use std::time::Duration;

use crate::result::PhaseKind;
use crate::scenario::{phase_windows, Model, PhaseWindow, Plan, Stage};

/// The plan the engine runs: `plan` itself, or with `hold` more of its last load shape.
pub fn extend(plan: &Plan, hold: Option<Duration>) -> Plan {
    let Some(hold) = hold else {
        return plan.clone();
    };
    let mut out = plan.clone();
    match &mut out.load.model {
        Model::Open { stages, .. } => {
            let rate = stages.last().map_or(0.0, |s| s.rate);
            stages.push(Stage {
                duration: hold,
                rate,
                ramp: false,
            });
        }
        Model::Closed { duration, .. } => *duration += hold,
    }
    out
}

/// The phases of the run: the scenario's own (or the defaults), then `hold` after the timeline.
pub fn phases(plan: &Plan, hold: Option<Duration>) -> Vec<PhaseWindow> {
    let mut out = phase_windows(plan);
    if let Some(hold) = hold {
        let end = plan.load.duration();
        out.push(PhaseWindow {
            name: "hold".into(),
            kind: PhaseKind::Custom,
            from: end,
            to: end + hold,
        });
    }
    out
}

/// Parses `--hold-max` ("1h", "30m", "90s").
pub fn parse_cap(text: &str) -> Result<Duration, String> {
    let d = crate::scenario::duration::parse_duration(text)?;
    if d.is_zero() {
        return Err(format!("expected a duration above zero, found {text:?}"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;

    #[test]
    fn hold_repeats_the_last_rate_and_adds_a_phase() {
        let src = "name = \"t\"\n[target]\nbase_url = \"http://127.0.0.1:1\"\nallowed_hosts = [\"127.0.0.1\"]\n\
                   [load]\nstages = [ { duration = \"2s\", rate = 10 }, { duration = \"3s\", rate = 40, ramp = true } ]\n\
                   [[request]]\nname = \"r\"\npath = \"/\"\n";
        let plan = scenario::parse(src, "t.toml").unwrap();
        let held = extend(&plan, Some(Duration::from_secs(60)));
        assert_eq!(held.load.duration(), Duration::from_secs(65));
        let Model::Open { stages, .. } = &held.load.model else {
            panic!()
        };
        assert_eq!((stages[2].rate, stages[2].ramp), (40.0, false));
        let p = phases(&plan, Some(Duration::from_secs(60)));
        let last = p.last().unwrap();
        assert_eq!(
            (last.name.as_str(), last.from, last.to),
            ("hold", Duration::from_secs(5), Duration::from_secs(65))
        );
        assert_eq!(extend(&plan, None), plan);
        assert!(parse_cap("0s").is_err() && parse_cap("1h").is_ok());
    }
}
