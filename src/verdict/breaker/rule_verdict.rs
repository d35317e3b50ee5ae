//! The verdict on a rate or windowed-count claim, from its replay: opened late or not at all when
//! the rule was met, opened when it was not, or every opening explained (and the phases that
//! stayed below it counted as evidence for the claim, never against it).

use super::replay::{Early, Late, Replay};
use super::rule::{Reading, Rule};
use crate::result::Verdict;
use crate::verdict::model::Claim;
use crate::verdict::tolerance::{fmt_pct, fmt_t};

/// "6 of 10 calls in the last 1 s failed (60%)" or "3 failures within the last 2 s".
pub fn reading_text(rule: &Rule, r: &Reading) -> String {
    let edge = if r.window == rule.window() {
        ""
    } else {
        " (the window's bucketed edge)"
    };
    match rule {
        Rule::Rate { slow, .. } => format!(
            "{} of the {} call(s) answered in {}{edge} had failed ({}){}",
            r.failures,
            r.calls,
            r.window.describe(),
            fmt_pct(r.rate()),
            match slow {
                Some(_) => format!(
                    " and {} were slow ({})",
                    r.slow,
                    fmt_pct(r.slow as f64 / r.calls.max(1) as f64)
                ),
                None => String::new(),
            }
        ),
        Rule::Count { .. } => format!(
            "{} call(s) had failed within {}{edge} (of {} answered)",
            r.failures,
            r.window.describe(),
            r.calls
        ),
    }
}

/// Why an opening did not meet the rule, in its own terms.
fn shortfall(rule: &Rule, r: &Reading) -> String {
    match rule {
        Rule::Rate {
            rate,
            minimum_calls: Some(m),
            ..
        } if r.calls < u64::from(*m) => {
            format!(
                "fewer calls than the claimed minimum of {m} (the rate was {})",
                fmt_pct(r.rate())
            )
        }
        Rule::Rate { rate, .. } => format!("below the claimed {}", fmt_pct(*rate)),
        Rule::Count { failures, .. } => format!("fewer than the claimed {failures}"),
    }
}

fn late_detail(dep: &str, rule: &Rule, l: &Late) -> String {
    let then = match l.opened_at_ms {
        Some(t) => format!("it opened only at {}", fmt_t(t)),
        None => "it never opened then".to_string(),
    };
    format!(
        "At {} {}, which meets the claimed rule ({}), yet {} more call(s) went through to {dep}; {then}. The breaker \
         counts with another rule (a higher threshold, another window, a larger minimum volume, or consecutive \
         failures): fix the spec or the breaker.",
        fmt_t(l.reading.at_ms),
        reading_text(rule, &l.reading),
        rule.describe(),
        l.calls_after
    )
}

fn early_detail(dep: &str, rule: &Rule, e: &Early) -> String {
    format!(
        "The breaker on {dep} opened at {} when {}: {}, so the claimed rule ({}) does not open it there. It \
         counts with another rule (a lower threshold, another window or minimum, or consecutive failures): fix \
         the spec or the breaker.",
        fmt_t(e.reading.at_ms),
        reading_text(rule, &e.reading),
        shortfall(rule, &e.reading),
        rule.describe()
    )
}

/// The fault windows that stayed closed, as evidence for the claim.
fn quiet_text(rule: &Rule, replay: &Replay) -> String {
    let parts: Vec<String> = replay
        .quiet
        .iter()
        .map(|q| match &q.peak {
            Some(p) => format!(
                "in the fault at {}–{} it stayed closed while at most {} ({})",
                fmt_t(q.from_ms),
                fmt_t(q.to_ms),
                reading_text(rule, p),
                fmt_t(p.at_ms)
            ),
            None => format!(
                "in the fault at {}–{} no call failed and it stayed closed",
                fmt_t(q.from_ms),
                fmt_t(q.to_ms)
            ),
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(
            " Below the rule it rightly stayed closed: {}.",
            parts.join("; ")
        )
    }
}

fn measured(rule: &Rule, replay: &Replay) -> String {
    let mut parts = Vec::new();
    let short = |r: &Reading| match rule {
        Rule::Rate { .. } => format!("{} of {}", fmt_pct(r.rate()), r.calls),
        Rule::Count { .. } => format!("{} failures", r.failures),
    };
    let opened: Vec<String> = replay
        .fits
        .iter()
        .map(|f| short(&f.reading))
        .chain(replay.early.iter().map(|e| short(&e.reading)))
        .collect();
    if !opened.is_empty() {
        parts.push(format!("opened at {}", opened.join(", ")));
    }
    if let Some(l) = replay.late.first() {
        parts.push(format!("not at {}", short(&l.reading)));
    }
    let peaks: Vec<String> = replay
        .quiet
        .iter()
        .filter_map(|q| q.peak.as_ref().map(short))
        .collect();
    if !peaks.is_empty() {
        parts.push(format!("closed at {}", peaks.join(", ")));
    }
    if parts.is_empty() {
        "no failure in a closed period".to_string()
    } else {
        parts.join("; ")
    }
}

/// The verdict on the claimed rule.
pub fn verdict(dep: &str, rule: &Rule, replay: &Replay, source: &str, id: String) -> Verdict {
    let claim = format!("The breaker on {dep} opens when {}", rule.describe());
    let c = Claim::new(id, claim, source, rule.describe());
    let measured = measured(rule, replay);
    let quiet = quiet_text(rule, replay);
    if let Some(l) = replay.late.first() {
        return c.fail(measured, format!("{}{quiet}", late_detail(dep, rule, l)));
    }
    if let Some(e) = replay.early.first() {
        return c.fail(measured, format!("{}{quiet}", early_detail(dep, rule, e)));
    }
    let each: Vec<String> = replay
        .fits
        .iter()
        .map(|f| {
            format!(
                "at {} {}",
                fmt_t(f.reading.at_ms),
                reading_text(rule, &f.reading)
            )
        })
        .collect();
    if replay.fits.iter().any(|f| f.exact) {
        let detail = format!(
            "Each opening from closed came once the rule was met and not before ({}).{quiet}",
            each.join("; ")
        );
        return c.pass(measured, detail);
    }
    if !replay.fits.is_empty() {
        let detail = format!(
            "The openings fit the claimed rule only at the edge of what can be told from outside ({}): the \
             window's exact edges (buckets), whether metrics restart on closing or count calls in flight, or a rate \
             exactly at the threshold decide it. A phase further above the threshold pins it down.{quiet}",
            each.join("; ")
        );
        return c.inconclusive(measured, detail);
    }
    let detail = format!(
        "The breaker never had to open under the claimed rule and it did not: that fits the claim, but no phase \
         crossed the rule, so the opening itself was not seen. Add a fault that fails more calls than the rule \
         allows.{quiet}"
    );
    c.inconclusive(measured, detail)
}
