//! Verdicts of one claim judged in several phases (availability, error rate), gathered under one
//! heading for the terminal, Markdown and HTML reports; JUnit and JSON keep one entry each.

use crate::result::{Verdict, VerdictStatus};

/// One claim and its verdicts: a single verdict, or one per phase.
#[derive(Debug, Clone)]
pub struct VerdictGroup<'a> {
    /// The claim without its phase ("Availability of the service is at least 99.9%").
    pub claim: String,
    pub source: String,
    pub expected: String,
    /// The worst status among the rows (fail, then inconclusive, then pass).
    pub status: VerdictStatus,
    /// Worst first, then in the order judged (the run's phase order).
    pub rows: Vec<GroupRow<'a>>,
}

/// One verdict of a group.
#[derive(Debug, Clone)]
pub struct GroupRow<'a> {
    /// The phase it was judged in, when the group has several rows.
    pub phase: Option<String>,
    pub verdict: &'a Verdict,
}

impl VerdictGroup<'_> {
    /// True when the group stands for more than one verdict.
    pub fn is_grouped(&self) -> bool {
        self.rows.len() > 1
    }
}

/// 0 for fail, 1 for inconclusive, 2 for pass: what needs a person comes first.
pub fn rank(s: VerdictStatus) -> u8 {
    match s {
        VerdictStatus::Fail => 0,
        VerdictStatus::Inconclusive => 1,
        VerdictStatus::Pass => 2,
    }
}

/// "… in phase 'baseline'" (the claim) or "…, phase 'baseline')" (the measured text of results
/// recorded before the claim named it): the claim without the phase, and the phase.
fn split_phase(v: &Verdict) -> (String, Option<String>) {
    if let Some((claim, rest)) = v.claim.rsplit_once(" in phase '") {
        if let Some(phase) = rest.strip_suffix('\'') {
            return (claim.to_string(), Some(phase.to_string()));
        }
    }
    let phase = v
        .measured
        .rsplit_once("phase '")
        .and_then(|(_, rest)| rest.split_once('\''))
        .map(|(p, _)| p.to_string());
    (v.claim.clone(), phase)
}

/// Groups verdicts that make the same claim from the same source with the same expectation,
/// then orders groups worst first (stable, so the spec's order holds within a status).
pub fn group(verdicts: &[Verdict]) -> Vec<VerdictGroup<'_>> {
    let mut groups: Vec<VerdictGroup> = Vec::new();
    for v in verdicts {
        let (claim, phase) = split_phase(v);
        let same = |g: &&mut VerdictGroup| {
            g.claim == claim && g.source == v.source && g.expected == v.expected
        };
        let row = GroupRow { phase, verdict: v };
        match groups.iter_mut().find(|g| same(g)) {
            Some(g) => {
                g.rows.push(row);
                if rank(v.status) < rank(g.status) {
                    g.status = v.status;
                }
            }
            None => groups.push(VerdictGroup {
                claim,
                source: v.source.clone(),
                expected: v.expected.clone(),
                status: v.status,
                rows: vec![row],
            }),
        }
    }
    for g in &mut groups {
        g.rows.sort_by_key(|r| rank(r.verdict.status));
        if !g.is_grouped() {
            // A claim judged once reads as written.
            g.claim = g.rows[0].verdict.claim.clone();
            g.rows[0].phase = None;
        } else {
            for r in &mut g.rows {
                if r.phase.is_none() {
                    r.phase = Some(r.verdict.id.rsplit('.').next().unwrap_or("").to_string());
                }
            }
        }
    }
    groups.sort_by_key(|g| rank(g.status));
    groups
}

impl GroupRow<'_> {
    /// The measured text without the phase it names (the row is labelled with it already).
    pub fn measured(&self) -> String {
        let m = &self.verdict.measured;
        match &self.phase {
            Some(p) => m
                .replace(&format!(", phase '{p}'"), "")
                .replace(&format!(" in phase '{p}'"), ""),
            None => m.clone(),
        }
    }
}

/// A reason shown under a row, and the other phases whose reason reads the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason<'a> {
    pub text: &'a str,
    pub also: Vec<String>,
}

impl Reason<'_> {
    /// The reason, with "(The same for recovery, hang.)" when other phases share it.
    pub fn full(&self) -> String {
        if self.also.is_empty() {
            self.text.to_string()
        } else {
            format!("{} (The same for {}.)", self.text, self.also.join(", "))
        }
    }
}

/// The reason to show under each row: None for a pass, and for a row whose reason reads as
/// one shown above it once its numbers and phase name are set aside (the rule of three
/// explained once, not four times); the row above then names it.
pub fn details<'a>(g: &VerdictGroup<'a>) -> Vec<Option<Reason<'a>>> {
    let gist = |r: &GroupRow| -> String {
        let d = match &r.phase {
            Some(p) => r.verdict.detail.replace(p.as_str(), ""),
            None => r.verdict.detail.clone(),
        };
        d.chars().filter(|c| !c.is_ascii_digit()).collect()
    };
    let mut out: Vec<Option<Reason>> = Vec::new();
    let mut seen: Vec<(String, usize)> = Vec::new();
    for r in &g.rows {
        if r.verdict.status == VerdictStatus::Pass || r.verdict.detail.is_empty() {
            out.push(None);
            continue;
        }
        let k = gist(r);
        match seen.iter().find(|(s, _)| *s == k) {
            Some((_, i)) => {
                let phase = r.phase.clone().unwrap_or_default();
                if let Some(reason) = out[*i].as_mut() {
                    reason.also.push(phase);
                }
                out.push(None);
            }
            None => {
                seen.push((k, out.len()));
                out.push(Some(Reason {
                    text: r.verdict.detail.as_str(),
                    also: Vec::new(),
                }));
            }
        }
    }
    out
}

