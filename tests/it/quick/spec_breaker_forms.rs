//! Breakers read from each library's own configuration form (fixtures in
//! `tests/fixtures/specs/breaker-forms/`): every value in the unit the form's language uses, the
//! library's rule (kind, how the rate trips, half-open), each documented default named, and the
//! dependency each breaker guards. Fixtures are compiled in; the reader does no I/O.

use redline::spec::claims::{
    Breaker, BreakerKind, Claims, CloseRule, HalfOpenExtra, RateTrip, RecoveryGrowth,
};
use redline::spec::parse;

use BreakerKind::{Consecutive, FailureRate, FailuresInWindow};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/specs/breaker-forms/",
            $name
        ))
    };
}

/// Every value a breaker claims, in one comparable shape (None where the claim says nothing).
#[derive(Debug, Default, PartialEq)]
struct Expect {
    name: Option<&'static str>,
    dependency: Option<&'static str>,
    library: Option<&'static str>,
    kind: Option<BreakerKind>,
    failure_threshold: Option<u32>,
    failure_rate: Option<f64>,
    rate_trips: Option<RateTrip>,
    window_calls: Option<u32>,
    window_ms: Option<f64>,
    minimum_calls: Option<u32>,
    slow_call_ms: Option<f64>,
    slow_call_rate: Option<f64>,
    recovery_timeout_ms: Option<f64>,
    recovery_multiplier: Option<f64>,
    recovery_max_ms: Option<f64>,
    recovery_growth: Option<RecoveryGrowth>,
    recovery_jitter: Option<f64>,
    ejection_sweep_ms: Option<f64>,
    call_timeout_ms: Option<f64>,
    half_open_requests: Option<u32>,
    half_open_extra: Option<HalfOpenExtra>,
    close_rule: Option<CloseRule>,
    defaults_applied: Vec<&'static str>,
    line: usize,
}

fn seen(b: &Breaker) -> Expect {
    let leak = |s: &Option<String>| s.clone().map(|s| &*Box::leak(s.into_boxed_str()));
    Expect {
        name: leak(&b.name),
        dependency: leak(&b.dependency),
        library: leak(&b.library),
        kind: b.kind,
        failure_threshold: b.failure_threshold,
        failure_rate: b.failure_rate,
        rate_trips: b.rate_trips,
        window_calls: b.window_calls,
        window_ms: b.window_ms,
        minimum_calls: b.minimum_calls,
        slow_call_ms: b.slow_call_ms,
        slow_call_rate: b.slow_call_rate,
        recovery_timeout_ms: b.recovery_timeout_ms,
        recovery_multiplier: b.recovery_multiplier,
        recovery_max_ms: b.recovery_max_ms,
        recovery_growth: b.recovery_growth,
        recovery_jitter: b.recovery_jitter,
        ejection_sweep_ms: b.ejection_sweep_ms,
        call_timeout_ms: b.call_timeout_ms,
        half_open_requests: b.half_open_requests,
        half_open_extra: b.half_open_extra,
        close_rule: b.close_rule,
        defaults_applied: b
            .defaults_applied
            .iter()
            .map(|s| &*Box::leak(s.clone().into_boxed_str()))
            .collect(),
        line: b.line,
    }
}

/// The breakers read from `spec`, compared one by one with `expected`.
fn breakers(spec: &str, expected: &[Expect]) -> Claims {
    let c = parse(spec);
    let got: Vec<Expect> = c.breakers.iter().map(seen).collect();
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    for (g, e) in got.iter().zip(expected) {
        assert_eq!(g, e);
    }
    c
}

/// (line, a piece of the message) for every diagnostic, in order.
fn diagnostics(c: &Claims, expected: &[(usize, &str)]) {
    let got: Vec<(usize, &str)> = c
        .diagnostics
        .iter()
        .map(|d| (d.line, d.message.as_str()))
        .collect();
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    for ((line, msg), (want_line, want)) in got.iter().zip(expected) {
        assert_eq!(line, want_line, "{msg}");
        assert!(
            msg.contains(want),
            "line {line}: {msg:?} should say {want:?}"
        );
    }
}

