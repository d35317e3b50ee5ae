//! Retry policy: attempts per correlated request (count exact) and the wait before each retry
//! (within the stated jitter), read from the dependency log during fault windows.

use std::collections::BTreeMap;

use redline_proxy::log::LogEntry;

use super::breaker::Observation;
use super::evidence;
use super::matching::{mentions, slug};
use super::model::{spec_source, Claim, JudgeContext, Judgement};
use super::tolerance::{explain, fmt_ms};
use crate::result::{RunResult, Verdict};
use crate::spec::claims::{Claims, RetryPolicy};

/// Policies about answering 429 describe a different situation than a failing dependency.
fn about_rate_limits(p: &RetryPolicy) -> bool {
    p.scenario.contains("429") || mentions(&p.scenario, "rate limit")
}

/// The retry policy that applies to calls to a dependency: one naming it, else the only general
/// one, else one naming its type ("Database connection" for a Database).
pub fn policy_for<'a>(
    claims: &'a Claims,
    dep: &str,
    kind: Option<&str>,
) -> Option<&'a RetryPolicy> {
    let general: Vec<&RetryPolicy> = claims
        .retries
        .iter()
        .filter(|p| !about_rate_limits(p))
        .collect();
    // Faults make calls time out, fail to connect or answer 5xx: a policy about those beats one
    // about 4xx answers (which are usually not retried at all).
    let about_failures = |p: &RetryPolicy| {
        let s = p.scenario.to_ascii_lowercase();
        [
            "timeout",
            "5xx",
            "error",
            "connection",
            "unavailable",
            "fail",
        ]
        .iter()
        .any(|w| s.contains(w))
            && (!s.contains("4xx") || s.contains("5xx"))
    };
    let naming: Vec<&RetryPolicy> = claims
        .retries
        .iter()
        .filter(|p| mentions(&p.scenario, dep))
        .collect();
    if let Some(p) = naming.iter().find(|p| about_failures(p)).or(naming.first()) {
        return Some(p);
    }
    if general.len() == 1 {
        return Some(general[0]);
    }
    let kind = kind?;
    general.into_iter().find(|p| mentions(&p.scenario, kind))
}

/// Total attempts the policy allows (the first call included); 1 for "none".
pub fn max_attempts(p: &RetryPolicy) -> u32 {
    if p.strategy.as_deref() == Some("none") {
        return 1;
    }
    p.max_attempts.unwrap_or(1).max(1)
}

/// Wait before retry number `k + 1` (k = 0: after the first failure), in ms.
pub fn expected_wait(p: &RetryPolicy, k: usize) -> Option<f64> {
    let b = &p.backoff_ms;
    if let Some(v) = b.get(k) {
        return Some(*v);
    }
    let last = *b.last()?;
    let extra = (k + 1 - b.len()) as i32;
    Some(match p.strategy.as_deref() {
        Some("exponential") => last * 2f64.powi(extra),
        Some("linear") if b.len() == 1 => last * (k + 1) as f64,
        Some("linear") => last + (b[b.len() - 1] - b[b.len() - 2]) * extra as f64,
        _ => last,
    })
}

/// Bounds accepted for a wait: the stated jitter, plus a little scheduling slack above.
pub fn wait_bounds(expected: f64, jitter: f64) -> (f64, f64) {
    (
        expected * (1.0 - jitter) - 10.0,
        expected * (1.0 + jitter) + (0.05 * expected).max(25.0),
    )
}

/// Fewest retry waits for a passing backoff verdict (a failing one needs only one early retry).
pub const MIN_WAITS: usize = 5;

/// Fewest requests that failed on every attempt for the attempt count to be judged.
pub const MIN_COMPLETE: usize = 3;

/// One client request's attempts at the dependency.
struct Group<'a> {
    attempts: Vec<&'a LogEntry>,
}

impl Group<'_> {
    fn all_failed(&self) -> bool {
        self.attempts.iter().all(|e| evidence::is_failure(e))
    }
    fn waits(&self) -> Vec<f64> {
        self.attempts
            .windows(2)
            .map(|w| w[1].t_ms - evidence::end_ms(w[0]))
            .collect()
    }
}

