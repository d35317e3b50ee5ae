//! The `reset_peer` toxic: when data (or the end of stream) first reaches it, waits `timeout`
//! ms and then resets both sides of the connection (TCP RST via SO_LINGER 0), dropping the data.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::int_attr;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResetPeer {
    /// Milliseconds between the first data and the reset; 0 resets at once.
    #[serde(deserialize_with = "int_attr")]
    pub timeout: i64,
}

impl ResetPeer {
    pub fn reset_after(&self) -> Duration {
        Duration::from_millis(self.timeout.max(0) as u64)
    }
}
