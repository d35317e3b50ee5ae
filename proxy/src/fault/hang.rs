//! `hang`: hold the request without answering, forever (until the caller gives up) or for `after`.

use super::{FaultError, Ms, Params};
use serde::{Deserialize, Serialize};

/// CLI keys: `after` (answer after this long; absent = never), `status` (what to answer then;
/// absent = forward the request to the upstream once `after` has passed).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hang {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Ms>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl Hang {
    pub const KEYS: &'static [&'static str] = &["after", "status"];

    pub fn from_params(p: &mut Params) -> Result<Hang, FaultError> {
        let after = p.take_ms("after")?;
        let status = p.take_u64("status")?;
        Ok(Hang {
            after,
            status: status.map(|s| u16::try_from(s).unwrap_or(0)),
        })
    }

    pub fn validate(&self, fault: &str) -> Result<(), FaultError> {
        match self.status {
            Some(s) if !(200..=599).contains(&s) => Err(FaultError::Field {
                fault: fault.to_string(),
                field: "status".into(),
                expected: "a final HTTP status from 200 to 599".into(),
                found: s.to_string(),
            }),
            Some(_) if self.after.is_none() => Err(FaultError::Field {
                fault: fault.to_string(),
                field: "after".into(),
                expected: "a duration (a status is only sent after a hang that ends)".into(),
                found: "nothing (the key is missing)".into(),
            }),
            _ => Ok(()),
        }
    }
}