pub fn judge(
    result: &RunResult,
    claims: &Claims,
    ctx: &JudgeContext,
    observed: &[Observation],
    out: &mut Judgement,
) {
    let mut used: Vec<usize> = Vec::new();
    for obs in observed
        .iter()
        .filter(|o| o.windows.iter().any(|w| !w.invisible))
    {
        let spec_dep = evidence::spec_dependency(claims, ctx, &obs.dependency);
        let name = spec_dep.map_or(obs.dependency.as_str(), |d| d.name.as_str());
        let Some(p) = policy_for(claims, name, spec_dep.and_then(|d| d.kind.as_deref())) else {
            continue;
        };
        used.extend(claims.retries.iter().position(|x| std::ptr::eq(x, p)));
        out.verdicts.extend(judge_policy(result, ctx, obs, p));
    }
    for (i, p) in claims.retries.iter().enumerate() {
        if !used.contains(&i) {
            out.notes.push(format!(
                "retry policy '{}' ({}) was not exercised: no faulted dependency of this run matches it",
                p.scenario,
                spec_source(ctx, p.line)
            ));
        }
    }
}

fn judge_policy(
    result: &RunResult,
    ctx: &JudgeContext,
    obs: &Observation,
    p: &RetryPolicy,
) -> Vec<Verdict> {
    let dep = &obs.dependency;
    let source = spec_source(ctx, p.line);
    let m = max_attempts(p);
    let base = format!("retries.{}", slug(dep));
    let count_claim = format!(
        "Calls to {dep} are tried at most {m} time(s) in all ('{}')",
        p.scenario
    );
    let in_fault: Vec<&LogEntry> = obs
        .log
        .iter()
        .filter(|e| {
            obs.windows
                .iter()
                .any(|w| !w.invisible && w.contains(e.t_ms))
        })
        .collect();
    let with_id = in_fault
        .iter()
        .filter(|e| e.correlation_id.is_some())
        .count();
    if in_fault.is_empty() || with_id * 2 < in_fault.len() {
        let detail = format!(
            "Only {with_id} of the {} calls to {dep} during faults carried a correlation id, so attempts cannot be \
             grouped per request: forward x-request-id or traceparent to the dependency.",
            in_fault.len()
        );
        return vec![Claim::new(
            format!("{base}.attempts"),
            count_claim,
            source,
            format!("{m} attempts"),
        )
        .inconclusive("uncorrelated", detail)];
    }
    if let Some(per) = calls_per_request_without_faults(obs).filter(|n| *n > 1) {
        let detail = format!(
            "Without any fault each request already calls {dep} {per} times, so retries cannot be told from the \
             request's own calls: judge retries on an operation that calls {dep} once."
        );
        return vec![Claim::new(
            format!("{base}.attempts"),
            count_claim,
            source,
            format!("{m} attempts"),
        )
        .inconclusive(format!("{per} calls per request without faults"), detail)];
    }
    // Attempts of a request may fall after the window closes; take them all from the full log.
    let mut groups: BTreeMap<&str, Group> = BTreeMap::new();
    let first_ids: std::collections::HashSet<&str> = in_fault
        .iter()
        .filter_map(|e| e.correlation_id.as_deref())
        .collect();
    for e in &obs.log {
        if let Some(id) = e
            .correlation_id
            .as_deref()
            .filter(|id| first_ids.contains(id))
        {
            groups
                .entry(id)
                .or_insert_with(|| Group {
                    attempts: Vec::new(),
                })
                .attempts
                .push(e);
        }
    }
    let groups: Vec<Group> = groups.into_values().collect();
    vec![
        count_verdict(result, obs, p, &groups, base.clone(), count_claim, &source),
        explain(
            spacing_verdict(obs, p, &groups, base, &source),
            " Each wait may also run 25 ms over the jitter for scheduling.",
        ),
    ]
}

/// Median calls per correlation id before the first fault (None: too few correlated calls).
fn calls_per_request_without_faults(obs: &Observation) -> Option<usize> {
    let first_fault = obs
        .windows
        .iter()
        .map(|w| w.from_ms)
        .fold(f64::INFINITY, f64::min);
    let mut per_id: BTreeMap<&str, usize> = BTreeMap::new();
    for e in obs.log.iter().filter(|e| e.t_ms < first_fault - 1000.0) {
        if let Some(id) = e.correlation_id.as_deref() {
            *per_id.entry(id).or_default() += 1;
        }
    }
    if per_id.len() < 10 {
        return None;
    }
    let mut counts: Vec<usize> = per_id.into_values().collect();
    counts.sort_unstable();
    Some(counts[counts.len() / 2])
}

