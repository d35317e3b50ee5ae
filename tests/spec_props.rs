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
