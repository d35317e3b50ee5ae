//! Property tests: the spec reader never panics, whatever it is given, and every line it reports exists.

use proptest::prelude::*;
use redline::spec::parse;

/// Pieces of the shapes the reader looks for, to build Markdown-ish text that reaches deep code paths.
const FRAGMENTS: &[&str] = &[
    "\n",
    "\n\n",
    "## ",
    "### ",
    "#### ",
    "# 📒 ",
    "1.2 ",
    "| ",
    " |",
    "|---|---|",
    "|-",
    "```",
    "```python\n",
    "```yaml\n",
    "**",
    "_",
    "`",
    "- ",
    "* ",
    "1. ",
    "> ",
    "<",
    "<=",
    "≤",
    ">",
    "≥",
    "±",
    "+/-",
    "~",
    "-",
    "—",
    "N/A",
    "(critical)",
    "P50",
    "P95",
    "P99",
    "p99.9",
    "Timeout",
    "Operation",
    "Dependency",
    "Fallback",
    "Health Check",
    "Scenario",
    "Strategy",
    "Max Attempts",
    "Backoff",
    "Error Type",
    "HTTP Status",
    "Retry",
    "Alert",
    "Condition",
    "Severity",
    "Latency Targets",
    "Circuit Breaker",
    "Rate Limiting",
    "Alerting Rules",
    "Retry Strategy",
    "Backend Spec: ",
    "failure_threshold=",
    "recovery_timeout=",
    "half_open_requests=",
    "expected_exceptions=[",
    "recovery_timeout: ",
    "breaker = CircuitBreaker(",
    ")",
    "{",
    "}",
    "\"default\": \"",
    "/minute",
    "/min",
    "/s",
    "rate=\"",
    "@limit(",
    "def f():",
    "Anon: ",
    "requests per minute per user",
    "Return 503",
    "after ",
    " failures",
    " consecutive",
    "fail fast for ",
    "trial requests",
    "Error rate > ",
    "P95 latency > ",
    " for ",
    "availability",
    "99.9%",
    "2x peak",
    "orders/sec",
    "with <5% error rate",
    "/health",
    "/ready",
    "healthy",
    "degraded",
    "0",
    "1",
    "5",
    "30",
    "0.7",
    "1,000",
    "999999999999999999999999",
    "99999999999999999999999999999999999999999999999999999999999999999999999999999999",
    "1e309",
    ".5",
    "ms",
    "s",
    "µs",
    "us",
    "min",
    "m",
    "h",
    "%",
    ",",
    ".",
    ";",
    ":",
    "=",
    " ",
    "\t",
    "\r\n",
    "é",
    "🛡️",
    "\u{0}",
    "\\|",
    "<br>",
    "<!-- -->",
    "[x](y)",
    "---",
    // Library configuration forms (breaker_forms).
    "```go\n",
    "```csharp\n",
    "```js\n",
    "```nginx\n",
    "```properties\n",
    "resilience4j:\n  circuitbreaker:\n    instances:\n      ledger:\n",
    "failureRateThreshold: ",
    "slidingWindowType: TIME_BASED\n",
    "slidingWindowSize=",
    "minimumNumberOfCalls: ",
    "waitDurationInOpenState: ",
    "enableExponentialBackoff: true\n",
    "hystrix.command.Ledger.circuitBreaker.requestVolumeThreshold=",
    "@HystrixProperty(name = \"circuitBreaker.sleepWindowInMilliseconds\", value = \"",
    "new CircuitBreakerStrategyOptions {",
    "FailureRatio = ",
    "TimeSpan.FromSeconds(",
    "\"00:00:",
    "PT30S",
    ".AdvancedCircuitBreakerAsync(",
    ".CircuitBreakerAsync(",
    "gobreaker.Settings{",
    "ReadyToTrip: func(counts gobreaker.Counts) bool {",
    "counts.ConsecutiveFailures > ",
    ">= 0.",
    " * time.Second",
    ":= ",
    "errorThresholdPercentage: ",
    "resetTimeout: ",
    "new ConsecutiveBreaker(",
    "new SamplingBreaker({ threshold: ",
    "new ExponentialBackoff({ initialDelay: ",
    "halfOpenAfter: ",
    "fail_max=",
    "@circuit(",
    "upstream app {\n server 127.0.0.1:1 max_fails=",
    " fail_timeout=",
    "outlierDetection:\n",
    "consecutive5xxErrors: ",
    "baseEjectionTime: ",
    "more than half of the calls in ",
    "% of the last ",
    " requests fail",
    "at least ",
    " within ",
    "```markdown\n",
    "~~~md\n",
    "<table>",
    "</table>",
    "<tr>",
    "<td>",
    "</td>",
    "<th colspan=\"2\">",
    "&lt;",
    "&#",
    "&le;",
    "{{",
    "}}",
    "{{p95_target}}",
    "P90",
    "P99.99",
    "p999",
    "P50 / P95 / P99",
    "Percentile",
    "99th percentile",
    "th percentile of ",
    "three nines",
    " and a half",
    " nines",
    "1 in 500",
    " may fail",
    " succeed",
    "% of checkouts",
    "monthly",
    "per quarter",
    "over a rolling 30 days",
    "in any 30-minute window",
    "Availability",
    "Success rate",
    "Window",
    "For LedgerDB: ",
    "the CardIssuer breaker",
    "sub-",
    "or less",
];