/// True when the next attempt of a failed group would have fallen while the breaker was open
/// (or after the run), so fewer attempts than the policy's are expected.
fn cut_short(
    result: &RunResult,
    gave_up: &evidence::ClientGiveUps,
    obs: &Observation,
    p: &RetryPolicy,
    g: &Group,
) -> bool {
    if g.attempts.len() >= max_attempts(p) as usize {
        return false;
    }
    let last = g.attempts[g.attempts.len() - 1];
    // The client went away first: the service had no failure to retry on.
    if gave_up.abandoned(last) {
        return true;
    }
    let wait = expected_wait(p, g.attempts.len() - 1).unwrap_or(0.0);
    let next = evidence::end_ms(last) + wait * (1.0 + p.jitter.unwrap_or(0.0)) + 50.0;
    let first = g.attempts[0].t_ms;
    next >= result.duration_s * 1000.0
        || obs.episodes.iter().any(|e| {
            e.opened_at_ms >= first
                && e.opened_at_ms <= next
                && e.resumed_at_ms.is_none_or(|r| r > next - 100.0)
        })
}

fn count_verdict(
    result: &RunResult,
    obs: &Observation,
    p: &RetryPolicy,
    groups: &[Group],
    id: String,
    claim: String,
    source: &str,
) -> Verdict {
    let gave_up = evidence::ClientGiveUps::read(result);
    let dep = &obs.dependency;
    let m = max_attempts(p) as usize;
    let id = format!("{id}.attempts");
    let expected = format!("{m} attempt(s) in all");
    let c = Claim::new(id, claim, source, expected);
    let too_many = groups.iter().filter(|g| g.attempts.len() > m).count();
    let complete: Vec<&Group> = groups
        .iter()
        .filter(|g| g.all_failed() && !cut_short(result, &gave_up, obs, p, g))
        .collect();
    let mut hist: BTreeMap<usize, usize> = BTreeMap::new();
    for g in &complete {
        *hist.entry(g.attempts.len()).or_default() += 1;
    }
    // "3 attempts ×12, 2 ×1": attempts per request that failed on every attempt, and how many.
    let measured = if hist.is_empty() {
        "no request to count".to_string()
    } else {
        let parts: Vec<String> = hist.iter().map(|(a, n)| format!("{a}×{n}")).collect();
        format!("attempts: {}", parts.join(", "))
    };
    if too_many > 0 {
        let worst = groups.iter().map(|g| g.attempts.len()).max().unwrap_or(0);
        let mut detail = format!(
            "{too_many} request(s) called {dep} more than {m} time(s) (up to {worst}): the service retries more than \
             '{}' allows.",
            p.scenario
        );
        if worst == m + 1 {
            detail.push_str(" (One more than claimed: if the spec's 'Max Attempts' counts retries, not attempts, say so.)");
        }
        return c.fail(measured, detail);
    }
    if complete.len() < MIN_COMPLETE {
        let detail = format!(
            "Only {} request(s) failed on every attempt to {dep} without the breaker or the client cutting their retries short; at \
             least {MIN_COMPLETE} are needed: use a fault that fails only some calls (probability 0.3–0.5) so requests retry \
             while the breaker stays closed.",
            complete.len()
        );
        return c.inconclusive(measured, detail);
    }
    let short = complete.iter().filter(|g| g.attempts.len() < m).count();
    if short == 0 {
        let detail = format!(
            "Each of {} failing requests called {dep} exactly {m} time(s).",
            complete.len()
        );
        return c.pass(measured, detail);
    }
    let detail = format!(
        "{short} of {} failing requests called {dep} fewer than {m} time(s): the service gives up earlier than \
         '{}' says.",
        complete.len(),
        p.scenario
    );
    c.fail(measured, detail)
}

