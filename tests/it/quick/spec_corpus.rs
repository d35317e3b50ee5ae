//! The spec reader against a corpus of specs written the way different teams write them
//! (`tests/fixtures/spec_corpus/`): every claim each one makes, value by value and line by line,
//! and every diagnostic. One expectation table per spec, one checker for all of them.
//!
//! Specs are compiled in with `include_str!`, so the reader is tested on a `&str` without disk I/O.

use redline::spec::claims::{AlertCondition, Claims, ObjectiveKind};
use redline::spec::parse;

macro_rules! corpus {
    ($file:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/spec_corpus/",
            $file
        ))
    };
}

/// (operation, [(percentile, ms)], timeout ms, line)
type Lat = (&'static str, &'static [(f64, f64)], Option<f64>, usize);
/// (name, kind, timeout ms, fallback, fallback status, critical, health check, line)
type Dep = (
    &'static str,
    Option<&'static str>,
    Option<f64>,
    Option<&'static str>,
    Option<u16>,
    bool,
    Option<&'static str>,
    usize,
);
/// (name, dependency, threshold, recovery ms, half-open probes, line)
type Brk = (
    Option<&'static str>,
    Option<&'static str>,
    Option<u32>,
    Option<f64>,
    Option<u32>,
    usize,
);
/// (scenario, strategy, attempts, backoff ms, jitter, line)
type Rty = (
    &'static str,
    Option<&'static str>,
    Option<u32>,
    &'static [f64],
    Option<f64>,
    usize,
);
/// (name, requests, per seconds, counted per, line)
type Lim = (&'static str, u64, f64, Option<&'static str>, usize);
/// (error type, status, code, retryable, line)
type Cls = (
    &'static str,
    Option<u16>,
    Option<&'static str>,
    Option<bool>,
    usize,
);
/// (alert, condition, severity, line)
type Alr = (&'static str, AlertCondition, Option<&'static str>, usize);
/// (kind, operation, max error rate, window, window seconds, line)
type Obj = (
    ObjectiveKind,
    Option<&'static str>,
    f64,
    Option<&'static str>,
    Option<f64>,
    usize,
);
/// (requests/s, peak multiple, max error rate, line)
type Thr = (Option<f64>, Option<f64>, Option<f64>, usize);
/// (path, ready path, states, line)
type Hlt = (
    &'static str,
    Option<&'static str>,
    &'static [&'static str],
    usize,
);

