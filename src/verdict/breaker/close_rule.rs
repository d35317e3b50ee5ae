//! The half-open close rule, judged per episode from its probes' outcomes: the first success
//! closes (pybreaker, opossum, cockatiel), every probe must succeed (gobreaker, the reference
//! service), or the probes' failure rate must stay below the threshold (resilience4j).

use redline_proxy::log::LogEntry;

use super::episodes::{Episode, Observation, Outcome};
use crate::result::Verdict;
use crate::spec::claims::CloseRule;
use crate::verdict::evidence;
use crate::verdict::model::Claim;
use crate::verdict::tolerance::{fmt_pct, fmt_t};

/// A probe answered this close to the decision may not have been read before it.
const DECIDE_SLACK_MS: f64 = 2.0;

fn describe(rule: CloseRule, rate: Option<f64>) -> String {
    match rule {
        CloseRule::FirstSuccess => "the first successful probe closes it".to_string(),
        CloseRule::AllProbes => "it closes only once every probe succeeded".to_string(),
        CloseRule::ProbeRateBelowThreshold => format!(
            "it closes when the probes' failure rate stays below {}",
            rate.map_or("the threshold".to_string(), fmt_pct)
        ),
    }
}

/// One decided half-open period: its probes answered before the decision, and the decision.
struct Period<'a> {
    episode: &'a Episode,
    decided_at_ms: f64,
    answered: Vec<&'a LogEntry>,
}

fn periods(obs: &Observation) -> Vec<Period<'_>> {
    let mut out = Vec::new();
    for (i, e) in obs.episodes.iter().enumerate() {
        let Some(resumed) = e.resumed_at_ms else {
            continue;
        };
        let probes: Vec<&LogEntry> = obs
            .log
            .iter()
            .filter(|x| x.t_ms >= resumed)
            .take(e.probes as usize)
            .collect();
        let decided_at_ms = match e.outcome {
            Outcome::Reopened => obs
                .episodes
                .get(i + 1)
                .map_or(f64::INFINITY, |n| n.opened_at_ms),
            Outcome::Closed => probes
                .iter()
                .filter(|x| !evidence::is_failure(x))
                .map(|x| evidence::end_ms(x))
                .fold(f64::INFINITY, f64::min),
            Outcome::Unknown => continue,
        };
        let answered = probes
            .into_iter()
            .filter(|x| evidence::end_ms(x) <= decided_at_ms + DECIDE_SLACK_MS)
            .collect();
        out.push(Period {
            episode: e,
            decided_at_ms,
            answered,
        });
    }
    out
}

/// Why a period contradicts the rule, if it does.
fn contradiction(rule: CloseRule, rate: Option<f64>, p: &Period) -> Option<String> {
    let failed = p
        .answered
        .iter()
        .filter(|x| evidence::is_failure(x))
        .count();
    let ok = p.answered.len() - failed;
    let at = fmt_t(p.decided_at_ms);
    match (rule, p.episode.outcome) {
        (CloseRule::FirstSuccess, Outcome::Reopened) if ok > 0 => Some(format!(
            "{ok} probe(s) had succeeded when it reopened at {at}"
        )),
        (CloseRule::AllProbes, Outcome::Closed) if failed > 0 => Some(format!(
            "it closed at {at} although {failed} probe(s) had failed"
        )),
        (CloseRule::ProbeRateBelowThreshold, outcome) => {
            let r = rate?;
            let share = failed as f64 / p.answered.len().max(1) as f64;
            match outcome {
                Outcome::Reopened if share < r && !p.answered.is_empty() => Some(format!(
                    "it reopened at {at} with {failed} of {} probes failed ({}), below {}",
                    p.answered.len(),
                    fmt_pct(share),
                    fmt_pct(r)
                )),
                Outcome::Closed if share >= r && failed > 0 => Some(format!(
                    "it closed at {at} with {failed} of {} probes failed ({})",
                    p.answered.len(),
                    fmt_pct(share)
                )),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The verdict on the claimed close rule.
pub fn verdict(
    obs: &Observation,
    rule: CloseRule,
    rate: Option<f64>,
    source: &str,
    id: String,
) -> Verdict {
    let dep = &obs.dependency;
    let c = Claim::new(
        id,
        format!("When half-open, {}", describe(rule, rate)),
        source,
        describe(rule, rate),
    );
    let periods = periods(obs);
    let summary: Vec<String> = periods
        .iter()
        .map(|p| {
            let failed = p
                .answered
                .iter()
                .filter(|x| evidence::is_failure(x))
                .count();
            let then = if p.episode.outcome == Outcome::Closed {
                "closed"
            } else {
                "reopened"
            };
            format!("{failed}/{} failed, {then}", p.answered.len())
        })
        .collect();
    let measured = if summary.is_empty() {
        "no half-open period decided".to_string()
    } else {
        summary.join("; ")
    };
    if let Some(why) = periods.iter().find_map(|p| contradiction(rule, rate, p)) {
        let detail = format!(
            "The breaker on {dep} does not close the way the spec says: {why}. Fix the close rule in the spec or \
             the breaker's half-open settings."
        );
        return c.fail(measured, detail);
    }
    // Probes that all failed or all succeeded fit every rule; only mixed outcomes tell them apart.
    let mixed = periods.iter().any(|p| {
        let failed = p
            .answered
            .iter()
            .filter(|x| evidence::is_failure(x))
            .count();
        failed > 0 && failed < p.answered.len()
    });
    if mixed {
        let detail = format!(
            "Each half-open period of the breaker on {dep} was decided as the rule says, including one whose \
             probes had mixed outcomes."
        );
        return c.pass(measured, detail);
    }
    let detail = format!(
        "Every half-open period's answered probes to {dep} all failed or all succeeded, which every close rule \
         decides alike: a partial fault through half-open (with probes that overlap) tells the rules apart."
    );
    c.inconclusive(measured, detail)
}
