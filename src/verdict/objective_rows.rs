//! Which rows a run-wide error-rate or availability objective gets: one per phase that can be judged
//! on its own, and one for the whole run pooling the phases too short to judge alone. An objective
//! the spec states for the service (not for one phase) is a claim about all its requests; a phase of
//! 75 requests cannot show 99.9% by itself, but it counts beside the others. Phases answered only
//! with the promised fallback hold no evidence (the fallback verdict judges them) and get no row.

/// A phase's requests as the objective counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PhaseCounts {
    /// Requests the objective covers, fallback answers included.
    pub n: u64,
    /// Errors among the requests that were not the fallback.
    pub errors: u64,
    /// Answers left out as the promised fallback.
    pub fallback: u64,
}

impl PhaseCounts {
    fn judged(&self) -> u64 {
        self.n - self.fallback.min(self.n)
    }
}

/// One row to judge: the phase's name (or [`WHOLE_RUN`]), the phases it counts, and what the
/// detail should add about the phases left out or pooled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub phase: String,
    /// Indexes into the phases given to [`arrange`].
    pub counts_of: Vec<usize>,
    pub note: String,
}

/// The name of the pooled row.
pub(crate) const WHOLE_RUN: &str = "whole run";

/// Rows for one objective over its phases (in run order). `min` is the fewest requests the
/// objective's rate is believed on (3/allowed); `allowed` its error fraction. `named_phase`: the
/// objective is the scenario's own for one phase, judged as measured.
pub(crate) fn arrange(
    phases: &[(String, PhaseCounts)],
    min: u64,
    allowed: f64,
    named_phase: bool,
) -> Vec<Row> {
    let each = || {
        phases
            .iter()
            .enumerate()
            .filter(|(_, (_, c))| c.n > 0)
            .map(|(i, (name, _))| Row {
                phase: name.clone(),
                counts_of: vec![i],
                note: String::new(),
            })
            .collect::<Vec<_>>()
    };
    let with_requests: Vec<usize> = (0..phases.len()).filter(|&i| phases[i].1.n > 0).collect();
    if named_phase || with_requests.len() <= 1 {
        return each();
    }
    let fallback_only: Vec<usize> = with_requests
        .iter()
        .copied()
        .filter(|&i| phases[i].1.judged() == 0)
        .collect();
    let too_few: Vec<usize> = with_requests
        .iter()
        .copied()
        .filter(|&i| {
            let c = phases[i].1;
            let k = c.judged();
            k > 0 && k < min && (c.errors as f64 / k as f64) <= allowed
        })
        .collect();
    if fallback_only.len() == with_requests.len()
        || (fallback_only.is_empty() && too_few.is_empty())
    {
        return each();
    }
    let names = |ix: &[usize]| {
        ix.iter()
            .map(|&i| format!("'{}'", phases[i].0))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let left_out = if fallback_only.is_empty() {
        String::new()
    } else {
        format!(
            " Left out: {} (every answer there was the promised fallback while the dependency was \
             down; the fallback verdict judges them).",
            names(&fallback_only)
        )
    };
    let mut rows: Vec<Row> = with_requests
        .iter()
        .copied()
        .filter(|i| !fallback_only.contains(i) && !too_few.contains(i))
        .map(|i| Row {
            phase: phases[i].0.clone(),
            counts_of: vec![i],
            note: String::new(),
        })
        .collect();
    if too_few.is_empty() {
        if let Some(last) = rows.last_mut() {
            last.note = left_out;
        }
        return rows;
    }
    let pooled: Vec<usize> = with_requests
        .iter()
        .copied()
        .filter(|i| !fallback_only.contains(i))
        .collect();
    let short = too_few
        .iter()
        .map(|&i| format!("'{}' ({})", phases[i].0, phases[i].1.judged()))
        .collect::<Vec<_>>()
        .join(", ");
    rows.push(Row {
        phase: WHOLE_RUN.to_string(),
        counts_of: pooled.clone(),
        note: format!(
            " The objective is the service's, not one phase's: this row counts the requests of {} \
             together. Too few alone to judge (each needs {min}): {short}; they count here, without \
             a row of their own.{left_out}",
            names(&pooled)
        ),
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(n: u64, errors: u64, fallback: u64) -> PhaseCounts {
        PhaseCounts {
            n,
            errors,
            fallback,
        }
    }

    fn named(v: &[(&str, PhaseCounts)]) -> Vec<(String, PhaseCounts)> {
        v.iter().map(|(n, c)| (n.to_string(), *c)).collect()
    }

    /// The planned demo's availability (99.9%: 3000 requests): baseline alone, the short phases
    /// pooled with it, the fallback-only phases left out and named.
    #[test]
    fn short_phases_are_pooled_and_fallback_only_ones_left_out() {
        let phases = named(&[
            ("baseline", c(5562, 0, 0)),
            ("fault:abort", c(3, 0, 3)),
            ("fault:hang", c(234, 0, 234)),
            ("recovery-2", c(75, 0, 0)),
            ("fault:abort@43.7s", c(1126, 0, 0)),
            ("recovery", c(1600, 0, 0)),
        ]);
        let rows = arrange(&phases, 3000, 0.001, false);
        let got: Vec<(&str, &[usize])> = rows
            .iter()
            .map(|r| (r.phase.as_str(), r.counts_of.as_slice()))
            .collect();
        assert_eq!(
            got,
            vec![("baseline", &[0][..]), (WHOLE_RUN, &[0, 3, 4, 5][..])]
        );
        let note = &rows[1].note;
        assert!(note.contains("'recovery-2' (75)"), "{note}");
        assert!(
            note.contains("Left out: 'fault:abort', 'fault:hang'"),
            "{note}"
        );
    }

    /// A short phase over the allowed rate keeps its own row (it may be the one to fail), and so
    /// does every phase of an objective named for one phase.
    #[test]
    fn a_short_phase_with_an_excess_keeps_its_row() {
        let phases = named(&[("baseline", c(5000, 1, 0)), ("recovery", c(75, 2, 0))]);
        let rows = arrange(&phases, 3000, 0.001, false);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].phase, "recovery");
        assert!(rows.iter().all(|r| r.note.is_empty()));
        let phases = named(&[("baseline", c(100, 0, 0)), ("recovery", c(75, 0, 0))]);
        assert_eq!(arrange(&phases, 3000, 0.001, true).len(), 2);
    }

    /// Only fallback-only phases beside judged ones: no pooled row, the last row names them; all of
    /// them fallback-only (or one phase): a row each, as measured.
    #[test]
    fn fallback_only_phases_are_named_on_the_last_row() {
        let phases = named(&[
            ("baseline", c(4000, 0, 0)),
            ("fault-1", c(300, 0, 300)),
            ("recovery", c(3500, 0, 20)),
        ]);
        let rows = arrange(&phases, 3000, 0.001, false);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].phase, "recovery");
        assert!(
            rows[1].note.contains("Left out: 'fault-1'"),
            "{}",
            rows[1].note
        );
        let phases = named(&[("fault-1", c(300, 0, 300)), ("fault-2", c(30, 0, 30))]);
        assert_eq!(arrange(&phases, 3000, 0.001, false).len(), 2);
        let phases = named(&[("baseline", c(75, 0, 0)), ("idle", c(0, 0, 0))]);
        assert_eq!(arrange(&phases, 3000, 0.001, false).len(), 1);
    }
}
