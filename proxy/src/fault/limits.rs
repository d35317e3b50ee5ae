//! How many of the matching requests a fault may touch: only the first N, only every Nth.

use super::{FaultError, Params};
use serde::{Deserialize, Serialize};

/// Counted over the requests the matcher accepted, from 1, before the probability coin.
/// CLI keys: `first`, `every`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// Only the first N matching requests are candidates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<u64>,
    /// Only every Nth matching request (N, 2N, ...) is a candidate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
}

impl Limit {
    pub const KEYS: &'static [&'static str] = &["first", "every"];

    pub fn from_params(p: &mut Params) -> Result<Limit, FaultError> {
        Ok(Limit {
            first: p.take_u64("first")?,
            every: p.take_u64("every")?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_none() && self.every.is_none()
    }

    pub fn validate(&self, fault: &str) -> Result<(), FaultError> {
        if self.every == Some(0) {
            return Err(FaultError::Field {
                fault: fault.to_string(),
                field: "every".into(),
                expected: "at least 1".into(),
                found: "0".into(),
            });
        }
        Ok(())
    }

    /// Whether the `n`th matching request (from 1) is a candidate.
    pub fn admits(&self, n: u64) -> bool {
        let within_first = match self.first {
            Some(first) => n <= first,
            None => true,
        };
        let on_beat = match self.every {
            Some(every) => n % every == 0,
            None => true,
        };
        within_first && on_beat
    }
}
