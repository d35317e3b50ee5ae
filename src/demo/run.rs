//! `redline demo`'s pipeline: the stub UserService, a port for the run's fault proxy, the reference
//! service calling that port, the embedded scenario driven through the chaos pipeline, and the
//! verdicts against the embedded reference spec.
//!
//! Invariants: everything listens on 127.0.0.1 (ephemeral ports); the scenario's target and its one
//! dependency are always replaced by the demo's own services, so a demo never sends a byte
//! elsewhere; the services are stopped whatever the run's outcome. No printing here: the CLI does it.

use std::io;
use std::net::SocketAddr;

use crate::chaos::fault_spec::{plan_faults, PlannedFault};
use crate::chaos::{self, ChaosError, ChaosOptions};
use crate::engine::StopSignal;
use crate::result::RunResult;
use crate::scenario::{self, BaseUrl, DependencyProxy, Plan, ScenarioError, Scheme};
use crate::spec::normalize_name;
use crate::verdict;

use super::{ReferenceConfig, ReferenceService, StubConfig, StubDependency};

/// The demo scenario, built into the binary so the demo runs from any directory.
pub const SCENARIO: &str = include_str!("../../scenarios/demo.toml");
/// How the embedded scenario is named in the result and in verdict sources.
pub const SCENARIO_FILE: &str = "scenarios/demo.toml";
/// The bare base scenario `redline demo` plans its run from (`plan::plan`), built into the binary.
pub const BASE: &str = include_str!("../../scenarios/reference-base.toml");
/// How the embedded base is named in the result and in verdict sources.
pub const BASE_FILE: &str = "scenarios/reference-base.toml";
/// The planned demo's budget: its whole schedule stays under a minute.
pub const BUDGET_S: f64 = 57.5;
/// The reference service's spec, built into the binary.
pub const SPEC: &str = include_str!("../../scenarios/specs/reference-service.md");
/// How the embedded spec is named in verdict sources ("scenarios/specs/reference-service.md:112").
pub const SPEC_FILE: &str = "scenarios/specs/reference-service.md";
/// The reference service's only dependency: the scenario's `[[dependency]]` must be this one.
pub const DEPENDENCY: &str = "UserService";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The scenario is valid but does not fit the demo's services.
    #[error("{file}: {why}")]
    Unsuitable { file: String, why: String },
    #[error("cannot start the demo's {what}: {source}")]
    Start {
        what: &'static str,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Chaos(#[from] ChaosError),
}

/// A scenario checked for the demo: nothing has started yet.
#[derive(Debug, Clone)]
pub struct DemoPlan {
    pub plan: Plan,
    pub faults: Vec<PlannedFault>,
    /// The scenario's name in messages and verdict sources.
    pub file: String,
    /// Notes for the result about choices made before the run (e.g. the spec's ready path adopted).
    pub notes: Vec<String>,
}

/// Parses `text` and checks it fits the demo: plain HTTP, exactly one in-process dependency named
/// UserService, faults the proxy accepts. Every problem is found before anything starts.
pub fn prepare(text: &str, file: &str) -> Result<DemoPlan, DemoError> {
    let mut plan = scenario::parse(text, file)?;
    let unsuitable = |why: String| DemoError::Unsuitable {
        file: file.to_string(),
        why,
    };
    if plan.target.base_url.scheme != Scheme::Http {
        return Err(unsuitable(
            "`target.base_url`: expected http:// (the reference service speaks plain HTTP), found https://".into(),
        ));
    }
    match plan.dependencies.as_slice() {
        [d] if normalize_name(&d.name) == normalize_name(DEPENDENCY)
            && matches!(d.attach, DependencyProxy::Local { .. }) => {}
        deps => {
            let found: Vec<String> = deps
                .iter()
                .map(|d| format!("{:?} (line {})", d.name, d.pos.line))
                .collect();
            return Err(unsuitable(format!(
                "`[[dependency]]`: expected exactly one, named {DEPENDENCY:?} with `listen` and `upstream` \
                 (the demo puts its own proxy there), found {}",
                if found.is_empty() { "none".to_string() } else { found.join(", ") }
            )));
        }
    }
    let faults = plan_faults(&plan, file)?;
    // A `--scenario` without `ready_path` still judges the spec's /ready.
    let claims = crate::spec::parse(SPEC);
    let notes = chaos::judge::adopt_ready_path(&mut plan, &claims)
        .into_iter()
        .chain(chaos::judge::adopt_traceparent(&mut plan, &claims))
        .chain(chaos::judge::adopt_limits(&mut plan, &claims))
        .collect();
    Ok(DemoPlan {
        plan,
        faults,
        file: file.to_string(),
        notes,
    })
}

