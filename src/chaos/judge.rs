//! What the scenario tells the verdict step: which spec to read (`--spec`, or `spec = "..."`
//! relative to the scenario file), and the `JudgeContext` built from the plan (request ->
//! operation and client key, `[[slo]]` entries, the client's own timeout, file names).

use std::path::{Path, PathBuf};

use crate::result::RunResult;
use crate::scenario::Plan;
use crate::spec::{normalize_name, Claims};
use crate::verdict::{JudgeContext, RequestInfo, SloEntry};

/// Headers whose value identifies the client for per-key rate limits.
const KEY_HEADERS: [&str; 3] = ["x-client-key", "x-api-key", "authorization"];

/// The spec to judge against: the command line's, else the scenario's own (relative to it).
pub fn spec_path(cli: Option<&Path>, plan: &Plan, scenario: &Path) -> Option<PathBuf> {
    if let Some(p) = cli {
        return Some(p.to_path_buf());
    }
    let own = plan.spec.as_ref()?;
    let base = scenario.parent().unwrap_or(Path::new(""));
    Some(base.join(own))
}

/// When the scenario names no `ready_path` and the spec states one, the run samples the spec's:
/// a run judged against a spec that promises a readiness endpoint should judge it. Returns the
/// note that says so (recorded in the result), or None when nothing was adopted.
pub fn adopt_ready_path(plan: &mut Plan, claims: &Claims) -> Option<String> {
    if plan.target.ready_path.is_some() {
        return None;
    }
    let hc = claims.health.as_ref()?;
    let path = hc.ready_path.as_ref().filter(|p| p.starts_with('/'))?;
    plan.target.ready_path = Some(path.clone());
    Some(format!(
        "ready_path {path} sampled from the spec (line {}): the scenario names none",
        hc.line
    ))
}

/// When the scenario leaves `traceparent` unset and the spec promises trace propagation, every
/// request carries a W3C `traceparent` so the promise can be judged. Returns the note.
pub fn adopt_traceparent(plan: &mut Plan, claims: &Claims) -> Option<String> {
    let line = claims.trace_propagation_line?;
    if plan.target.traceparent.is_some() {
        return None;
    }
    plan.target.traceparent = Some(true);
    Some(format!(
        "traceparent sent with every request: the spec promises trace propagation (line {line})"
    ))
}

/// When a request is marked `probe_limits`, the probe needs the spec's stated limits: they are
/// copied into the plan. Returns the note naming them (or saying the spec states none).
pub fn adopt_limits(plan: &mut Plan, claims: &Claims) -> Option<String> {
    if !plan.requests.iter().any(|r| r.probe_limits) {
        return None;
    }
    if claims.limits.is_empty() {
        return Some("probe_limits: the spec states no limit to probe beyond".into());
    }
    plan.stated_limits = claims
        .limits
        .iter()
        .map(|l| crate::scenario::ProbeLimit {
            name: l.name.clone(),
            body: l.kind == crate::spec::claims::LimitKind::Body,
            max: l.max,
        })
        .collect();
    let named: Vec<String> = claims
        .limits
        .iter()
        .map(|l| format!("{} max {} (line {})", l.name, l.max, l.line))
        .collect();
    Some(format!(
        "probe_limits: one send beyond each stated limit after the load: {}",
        named.join(", ")
    ))
}

/// Judges `claims` against a finished run and writes the verdicts, breaker episodes and notes
/// into `result` (with `spec` set to `spec_file`); true when a verdict failed.
pub fn judge_into(
    result: &mut RunResult,
    plan: &Plan,
    claims: &Claims,
    spec_file: &str,
    scenario_file: &str,
) -> bool {
    let ctx = context(plan, claims, spec_file, scenario_file);
    let judgement = crate::verdict::judge(result, claims, &ctx);
    judgement.apply_to(result);
    result.spec = Some(spec_file.to_string());
    judgement.failed()
}