const RESILIENCE4J_PROBES: Option<CloseRule> = Some(CloseRule::ProbeRateBelowThreshold);
const REJECTED: Option<HalfOpenExtra> = Some(HalfOpenExtra::Rejected);
const FIRST: Option<CloseRule> = Some(CloseRule::FirstSuccess);

#[test]
fn resilience4j_spring_yaml_count_and_time_windows() {
    let c = breakers(
        fixture!("resilience4j-yaml.md"),
        &[
            Expect {
                name: Some("ledgerDb"),
                dependency: Some("LedgerDB"),
                library: Some("resilience4j"),
                kind: Some(FailureRate),
                failure_rate: Some(0.4),
                rate_trips: Some(RateTrip::AtLeast),
                window_calls: Some(20),
                minimum_calls: Some(10),
                slow_call_ms: Some(1500.0),
                slow_call_rate: Some(0.8),
                recovery_timeout_ms: Some(10_000.0),
                recovery_multiplier: Some(2.0),
                recovery_max_ms: Some(80_000.0),
                recovery_growth: Some(RecoveryGrowth::Multiply),
                half_open_requests: Some(4),
                half_open_extra: REJECTED,
                close_rule: RESILIENCE4J_PROBES,
                line: 20,
                ..Expect::default()
            },
            // TIME_BASED: the window size is seconds; a bare Spring duration is milliseconds.
            Expect {
                name: Some("fxRates"),
                dependency: Some("FxRates"),
                library: Some("resilience4j"),
                kind: Some(FailureRate),
                failure_rate: Some(0.5),
                rate_trips: Some(RateTrip::AtLeast),
                window_ms: Some(30_000.0),
                minimum_calls: Some(100),
                slow_call_ms: Some(60_000.0),
                slow_call_rate: Some(1.0),
                recovery_timeout_ms: Some(5000.0),
                half_open_requests: Some(10),
                half_open_extra: REJECTED,
                close_rule: RESILIENCE4J_PROBES,
                defaults_applied: vec![
                    "minimum_calls",
                    "half_open_requests",
                    "slow_call_rate",
                    "slow_call_ms",
                ],
                line: 32,
                ..Expect::default()
            },
        ],
    );
    diagnostics(
        &c,
        &[(32, "fxRates: the spec leaves out minimumNumberOfCalls = 100, permittedNumberOfCallsInHalfOpenState = 10, slowCallRateThreshold = 100, slowCallDurationThreshold = 60s; read resilience4j's documented defaults")],
    );
}

#[test]
fn resilience4j_properties_and_java_builder() {
    let c = breakers(
        fixture!("resilience4j-properties.md"),
        &[
            Expect {
                name: Some("warehouse"),
                dependency: Some("Warehouse"),
                library: Some("resilience4j"),
                kind: Some(FailureRate),
                failure_rate: Some(0.25),
                rate_trips: Some(RateTrip::AtLeast),
                window_calls: Some(50),
                // minimumNumberOfCalls=100 over a 50-call window: resilience4j uses 50.
                minimum_calls: Some(50),
                slow_call_ms: Some(60_000.0),
                slow_call_rate: Some(1.0),
                recovery_timeout_ms: Some(30_000.0),
                recovery_jitter: Some(0.2),
                half_open_requests: Some(10),
                half_open_extra: REJECTED,
                close_rule: RESILIENCE4J_PROBES,
                defaults_applied: vec![
                    "window_calls",
                    "half_open_requests",
                    "slow_call_rate",
                    "slow_call_ms",
                ],
                line: 16,
                ..Expect::default()
            },
            Expect {
                name: Some("pricingConfig"),
                dependency: Some("Pricing"),
                library: Some("resilience4j"),
                kind: Some(FailureRate),
                failure_rate: Some(0.6),
                rate_trips: Some(RateTrip::AtLeast),
                window_ms: Some(10_000.0),
                minimum_calls: Some(100),
                slow_call_ms: Some(60_000.0),
                slow_call_rate: Some(1.0),
                recovery_timeout_ms: Some(20_000.0),
                half_open_requests: Some(2),
                half_open_extra: REJECTED,
                close_rule: RESILIENCE4J_PROBES,
                defaults_applied: vec!["minimum_calls", "slow_call_rate", "slow_call_ms"],
                line: 27,
                ..Expect::default()
            },
        ],
    );
    diagnostics(
        &c,
        &[
            (16, "minimumNumberOfCalls = 100 is more than slidingWindowSize = 50; resilience4j uses 50"),
            (16, "slidingWindowType = COUNT_BASED, permittedNumberOfCallsInHalfOpenState = 10"),
            (27, "minimumNumberOfCalls = 100, slowCallRateThreshold = 100, slowCallDurationThreshold = 60s"),
        ],
    );
}