/// How the demo is driven from the command line.
pub struct DemoOptions {
    /// Ctrl-C: stop the load (faults are removed, the partial result is kept).
    pub stop: StopSignal,
    /// Draw the chaos run's live view on stderr.
    pub live: bool,
}

/// Where the demo's parts listened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAddresses {
    pub service: SocketAddr,
    pub proxy: SocketAddr,
    pub dependency: SocketAddr,
}

/// A finished (or interrupted) demo run, judged.
#[derive(Debug)]
pub struct DemoOutcome {
    /// The plan as run (addresses replaced).
    pub plan: Plan,
    pub result: RunResult,
    /// True when at least one verdict failed.
    pub failed: bool,
    pub addresses: DemoAddresses,
}

/// Starts the services, runs the plan through the chaos pipeline, stops the services and judges
/// the result against the embedded spec.
pub async fn run(demo: DemoPlan, opts: DemoOptions) -> Result<DemoOutcome, DemoError> {
    let stub = StubDependency::start(StubConfig::ephemeral())
        .await
        .map_err(|source| DemoError::Start {
            what: "stub UserService",
            source,
        })?;
    let proxy = free_port().map_err(|source| DemoError::Start {
        what: "fault proxy (no free port)",
        source,
    })?;
    let cfg = ReferenceConfig::ephemeral(format!("http://{proxy}"));
    let svc = match ReferenceService::start(cfg).await {
        Ok(svc) => svc,
        Err(source) => {
            stub.shutdown().await;
            return Err(DemoError::Start {
                what: "reference service",
                source,
            });
        }
    };
    let addresses = DemoAddresses {
        service: svc.addr(),
        proxy,
        dependency: stub.addr(),
    };
    let plan = retarget(demo.plan, &addresses);
    let chaos_opts = ChaosOptions {
        scenario_file: Some(demo.file.clone()),
        stop: opts.stop,
        live: opts.live,
        hold: None,
        control: None,
        workers: None,
        announce: false,
        installed: Default::default(),
        feed: None,
        segment: None,
        start_at: None,
    };
    let outcome = chaos::run(&plan, demo.faults, chaos_opts).await;
    svc.shutdown().await;
    stub.shutdown().await;
    let mut result = outcome?;
    result.notes.extend(demo.notes);
    result.notes.push(format!(
        "demo: reference service on {}, calling UserService through the fault proxy on {} (stub UserService on {})",
        addresses.service, addresses.proxy, addresses.dependency
    ));
    let failed = judge(&plan, &demo.file, &mut result);
    Ok(DemoOutcome {
        plan,
        result,
        failed,
        addresses,
    })
}

/// Judges `result` against the embedded reference spec (verdicts, breaker episodes, notes);
/// true when a verdict failed.
pub fn judge(plan: &Plan, scenario_file: &str, result: &mut RunResult) -> bool {
    let claims = crate::spec::parse(SPEC);
    let mut ctx = chaos::judge::context(plan, &claims, SPEC_FILE, scenario_file);
    // The reference service has one limit (the spec's `items_api`) in front of every items route,
    // which is all a demo scenario can call; a scenario has no key to say so, the demo knows it.
    if let [limit] = claims.rate_limits.as_slice() {
        for r in ctx.requests.values_mut() {
            r.rate_limit.get_or_insert_with(|| limit.name.clone());
        }
    }
    let judgement = verdict::judge(result, &claims, &ctx);
    judgement.apply_to(result);
    result.spec = Some(SPEC_FILE.to_string());
    judgement.failed()
}

