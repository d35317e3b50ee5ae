//! The distributed half of `redline run`'s preparation: `--segment I/N | auto/N` and
//! `--start-at TIME` read and checked, and the plan cut down to what this segment does (only
//! segment 0 drives faults and reads dependency logs and health; in-process proxies refused when
//! N > 1). Any problem is an error before anything starts (exit 2).

use std::time::{Duration, SystemTime};

use anyhow::bail;

use crate::chaos::fault_spec::PlannedFault;
use crate::distributed::{scenario_hash::scenario_hash, segment_arg, start_at};
use crate::engine::Segment;
use crate::scenario::{DependencyProxy, Plan};

/// A start further ahead than this is taken for a typo.
const START_AT_HORIZON: Duration = Duration::from_secs(7 * 24 * 3600);

/// What `redline run` does differently as one segment of a distributed run.
#[derive(Debug, Default)]
pub struct SegmentRun {
    /// The segment and the scenario file's hash, when `--segment` was given.
    pub segment: Option<(Segment, String)>,
    pub start_at: Option<SystemTime>,
}

impl SegmentRun {
    /// True when this process runs a share of a run split in more than one segment.
    pub fn is_split(&self) -> bool {
        self.segment.as_ref().is_some_and(|(s, _)| s.count > 1)
    }
}

/// Reads the two options and cuts `plan` and `faults` down for segments other than 0.
pub fn prepare(
    segment: Option<&str>,
    start_at_text: Option<&str>,
    hold: bool,
    scenario_text: &str,
    file: &str,
    plan: &mut Plan,
    faults: &mut Vec<PlannedFault>,
) -> anyhow::Result<SegmentRun> {
    let start_at = match start_at_text {
        None => None,
        Some(t) => {
            let at = start_at::parse(t).map_err(|e| anyhow::anyhow!("--start-at: {e}"))?;
            if at > SystemTime::now() + START_AT_HORIZON {
                bail!("--start-at {t}: more than 7 days ahead (expected a time shortly after every segment is scheduled)");
            }
            Some(at)
        }
    };
    let Some(text) = segment else {
        return Ok(SegmentRun {
            segment: None,
            start_at,
        });
    };
    let segment =
        segment_arg::parse(text, |k| std::env::var(k).ok()).map_err(anyhow::Error::msg)?;
    if segment.count > 1 {
        if hold {
            bail!("--hold with --segment {text}: a game day is held by one process; run it without --segment");
        }
        let local: Vec<String> = plan
            .dependencies
            .iter()
            .filter(|d| matches!(d.attach, DependencyProxy::Local { .. }))
            .map(|d| {
                format!(
                    "  {file}:{}:{}: dependency {:?} (listen + upstream)",
                    d.pos.line, d.pos.column, d.name
                )
            })
            .collect();
        if !local.is_empty() {
            bail!(
                "--segment {text}: in-process fault proxies cannot be split over {} processes (each would start its own proxy on its own machine, and the service under test calls only one); run `redline proxy --control` beside the service and attach with `control` + `proxy` (nothing was started):\n{}",
                segment.count,
                local.join("\n")
            );
        }
    }
    if segment.index > 0 {
        // Segment 0 drives the fault timeline and reads the dependency side; the others only
        // send their share of the load (phases still come from the scenario's faults).
        plan.dependencies.clear();
        faults.clear();
        plan.target.health_path = None;
        plan.target.ready_path = None;
    }
    Ok(SegmentRun {
        segment: Some((segment, scenario_hash(scenario_text.as_bytes()))),
        start_at,
    })
}