#[test]
fn hystrix_properties_and_annotations() {
    let c = breakers(
        fixture!("hystrix.md"),
        &[
            Expect {
                name: Some("BillingService"),
                dependency: Some("BillingService"),
                library: Some("hystrix"),
                kind: Some(FailureRate),
                failure_rate: Some(0.3),
                rate_trips: Some(RateTrip::AtLeast),
                window_ms: Some(20_000.0),
                minimum_calls: Some(10),
                recovery_timeout_ms: Some(7000.0),
                call_timeout_ms: Some(800.0),
                half_open_requests: Some(1),
                half_open_extra: REJECTED,
                close_rule: FIRST,
                line: 15,
                ..Expect::default()
            },
            Expect {
                name: Some("ShippingService"),
                dependency: Some("ShippingService"),
                library: Some("hystrix"),
                kind: Some(FailureRate),
                failure_rate: Some(0.6),
                rate_trips: Some(RateTrip::AtLeast),
                window_ms: Some(10_000.0),
                minimum_calls: Some(20),
                recovery_timeout_ms: Some(3000.0),
                call_timeout_ms: Some(1000.0),
                half_open_requests: Some(1),
                half_open_extra: REJECTED,
                close_rule: FIRST,
                defaults_applied: vec!["minimum_calls", "window_ms", "call_timeout_ms"],
                line: 25,
                ..Expect::default()
            },
        ],
    );
    diagnostics(&c, &[(25, "circuitBreaker.requestVolumeThreshold = 20, metrics.rollingStats.timeInMilliseconds = 10000, execution.isolation.thread.timeoutInMilliseconds = 1000; read hystrix's documented defaults")]);
}

#[test]
fn polly_v8_options_and_appsettings_json() {
    let c = breakers(
        fixture!("polly-v8.md"),
        &[
            Expect {
                dependency: Some("SearchIndex"),
                library: Some("polly"),
                kind: Some(FailureRate),
                failure_rate: Some(0.5),
                rate_trips: Some(RateTrip::AtLeast),
                window_ms: Some(10_000.0),
                minimum_calls: Some(8),
                recovery_timeout_ms: Some(30_000.0),
                half_open_requests: Some(1),
                half_open_extra: REJECTED,
                close_rule: FIRST,
                line: 17,
                ..Expect::default()
            },
            // TimeSpan text: "00:00:20" and "00:00:00.500".
            Expect {
                name: Some("ReviewsService"),
                dependency: Some("ReviewsService"),
                library: Some("polly"),
                kind: Some(FailureRate),
                failure_rate: Some(0.25),
                rate_trips: Some(RateTrip::AtLeast),
                window_ms: Some(20_000.0),
                minimum_calls: Some(100),
                recovery_timeout_ms: Some(500.0),
                half_open_requests: Some(1),
                half_open_extra: REJECTED,
                close_rule: FIRST,
                defaults_applied: vec!["minimum_calls"],
                line: 28,
                ..Expect::default()
            },
        ],
    );
    diagnostics(
        &c,
        &[(
            28,
            "MinimumThroughput = 100; read polly's documented defaults",
        )],
    );
}

