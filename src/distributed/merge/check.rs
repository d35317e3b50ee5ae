//! Do the parts belong together? Every part a segment result, all of one run (same scenario
//! hash, scenario name, seed, segment count and start), no index twice; which are missing.

use super::Part;

/// What the checks established.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub count: u32,
    pub hash: String,
    /// Indices present, ascending (the parts are sorted to match).
    pub present: Vec<u32>,
    pub missing: Vec<u32>,
}

/// Checks `parts` (sorting them by segment index); the error names the file, the field, what
/// was expected and what was found.
pub fn check(parts: &mut [Part]) -> Result<Checked, String> {
    let Some(first) = parts.first() else {
        return Err("no result.json to merge".to_string());
    };
    for p in parts.iter() {
        if p.result.segment.is_none() {
            return Err(format!(
                "{}: not a segment result (no `segment` field): only results of `redline run --segment I/N` can be merged",
                p.file
            ));
        }
    }
    let lead = first.result.segment.clone().unwrap_or_default();
    let (lead_file, lead_result) = (first.file.clone(), first.result.clone());
    for p in parts.iter().skip(1) {
        let s = p.result.segment.as_ref().expect("checked above");
        let differs = |field: &str, want: &str, found: &str| {
            format!(
                "{}: `{field}` is {found}, but {lead_file} has {want}: a part of another run, refused (every part must come from the same scenario file, seed and --segment N)",
                p.file
            )
        };
        if s.scenario_hash != lead.scenario_hash {
            return Err(differs(
                "segment.scenario_hash",
                &lead.scenario_hash,
                &s.scenario_hash,
            ));
        }
        if p.result.scenario != lead_result.scenario {
            return Err(differs(
                "scenario",
                &lead_result.scenario,
                &p.result.scenario,
            ));
        }
        if p.result.seed != lead_result.seed {
            return Err(differs(
                "seed",
                &lead_result.seed.to_string(),
                &p.result.seed.to_string(),
            ));
        }
        if s.count != lead.count {
            return Err(differs(
                "segment.count",
                &lead.count.to_string(),
                &s.count.to_string(),
            ));
        }
        if s.start_at != lead.start_at {
            let show = |t: &Option<String>| t.clone().unwrap_or_else(|| "none".to_string());
            return Err(differs(
                "segment.start_at",
                &show(&lead.start_at),
                &show(&s.start_at),
            ));
        }
    }
    parts.sort_by_key(|p| p.index());
    for pair in parts.windows(2) {
        if pair[0].index() == pair[1].index() {
            return Err(format!(
                "segment {} of {} given twice: {} and {}",
                pair[0].index(),
                lead.count,
                pair[0].file,
                pair[1].file
            ));
        }
    }
    let present: Vec<u32> = parts.iter().map(Part::index).collect();
    if let Some(p) = parts.iter().find(|p| p.index() >= lead.count) {
        return Err(format!(
            "{}: `segment.index` is {}, expected below the count {}",
            p.file,
            p.index(),
            lead.count
        ));
    }
    let missing = (0..lead.count).filter(|i| !present.contains(i)).collect();
    Ok(Checked {
        count: lead.count,
        hash: lead.scenario_hash,
        present,
        missing,
    })
}
