//! HTTP fault model: `FaultSpec` (served as JSON by the native API, parsed from `--fault`), and the
//! per-request decision (`FaultTable`) driven by a seeded RNG.
//!
//! One file per fault kind (its parameters, validation and CLI keys); `matching` and `limits` say
//! which requests a fault may touch; `table` picks at most one fault per request.

mod abort;
mod down;
mod duration;
mod hang;
mod latency;
mod limits;
mod matching;
mod parse;
mod reset;
mod table;
mod throttle;
mod truncate;

pub use abort::Abort;
pub use down::Down;
pub use duration::Ms;
pub use hang::Hang;
pub use latency::{Distribution, Latency};
pub use limits::Limit;
pub use matching::Matcher;
pub use parse::Params;
pub use reset::Reset;
pub use table::{Action, Decision, FaultTable, RequestView};
pub use throttle::Throttle;
pub use truncate::Truncate;

use serde::{Deserialize, Serialize};

/// Names of the fault kinds, in `FaultKind::index` order (used for per-kind counters).
pub const KIND_NAMES: [&str; 7] = [
    "latency", "abort", "hang", "reset", "truncate", "throttle", "down",
];

/// Errors from building or changing faults.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultError {
    #[error("a fault named {0:?} already exists")]
    Exists(String),
    #[error("no fault named {0:?}")]
    NotFound(String),
    #[error("fault {fault:?}: field `{field}`: expected {expected}, found {found}")]
    Field {
        fault: String,
        field: String,
        expected: String,
        found: String,
    },
    #[error("unknown fault kind {found:?}: expected one of latency, abort, hang, reset, truncate, throttle, down")]
    UnknownKind { found: String },
}

/// One fault: what it does (`kind`), how often (`probability`), to which requests (`matcher`)
/// and how many times (`limit`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Unique within a proxy; defaults to the kind's name.
    #[serde(default)]
    pub name: String,
    pub kind: FaultKind,
    /// Chance in 0..=1 that a matching request gets the fault (coin from the proxy's seeded RNG).
    #[serde(default = "one")]
    pub probability: f64,
    #[serde(default)]
    pub matcher: Matcher,
    #[serde(default)]
    pub limit: Limit,
}

fn one() -> f64 {
    1.0
}

/// What a fault does to a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultKind {
    Latency(Latency),
    Abort(Abort),
    Hang(Hang),
    Reset(Reset),
    Truncate(Truncate),
    Throttle(Throttle),
    Down(Down),
}

impl FaultKind {
    pub fn name(&self) -> &'static str {
        KIND_NAMES[self.index()]
    }

    pub fn index(&self) -> usize {
        match self {
            FaultKind::Latency(_) => 0,
            FaultKind::Abort(_) => 1,
            FaultKind::Hang(_) => 2,
            FaultKind::Reset(_) => 3,
            FaultKind::Truncate(_) => 4,
            FaultKind::Throttle(_) => 5,
            FaultKind::Down(_) => 6,
        }
    }

    fn validate(&self, fault: &str) -> Result<(), FaultError> {
        match self {
            FaultKind::Latency(l) => l.validate(fault),
            FaultKind::Abort(a) => a.validate(fault),
            FaultKind::Hang(h) => h.validate(fault),
            FaultKind::Throttle(t) => t.validate(fault),
            FaultKind::Reset(_) | FaultKind::Truncate(_) | FaultKind::Down(_) => Ok(()),
        }
    }
}

impl FaultSpec {
    /// A fault of `kind` on every request, named after its kind.
    pub fn new(kind: FaultKind) -> FaultSpec {
        FaultSpec {
            name: kind.name().to_string(),
            kind,
            probability: 1.0,
            matcher: Matcher::default(),
            limit: Limit::default(),
        }
    }

    pub fn named(mut self, name: &str) -> FaultSpec {
        self.name = name.to_string();
        self
    }

    pub fn with_probability(mut self, p: f64) -> FaultSpec {
        self.probability = p;
        self
    }

    pub fn with_matcher(mut self, m: Matcher) -> FaultSpec {
        self.matcher = m;
        self
    }

    pub fn with_limit(mut self, l: Limit) -> FaultSpec {
        self.limit = l;
        self
    }