#[test]
fn polly_v7_positional_and_named_arguments() {
    let c = breakers(
        fixture!("polly-v7.md"),
        &[
            Expect {
                name: Some("smtpBreaker"),
                dependency: Some("SmtpRelay"),
                library: Some("polly-v7"),
                kind: Some(Consecutive),
                failure_threshold: Some(5),
                recovery_timeout_ms: Some(30_000.0),
                half_open_requests: Some(1),
                half_open_extra: REJECTED,
                close_rule: FIRST,
                line: 15,
                ..Expect::default()
            },
            Expect {
                name: Some("smsBreaker"),
                dependency: Some("SmsGateway"),
                library: Some("polly-v7"),
                kind: Some(FailureRate),
                failure_rate: Some(0.5),
                rate_trips: Some(RateTrip::AtLeast),
                window_ms: Some(10_000.0),
                minimum_calls: Some(8),
                recovery_timeout_ms: Some(60_000.0),
                half_open_requests: Some(1),
                half_open_extra: REJECTED,
                close_rule: FIRST,
                line: 23,
                ..Expect::default()
            },
        ],
    );
    diagnostics(&c, &[]);
}

#[test]
fn gobreaker_settings_with_go_durations_and_ready_to_trip() {
    let c = breakers(
        fixture!("gobreaker.md"),
        &[
            // `ConsecutiveFailures > 4` opens on the 5th failure.
            Expect {
                name: Some("RatesAPI"),
                dependency: Some("RatesAPI"),
                library: Some("gobreaker"),
                kind: Some(Consecutive),
                failure_threshold: Some(5),
                recovery_timeout_ms: Some(30_000.0),
                half_open_requests: Some(3),
                half_open_extra: REJECTED,
                close_rule: Some(CloseRule::AllProbes),
                line: 16,
                ..Expect::default()
            },
            Expect {
                name: Some("RiskEngine"),
                dependency: Some("RiskEngine"),
                library: Some("gobreaker"),
                kind: Some(FailureRate),
                failure_rate: Some(0.6),
                rate_trips: Some(RateTrip::AtLeast),
                window_ms: Some(10_000.0),
                minimum_calls: Some(3),
                recovery_timeout_ms: Some(60_000.0),
                half_open_requests: Some(1),
                half_open_extra: REJECTED,
                close_rule: Some(CloseRule::AllProbes),
                defaults_applied: vec!["recovery_timeout_ms", "half_open_requests"],
                line: 25,
                ..Expect::default()
            },
        ],
    );
    diagnostics(
        &c,
        &[(
            25,
            "Timeout = 60s, MaxRequests = 1; read gobreaker's documented defaults",
        )],
    );
}

#[test]
fn opossum_millisecond_options_read_as_milliseconds() {
    // The issue's case: `resetTimeout: 3000` is 3 s, not 3000 s.
    let c = breakers(
        fixture!("opossum.md"),
        &[Expect {
            name: Some("cartBreaker"),
            dependency: Some("CartService"),
            library: Some("opossum"),
            kind: Some(FailureRate),
            failure_rate: Some(0.5),
            rate_trips: Some(RateTrip::Above),
            window_ms: Some(5000.0),
            minimum_calls: Some(10),
            recovery_timeout_ms: Some(3000.0),
            call_timeout_ms: Some(1500.0),
            half_open_requests: Some(1),
            half_open_extra: REJECTED,
            close_rule: FIRST,
            line: 16,
            ..Expect::default()
        }],
    );
    diagnostics(&c, &[]);
}

#[test]
fn cockatiel_consecutive_sampling_and_count_breakers() {
    let c = breakers(
        fixture!("cockatiel.md"),
        &[
            Expect {
                name: Some("blobStoreBreaker"),
                dependency: Some("BlobStore"),
                library: Some("cockatiel"),
                kind: Some(Consecutive),
                failure_threshold: Some(5),
                recovery_timeout_ms: Some(10_000.0),
                half_open_requests: Some(1),
                half_open_extra: REJECTED,
                close_rule: FIRST,
                line: 19,
                ..Expect::default()
            },
            // minimumRps defaults to 5 / threshold = 25 calls a second over 30 s: 750 calls.
            Expect {
                name: Some("transcoderBreaker"),
                dependency: Some("Transcoder"),
                library: Some("cockatiel"),
                kind: Some(FailureRate),
                failure_rate: Some(0.2),
                rate_trips: Some(RateTrip::Above),
                window_ms: Some(30_000.0),
                minimum_calls: Some(750),
                recovery_timeout_ms: Some(1000.0),
                recovery_multiplier: Some(2.0),
                recovery_max_ms: Some(60_000.0),
                recovery_growth: Some(RecoveryGrowth::Multiply),
                half_open_requests: Some(1),
                half_open_extra: REJECTED,
                close_rule: FIRST,
                defaults_applied: vec!["minimum_calls", "recovery_multiplier"],
                line: 25,
                ..Expect::default()
            },
            Expect {
                name: Some("thumbnailerBreaker"),
                dependency: Some("Thumbnailer"),
                library: Some("cockatiel"),
                kind: Some(FailureRate),
                failure_rate: Some(0.5),
                rate_trips: Some(RateTrip::Above),
                window_calls: Some(20),
                minimum_calls: Some(10),
                recovery_timeout_ms: Some(2000.0),
                half_open_requests: Some(1),
                half_open_extra: REJECTED,
                close_rule: FIRST,
                line: 31,
                ..Expect::default()
            },
        ],
    );
    diagnostics(
        &c,
        &[
            (
                25,
                "minimumRps = 5 / threshold, exponent = 2; read cockatiel's documented defaults",
            ),
            (26, "decorrelated jitter"),
        ],
    );
}