/// The plan aimed at the demo's services: the target is the reference service, the dependency's
/// proxy listens where the service calls UserService and forwards to the stub.
pub fn retarget(mut plan: Plan, at: &DemoAddresses) -> Plan {
    plan.target.base_url = BaseUrl {
        scheme: Scheme::Http,
        host: at.service.ip().to_string(),
        port: at.service.port(),
        prefix: String::new(),
    };
    plan.target.allowed_hosts = vec![at.service.ip().to_string()];
    for d in &mut plan.dependencies {
        d.attach = DependencyProxy::Local {
            listen: at.proxy.to_string(),
            upstream: at.dependency.to_string(),
        };
    }
    plan
}

/// A loopback port that was free a moment ago (bound, read, released): the chaos run binds its
/// proxy there, and the reference service must know the address before the proxy exists.
fn free_port() -> io::Result<SocketAddr> {
    std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::PhaseKind;
    use std::time::Duration;

    #[test]
    fn the_embedded_scenario_fits_the_demo_and_takes_under_a_minute() {
        let demo = prepare(SCENARIO, SCENARIO_FILE).unwrap();
        let plan = &demo.plan;
        assert!(plan.load.duration() < Duration::from_secs(60));
        assert_eq!(demo.faults.len(), 3);
        let kinds: Vec<PhaseKind> = scenario::phase_windows(plan)
            .iter()
            .map(|w| w.kind)
            .collect();
        use PhaseKind::*;
        assert_eq!(
            kinds,
            [Warmup, Baseline, Fault, Fault, Recovery, Fault, Recovery]
        );
        // The outage must end early enough for the breaker (5 s open, probes) to close before the
        // partial fault, and the run must go on long enough after that to see health recover.
        let (outage, partial) = (&plan.faults[1], &plan.faults[2]);
        assert!(partial.at >= outage.end() + Duration::from_secs(6));
        assert!(plan.load.duration() >= partial.end() + Duration::from_secs(8));
        // Both endpoints the spec promises are sampled, so both get judged.
        assert_eq!(plan.target.health_path.as_deref(), Some("/health"));
        assert_eq!(plan.target.ready_path.as_deref(), Some("/ready"));
        assert!(
            demo.notes.is_empty(),
            "the scenario names it: {:?}",
            demo.notes
        );
        let without = SCENARIO.replace("ready_path = \"/ready\"", "");
        let adopted = prepare(&without, "x.toml").unwrap();
        assert_eq!(adopted.plan.target.ready_path.as_deref(), Some("/ready"));
        assert_eq!(adopted.notes.len(), 1, "{:?}", adopted.notes);
    }

    #[test]
    fn the_embedded_spec_claims_the_breaker_timeout_and_fallback() {
        let claims = crate::spec::parse(SPEC);
        assert!(!claims.breakers.is_empty());
        let dep = claims.dependencies.iter().find(|d| d.name == DEPENDENCY);
        assert!(dep.is_some_and(|d| d.timeout_ms == Some(300.0) && d.fallback_status == Some(503)));
    }

    #[test]
    fn scenarios_that_do_not_fit_are_refused_before_anything_starts() {
        let no_dep = SCENARIO.split("[[dependency]]").next().unwrap().to_string();
        let err = prepare(&no_dep, "x.toml").unwrap_err().to_string();
        assert!(
            err.contains("x.toml") && err.contains("UserService") && err.contains("none"),
            "{err}"
        );
        let renamed = SCENARIO.replace("name = \"UserService\"", "name = \"Billing\"");
        let renamed = renamed.replace("dependency = \"UserService\"", "dependency = \"Billing\"");
        let err = prepare(&renamed, "y.toml").unwrap_err().to_string();
        assert!(err.contains("\"Billing\" (line"), "{err}");
    }

    #[test]
    fn retargeting_replaces_every_address() {
        let demo = prepare(SCENARIO, SCENARIO_FILE).unwrap();
        let at = DemoAddresses {
            service: "127.0.0.1:4001".parse().unwrap(),
            proxy: "127.0.0.1:4002".parse().unwrap(),
            dependency: "127.0.0.1:4003".parse().unwrap(),
        };
        let plan = retarget(demo.plan, &at);
        assert_eq!(plan.target.base_url.authority(), "127.0.0.1:4001");
        assert_eq!(
            plan.dependencies[0].attach,
            DependencyProxy::Local {
                listen: "127.0.0.1:4002".into(),
                upstream: "127.0.0.1:4003".into()
            }
        );
    }
}