fn markdownish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..120).prop_map(|parts| parts.concat())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

fn check(text: &str) {
    let claims = parse(text);
    let lines = text.lines().count().max(1) + 1;
    for d in &claims.diagnostics {
        assert!(
            d.line <= lines,
            "diagnostic on line {} of a {lines}-line text: {}",
            d.line,
            d.message
        );
    }
    for t in &claims.latency {
        assert!(t.line >= 1 && t.line <= lines);
    }
    for b in &claims.breakers {
        assert!(b.line >= 1 && b.line <= lines);
    }
    for o in &claims.objectives {
        assert!(o.line >= 1 && o.line <= lines, "{o:?}");
        assert!((0.0..=1.0).contains(&o.max_error_rate), "{o:?}");
        assert!(o.window_s.is_none_or(|w| w.is_finite() && w > 0.0), "{o:?}");
    }
    for d in &claims.dependencies {
        assert!(d.line >= 1 && d.line <= lines);
    }
    for t in &claims.latency {
        for (p, ms) in t.stated_percentiles() {
            assert!(p > 0.0 && p < 100.0 && ms.is_finite(), "{t:?}");
        }
    }
    // A placeholder is never a value.
    assert!(claims.latency.iter().all(|t| !t.operation.contains("{{")));
    // The empty-spec rule agrees with the count.
    let empty = redline::spec::require_testable(&claims, "x.md").is_err();
    assert_eq!(empty, claims.testable_count() == 0);
    // The JSON view must always serialise, and read back (no infinities turned into null).
    let json = serde_json::to_string(&claims).unwrap();
    let back: redline::spec::Claims = serde_json::from_str(&json).unwrap();
    assert_eq!(back.diagnostics, claims.diagnostics);
}

proptest! {
    // 512 cases by default; PROPTEST_CASES=20000 for a longer hunt.
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_markdown_never_panics(text in markdownish()) {
        check(&text);
    }

    #[test]
    fn arbitrary_unicode_never_panics(text in "\\PC{0,400}") {
        check(&text);
    }
}

