//! One adaptive follow-up after a planned run: the claims still inconclusive for a reason another
//! phase can fix (too few samples, an ambiguous count, too few failing requests) name the planned
//! block that serves them; the follow-up repeats just those blocks within the budget left, and
//! its pass/fail verdicts replace the inconclusive ones, each saying it came from the follow-up.

use crate::result::{RunResult, Verdict, VerdictStatus};
use crate::verdict::matching::slug;

/// Which parts of the plan a follow-up repeats.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Focus {
    /// Repeat the baseline at full length (latency or error objectives short of samples).
    pub baseline: bool,
    /// Block labels to repeat ("breaker on UserService", "retries to UserService").
    pub blocks: Vec<String>,
    /// The verdict ids it is for.
    pub ids: Vec<String>,
}

impl Focus {
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// An inconclusive verdict a longer or repeated phase can decide, and the block that serves it.
fn fix(v: &Verdict, deps: &[String]) -> Option<Option<String>> {
    if v.status != VerdictStatus::Inconclusive {
        return None;
    }
    let parts: Vec<&str> = v.id.split('.').collect();
    let dep = |s: &str| deps.iter().find(|d| slug(d) == s).cloned();
    match parts.as_slice() {
        ["latency", _, q] if q.starts_with('p') && v.measured.contains("samples") => Some(None),
        ["errors" | "availability", "global", "baseline"] => Some(None),
        ["breaker", d, "failure_threshold" | "half_open_requests" | "recovery_timeout"] => {
            Some(Some(format!("breaker on {}", dep(d)?)))
        }
        ["retries", d, "attempts" | "backoff"] => Some(Some(format!("retries to {}", dep(d)?))),
        ["timeout", d] => Some(Some(format!("timeout of {}", dep(d)?))),
        _ => None,
    }
}

/// What a follow-up should repeat for `result`'s inconclusive verdicts; `deps` are the scenario's
/// dependency names.
pub fn focus(result: &RunResult, deps: &[String]) -> Focus {
    let mut f = Focus::default();
    for v in &result.verdicts {
        match fix(v, deps) {
            None => continue,
            Some(None) => f.baseline = true,
            Some(Some(label)) => {
                if !f.blocks.contains(&label) {
                    f.blocks.push(label);
                }
            }
        }
        f.ids.push(v.id.clone());
    }
    f
}

/// Replaces each of `focus`'s inconclusive verdicts in `main` by the follow-up's verdict of the
/// same id when that one passed or failed; returns the ids replaced.
pub fn merge(
    main: &mut RunResult,
    follow: &RunResult,
    focus: &Focus,
    follow_dir: &str,
) -> Vec<String> {
    let mut replaced = Vec::new();
    for v in main.verdicts.iter_mut() {
        if v.status != VerdictStatus::Inconclusive || !focus.ids.contains(&v.id) {
            continue;
        }
        let Some(new) = follow
            .verdicts
            .iter()
            .find(|n| n.id == v.id && n.status != VerdictStatus::Inconclusive)
        else {
            continue;
        };
        let before = format!(
            " [From the follow-up run ({follow_dir}); the planned run had: {}]",
            v.measured
        );
        *v = new.clone();
        v.detail.push_str(&before);
        replaced.push(v.id.clone());
    }
    let still: Vec<&str> = focus
        .ids
        .iter()
        .filter(|id| !replaced.contains(id))
        .map(String::as_str)
        .collect();
    main.notes.push(format!(
        "follow-up run ({follow_dir}) decided {} of the {} verdict(s) the planned run left inconclusive for a fixable \
         reason{}{}",
        replaced.len(),
        focus.ids.len(),
        if replaced.is_empty() { String::new() } else { format!(": {}", replaced.join(", ")) },
        if still.is_empty() { String::new() } else { format!("; still inconclusive: {}", still.join(", ")) }
    ));
    replaced
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(id: &str, status: VerdictStatus, measured: &str) -> Verdict {
        Verdict {
            id: id.into(),
            claim: String::new(),
            source: String::new(),
            expected: String::new(),
            measured: measured.into(),
            status,
            detail: String::new(),
            numbers: None,
        }
    }

    #[test]
    fn fixable_reasons_name_their_block_and_merge_replaces_only_decided_ones() {
        let mut main = RunResult {
            verdicts: vec![
                v(
                    "latency.list-items.p99",
                    VerdictStatus::Inconclusive,
                    "769 samples",
                ),
                v(
                    "breaker.userservice.failure_threshold",
                    VerdictStatus::Inconclusive,
                    "5–6 failures",
                ),
                v(
                    "alert.slowresponses",
                    VerdictStatus::Inconclusive,
                    "held 0 of 15 s",
                ),
                v("retries.userservice.attempts", VerdictStatus::Pass, "3×9"),
            ],
            ..RunResult::default()
        };
        let deps = vec!["UserService".to_string()];
        let f = focus(&main, &deps);
        assert!(f.baseline);
        assert_eq!(f.blocks, vec!["breaker on UserService"]);
        assert_eq!(f.ids.len(), 2);
        let follow = RunResult {
            verdicts: vec![
                v(
                    "latency.list-items.p99",
                    VerdictStatus::Pass,
                    "40 ms (1100 requests)",
                ),
                v(
                    "breaker.userservice.failure_threshold",
                    VerdictStatus::Inconclusive,
                    "4–5",
                ),
                v("alert.slowresponses", VerdictStatus::Pass, "quiet"),
            ],
            ..RunResult::default()
        };
        let ids = merge(&mut main, &follow, &f, "out/follow-up");
        assert_eq!(ids, vec!["latency.list-items.p99"]);
        assert_eq!(main.verdicts[0].status, VerdictStatus::Pass);
        assert!(main.verdicts[0].detail.contains("From the follow-up run"));
        assert_eq!(main.verdicts[1].status, VerdictStatus::Inconclusive);
        assert_eq!(main.verdicts[2].status, VerdictStatus::Inconclusive);
        assert!(main.notes[0].contains("latency.list-items.p99"));
    }
}
