//! The interface promises the after-load probes test: `conflict.<request>` (an update resent
//! with a stale version gets the spec's conflict status and, when the error classes give one,
//! its code) and `limit.<request>.<name>` (one beyond a stated limit gets the stated error, or is
//! served at the max when the spec says "capped"). One send each decides: no sample rule.

use serde_json::Value;

use super::error_bodies::code_of;
use super::matching::slug;
use super::model::{spec_source, Claim, JudgeContext, Judgement};
use crate::result::{ConflictProbe, LimitProbe, ProbeAnswer, RunResult, Verdict};
use crate::spec::claims::{Claims, StatedLimit};

pub fn judge(result: &RunResult, claims: &Claims, ctx: &JudgeContext, out: &mut Judgement) {
    for p in &result.conflicts {
        out.verdicts.push(conflict(p, claims, ctx));
    }
    for p in &result.limits {
        let stated = claims.limits.iter().find(|l| l.name == p.name);
        out.verdicts.push(limit(p, stated, ctx));
    }
}

fn conflict(p: &ConflictProbe, claims: &Claims, ctx: &JudgeContext) -> Verdict {
    let stated = claims.conflict.as_ref();
    let want = stated.map_or(409, |c| c.status);
    let code = stated.and_then(|c| c.code.as_deref());
    let c = Claim::new(
        format!("conflict.{}", slug(&p.request)),
        "an update naming a stale version is refused",
        stated.map_or_else(|| ctx.scenario_file.clone(), |s| spec_source(ctx, s.line)),
        match code {
            Some(code) => format!("{want} {code}"),
            None => want.to_string(),
        },
    );
    let Some(_) = stated else {
        return c.inconclusive(
            "no conflict status in spec",
            "The scenario marks this request stale_version, but the spec states no status for a version conflict.",
        );
    };
    let kind = |k: &str| p.answers.iter().find(|a| a.kind == k);
    if let Some(why) = &p.stopped {
        let last = p.answers.last().map(show).unwrap_or_default();
        return c.inconclusive(
            cut(&last),
            format!(
                "{why} ({} {}: {last}); nothing stale was sent.",
                p.field, p.path
            ),
        );
    }
    let Some(stale) = kind("stale").filter(|a| a.status.is_some()) else {
        let shown = kind("stale").map(show).unwrap_or_default();
        return c.inconclusive(
            "stale send unanswered",
            format!("The stale resend got no answer: {shown}."),
        );
    };
    let version = p.version.as_ref().map(Value::to_string).unwrap_or_default();
    let current = kind("current").and_then(|a| a.status).unwrap_or_default();
    let head = format!(
        "GET {} read {} = {version}; the update with it got {current}; resent with {} = {version}, it",
        p.path, p.field, p.field
    );
    judged(&c, stale, want, code, &head, "stale")
}

fn limit(p: &LimitProbe, stated: Option<&StatedLimit>, ctx: &JudgeContext) -> Verdict {
    let what = if p.name == "body" {
        format!("a request body over {} bytes", p.max)
    } else {
        format!("{} over {}", p.name, p.max)
    };
    let expected = match stated {
        Some(s) if s.capped => format!("at most {} items", s.max),
        Some(s) => match (s.status, &s.code) {
            (Some(st), Some(code)) => format!("{st} {code}"),
            (Some(st), None) => st.to_string(),
            (None, _) => "a 4xx".into(),
        },
        None => "the stated error".into(),
    };
    let c = Claim::new(
        format!("limit.{}.{}", slug(&p.request), slug(&p.name)),
        match stated {
            Some(s) if s.capped => format!("{what} is capped"),
            _ => format!("{what} is rejected"),
        },
        stated.map_or_else(|| ctx.scenario_file.clone(), |s| spec_source(ctx, s.line)),
        expected,
    );
    let Some(s) = stated else {
        return c.inconclusive(
            "limit not in this spec",
            format!("Probed {} beyond a limit this spec does not state.", p.sent),
        );
    };
    let Some(status) = p.answer.status else {
        return c.inconclusive(
            cut(&show(&p.answer)),
            format!("Sent {}: no answer ({}).", p.sent, show(&p.answer)),
        );
    };
    let head = format!("Sent {} (max {}):", p.sent, s.max);
    if !s.capped {
        return match s.status {
            Some(want) => judged(&c, &p.answer, want, s.code.as_deref(), &head, "beyond"),
            None if (400..500).contains(&status) => c.pass(
                format!("{} got {status}", p.sent),
                format!(
                    "{head} answered {status}; the spec names no status, so any 4xx is a refusal."
                ),
            ),
            None => c.fail(
                format!("{} got {status}", p.sent),
                format!("{head} answered {status}, not a refusal."),
            ),
        };
    }
    if !(200..300).contains(&status) {
        return c.fail(
            cut(&format!("{} got {status}", p.sent)),
            format!(
                "{head} answered {status}: the spec says a larger value is capped, not refused."
            ),
        );
    }
    match p.items {
        None => c.inconclusive(
            "no array in the answer",
            format!("{head} answered {status} with no JSON array to count."),
        ),
        Some(n) if n as u64 <= s.max => c.pass(
            format!("{} asked, {n} served", s.max + 1),
            format!(
                "{head} answered {status} with {n} items (at most {}).",
                s.max
            ),
        ),
        Some(n) => c.fail(
            format!("{} asked, {n} served", s.max + 1),
            format!(
                "{head} answered {status} with {n} items: more than the cap of {}.",
                s.max
            ),
        ),
    }
}

/// The status (and code, when stated) of `a` against what the spec says; `label` names the send.
fn judged(
    c: &Claim,
    a: &ProbeAnswer,
    want: u16,
    code: Option<&str>,
    head: &str,
    label: &str,
) -> Verdict {
    let status = a.status.unwrap_or_default();
    let json: Option<Value> = a.body.as_deref().and_then(|b| serde_json::from_str(b).ok());
    let got = json.as_ref().and_then(code_of).map(str::to_string);
    let shown_code = got.as_deref().unwrap_or("no code");
    if status != want {
        let why = if (200..300).contains(&status) {
            "accepted"
        } else {
            "another status"
        };
        return c.fail(
            cut(&format!("{label} {status} ({why})")),
            format!("{head} answered {status} ({shown_code}), not {want}."),
        );
    }
    match code {
        Some(code) if got.as_deref() != Some(code) => c.fail(
            cut(&format!("{label} {status} {shown_code}")),
            format!(
                "{head} answered {status} as stated, but its code is {shown_code}, not {code}."
            ),
        ),
        Some(code) => c.pass(
            cut(&format!("{label} {status} {code}")),
            format!("{head} answered {status} {code}, as stated."),
        ),
        None => c.pass(
            cut(&format!("{label} {status}")),
            format!("{head} answered {status} ({shown_code}); the spec gives no code for it."),
        ),
    }
}

fn show(a: &ProbeAnswer) -> String {
    match (a.status, &a.error) {
        (Some(s), _) => format!("{} {s}", a.kind),
        (None, e) => format!("{} failed ({})", a.kind, e.as_deref().unwrap_or("?")),
    }
}

/// The measured column stays within 32 characters.
fn cut(s: &str) -> String {
    if s.chars().count() <= 32 {
        return s.to_string();
    }
    let mut out: String = s.chars().take(31).collect();
    out.push('…');
    out
}

#[cfg(test)]
#[path = "interface_tests.rs"]
mod tests;