/// One latency cell: no claim, or a value in µs/ms/s written with some comparator and emphasis.
#[derive(Debug, Clone)]
enum CellSpec {
    Blank(&'static str),
    Value { ms: f64, text: String },
}

fn cell() -> impl Strategy<Value = CellSpec> {
    let blank = prop::sample::select(&["", "-", "N/A", "—", "n/a"][..]).prop_map(CellSpec::Blank);
    let value = (
        1u32..5000,
        0usize..4,
        prop::sample::select(&["", "<", "< ", "<=", "≤ ", "under "][..]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(n, unit, cmp, bold, space)| {
            let (ms, written) = match unit {
                0 => (
                    f64::from(n),
                    format!("{n}{}ms", if space { " " } else { "" }),
                ),
                1 => (
                    f64::from(n) * 1000.0,
                    format!("{n}{}s", if space { " " } else { "" }),
                ),
                2 => (
                    f64::from(n) / 1000.0,
                    format!("{n}{}µs", if space { " " } else { "" }),
                ),
                _ => (
                    f64::from(n) / 10.0 * 1000.0,
                    format!("{}.{}s", n / 10, n % 10),
                ),
            };
            let text = format!("{cmp}{written}");
            CellSpec::Value {
                ms,
                text: if bold { format!("**{text}**") } else { text },
            }
        });
    prop_oneof![1 => blank, 3 => value]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() / 2, ..ProptestConfig::default() })]

    /// A generated latency table, columns in any order, reads back to the values it was written from.
    #[test]
    fn latency_tables_read_back(rows in prop::collection::vec(prop::collection::vec(cell(), 4), 1..8), order in Just([0usize, 1, 2, 3, 4]).prop_shuffle(), blank_lines in 0usize..3) {
        let names = ["Operation", "P50", "P95", "P99", "Timeout"];
        let mut spec = format!("## Backend Spec: Gen\n{}\n| {} |\n|{}\n", "\n".repeat(blank_lines), order.map(|c| names[c]).join(" | "), "---|".repeat(5));
        for (k, row) in rows.iter().enumerate() {
            let cells: Vec<String> = order.iter().map(|&c| if c == 0 { format!("op {k}") } else {
                match &row[c - 1] { CellSpec::Blank(b) => b.to_string(), CellSpec::Value { text, .. } => text.clone() }
            }).collect();
            spec.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        let claims = parse(&spec);
        prop_assert!(claims.diagnostics.is_empty(), "{:?}\n{spec}", claims.diagnostics);
        prop_assert_eq!(claims.latency.len(), rows.len());
        for (k, (t, row)) in claims.latency.iter().zip(&rows).enumerate() {
            prop_assert_eq!(&t.operation, &format!("op {k}"));
            prop_assert_eq!(t.line, 4 + blank_lines + k + 1);
            let got = [t.p50_ms, t.p95_ms, t.p99_ms, t.timeout_ms];
            for (g, want) in got.iter().zip(row) {
                match want {
                    CellSpec::Blank(_) => prop_assert_eq!(*g, None),
                    CellSpec::Value { ms, text } => {
                        let g = g.unwrap_or(f64::NAN);
                        prop_assert!((g - ms).abs() <= 1e-9 * ms.max(1.0), "{text} read as {g}, expected {ms}");
                    }
                }
            }
        }
    }
}

const DEP_WORDS: &[&str] = &[
    "Acquirer",
    "Ledger",
    "Fraud",
    "Inventory",
    "Shipping",
    "Tax",
    "Loyalty",
    "Search",
    "Email",
    "Pricing",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() / 4, ..ProptestConfig::default() })]

    /// Several breakers in one code block (python or YAML), each named after a dependency in snake_case,
    /// are matched to the right dependency with every value read.
    #[test]
    fn several_breakers_match_their_dependencies(
        picks in prop::sample::subsequence(DEP_WORDS, 1..6),
        suffix in prop::sample::select(&["API", "Service", "DB", ""][..]),
        values in prop::collection::vec((1u32..50, 1u32..600, 1u32..10), 6),
        yaml in any::<bool>(),
    ) {
        let deps: Vec<String> = picks.iter().map(|w| format!("{w}{suffix}")).collect();
        let mut spec = String::from("## Backend Spec: Gen\n\n### Dependencies\n\n| Dependency | Timeout | Fallback |\n|---|---|---|\n");
        for d in &deps {
            spec.push_str(&format!("| {d} | 1s | Return 503 |\n"));
        }
        spec.push_str(if yaml { "\n```yaml\nbreakers:\n" } else { "\n```python\n" });
        let mut lines = Vec::new();
        for (w, (threshold, recovery, probes)) in picks.iter().zip(&values) {
            let name = format!("{}_breaker", w.to_lowercase());
            lines.push(spec.lines().count() + 1);
            if yaml {
                spec.push_str(&format!("  {name}:\n    failure_threshold: {threshold}\n    recovery_timeout: {recovery}s\n    half_open_requests: {probes}\n"));
            } else {
                spec.push_str(&format!("{name} = CircuitBreaker(\n    failure_threshold={threshold},\n    recovery_timeout={recovery},\n    half_open_requests={probes},\n)\n"));
            }
        }
        spec.push_str("```\n");
        let claims = parse(&spec);
        prop_assert!(claims.diagnostics.is_empty(), "{:?}\n{spec}", claims.diagnostics);
        prop_assert_eq!(claims.breakers.len(), picks.len());
        for (((b, d), (threshold, recovery, probes)), line) in claims.breakers.iter().zip(&deps).zip(&values).zip(&lines) {
            prop_assert_eq!(b.dependency.as_deref(), Some(d.as_str()));
            prop_assert_eq!(b.failure_threshold, Some(*threshold));
            prop_assert_eq!(b.recovery_timeout_ms, Some(f64::from(*recovery) * 1000.0));
            prop_assert_eq!(b.half_open_requests, Some(*probes));
            prop_assert_eq!(b.line, *line);
            prop_assert_eq!(claims.breaker_for(d).map(|x| x.line), Some(*line));
        }
    }
}

