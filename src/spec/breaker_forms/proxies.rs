//! Proxies' passive health checks read as breakers: nginx `server ... max_fails=3 fail_timeout=30s`
//! (failures within a window; nginx's fail_timeout is both the window and the time the server stays
//! out) and Envoy `outlier_detection` / Istio `outlierDetection` (consecutive 5xx or gateway errors,
//! ejection time growing with each ejection).

use super::values::{count, SECONDS};
use super::{Build, Entry, Field, Form};
use crate::spec::claims::{BreakerKind, RecoveryGrowth};

pub(crate) const NGINX: Form = Form {
    library: "nginx",
    field: nginx_field,
    scan: super::no_scan,
    build: nginx,
    space_values: true,
    name_inside: false,
};

fn nginx_field(e: &Entry) -> Option<Field> {
    Some(match e.last().as_str() {
        "maxfails" => Field::Threshold,
        "failtimeout" => Field::WindowMs,
        _ => return None,
    })
}

/// Defaults from nginx's `ngx_http_upstream_module` documentation (max_fails=1, fail_timeout=10s; a
/// bare number is seconds, as in every nginx time). max_fails unsuccessful attempts within
/// fail_timeout mark the server unavailable for fail_timeout; max_fails=0 turns the accounting off.
fn nginx(x: &mut Build) {
    x.b.kind = Some(BreakerKind::FailuresInWindow);
    let n = x.count(Field::Threshold);
    x.b.failure_threshold = x.or_default(n, "failure_threshold", 1, "max_fails=1");
    let t = x.duration(Field::WindowMs, SECONDS);
    let t = x.or_default(t, "window_ms", 10_000.0, "fail_timeout=10s");
    x.b.window_ms = t;
    x.b.recovery_timeout_ms = t;
    if x.b.failure_threshold == Some(0) {
        x.note(x.line(), "circuit breaker (nginx): max_fails=0 disables the failure accounting, so this server is never taken out".into());
        x.b.kind = None;
    }
}

/// Consecutive gateway errors, when they eject: Istio enforces them; Envoy only with
/// `enforcing_consecutive_gateway_failure` above 0 (its default is 0).
fn enforced_gateway(x: &mut Build) -> Option<u32> {
    let g = x.count(Field::GatewayThreshold)?;
    let envoy_key = x
        .get(Field::GatewayThreshold)
        .is_some_and(|f| f.key.contains('_'));
    let enforcing = x.count(Field::GatewayEnforcing);
    if envoy_key && enforcing.unwrap_or(0) == 0 {
        let line = x.get(Field::GatewayThreshold).map_or(x.line(), |f| f.line);
        x.note(line, "circuit breaker (envoy): consecutive_gateway_failure is counted but not enforced (enforcing_consecutive_gateway_failure defaults to 0); not read".into());
        return None;
    }
    Some(g)
}

pub(crate) const ENVOY: Form = Form {
    library: "envoy",
    field: envoy_field,
    scan: super::no_scan,
    build: envoy,
    space_values: false,
    name_inside: false,
};

fn envoy_field(e: &Entry) -> Option<Field> {
    Some(match e.last().as_str() {
        "consecutive5xx" | "consecutive5xxerrors" | "consecutiveerrors" => Field::Threshold,
        "consecutivegatewayfailure" | "consecutivegatewayerrors" => Field::GatewayThreshold,
        "enforcingconsecutivegatewayfailure" => Field::GatewayEnforcing,
        "interval" => Field::SweepMs,
        "baseejectiontime" => Field::RecoveryMs,
        "maxejectiontime" => Field::RecoveryMaxMs,
        "maxejectionpercent" => Field::MaxEjectionPercent,
        _ => return None,
    })
}

/// Defaults from Envoy's `api/envoy/config/cluster/v3/outlier_detection.proto` (consecutive_5xx 5,
/// interval 10s, base_ejection_time 30s, max_ejection_time 300s, max_ejection_percent 10;
/// consecutive_gateway_failure is enforced 0% unless enforcing_consecutive_gateway_failure is set),
/// which Istio's `outlierDetection` configures. A host is ejected on the Nth consecutive error for
/// base_ejection_time × the number of times it was ejected, and returns at the next interval sweep.
fn envoy(x: &mut Build) {
    x.b.kind = Some(BreakerKind::Consecutive);
    let fives = x.count(Field::Threshold);
    let gateway = enforced_gateway(x);
    x.b.failure_threshold = match (fives, gateway) {
        (Some(f), Some(g)) if g < f => {
            x.note(x.line(), format!("circuit breaker (envoy): consecutive gateway errors ({g}) eject sooner than consecutive 5xx ({f}) for 502/503/504 answers; read the threshold as {g}, which holds for those"));
            Some(g)
        }
        (Some(f), _) => Some(f),
        (None, Some(g)) => Some(g),
        (None, None) => x.or_default(None, "failure_threshold", 5, "consecutive_5xx = 5"),
    };
    let base = x.duration(Field::RecoveryMs, None);
    x.b.recovery_timeout_ms = x.or_default(
        base,
        "recovery_timeout_ms",
        30_000.0,
        "base_ejection_time = 30s",
    );
    x.b.recovery_growth = Some(RecoveryGrowth::Linear);
    let max = x.duration(Field::RecoveryMaxMs, None);
    x.b.recovery_max_ms = x.or_default(
        max,
        "recovery_max_ms",
        300_000.0,
        "max_ejection_time = 300s",
    );
    let sweep = x.duration(Field::SweepMs, None);
    x.b.ejection_sweep_ms = x.or_default(sweep, "ejection_sweep_ms", 10_000.0, "interval = 10s");
    if let Some(f) = x.get(Field::MaxEjectionPercent).cloned() {
        if count(&f.value) == Ok(0) {
            x.note(
                f.line,
                format!(
                    "circuit breaker (envoy): {} = 0 lets no host be ejected",
                    f.key
                ),
            );
            x.b.kind = None;
        }
    }
}
