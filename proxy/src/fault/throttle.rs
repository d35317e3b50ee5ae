//! `throttle`: forward the request, then deliver the response body at most `bytes_per_sec`.

use super::{FaultError, Params};
use serde::{Deserialize, Serialize};

/// CLI key: `bytes_per_sec` (or `rate`), in bytes per second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Throttle {
    pub bytes_per_sec: u64,
}

impl Throttle {
    pub const KEYS: &'static [&'static str] = &["bytes_per_sec", "rate"];

    pub fn from_params(p: &mut Params) -> Result<Throttle, FaultError> {
        let rate = match p.take_u64("bytes_per_sec")? {
            Some(r) => Some(r),
            None => p.take_u64("rate")?,
        };
        Ok(Throttle {
            bytes_per_sec: p.require("bytes_per_sec", rate, "a rate in bytes per second")?,
        })
    }

    pub fn validate(&self, fault: &str) -> Result<(), FaultError> {
        if self.bytes_per_sec == 0 {
            return Err(FaultError::Field {
                fault: fault.to_string(),
                field: "bytes_per_sec".into(),
                expected: "at least 1 (use hang to stop the answer entirely)".into(),
                found: "0".into(),
            });
        }
        Ok(())
    }
}
