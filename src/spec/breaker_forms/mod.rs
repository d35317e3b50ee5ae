//! Breakers written in a library's own configuration form: which library a code block configures,
//! its keys and units, and its documented defaults for what the spec leaves out (each default is
//! named in `defaults_applied` and in a diagnostic). One file per language family; `values` reads
//! each language's units, `entries` the keys and values on a line, `segment` splits a block into
//! breakers, `build` is what a family's rule works with.

mod build;
mod dotnet;
mod entries;
mod go;
mod java;
mod js;
mod proxies;
mod python;
pub(crate) mod rule_prose;
mod segment;
pub(crate) mod values;

pub(crate) use build::{calls, no_scan, positional, Build};
pub(crate) use entries::{entries, norm, Entry};
pub(crate) use segment::read_block;

/// A breaker parameter as one library names it; its meaning (units, percent or ratio) is the library's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Threshold,
    RatePercent,
    RateRatio,
    /// resilience4j `slidingWindowSize`: calls or seconds, by `slidingWindowType`.
    WindowSize,
    WindowType,
    WindowCalls,
    WindowMs,
    MinimumCalls,
    /// cockatiel `minimumRps`: a rate, turned into calls over the window.
    MinimumRps,
    SlowCallMs,
    SlowRatePercent,
    RecoveryMs,
    BackoffEnabled,
    Multiplier,
    RecoveryMaxMs,
    /// cockatiel `ExponentialBackoff({ initialDelay })`: the first open time.
    BackoffInitialMs,
    RandomizedEnabled,
    RandomizedFactor,
    HalfOpen,
    CallTimeoutMs,
    SweepMs,
    /// Envoy/Istio consecutive gateway errors (502/503/504 only).
    GatewayThreshold,
    /// Envoy `enforcing_consecutive_gateway_failure` (percent; 0 by default: counted, not enforced).
    GatewayEnforcing,
    MaxEjectionPercent,
    /// A computed open time (Polly `BreakDurationGenerator`): present, not read.
    BreakGenerator,
    /// A trip condition written as code (gobreaker `ReadyToTrip`), read by the form's scan.
    TripRule,
    Exceptions,
    /// resilience4j `baseConfig`: the shared config an instance starts from.
    BaseConfig,
}

/// A parameter found in the block: what it sets, the key and value as written, its line.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub field: Field,
    pub key: String,
    pub value: String,
    pub line: usize,
}

/// One library's configuration form.
pub(crate) struct Form {
    pub library: &'static str,
    /// Which field a key sets, if it is one of this library's.
    pub field: fn(&Entry) -> Option<Field>,
    /// Parameters written positionally or as code (`CircuitBreaker(5, TimeSpan.FromSeconds(30))`,
    /// `counts.ConsecutiveFailures > 4`), found over the whole block.
    pub scan: fn(&[(usize, String)]) -> Vec<Found>,
    /// Turns what was found into the breaker, with the library's rule and defaults.
    pub build: fn(&mut Build),
    /// Values end at whitespace (nginx directives).
    pub space_values: bool,
    /// A `Name:` key names the breaker it sits in (Go `Settings{Name: ...}`), not the next one.
    pub name_inside: bool,
}

/// What gives a library away: words in the block (lower-cased, without `-` and `_`), names written
/// exactly so (`SamplingBreaker`), or the fence's language.
struct Signs {
    form: &'static Form,
    words: &'static [&'static str],
    code: &'static [&'static str],
    lang: &'static str,
}

/// Tried in order, the more specific first: Hystrix before opossum (both say
/// errorThresholdPercentage), cockatiel before resilience4j (minimumNumberOfCalls), gobreaker before
/// Polly v8 (a Go `failureRatio` variable), Python's before Polly v7 (`pybreaker.CircuitBreaker(`),
/// Polly v7 before v8.
const SIGNS: &[Signs] = &[
    Signs {
        form: &proxies::ENVOY,
        words: &["outlierdetection"],
        code: &[],
        lang: "",
    },
    Signs {
        form: &proxies::NGINX,
        words: &["maxfails=", "failtimeout="],
        code: &[],
        lang: "nginx",
    },
    Signs {
        form: &java::HYSTRIX,
        words: &[
            "hystrix",
            "requestvolumethreshold",
            "sleepwindowinmilliseconds",
        ],
        code: &[],
        lang: "",
    },
    Signs {
        form: &js::COCKATIEL,
        words: &["cockatiel"],
        code: &[
            "ConsecutiveBreaker",
            "SamplingBreaker",
            "CountBreaker",
            "halfOpenAfter",
        ],
        lang: "",
    },
    Signs {
        form: &java::RESILIENCE4J,
        words: &[
            "resilience4j",
            "failureratethreshold",
            "slidingwindowsize",
            "slidingwindowtype",
            "minimumnumberofcalls",
            "waitdurationinopenstate",
            "permittednumberofcallsinhalfopenstate",
            "slowcallratethreshold",
        ],
        code: &[],
        lang: "",
    },
    Signs {
        form: &go::GOBREAKER,
        words: &["gobreaker"],
        code: &["ReadyToTrip"],
        lang: "",
    },
    Signs {
        form: &python::PYBREAKER,
        words: &["pybreaker", "failmax"],
        code: &[],
        lang: "",
    },
    Signs {
        form: &python::PURGATORY,
        words: &["purgatory"],
        code: &["CircuitBreakerFactory("],
        lang: "",
    },
    Signs {
        form: &python::CIRCUITBREAKER,
        words: &[],
        code: &[
            "@circuit",
            "from circuitbreaker",
            "import circuitbreaker",
            "CircuitBreakerMonitor",
            "FAILURE_THRESHOLD",
        ],
        lang: "",
    },
    Signs {
        form: &dotnet::POLLY_V7,
        words: &["exceptionsallowedbeforebreaking", "durationofbreak"],
        code: &[
            "AdvancedCircuitBreaker",
            ".CircuitBreaker(",
            ".CircuitBreakerAsync(",
        ],
        lang: "",
    },
    Signs {
        form: &dotnet::POLLY_V8,
        words: &["failureratio", "breakduration", "minimumthroughput"],
        code: &["CircuitBreakerStrategyOptions", "AddCircuitBreaker"],
        lang: "",
    },
    Signs {
        form: &js::OPOSSUM,
        words: &["opossum"],
        code: &[
            "errorThresholdPercentage",
            "rollingCountTimeout",
            "rollingCountBuckets",
            "volumeThreshold",
        ],
        lang: "",
    },
];

/// The library a code block configures, from its language and the names it uses.
pub(crate) fn detect(lang: &str, lines: &[(usize, String)]) -> Option<&'static Form> {
    let text: String = lines
        .iter()
        .map(|(_, l)| l.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let squashed: String = text
        .to_lowercase()
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .collect();
    let lang = lang.trim().to_lowercase();
    SIGNS
        .iter()
        .find(|s| {
            (!s.lang.is_empty() && s.lang == lang)
                || s.words.iter().any(|w| squashed.contains(w))
                || s.code.iter().any(|w| text.contains(w))
        })
        .map(|s| s.form)
}
