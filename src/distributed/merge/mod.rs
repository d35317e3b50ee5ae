//! `merge`: the parts of one distributed run -> one `RunResult`, as if one process had run the
//! whole schedule. Checks first (`check`), then exact sums: counts, histograms added
//! (`histograms`), timelines summed second by second (`timeline`), client logs merged in time
//! order (bounded like a run's), body samples re-sampled per key (`bodies`), and the dependency side (faults, dependency logs, health and
//! readiness samples) taken from segment 0, the only one that drives faults. Verdicts are left
//! for the caller to judge on the merged result.

mod bodies;
mod check;
pub mod histograms;
mod timeline;

use crate::engine::CLIENT_LOG_CAP;
use crate::result::{MergeInfo, PhaseStats, RunResult, Totals, SCHEMA_VERSION};

pub use check::Checked;

/// One part: a segment's result and the file it came from (named in every message).
#[derive(Debug, Clone)]
pub struct Part {
    pub file: String,
    pub result: RunResult,
}

impl Part {
    pub fn index(&self) -> u32 {
        self.result.segment.as_ref().map_or(u32::MAX, |s| s.index)
    }
}

/// Checks and merges `parts`. Missing segments do not stop the merge: the result says which
/// (`merged.missing`, `merged.partial`, a note). A part that does not belong is an error.
pub fn merge(mut parts: Vec<Part>) -> Result<RunResult, String> {
    let checked = check::check(&mut parts)?;
    let results: Vec<(&str, &RunResult)> =
        parts.iter().map(|p| (p.file.as_str(), &p.result)).collect();
    let lead = results[0].1;
    let zero = parts.iter().find(|p| p.index() == 0).map(|p| &p.result);

    let operations = histograms::merge_operations(
        &results
            .iter()
            .map(|(f, r)| (*f, &r.operations))
            .collect::<Vec<_>>(),
    )?;
    let phases = merge_phases(&results)?;
    let (timeline, approximate) = timeline::merge(
        &results
            .iter()
            .map(|(f, r)| (*f, r.timeline.as_slice()))
            .collect::<Vec<_>>(),
    )?;

    let duration_s = results
        .iter()
        .map(|(_, r)| r.duration_s)
        .fold(0.0, f64::max);
    let mut totals = Totals::default();
    for (_, r) in &results {
        totals.sent += r.totals.sent;
        totals.completed += r.totals.completed;
        totals.errors += r.totals.errors;
        totals.dropped += r.totals.dropped;
    }
    totals.rps = if duration_s > 0.0 {
        totals.completed as f64 / duration_s
    } else {
        0.0
    };

    let mut client_log: Vec<_> = results
        .iter()
        .flat_map(|(_, r)| r.client_log.iter().cloned())
        .collect();
    client_log.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
    let mut client_log_truncated = results.iter().any(|(_, r)| r.client_log_truncated);
    if client_log.len() > CLIENT_LOG_CAP {
        client_log.truncate(CLIENT_LOG_CAP);
        client_log_truncated = true;
    }

    let mut notes = vec![format!(
        "merged {} of {} segments ({}); counts and histograms added exactly",
        checked.present.len(),
        checked.count,
        list(&checked.present)
    )];
    if !checked.missing.is_empty() {
        notes.push(format!(
            "PARTIAL: segments {} of {} missing: their share of the load is not in these figures",
            list(&checked.missing),
            checked.count
        ));
    }
    if zero.is_none() {
        notes.push(
            "segment 0 missing: no faults, dependency logs or health samples (segment 0 records them)"
                .to_string(),
        );
    }
    if approximate > 0 {
        notes.push(format!(
            "{approximate} per-second percentiles are the largest of the parts' (a part kept no per-second histogram)"
        ));
    }
    for p in &parts {
        for n in &p.result.notes {
            notes.push(format!("segment {}: {n}", p.index()));
        }
    }
    let started_at = lead
        .segment
        .as_ref()
        .and_then(|s| s.start_at.clone())
        .unwrap_or_else(|| {
            results
                .iter()
                .map(|(_, r)| r.started_at.clone())
                .min()
                .unwrap_or_default()
        });

    Ok(RunResult {
        schema_version: SCHEMA_VERSION,
        scenario: lead.scenario.clone(),
        scenario_file: zero.unwrap_or(lead).scenario_file.clone(),
        seed: lead.seed,
        started_at,
        duration_s,
        interrupted: results.iter().any(|(_, r)| r.interrupted),
        warmup_s: lead.warmup_s,
        http_version: lead.http_version.clone(),
        totals,
        operations,
        timeline,
        phases,
        faults: zero.map(|z| z.faults.clone()).unwrap_or_default(),
        dependencies: zero.map(|z| z.dependencies.clone()).unwrap_or_default(),
        client_log,
        client_log_truncated,
        body_samples: bodies::merge(
            &results
                .iter()
                .map(|(_, r)| r.body_samples.as_slice())
                .collect::<Vec<_>>(),
            lead.seed,
        ),
        health: zero.map(|z| z.health.clone()).unwrap_or_default(),
        ready: zero.and_then(|z| z.ready.clone()),
        notes,
        merged: Some(MergeInfo {
            count: checked.count,
            segments: checked.present.clone(),
            partial: !checked.missing.is_empty(),
            missing: checked.missing,
            scenario_hash: checked.hash,
            files: parts.iter().map(|p| p.file.clone()).collect(),
        }),
        ..RunResult::default()
    })
}

/// Phases match by position and name (every segment measured the same phase windows).
fn merge_phases(results: &[(&str, &RunResult)]) -> Result<Vec<PhaseStats>, String> {
    let (lead_file, lead) = results[0];
    let mut out = Vec::with_capacity(lead.phases.len());
    for (k, phase) in lead.phases.iter().enumerate() {
        let mut parts = Vec::with_capacity(results.len());
        for (file, r) in results {
            match r.phases.get(k) {
                Some(p) if p.name == phase.name => parts.push((*file, &p.operations)),
                other => {
                    return Err(format!(
                        "{file}: phase {} is {:?}, but {lead_file} has {:?}: the parts measured different phases",
                        k + 1,
                        other.map(|p| p.name.as_str()).unwrap_or("absent"),
                        phase.name
                    ))
                }
            }
        }
        out.push(PhaseStats {
            operations: histograms::merge_operations(&parts)?,
            ..phase.clone()
        });
    }
    Ok(out)
}

fn list(indices: &[u32]) -> String {
    indices
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests;