fn spacing_verdict(
    obs: &Observation,
    p: &RetryPolicy,
    groups: &[Group],
    base: String,
    source: &str,
) -> Verdict {
    let dep = &obs.dependency;
    let id = format!("{base}.backoff");
    let jitter = p.jitter.unwrap_or(0.0);
    let claim = format!(
        "Retries to {dep} wait {} ('{}')",
        describe_backoff(p),
        p.scenario
    );
    let expected = format!(
        "waits {} ±{:.0}%",
        describe_backoff(p).trim_end_matches(" between attempts"),
        jitter * 100.0
    );
    let c = Claim::new(id, claim, source, expected);
    let mut checked: Vec<(f64, f64, f64, f64)> = Vec::new(); // (wait, expected, lo, hi)
    for g in groups {
        for (k, w) in g.waits().into_iter().enumerate() {
            if let Some(e) = expected_wait(p, k) {
                let (lo, hi) = wait_bounds(e, jitter);
                checked.push((w, e, lo, hi));
            }
        }
    }
    if max_attempts(p) < 2 || p.backoff_ms.is_empty() {
        let detail = format!(
            "The spec states no backoff for '{}', so the spacing of retries is not judged.",
            p.scenario
        );
        return c.inconclusive("not judged", detail);
    }
    if checked.is_empty() {
        let detail = format!("No request retried a call to {dep}, so the backoff never showed.");
        return c.inconclusive("no retries seen", detail);
    }
    let too_few = checked.len() < MIN_WAITS;
    let mut waits: Vec<f64> = checked.iter().map(|c| c.0).collect();
    let median = evidence::quantile(&mut waits, 0.5).unwrap_or(0.0);
    let measured = format!(
        "{} waits, median {}, range {}–{}",
        checked.len(),
        fmt_ms(median),
        fmt_ms(waits[0]),
        fmt_ms(waits[waits.len() - 1])
    );
    let early: Vec<_> = checked.iter().filter(|c| c.0 < c.2).collect();
    let late = checked.iter().filter(|c| c.0 > c.3).count();
    if let Some(&&(w, e, _, _)) = early.first() {
        let detail = format!(
            "{} of {} retries to {dep} came too early (e.g. after {} where {} ±{:.0}% was due): the service retries \
             without the claimed backoff.",
            early.len(),
            checked.len(),
            fmt_ms(w),
            fmt_ms(e),
            jitter * 100.0
        );
        return c.fail(measured, detail);
    }
    if late * 10 > checked.len() {
        let detail = format!(
            "{late} of {} retries to {dep} waited longer than the claimed backoff plus jitter: its backoff is longer than '{}' says.",
            checked.len(),
            p.scenario
        );
        return c.fail(measured, detail);
    }
    if too_few {
        let detail = format!(
            "Only {} retry wait(s) to {dep} were seen, all within the claim; at least {MIN_WAITS} are needed: use a \
             fault that fails only some calls so requests retry while the breaker stays closed.",
            checked.len()
        );
        return c.inconclusive(measured, detail);
    }
    let detail = format!(
        "Retries to {dep} waited as claimed ({late} late by scheduling, at most 10% allowed)."
    );
    c.pass(measured, detail)
}

fn describe_backoff(p: &RetryPolicy) -> String {
    let m = max_attempts(p) as usize;
    let waits: Vec<String> = (0..m.saturating_sub(1))
        .filter_map(|k| expected_wait(p, k))
        .map(fmt_ms)
        .collect();
    if waits.is_empty() {
        "no stated backoff".to_string()
    } else {
        format!("{} between attempts", waits.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(strategy: &str, backoff: Vec<f64>) -> RetryPolicy {
        RetryPolicy {
            scenario: "x".into(),
            strategy: Some(strategy.into()),
            max_attempts: Some(4),
            backoff_ms: backoff,
            jitter: None,
            line: 1,
        }
    }

    #[test]
    fn the_policy_about_failures_of_a_dependency_wins() {
        let mut four = policy("none", vec![]);
        four.scenario = "UserService 4xx (caller unknown)".into();
        let mut five = policy("exponential", vec![50.0, 100.0]);
        five.scenario = "UserService timeout, connection error, 5xx or 429".into();
        let claims = Claims {
            retries: vec![four.clone(), five.clone()],
            ..Claims::default()
        };
        assert_eq!(policy_for(&claims, "UserService", None), Some(&five));
        let claims = Claims {
            retries: vec![five.clone(), four],
            ..Claims::default()
        };
        assert_eq!(policy_for(&claims, "UserService", None), Some(&five));
        let mut db = policy("exponential", vec![100.0]);
        db.scenario = "Database connection".into();
        let mut api = policy("exponential", vec![1000.0]);
        api.scenario = "External API timeout".into();
        let claims = Claims {
            retries: vec![db.clone(), api.clone()],
            ..Claims::default()
        };
        assert_eq!(policy_for(&claims, "Postgres", Some("Database")), Some(&db));
        assert_eq!(
            policy_for(&claims, "FxRates", Some("External API")),
            Some(&api)
        );
        assert_eq!(policy_for(&claims, "Cache", Some("Redis")), None);
    }

    #[test]
    fn backoff_schedules_extend_by_strategy() {
        let p = policy("exponential", vec![100.0]);
        assert_eq!(
            (0..3)
                .map(|k| expected_wait(&p, k).unwrap())
                .collect::<Vec<_>>(),
            vec![100.0, 200.0, 400.0]
        );
        let p = policy("linear", vec![500.0]);
        assert_eq!(expected_wait(&p, 2), Some(1500.0));
        let p = policy("fixed", vec![250.0]);
        assert_eq!(expected_wait(&p, 5), Some(250.0));
        let p = policy("exponential", vec![1000.0, 2000.0, 4000.0]);
        assert_eq!(expected_wait(&p, 1), Some(2000.0));
        assert_eq!(expected_wait(&policy("fixed", vec![]), 0), None);
    }
}