#[test]
fn python_pybreaker_and_circuitbreaker_in_seconds() {
    let c = breakers(
        fixture!("python.md"),
        &[
            Expect {
                name: Some("identity_breaker"),
                dependency: Some("IdentityProvider"),
                library: Some("pybreaker"),
                kind: Some(Consecutive),
                failure_threshold: Some(3),
                recovery_timeout_ms: Some(15_000.0),
                half_open_requests: Some(1),
                half_open_extra: Some(HalfOpenExtra::Queued),
                close_rule: FIRST,
                line: 18,
                ..Expect::default()
            },
            Expect {
                name: Some("send_audit_event"),
                dependency: Some("AuditLog"),
                library: Some("circuitbreaker"),
                kind: Some(Consecutive),
                failure_threshold: Some(4),
                recovery_timeout_ms: Some(45_000.0),
                close_rule: FIRST,
                line: 26,
                ..Expect::default()
            },
            Expect {
                name: Some("mailer_breaker"),
                dependency: Some("Mailer"),
                library: Some("pybreaker"),
                kind: Some(Consecutive),
                failure_threshold: Some(5),
                recovery_timeout_ms: Some(2500.0),
                half_open_requests: Some(1),
                half_open_extra: Some(HalfOpenExtra::Queued),
                close_rule: FIRST,
                defaults_applied: vec!["failure_threshold"],
                line: 36,
                ..Expect::default()
            },
        ],
    );
    assert_eq!(c.breakers[1].expected_exceptions, ["ConnectionError"]);
    diagnostics(&c, &[(36, "mailer_breaker: the spec leaves out fail_max = 5; read pybreaker's documented defaults")]);
}

#[test]
fn nginx_max_fails_within_fail_timeout() {
    // fail_timeout is both the window and the time the server stays out.
    let c = breakers(
        fixture!("nginx.md"),
        &[
            Expect {
                name: Some("app_servers"),
                dependency: Some("AppServers"),
                library: Some("nginx"),
                kind: Some(FailuresInWindow),
                failure_threshold: Some(3),
                window_ms: Some(30_000.0),
                recovery_timeout_ms: Some(30_000.0),
                line: 15,
                ..Expect::default()
            },
            Expect {
                name: Some("static_origin"),
                dependency: Some("StaticOrigin"),
                library: Some("nginx"),
                kind: Some(FailuresInWindow),
                failure_threshold: Some(2),
                window_ms: Some(10_000.0),
                recovery_timeout_ms: Some(10_000.0),
                defaults_applied: vec!["window_ms"],
                line: 19,
                ..Expect::default()
            },
        ],
    );
    diagnostics(
        &c,
        &[(19, "fail_timeout=10s; read nginx's documented defaults")],
    );
}

