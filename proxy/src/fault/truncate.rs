//! `truncate`: forward the request, then cut the response body after `bytes` bytes and abort the
//! connection, so the caller sees an incomplete message (also with chunked encoding).

use super::{FaultError, Params};
use serde::{Deserialize, Serialize};

/// CLI key: `bytes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Truncate {
    pub bytes: u64,
}

impl Truncate {
    pub const KEYS: &'static [&'static str] = &["bytes"];

    pub fn from_params(p: &mut Params) -> Result<Truncate, FaultError> {
        let bytes = p.take_u64("bytes")?;
        Ok(Truncate {
            bytes: p.require("bytes", bytes, "how many body bytes to let through")?,
        })
    }
}