    /// Fills the default name and checks every field; called before a fault is installed.
    pub fn validate(&mut self) -> Result<(), FaultError> {
        if self.name.trim().is_empty() {
            self.name = self.kind.name().to_string();
        }
        let name = self.name.clone();
        if !(0.0..=1.0).contains(&self.probability) {
            return Err(FaultError::Field {
                fault: name,
                field: "probability".into(),
                expected: "a number from 0 to 1".into(),
                found: self.probability.to_string(),
            });
        }
        self.kind.validate(&name)?;
        self.limit.validate(&name)
    }

    /// Refuses what the proxy's protocol cannot do: on HTTP/2, `truncate` and `throttle` (not
    /// built for streams); on HTTP/1.1, an abort with a `grpc_status` (gRPC needs HTTP/2).
    pub fn check_protocol(&self, http2: bool) -> Result<(), FaultError> {
        let field = |field: &str, expected: &str, found: &str| FaultError::Field {
            fault: self.name.clone(),
            field: field.into(),
            expected: expected.into(),
            found: found.into(),
        };
        match &self.kind {
            FaultKind::Truncate(_) | FaultKind::Throttle(_) if http2 => Err(field(
                "type",
                "a fault an HTTP/2 proxy applies per stream (latency, abort, hang, reset, down)",
                self.kind.name(),
            )),
            FaultKind::Abort(a) if !http2 && a.grpc_status.is_some() => Err(field(
                "grpc_status",
                "an HTTP/2 proxy (protocol \"http2\" or \"grpc\"); this one speaks HTTP/1.1",
                &a.grpc_status.unwrap_or_default().to_string(),
            )),
            _ => Ok(()),
        }
    }

    /// True for a fault that applies to every request: a `down` like this closes the listener.
    pub fn is_unconditional(&self) -> bool {
        self.probability >= 1.0 && self.matcher.is_empty() && self.limit.is_empty()
    }

    /// Parses the `--fault` form `kind:key=value,...`, e.g. `abort:status=503,probability=0.5`.
    ///
    /// Common keys: `name`, `probability`, `method`, `path` (prefix), `header`, `header_value`,
    /// `first`, `every`. Kind keys are listed in each kind's docs.
    pub fn parse_cli(text: &str) -> Result<FaultSpec, FaultError> {
        let (kind_name, rest) = text.split_once(':').unwrap_or((text, ""));
        let kind_name = kind_name.trim().to_ascii_lowercase();
        let p = Params::parse(&kind_name, rest)?;
        FaultSpec::from_params(&kind_name, p)
    }

    /// Builds a fault from `kind` and `key = value` pairs already split (a scenario's `[[fault]]`),
    /// with the same keys, checks and messages as `parse_cli`.
    pub fn from_pairs(kind: &str, pairs: &[(String, String)]) -> Result<FaultSpec, FaultError> {
        let kind_name = kind.trim().to_ascii_lowercase();
        let p = Params::from_pairs(&kind_name, pairs)?;
        FaultSpec::from_params(&kind_name, p)
    }

    fn from_params(kind_name: &str, mut p: Params) -> Result<FaultSpec, FaultError> {
        let (kind, kind_keys): (FaultKind, &[&str]) = match kind_name {
            "latency" => (
                FaultKind::Latency(Latency::from_params(&mut p)?),
                Latency::KEYS,
            ),
            "abort" => (FaultKind::Abort(Abort::from_params(&mut p)?), Abort::KEYS),
            "hang" => (FaultKind::Hang(Hang::from_params(&mut p)?), Hang::KEYS),
            "reset" => (FaultKind::Reset(Reset {}), &[]),
            "truncate" => (
                FaultKind::Truncate(Truncate::from_params(&mut p)?),
                Truncate::KEYS,
            ),
            "throttle" => (
                FaultKind::Throttle(Throttle::from_params(&mut p)?),
                Throttle::KEYS,
            ),
            "down" => (FaultKind::Down(Down {}), &[]),
            other => {
                return Err(FaultError::UnknownKind {
                    found: other.to_string(),
                })
            }
        };
        let mut spec = FaultSpec::new(kind);
        if let Some(name) = p.take_str("name") {
            spec.name = name;
        }
        if let Some(prob) = p.take_f64("probability")? {
            spec.probability = prob;
        }
        spec.matcher = Matcher::from_params(&mut p)?;
        spec.limit = Limit::from_params(&mut p)?;
        let mut known: Vec<&str> = kind_keys.to_vec();
        known.extend_from_slice(&["name", "probability"]);
        known.extend_from_slice(Matcher::KEYS);
        known.extend_from_slice(Limit::KEYS);
        p.finish(&known)?;
        spec.validate()?;
        Ok(spec)
    }
}

#[cfg(test)]
mod tests;