#[test]
fn envoy_and_istio_outlier_detection() {
    let c = breakers(
        fixture!("envoy.md"),
        &[
            Expect {
                name: Some("payments_service"),
                dependency: Some("PaymentsService"),
                library: Some("envoy"),
                kind: Some(Consecutive),
                failure_threshold: Some(3),
                recovery_timeout_ms: Some(15_000.0),
                recovery_max_ms: Some(120_000.0),
                recovery_growth: Some(RecoveryGrowth::Linear),
                ejection_sweep_ms: Some(5000.0),
                line: 16,
                ..Expect::default()
            },
            Expect {
                name: Some("ledger-service"),
                dependency: Some("LedgerService"),
                library: Some("envoy"),
                kind: Some(Consecutive),
                failure_threshold: Some(2),
                recovery_timeout_ms: Some(60_000.0),
                recovery_max_ms: Some(300_000.0),
                recovery_growth: Some(RecoveryGrowth::Linear),
                ejection_sweep_ms: Some(10_000.0),
                defaults_applied: vec!["recovery_max_ms", "ejection_sweep_ms"],
                line: 34,
                ..Expect::default()
            },
        ],
    );
    diagnostics(
        &c,
        &[
            (
                34,
                "consecutive gateway errors (2) eject sooner than consecutive 5xx (7)",
            ),
            (
                34,
                "max_ejection_time = 300s, interval = 10s; read envoy's documented defaults",
            ),
        ],
    );
}

#[test]
fn envoy_gateway_failures_eject_only_when_enforced() {
    let spec = |enforcing: &str| {
        format!("## Backend Spec: S\n\n#### Outlier detection\n\n```yaml\noutlier_detection:\n  consecutive_5xx: 6\n  consecutive_gateway_failure: 2\n{enforcing}```\n")
    };
    let c = parse(&spec(""));
    assert_eq!(c.breakers[0].failure_threshold, Some(6));
    assert!(c
        .diagnostics
        .iter()
        .any(|d| d.line == 8 && d.message.contains("not enforced")));
    let c = parse(&spec("  enforcing_consecutive_gateway_failure: 100\n"));
    assert_eq!(c.breakers[0].failure_threshold, Some(2));
}

#[test]
fn prose_rate_window_consecutive_and_bare_counts() {
    let c = breakers(
        fixture!("prose.md"),
        &[
            Expect {
                dependency: Some("Fixer"),
                kind: Some(FailureRate),
                failure_rate: Some(0.5),
                rate_trips: Some(RateTrip::Above),
                window_ms: Some(10_000.0),
                recovery_timeout_ms: Some(20_000.0),
                line: 17,
                ..Expect::default()
            },
            Expect {
                dependency: Some("QuoteHub"),
                kind: Some(FailureRate),
                failure_rate: Some(0.25),
                rate_trips: Some(RateTrip::AtLeast),
                window_calls: Some(100),
                minimum_calls: Some(20),
                recovery_timeout_ms: Some(45_000.0),
                line: 21,
                ..Expect::default()
            },
            Expect {
                dependency: Some("FxFeed"),
                kind: Some(FailuresInWindow),
                failure_threshold: Some(5),
                window_ms: Some(30_000.0),
                recovery_timeout_ms: Some(60_000.0),
                line: 25,
                ..Expect::default()
            },
            Expect {
                dependency: Some("RateWire"),
                kind: Some(Consecutive),
                failure_threshold: Some(3),
                recovery_timeout_ms: Some(15_000.0),
                line: 29,
                ..Expect::default()
            },
            // "After 4 failures" says no rule: consecutive or within a window, the spec does not say.
            Expect {
                dependency: Some("MarketTap"),
                failure_threshold: Some(4),
                recovery_timeout_ms: Some(10_000.0),
                line: 33,
                ..Expect::default()
            },
        ],
    );
    diagnostics(&c, &[]);
}

#[test]
fn the_reference_spec_breaker_reads_as_before() {
    // The format's own keys: `failure_threshold` is consecutive failures by the format's definition.
    let c = parse(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/specs/reference-service.md"
    )));
    assert_eq!(c.breakers.len(), 1, "{:#?}", c.breakers);
    let b = &c.breakers[0];
    assert_eq!(
        (
            b.kind,
            b.library.as_deref(),
            b.failure_threshold,
            b.recovery_timeout_ms,
            b.half_open_requests
        ),
        (Some(Consecutive), None, Some(5), Some(5000.0), Some(2))
    );
    assert!(b.defaults_applied.is_empty());
}