/// Everything one spec promises, and what the reader must say it could not read.
#[derive(Default)]
struct Expect {
    service: &'static str,
    latency: Vec<Lat>,
    budget: Option<(&'static [(f64, f64)], usize)>,
    dependencies: Vec<Dep>,
    breakers: Vec<Brk>,
    retries: Vec<Rty>,
    rate_limits: Vec<Lim>,
    error_classes: Vec<Cls>,
    alerts: Vec<Alr>,
    availability: Option<(f64, usize)>,
    error_rate: Option<(f64, usize)>,
    objectives: Vec<Obj>,
    throughput: Vec<Thr>,
    health: Option<Hlt>,
    /// (line, words the message contains)
    diagnostics: Vec<(usize, &'static str)>,
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn close_opt(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => close(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// Counts the values compared, so a failure says which and a pass says how many.
struct Check<'a> {
    spec: &'a str,
    values: usize,
}

impl Check<'_> {
    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, found: T, expected: T) {
        assert_eq!(found, expected, "{}: {what}", self.spec);
        self.values += 1;
    }

    fn num(&mut self, what: &str, found: Option<f64>, expected: Option<f64>) {
        assert!(
            close_opt(found, expected),
            "{}: {what} = {found:?}, expected {expected:?}",
            self.spec
        );
        self.values += 1;
    }

    fn len(&mut self, what: &str, found: usize, expected: usize, all: &dyn std::fmt::Debug) {
        assert_eq!(found, expected, "{}: number of {what}: {all:#?}", self.spec);
    }
}

/// Checks every family of `c` against `e`; returns how many values were compared.
fn check(spec: &str, c: &Claims, e: &Expect) -> usize {
    let mut k = Check { spec, values: 0 };
    k.eq("service", c.service.as_deref(), Some(e.service));
    k.len("latency rows", c.latency.len(), e.latency.len(), &c.latency);
    for (t, (op, ps, timeout, line)) in c.latency.iter().zip(&e.latency) {
        k.eq("operation", (t.operation.as_str(), t.line), (*op, *line));
        let stated = t.stated_percentiles();
        k.len("percentiles", stated.len(), ps.len(), &stated);
        for ((p, ms), (ep, ems)) in stated.iter().zip(ps.iter()) {
            k.eq("percentile", *p, *ep);
            k.num(&format!("{op} P{p}"), Some(*ms), Some(*ems));
        }
        k.num(&format!("{op} timeout"), t.timeout_ms, *timeout);
    }
    match (&c.latency_budget, e.budget) {
        (Some(b), Some((ps, line))) => {
            k.eq("budget line", b.line, line);
            let stated = b.stated_percentiles();
            k.len("budget percentiles", stated.len(), ps.len(), &stated);
            for ((p, ms), (ep, ems)) in stated.iter().zip(ps.iter()) {
                k.eq("budget percentile", *p, *ep);
                k.num(&format!("budget P{p}"), Some(*ms), Some(*ems));
            }
        }
        (None, None) => {}
        (found, _) => panic!("{spec}: latency budget {found:?}, expected {:?}", e.budget),
    }
    k.len(
        "dependencies",
        c.dependencies.len(),
        e.dependencies.len(),
        &c.dependencies,
    );
    for (d, x) in c.dependencies.iter().zip(&e.dependencies) {
        let (name, kind, timeout, fallback, status, critical, health, line) = *x;
        k.eq("dependency", (d.name.as_str(), d.line), (name, line));
        k.eq("kind", d.kind.as_deref(), kind);
        k.num(&format!("{name} timeout"), d.timeout_ms, timeout);
        k.eq("fallback", d.fallback.as_deref(), fallback);
        k.eq("fallback status", d.fallback_status, status);
        k.eq("critical", d.critical, critical);
        k.eq("health check", d.health_check.as_deref(), health);
    }
    k.len("breakers", c.breakers.len(), e.breakers.len(), &c.breakers);
    for (b, x) in c.breakers.iter().zip(&e.breakers) {
        let (name, dep, threshold, recovery, probes, line) = *x;
        k.eq("breaker", (b.name.as_deref(), b.line), (name, line));
        k.eq("breaker dependency", b.dependency.as_deref(), dep);
        k.eq("threshold", b.failure_threshold, threshold);
        k.num("recovery", b.recovery_timeout_ms, recovery);
        k.eq("half-open probes", b.half_open_requests, probes);
    }
    k.len("retries", c.retries.len(), e.retries.len(), &c.retries);
    for (r, x) in c.retries.iter().zip(&e.retries) {
        let (scenario, strategy, attempts, backoff, jitter, line) = *x;
        k.eq("retry", (r.scenario.as_str(), r.line), (scenario, line));
        k.eq("strategy", r.strategy.as_deref(), strategy);
        k.eq("attempts", r.max_attempts, attempts);
        k.len(
            "backoff steps",
            r.backoff_ms.len(),
            backoff.len(),
            &r.backoff_ms,
        );
        for (f, x) in r.backoff_ms.iter().zip(backoff) {
            k.num("backoff", Some(*f), Some(*x));
        }
        k.num("jitter", r.jitter, jitter);
    }
    k.len(
        "rate limits",
        c.rate_limits.len(),
        e.rate_limits.len(),
        &c.rate_limits,
    );
    for (r, x) in c.rate_limits.iter().zip(&e.rate_limits) {
        let (name, requests, per_s, per_key, line) = *x;
        k.eq("rate limit", (r.name.as_str(), r.line), (name, line));
        k.eq("requests", r.requests, requests);
        k.num("per", Some(r.per_s), Some(per_s));
        k.eq("counted per", r.per_key.as_deref(), per_key);
    }
    k.len(
        "error classes",
        c.error_classes.len(),
        e.error_classes.len(),
        &c.error_classes,
    );
    for (r, x) in c.error_classes.iter().zip(&e.error_classes) {
        let (ty, status, code, retry, line) = *x;
        k.eq("error class", (r.error_type.as_str(), r.line), (ty, line));
        k.eq("status", r.status, status);
        k.eq("code", r.code.as_deref(), code);
        k.eq("retryable", r.retryable, retry);
    }
    k.len("alerts", c.alerts.len(), e.alerts.len(), &c.alerts);
    for (a, x) in c.alerts.iter().zip(&e.alerts) {
        k.eq("alert", (a.name.as_str(), a.line), (x.0, x.3));
        k.eq("condition", &a.condition, &x.1);
        k.eq("severity", a.severity.as_deref(), x.2);
    }
    k.num("availability", c.availability, e.availability.map(|a| a.0));
    k.eq(
        "availability line",
        c.availability_line,
        e.availability.map(|a| a.1),
    );
    k.num("error rate", c.error_rate_max, e.error_rate.map(|a| a.0));
    k.eq(
        "error rate line",
        c.error_rate_line,
        e.error_rate.map(|a| a.1),
    );
    k.len(
        "objectives",
        c.objectives.len(),
        e.objectives.len(),
        &c.objectives,
    );
    for (o, x) in c.objectives.iter().zip(&e.objectives) {
        let (kind, op, max, window, window_s, line) = *x;
        k.eq(
            "objective",
            (o.kind, o.operation.as_deref(), o.line),
            (kind, op, line),
        );
        k.num("allowed to fail", Some(o.max_error_rate), Some(max));
        k.eq("window", o.window.as_deref(), window);
        k.num("window seconds", o.window_s, window_s);
    }
    k.len(
        "throughput",
        c.throughput.len(),
        e.throughput.len(),
        &c.throughput,
    );
    for (t, x) in c.throughput.iter().zip(&e.throughput) {
        k.eq("throughput line", t.line, x.3);
        k.num("rps", t.rps, x.0);
        k.num("peak multiple", t.peak_multiple, x.1);
        k.num("max error rate", t.max_error_rate, x.2);
    }
    let health = c.health.as_ref().map(|h| {
        let states: Vec<&str> = h.states.iter().map(String::as_str).collect();
        (h.path.as_str(), h.ready_path.as_deref(), states, h.line)
    });
    let expected = e.health.map(|(p, r, s, l)| (p, r, s.to_vec(), l));
    k.eq("health", health, expected);
    k.len(
        "diagnostics",
        c.diagnostics.len(),
        e.diagnostics.len(),
        &c.diagnostics,
    );
    for (d, (line, words)) in c.diagnostics.iter().zip(&e.diagnostics) {
        assert_eq!(d.line, *line, "{spec}: {d:?}");
        assert!(
            d.message.contains(words),
            "{spec}: {d:?} should say {words:?}"
        );
    }
    println!(
        "{spec}: {} values expected, {} read right, {} diagnostics",
        k.values,
        k.values,
        c.diagnostics.len()
    );
    k.values
}

fn run(spec: &str, src: &str, e: Expect) -> Claims {
    let c = parse(src);
    check(spec, &c, &e);
    c
}

const BUDGET_03: &[(f64, f64)] = &[(50.0, 40.0), (95.0, 120.0), (99.0, 250.0), (99.9, 800.0)];

#[test]
fn generated_spec_wrapped_in_a_markdown_fence() {
    run(
        "01-generated-wrapped.md",
        corpus!("01-generated-wrapped.md"),
        Expect {
            service: "Ledger Service",
            latency: vec![
                (
                    "GET balance",
                    &[
                        (50.0, 15.0),
                        (90.0, 30.0),
                        (95.0, 45.0),
                        (99.0, 90.0),
                        (99.9, 250.0),
                    ],
                    Some(2000.0),
                    67,
                ),
                (
                    "POST transfer",
                    &[
                        (50.0, 80.0),
                        (90.0, 150.0),
                        (95.0, 200.0),
                        (99.0, 400.0),
                        (99.9, 1000.0),
                    ],
                    Some(5000.0),
                    68,
                ),
            ],
            dependencies: vec![
                (
                    "LedgerDB",
                    Some("Database"),
                    Some(2000.0),
                    None,
                    None,
                    true,
                    Some("SELECT 1"),
                    13,
                ),
                (
                    "FxRates",
                    Some("External API"),
                    Some(800.0),
                    Some("Serve cached rate"),
                    None,
                    false,
                    Some("/ping"),
                    14,
                ),
                (
                    "AuditLog",
                    Some("Message Queue"),
                    Some(500.0),
                    Some("Queue for retry"),
                    None,
                    false,
                    None,
                    15,
                ),
            ],
            breakers: vec![
                (
                    Some("fx_rates_breaker"),
                    Some("FxRates"),
                    Some(5),
                    Some(30_000.0),
                    Some(2),
                    73,
                ),
                // The prose under FxRates' code block is about LedgerDB: its own breaker, no conflict.
                (None, Some("LedgerDB"), Some(4), Some(15_000.0), None, 80),
            ],
            retries: vec![(
                "FxRates timeout",
                Some("exponential"),
                Some(3),
                &[200.0, 400.0, 800.0],
                Some(0.1),
                39,
            )],
            rate_limits: vec![
                ("default", 200, 60.0, None, 56),
                ("transfers", 20, 60.0, None, 57),
            ],
            error_classes: vec![
                (
                    "ValidationError",
                    Some(400),
                    Some("VALIDATION_FAILED"),
                    Some(false),
                    30,
                ),
                (
                    "InsufficientFunds",
                    Some(422),
                    Some("INSUFFICIENT_FUNDS"),
                    Some(false),
                    31,
                ),
                (
                    "RateLimitError",
                    Some(429),
                    Some("RATE_LIMITED"),
                    Some(true),
                    32,
                ),
                (
                    "FxUnavailable",
                    Some(503),
                    Some("FX_UNAVAILABLE"),
                    Some(true),
                    33,
                ),
            ],
            alerts: vec![
                (
                    "LedgerErrors",
                    AlertCondition::ErrorRate {
                        threshold: 0.02,
                        for_s: Some(300.0),
                    },
                    Some("Critical"),
                    47,
                ),
                (
                    "SlowTransfers",
                    AlertCondition::Latency {
                        percentile: 99.0,
                        threshold_ms: 900.0,
                        for_s: Some(600.0),
                    },
                    Some("Warning"),
                    48,
                ),
            ],
            error_rate: Some((0.02, 47)),
            health: Some((
                "/health",
                Some("/ready"),
                &["healthy", "degraded", "unhealthy"],
                86,
            )),
            ..Expect::default()
        },
    );
}

#[test]
fn fill_in_template_with_placeholders_left() {
    let c = run(
        "02-fill-in-template.md",
        corpus!("02-fill-in-template.md"),
        Expect {
            service: "Gift Cards",
            latency: vec![("Redeem", &[(95.0, 250.0), (99.0, 600.0)], None, 55)],
            breakers: vec![(
                None,
                Some("CardIssuer"),
                Some(3),
                Some(20_000.0),
                Some(1),
                36,
            )],
            retries: vec![(
                "Queue Management",
                Some("exponential"),
                Some(5),
                &[],
                None,
                43,
            )],
            rate_limits: vec![("POST /gift-cards/{id}/redeem", 30, 60.0, Some("user"), 24)],
            alerts: vec![(
                "Error Rate",
                AlertCondition::ErrorRate {
                    threshold: 0.01,
                    for_s: Some(300.0),
                },
                None,
                63,
            )],
            error_rate: Some((0.01, 63)),
            throughput: vec![(Some(150.0), None, Some(0.01), 49)],
            diagnostics: vec![
                (
                    30,
                    "\"{{requests_per_minute_per_user}}\" is a template placeholder",
                ),
                (
                    37,
                    "\"{{service_limits_to_respect}}\" is a template placeholder",
                ),
                (
                    54,
                    "\"{{expected_load_scenarios}}\" is a template placeholder",
                ),
                (
                    60,
                    "\"{{response_times_throughput}}\" is a template placeholder",
                ),
                (64, "\"{{latency_thresholds}}\" is a template placeholder"),
            ],
            ..Expect::default()
        },
    );
    // A placeholder never becomes a claim: no rate limit for the GET endpoint, no latency alert.
    assert!(c.rate_limits.iter().all(|r| !r.name.contains("GET")));
}

#[test]
fn architect_design_doc_with_yaml_and_typescript() {
    run(
        "03-architect-design-doc.md",
        corpus!("03-architect-design-doc.md"),
        Expect {
            service: "Inventory Reservation Service",
            latency: vec![
                (
                    "POST /reservations",
                    &[(50.0, 35.0), (90.0, 80.0), (99.0, 200.0)],
                    Some(2000.0),
                    55,
                ),
                (
                    "DELETE /reservations/{id}",
                    &[(50.0, 20.0), (90.0, 45.0), (99.0, 120.0)],
                    Some(1000.0),
                    56,
                ),
            ],
            budget: Some((BUDGET_03, 50)),
            dependencies: vec![
                (
                    "StockDB",
                    Some("Database"),
                    Some(1000.0),
                    None,
                    None,
                    true,
                    Some("SELECT 1"),
                    14,
                ),
                (
                    "PricingAPI",
                    Some("Internal API"),
                    Some(400.0),
                    Some("Serve cached price"),
                    None,
                    false,
                    Some("/healthz"),
                    15,
                ),
                (
                    "Warehouse",
                    Some("External API"),
                    Some(3000.0),
                    Some("Queue for retry"),
                    None,
                    false,
                    Some("/status"),
                    16,
                ),
            ],
            breakers: vec![
                (
                    Some("pricing_api"),
                    Some("PricingAPI"),
                    Some(5),
                    Some(10_000.0),
                    Some(2),
                    24,
                ),
                (
                    Some("warehouse"),
                    Some("Warehouse"),
                    Some(3),
                    Some(60_000.0),
                    None,
                    28,
                ),
                (
                    Some("stockDbBreaker"),
                    Some("StockDB"),
                    Some(8),
                    Some(5_000.0),
                    None,
                    37,
                ),
            ],
            availability: Some((0.9995, 60)),
            objectives: vec![(
                ObjectiveKind::Availability,
                None,
                0.0005,
                Some("per calendar month"),
                Some(2_592_000.0),
                60,
            )],
            // Objectives as configuration are named, not read.
            diagnostics: vec![
                (66, "\"availability: 99.95%\" in a code block looks like an availability or error-rate objective"),
                (67, "\"p99: 250ms\" in a code block looks like a latency objective"),
            ],
            ..Expect::default()
        },
    );
}

#[test]
fn terse_readme() {
    run(
        "04-terse-readme.md",
        corpus!("04-terse-readme.md"),
        Expect {
            service: "search-api",
            budget: Some((&[(50.0, 20.0), (99.0, 150.0), (99.9, 400.0)], 7)),
            dependencies: vec![(
                "index",
                Some("OpenSearch"),
                Some(250.0),
                Some("serve the last cached page"),
                None,
                false,
                None,
                19,
            )],
            breakers: vec![(None, Some("index"), Some(5), Some(10_000.0), None, 20)],
            rate_limits: vec![
                ("anon", 60, 60.0, None, 14),
                ("api key", 600, 60.0, None, 15),
            ],
            availability: Some((0.999, 8)),
            objectives: vec![
                (
                    ObjectiveKind::Availability,
                    None,
                    0.001,
                    Some("monthly"),
                    Some(2_592_000.0),
                    8,
                ),
                (
                    ObjectiveKind::ErrorBudget,
                    Some("searches"),
                    0.002,
                    Some("in any 30-minute window"),
                    Some(1_800.0),
                    9,
                ),
            ],
            throughput: vec![(Some(500.0), None, None, 10)],
            ..Expect::default()
        },
    );
}

#[test]
fn numbered_and_emoji_headings() {
    run(
        "05-numbered-emoji.md",
        corpus!("05-numbered-emoji.md"),
        Expect {
            service: "Cart Service",
            latency: vec![
                (
                    "Add item",
                    &[(50.0, 25.0), (95.0, 70.0), (99.0, 140.0)],
                    Some(3000.0),
                    20,
                ),
                (
                    "View cart",
                    &[(50.0, 10.0), (95.0, 40.0), (99.0, 90.0)],
                    Some(2000.0),
                    21,
                ),
            ],
            dependencies: vec![
                (
                    "Redis",
                    Some("Cache"),
                    Some(150.0),
                    Some("Bypass cache"),
                    None,
                    false,
                    Some("PING"),
                    11,
                ),
                (
                    "CatalogAPI",
                    Some("Internal API"),
                    Some(600.0),
                    Some("Return 503"),
                    Some(503),
                    false,
                    Some("/health"),
                    12,
                ),
            ],
            breakers: vec![(
                None,
                Some("CatalogAPI"),
                Some(6),
                Some(45_000.0),
                Some(2),
                31,
            )],
            retries: vec![
                (
                    "CatalogAPI 503",
                    Some("exponential"),
                    Some(3),
                    &[100.0, 200.0, 400.0],
                    None,
                    37,
                ),
                ("Redis timeout", Some("none"), Some(1), &[], None, 38),
            ],
            rate_limits: vec![
                ("Anon", 30, 60.0, None, 25),
                ("Signed-in", 300, 60.0, None, 25),
            ],
            alerts: vec![
                (
                    "CartErrors",
                    AlertCondition::ErrorRate {
                        threshold: 0.03,
                        for_s: Some(120.0),
                    },
                    Some("Critical"),
                    49,
                ),
                (
                    "CartSlow",
                    AlertCondition::Latency {
                        percentile: 95.0,
                        threshold_ms: 300.0,
                        for_s: Some(300.0),
                    },
                    Some("Warning"),
                    50,
                ),
                (
                    "CartTail",
                    AlertCondition::Latency {
                        percentile: 99.9,
                        threshold_ms: 1000.0,
                        for_s: Some(600.0),
                    },
                    Some("Info"),
                    51,
                ),
            ],
            availability: Some((0.999, 42)),
            error_rate: Some((0.005, 43)),
            objectives: vec![
                (
                    ObjectiveKind::Availability,
                    None,
                    0.001,
                    Some("per month"),
                    Some(2_592_000.0),
                    42,
                ),
                (ObjectiveKind::ErrorBudget, None, 0.005, None, None, 43),
            ],
            ..Expect::default()
        },
    );
}

#[test]
fn tables_with_reordered_and_merged_columns() {
    run(
        "06-merged-reordered-tables.md",
        corpus!("06-merged-reordered-tables.md"),
        Expect {
            service: "Shipping Quotes",
            latency: vec![
                (
                    "Quote (domestic)",
                    &[(50.0, 40.0), (95.0, 120.0), (99.0, 300.0)],
                    Some(4000.0),
                    16,
                ),
                (
                    "Quote (international)",
                    &[(50.0, 90.0), (95.0, 250.0), (99.0, 700.0)],
                    Some(8000.0),
                    17,
                ),
                (
                    "Zones lookup",
                    &[(50.0, 5.0), (95.0, 15.0), (99.0, 30.0)],
                    None,
                    18,
                ),
                (
                    "GET /labels/{id}",
                    &[(95.0, 60.0), (99.9, 500.0)],
                    Some(2000.0),
                    22,
                ),
                ("POST /labels", &[(95.0, 200.0)], Some(5000.0), 23),
            ],
            dependencies: vec![
                (
                    "CarrierHub",
                    Some("External API"),
                    Some(1200.0),
                    Some("Return 503"),
                    Some(503),
                    false,
                    Some("/ping"),
                    7,
                ),
                (
                    "ZoneCache",
                    Some("Cache"),
                    Some(300.0),
                    Some("Bypass cache"),
                    None,
                    false,
                    Some("PING"),
                    8,
                ),
            ],
            retries: vec![(
                "CarrierHub 5xx",
                Some("exponential"),
                Some(4),
                &[250.0, 500.0, 1000.0],
                Some(0.25),
                29,
            )],
            ..Expect::default()
        },
    );
}

#[test]
fn units_in_headers_and_cells() {
    run(
        "07-units-everywhere.md",
        corpus!("07-units-everywhere.md"),
        Expect {
            service: "Telemetry Ingest",
            latency: vec![
                (
                    "Ingest batch",
                    &[(50.0, 12.0), (95.0, 100.0), (99.0, 250.0)],
                    Some(3000.0),
                    9,
                ),
                (
                    "Ingest single",
                    &[(50.0, 0.8), (95.0, 2.0), (99.0, 5.0)],
                    Some(500.0),
                    10,
                ),
                (
                    "Query window",
                    &[(50.0, 40.0), (95.0, 180.0), (99.0, 400.0)],
                    Some(10_000.0),
                    11,
                ),
            ],
            budget: Some((&[(75.0, 20.0), (99.0, 300.0)], 13)),
            dependencies: vec![(
                "ObjectStore",
                Some("Storage"),
                Some(1500.0),
                Some("Queue for retry"),
                None,
                false,
                Some("HEAD /"),
                28,
            )],
            breakers: vec![(
                Some("object_store_breaker"),
                Some("ObjectStore"),
                Some(10),
                Some(120_000.0),
                Some(3),
                18,
            )],
            ..Expect::default()
        },
    );
}

#[test]
fn html_tables() {
    run(
        "08-html-tables.md",
        corpus!("08-html-tables.md"),
        Expect {
            service: "Profile Service",
            latency: vec![
                (
                    "GET /profiles/{id}",
                    &[(50.0, 20.0), (95.0, 60.0), (99.0, 120.0)],
                    Some(2000.0),
                    23,
                ),
                (
                    "PUT /profiles/{id}",
                    &[(50.0, 50.0), (95.0, 150.0), (99.0, 300.0)],
                    Some(5000.0),
                    24,
                ),
            ],
            dependencies: vec![
                (
                    "AvatarCDN",
                    Some("External API"),
                    Some(700.0),
                    Some("Serve default avatar"),
                    None,
                    false,
                    Some("/status"),
                    12,
                ),
                (
                    "ProfileDB",
                    Some("Database"),
                    Some(1000.0),
                    None,
                    None,
                    true,
                    Some("SELECT 1"),
                    13,
                ),
            ],
            breakers: vec![(
                Some("avatar_cdn_breaker"),
                Some("AvatarCDN"),
                Some(4),
                Some(20_000.0),
                Some(1),
                30,
            )],
            ..Expect::default()
        },
    );
}

#[test]
fn sre_objectives_with_windows() {
    run(
        "09-sre-objectives.md",
        corpus!("09-sre-objectives.md"),
        Expect {
            service: "Checkout Platform",
            latency: vec![
                ("Checkout", &[(90.0, 350.0), (99.0, 900.0)], None, 20),
                ("payment authorisation", &[(99.99, 2000.0)], None, 21),
            ],
            availability: Some((0.9999, 7)),
            objectives: vec![
                (
                    ObjectiveKind::Availability,
                    None,
                    0.0001,
                    Some("over a rolling 30 days"),
                    Some(2_592_000.0),
                    7,
                ),
                (
                    ObjectiveKind::Availability,
                    Some("checkouts"),
                    0.0005,
                    Some("per quarter"),
                    Some(7_776_000.0),
                    9,
                ),
                (
                    ObjectiveKind::ErrorBudget,
                    Some("searches"),
                    0.002,
                    Some("in any 30-minute window"),
                    Some(1_800.0),
                    9,
                ),
                (
                    ObjectiveKind::Availability,
                    Some("Payment authorisation"),
                    0.001,
                    Some("28 days"),
                    Some(2_419_200.0),
                    15,
                ),
                (
                    ObjectiveKind::Availability,
                    Some("Order history"),
                    0.001,
                    Some("monthly"),
                    Some(2_592_000.0),
                    16,
                ),
            ],
            ..Expect::default()
        },
    );
}

#[test]
fn breakers_in_prose_attached_to_the_dependency_they_name() {
    run(
        "10-breakers-in-prose.md",
        corpus!("10-breakers-in-prose.md"),
        Expect {
            service: "Notification Hub",
            dependencies: vec![
                (
                    "PushGateway",
                    Some("External API"),
                    Some(2000.0),
                    Some("Queue for retry"),
                    None,
                    false,
                    Some("/health"),
                    7,
                ),
                (
                    "MailRelay",
                    Some("External API"),
                    Some(5000.0),
                    Some("Queue for retry"),
                    None,
                    false,
                    Some("/health"),
                    8,
                ),
                (
                    "Templates",
                    Some("Internal API"),
                    Some(300.0),
                    Some("Serve cached template"),
                    None,
                    false,
                    Some("/ready"),
                    9,
                ),
            ],
            breakers: vec![
                // The sentence restating the code block is the same breaker: counted once.
                (
                    Some("push_gateway_breaker"),
                    Some("PushGateway"),
                    Some(5),
                    Some(30_000.0),
                    Some(2),
                    16,
                ),
                (
                    None,
                    Some("MailRelay"),
                    Some(3),
                    Some(60_000.0),
                    Some(1),
                    21,
                ),
                (None, Some("Templates"), Some(10), Some(5_000.0), None, 23),
                (None, Some("LedgerDB"), Some(4), Some(15_000.0), None, 25),
            ],
            diagnostics: vec![(
                25,
                "circuit breaker for \"LedgerDB\": the spec lists no dependency",
            )],
            ..Expect::default()
        },
    );
}

#[test]
fn a_wrong_file_yields_no_testable_claim() {
    let c = run(
        "11-wrong-file.md",
        corpus!("11-wrong-file.md"),
        Expect {
            service: "Release notes 4.2",
            ..Expect::default()
        },
    );
    let err = redline::spec::require_testable(&c, "11-wrong-file.md").unwrap_err();
    assert!(err.to_string().starts_with(
        "11-wrong-file.md: no testable claim found; `redline spec 11-wrong-file.md` shows what was read"
    ));
}

#[test]
fn transposed_latency_table_and_a_metric_target_table() {
    run(
        "12-transposed-and-metric-tables.md",
        corpus!("12-transposed-and-metric-tables.md"),
        Expect {
            service: "Recommendations API",
            latency: vec![
                (
                    "Home feed",
                    &[(50.0, 30.0), (90.0, 80.0), (99.0, 200.0)],
                    Some(1000.0),
                    13,
                ),
                (
                    "Similar items",
                    &[(50.0, 45.0), (90.0, 120.0), (99.0, 300.0)],
                    Some(2000.0),
                    13,
                ),
                (
                    "Search suggestions",
                    &[(50.0, 8.0), (90.0, 20.0), (99.0, 50.0)],
                    Some(250.0),
                    13,
                ),
            ],
            budget: Some((&[(99.0, 500.0)], 7)),
            breakers: vec![(
                None,
                Some("FeatureStore"),
                Some(20),
                Some(30_000.0),
                None,
                22,
            )],
            availability: Some((0.999, 8)),
            error_rate: Some((0.001, 9)),
            objectives: vec![
                (
                    ObjectiveKind::Availability,
                    None,
                    0.001,
                    Some("monthly"),
                    Some(2_592_000.0),
                    8,
                ),
                (ObjectiveKind::ErrorBudget, None, 0.001, None, None, 9),
            ],
            ..Expect::default()
        },
    );
}

/// The reader's output is the `Claims` JSON of `redline spec --json`: it reads back unchanged.
#[test]
fn every_corpus_spec_round_trips_through_json() {
    for src in [
        corpus!("01-generated-wrapped.md"),
        corpus!("03-architect-design-doc.md"),
        corpus!("09-sre-objectives.md"),
    ] {
        let c = parse(src);
        let json = serde_json::to_string(&c).unwrap();
        let back: Claims = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
    }
}