/// A library form with one value left open (`{}`), the field that value sets and how a number
/// written there reads (milliseconds per unit).
const FORMS: &[(&str, &str, f64)] = &[
    ("```js\nconst b = new CircuitBreaker(f, {\n  errorThresholdPercentage: 50,\n  resetTimeout: {},\n});\n```", "recovery", 1.0),
    ("```yaml\nresilience4j:\n  circuitbreaker:\n    instances:\n      ledger:\n        waitDurationInOpenState: {}s\n```", "recovery", 1000.0),
    ("```properties\nhystrix.command.Ledger.circuitBreaker.sleepWindowInMilliseconds={}\n```", "recovery", 1.0),
    ("```csharp\nnew CircuitBreakerStrategyOptions {\n  FailureRatio = 0.5,\n  BreakDuration = TimeSpan.FromSeconds({}),\n}\n```", "recovery", 1000.0),
    ("```csharp\nPolicy.Handle<E>().CircuitBreakerAsync(3, TimeSpan.FromMilliseconds({}));\n```", "recovery", 1.0),
    ("```go\ncb := gobreaker.NewCircuitBreaker(gobreaker.Settings{\n\tTimeout: {} * time.Second,\n})\n```", "recovery", 1000.0),
    ("```ts\nconst p = circuitBreaker(handleAll, { halfOpenAfter: {}, breaker: new ConsecutiveBreaker(3) });\n```", "recovery", 1.0),
    ("```python\nimport pybreaker\nb = pybreaker.CircuitBreaker(fail_max=3, reset_timeout={})\n```", "recovery", 1000.0),
    ("```python\n@circuit(failure_threshold=3, recovery_timeout={})\ndef f():\n    ...\n```", "recovery", 1000.0),
    ("```nginx\nupstream app {\n    server 127.0.0.1:8080 max_fails=2 fail_timeout={}s;\n}\n```", "recovery", 1000.0),
    ("```yaml\noutlierDetection:\n  consecutive5xxErrors: 3\n  baseEjectionTime: {}s\n```", "recovery", 1000.0),
    ("```go\ncb := gobreaker.NewCircuitBreaker(gobreaker.Settings{\n\tReadyToTrip: func(c gobreaker.Counts) bool {\n\t\treturn c.ConsecutiveFailures > {}\n\t},\n})\n```", "threshold+1", 1.0),
    ("```ts\nconst p = circuitBreaker(handleAll, { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker({}) });\n```", "threshold", 1.0),
    ("```nginx\nupstream app {\n    server 127.0.0.1:8080 max_fails={};\n}\n```", "threshold", 1.0),
];

fn spec_with(form: &str, value: &str) -> String {
    format!(
        "## Backend Spec: Gen\n\n#### Circuit Breaker\n\n{}\n",
        form.replace("{}", value)
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() / 2, ..ProptestConfig::default() })]

    /// A number written in any library form reads back in that form's unit.
    #[test]
    fn library_forms_read_values_back(form in 0..FORMS.len(), n in 1u32..100_000) {
        let (text, field, unit) = FORMS[form];
        let spec = spec_with(text, &n.to_string());
        let claims = parse(&spec);
        prop_assert_eq!(claims.breakers.len(), 1, "{:#?}\n{}", claims.breakers, spec);
        let b = &claims.breakers[0];
        prop_assert!(b.library.is_some(), "{spec}");
        match field {
            "recovery" => prop_assert_eq!(b.recovery_timeout_ms, Some(f64::from(n) * unit), "{}", spec),
            "threshold" => prop_assert_eq!(b.failure_threshold, Some(n), "{}", spec),
            _ => prop_assert_eq!(b.failure_threshold, Some(n + 1), "{}", spec),
        }
        let unreadable: Vec<_> = claims.diagnostics.iter().filter(|d| d.message.contains("is not")).collect();
        prop_assert!(unreadable.is_empty(), "{:?}", unreadable);
    }

    /// Whatever is written where a library form expects a value, the reader never panics and every
    /// line it reports exists.
    #[test]
    fn library_forms_never_panic_on_any_value(form in 0..FORMS.len(), value in "\\PC{0,40}") {
        check(&spec_with(FORMS[form].0, &value));
    }
}