#[test]
fn unreadable_values_name_key_value_and_what_was_expected() {
    let spec = "## Backend Spec: S\n\n#### Circuit Breaker\n\n```yaml\nresilience4j.circuitbreaker:\n  instances:\n    ledger:\n      failureRateThreshold: lots\n      waitDurationInOpenState: soon\n```\n\n```go\nst := gobreaker.Settings{\n\tTimeout: 30,\n}\n```\n";
    let c = parse(spec);
    diagnostics(
        &c,
        &[
            (8, "the spec leaves out"),
            (
                9,
                "failureRateThreshold = lots: \"lots\" is not a percentage",
            ),
            (
                10,
                "waitDurationInOpenState = soon: \"soon\" is not a duration",
            ),
            (15, "Timeout = 30: \"30\" has no unit"),
            (15, "the spec leaves out"),
        ],
    );
    // What was unreadable is not claimed, and gets no default: the spec said something there.
    let b = &c.breakers[0];
    assert_eq!((b.failure_rate, b.recovery_timeout_ms), (None, None));
    assert!(!b
        .defaults_applied
        .iter()
        .any(|f| f == "failure_rate" || f == "recovery_timeout_ms"));
    assert!(b.defaults_applied.contains(&"window_calls".to_string()));
    assert_eq!(c.breakers[1].recovery_timeout_ms, None);
}

#[test]
fn javascript_and_java_bare_recovery_timeouts_are_milliseconds() {
    // No library named: the format's own keys, in the block's language units.
    let js = "## Backend Spec: S\n\n#### Circuit Breaker\n\n```js\nconst cb = new Breaker({ failureThreshold: 5, resetTimeout: 3000 });\n```\n";
    let c = parse(js);
    assert_eq!(c.breakers[0].recovery_timeout_ms, Some(3000.0));
    assert_eq!(c.breakers[0].kind, Some(Consecutive));
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
    let py = js.replace("```js", "```python");
    assert_eq!(
        parse(&py).breakers[0].recovery_timeout_ms,
        Some(3_000_000.0)
    );
}

#[test]
fn resilience4j_instances_start_from_their_base_config() {
    let spec = "## Backend Spec: S\n\n| Dependency | Timeout |\n|---|---|\n| Ledger | 1s |\n| Fx | 1s |\n\n#### Circuit Breakers\n\n```yaml\nresilience4j.circuitbreaker:\n  configs:\n    shared:\n      slidingWindowSize: 40\n      failureRateThreshold: 30\n      waitDurationInOpenState: 20s\n  instances:\n    ledger:\n      baseConfig: shared\n      waitDurationInOpenState: 5s\n    fx:\n      baseConfig: shared\n```\n";
    let c = parse(spec);
    let got: Vec<_> = c
        .breakers
        .iter()
        .map(|b| {
            (
                b.name.as_deref(),
                b.dependency.as_deref(),
                b.window_calls,
                b.failure_rate,
                b.recovery_timeout_ms,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                Some("ledger"),
                Some("Ledger"),
                Some(40),
                Some(0.3),
                Some(5000.0)
            ),
            (Some("fx"), Some("Fx"), Some(40), Some(0.3), Some(20_000.0)),
        ]
    );
}

#[test]
fn prose_beside_a_library_block_states_what_its_defaults_would_fill() {
    let spec = "## Backend Spec: S\n\n#### Circuit Breaker\n\n```js\nconst b = new CircuitBreaker(call, { errorThresholdPercentage: 40 });\n```\n\nThe breaker stays open for 5 seconds.\n";
    let c = parse(spec);
    assert_eq!(c.breakers.len(), 1, "{:#?}", c.breakers);
    let b = &c.breakers[0];
    assert_eq!(b.recovery_timeout_ms, Some(5000.0));
    assert!(!b
        .defaults_applied
        .iter()
        .any(|f| f == "recovery_timeout_ms"));
    assert_eq!(b.failure_rate, Some(0.4));
    // No conflict: the code block never said 30 s, opossum's default did; nor is it called a default.
    assert!(!c
        .diagnostics
        .iter()
        .any(|d| d.message.contains("resetTimeout")));
    assert!(
        !c.diagnostics
            .iter()
            .any(|d| d.message.contains("kept the code block")),
        "{:#?}",
        c.diagnostics
    );
}