/// "4 phases: 1 failed, 2 inconclusive, 1 passed".
pub fn tally(g: &VerdictGroup) -> String {
    let n = |s: VerdictStatus| g.rows.iter().filter(|r| r.verdict.status == s).count();
    let parts: Vec<String> = [
        (VerdictStatus::Fail, "failed"),
        (VerdictStatus::Inconclusive, "inconclusive"),
        (VerdictStatus::Pass, "passed"),
    ]
    .iter()
    .filter(|(s, _)| n(*s) > 0)
    .map(|(s, word)| format!("{} {word}", n(*s)))
    .collect();
    format!("{} phases: {}", g.rows.len(), parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(id: &str, claim: &str, measured: &str, status: VerdictStatus) -> Verdict {
        Verdict {
            id: id.into(),
            claim: claim.into(),
            source: "spec.md:136".into(),
            expected: "≥ 99.9%".into(),
            measured: measured.into(),
            status,
            detail: String::new(),
            numbers: None,
        }
    }

    #[test]
    fn one_claim_per_phase_becomes_one_group_worst_first() {
        use VerdictStatus::*;
        let a = "Availability of the service is at least 99.9%";
        let vs = [
            v("latency.get.p50", "P50 of GET", "8 ms", Pass),
            v(
                "availability.global.baseline",
                &format!("{a} in phase 'baseline'"),
                "100%",
                Pass,
            ),
            v(
                "availability.global.fault",
                &format!("{a} in phase 'fault'"),
                "97%",
                Fail,
            ),
            v(
                "availability.global.recovery",
                &format!("{a} in phase 'recovery'"),
                "99%",
                Inconclusive,
            ),
        ];
        let groups = group(&vs);
        assert_eq!(groups.len(), 2);
        let g = &groups[0];
        assert_eq!((g.claim.as_str(), g.status), (a, Fail));
        let phases: Vec<_> = g.rows.iter().map(|r| r.phase.clone().unwrap()).collect();
        assert_eq!(phases, ["fault", "recovery", "baseline"]);
        assert_eq!(tally(g), "3 phases: 1 failed, 1 inconclusive, 1 passed");
        assert!(!groups[1].is_grouped());
        assert_eq!(groups[1].claim, "P50 of GET");
        assert_eq!(groups[1].rows[0].phase, None);
    }

    #[test]
    fn a_reason_is_shown_once_when_phases_share_it() {
        use VerdictStatus::*;
        let a = "Availability of the service is at least 99.9%";
        let mut vs = vec![
            v(
                "availability.global.p1",
                &format!("{a} in phase 'p1'"),
                "100%",
                Inconclusive,
            ),
            v(
                "availability.global.p2",
                &format!("{a} in phase 'p2'"),
                "100%",
                Inconclusive,
            ),
            v(
                "availability.global.p3",
                &format!("{a} in phase 'p3'"),
                "97%",
                Fail,
            ),
        ];
        vs[0].detail = "0 of 599 requests failed in phase 'p1'; needs 3001.".into();
        vs[1].detail = "0 of 208 requests failed in phase 'p2'; needs 3001.".into();
        vs[2].detail = "12 of 400 requests failed in phase 'p3'.".into();
        let groups = group(&vs);
        let shown: Vec<Option<String>> = details(&groups[0])
            .into_iter()
            .map(|r| r.map(|r| r.full()))
            .collect();
        // Worst first: the fail's reason, then the first inconclusive's naming the second.
        assert_eq!(
            shown,
            [
                Some("12 of 400 requests failed in phase 'p3'.".to_string()),
                Some(
                    "0 of 599 requests failed in phase 'p1'; needs 3001. (The same for p2.)"
                        .to_string()
                ),
                None
            ]
        );
    }

    #[test]
    fn older_results_name_the_phase_in_the_measured_text() {
        use VerdictStatus::*;
        let a = "Availability of the service is at least 99.9%";
        let vs = [
            v(
                "availability.global.baseline",
                a,
                "100% (0 errors in 599 requests, phase 'baseline')",
                Pass,
            ),
            v(
                "availability.global.recovery",
                a,
                "100% (0 errors in 865 requests, phase 'recovery')",
                Pass,
            ),
        ];
        let groups = group(&vs);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].rows[0].phase.as_deref(), Some("baseline"));
        assert_eq!(
            groups[0].rows[1].measured(),
            "100% (0 errors in 865 requests)"
        );
        // Different sources or expectations are different claims.
        let mut other = vs[1].clone();
        other.expected = "≥ 99%".into();
        assert_eq!(group(&[vs[0].clone(), other]).len(), 2);
    }
}