/// Percentile columns: any of these, in any order.
const PERCENTILES: &[(&str, f64)] = &[
    ("P50", 50.0),
    ("Median", 50.0),
    ("P75", 75.0),
    ("P90", 90.0),
    ("95th percentile", 95.0),
    ("p99", 99.0),
    ("P99.9", 99.9),
    ("p999", 99.9),
    ("P99.99", 99.99),
];

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() / 4, ..ProptestConfig::default() })]

    /// A table with any set of percentile columns (each percentile once), plain or merged into one
    /// "P50 / P90 / P99" column, optionally wrapped in a ```markdown fence, reads back value by value
    /// on the same lines.
    #[test]
    fn any_percentile_columns_read_back(
        picks in prop::sample::subsequence(PERCENTILES, 1..5),
        values in prop::collection::vec(1u32..5000, 5),
        merged in any::<bool>(),
        wrapped in any::<bool>(),
    ) {
        let mut seen = Vec::new();
        let picks: Vec<(&str, f64)> = picks.into_iter().filter(|(_, p)| {
            let fresh = !seen.contains(p);
            seen.push(*p);
            fresh
        }).collect();
        let (header, cells) = if merged {
            let h: Vec<&str> = picks.iter().map(|(n, _)| *n).collect();
            let c: Vec<String> = values.iter().take(picks.len()).map(u32::to_string).collect();
            (format!("| Operation | {} (ms) |", h.join(" / ")), format!("| op | {} |", c.join(" / ")))
        } else {
            let h: Vec<&str> = picks.iter().map(|(n, _)| *n).collect();
            let c: Vec<String> = values.iter().take(picks.len()).map(|v| format!("< {v}ms")).collect();
            (format!("| Operation | {} |", h.join(" | ")), format!("| op | {} |", c.join(" | ")))
        };
        let sep = "|---".repeat(if merged { 2 } else { picks.len() + 1 });
        let body = format!("## Backend Spec: Gen\n\n{header}\n{sep}|\n{cells}\n");
        let spec = if wrapped { format!("Sure, here it is:\n\n```markdown\n{body}```\n") } else { body };
        let claims = parse(&spec);
        prop_assert!(claims.diagnostics.is_empty(), "{:?}\n{spec}", claims.diagnostics);
        prop_assert_eq!(claims.latency.len(), 1, "{}", spec);
        let t = &claims.latency[0];
        prop_assert_eq!(t.line, if wrapped { 8 } else { 5 });
        let mut want: Vec<(f64, f64)> = picks.iter().zip(&values).map(|((_, p), v)| (*p, f64::from(*v))).collect();
        want.sort_by(|a, b| a.0.total_cmp(&b.0));
        prop_assert_eq!(t.stated_percentiles(), want);
    }

    /// "N% of <noun> succeed <window>" and "at most 1 in M <noun> may fail <window>" read back the
    /// operation, the share and the window.
    #[test]
    fn objectives_read_back(
        nines in 1u32..4,
        one_in in 2u32..100_000,
        noun in prop::sample::select(&["checkouts", "searches", "payments", "logins"][..]),
        window in prop::sample::select(&[("monthly", 2_592_000.0), ("per quarter", 7_776_000.0), ("over a rolling 7 days", 604_800.0), ("in any 30-minute window", 1_800.0)][..]),
    ) {
        let share = 100.0 - 10f64.powi(-(nines as i32));
        let text = format!(
            "# Gen\n\n{share}% of {noun} succeed {}.\n\nAt most 1 in {one_in} {noun} may fail {}.\n",
            window.0, window.0
        );
        let claims = parse(&text);
        prop_assert_eq!(claims.objectives.len(), 2, "{:#?}\n{}", claims.objectives, text);
        let (a, b) = (&claims.objectives[0], &claims.objectives[1]);
        prop_assert_eq!(a.operation.as_deref(), Some(noun));
        prop_assert!((a.max_error_rate - (1.0 - share / 100.0)).abs() < 1e-9, "{a:?}");
        prop_assert_eq!(a.window_s, Some(window.1));
        prop_assert_eq!(a.line, 3);
        prop_assert!((b.max_error_rate - 1.0 / f64::from(one_in)).abs() < 1e-9, "{b:?}");
        prop_assert_eq!(b.window.as_deref(), Some(window.0));
        prop_assert_eq!(b.line, 5);
    }
}