/// The judge's context for `plan`; `spec_file` and `scenario_file` label verdict sources.
pub fn context(plan: &Plan, claims: &Claims, spec_file: &str, scenario_file: &str) -> JudgeContext {
    let mut ctx = JudgeContext {
        spec_file: spec_file.to_string(),
        scenario_file: scenario_file.to_string(),
        client_timeout: Some(plan.target.timeout),
        health_path: plan.target.health_path.clone(),
        ..JudgeContext::default()
    };
    for r in &plan.requests {
        let key = r
            .headers
            .iter()
            .chain(&plan.target.headers)
            .find(|(k, _)| KEY_HEADERS.iter().any(|h| k.eq_ignore_ascii_case(h)))
            .map(|(_, v)| v.clone());
        ctx.requests.insert(
            r.name.clone(),
            RequestInfo {
                operation: r.operation.clone(),
                rate_key: key,
                rate_limit: None,
                grpc_method: r.grpc.as_ref().map(|g| g.method.clone()),
            },
        );
    }
    ctx.slos = plan
        .slos
        .iter()
        .map(|s| SloEntry {
            operation: s.operation.clone(),
            phase: s.phase.clone(),
            p50: s.p50,
            p95: s.p95,
            p99: s.p99,
            timeout: s.timeout,
            error_rate: s.error_rate,
            availability: s.availability,
            line: s.line,
        })
        .collect();
    for d in &plan.dependencies {
        let same = claims
            .dependencies
            .iter()
            .find(|c| normalize_name(&c.name) == normalize_name(&d.name));
        if let Some(c) = same.filter(|c| c.name != d.name) {
            ctx.dependency_names.insert(d.name.clone(), c.name.clone());
        }
    }
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;

    #[test]
    fn context_carries_operations_keys_slos_and_names() {
        let src = "name = \"t\"\nspec = \"specs/svc.md\"\n[target]\nbase_url = \"http://127.0.0.1:1\"\nallowed_hosts = [\"127.0.0.1\"]\ntimeout = \"2s\"\n\
                   [load]\nstages = [ { duration = \"2s\", rate = 10 } ]\n\
                   [[request]]\nname = \"get\"\noperation = \"get_item\"\npath = \"/\"\nheaders = { x-client-key = \"k1\" }\n\
                   [[dependency]]\nname = \"user-service\"\nlisten = \"127.0.0.1:9101\"\nupstream = \"127.0.0.1:9100\"\n\
                   [[slo]]\noperation = \"get_item\"\np99 = \"80ms\"\n";
        let plan = scenario::parse(src, "dir/t.toml").unwrap();
        let claims = crate::spec::parse("# Svc\n\n## Dependencies\n\n| Dependency | Type | Purpose | Timeout | Fallback | Health Check |\n|---|---|---|---|---|---|\n| UserService | API | x | 300ms | Return 503 | /health |\n");
        let ctx = context(&plan, &claims, "svc.md", "t.toml");
        assert_eq!(ctx.requests["get"].operation.as_deref(), Some("get_item"));
        assert_eq!(ctx.requests["get"].rate_key.as_deref(), Some("k1"));
        assert_eq!(ctx.slos[0].p99, Some(std::time::Duration::from_millis(80)));
        assert_eq!(ctx.slos[0].line, plan.slos[0].line);
        assert_eq!(ctx.client_timeout, Some(std::time::Duration::from_secs(2)));
        assert_eq!(claims.dependencies.len(), 1, "{:?}", claims.diagnostics);
        assert_eq!(ctx.dependency_names["user-service"], "UserService");
        let mut adopted = plan.clone();
        assert_eq!(
            adopt_ready_path(&mut adopted, &claims),
            None,
            "no ready path in the spec"
        );
        assert_eq!(
            spec_path(None, &plan, Path::new("dir/t.toml")),
            Some(PathBuf::from("dir/specs/svc.md"))
        );
        assert_eq!(
            spec_path(Some(Path::new("x.md")), &plan, Path::new("dir/t.toml")),
            Some(PathBuf::from("x.md"))
        );
    }
}

#[cfg(test)]
mod adopt_tests {
    use super::*;
    use crate::scenario;

    const SRC: &str = "name = \"t\"\n[target]\nbase_url = \"http://127.0.0.1:1\"\nallowed_hosts = [\"127.0.0.1\"]\n\
                       [load]\nstages = [ { duration = \"2s\", rate = 10 } ]\n[[request]]\nname = \"get\"\npath = \"/\"\n";

    fn claims() -> Claims {
        Claims {
            health: Some(crate::spec::claims::HealthCheck {
                path: "/health".into(),
                ready_path: Some("/ready".into()),
                states: vec![],
                line: 12,
            }),
            ..Claims::default()
        }
    }

    #[test]
    fn the_spec_ready_path_is_sampled_unless_the_scenario_names_one() {
        let mut plan = scenario::parse(SRC, "t.toml").unwrap();
        let note = adopt_ready_path(&mut plan, &claims()).expect("adopted");
        assert_eq!(plan.target.ready_path.as_deref(), Some("/ready"));
        assert!(
            note.contains("/ready") && note.contains("line 12"),
            "{note}"
        );
        let own = SRC.replace("allowed_hosts", "ready_path = \"/readyz\"\nallowed_hosts");
        let mut plan = scenario::parse(&own, "t.toml").unwrap();
        assert_eq!(adopt_ready_path(&mut plan, &claims()), None);
        assert_eq!(plan.target.ready_path.as_deref(), Some("/readyz"));
    }
}
