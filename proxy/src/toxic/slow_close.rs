//! The `slow_close` toxic: delays passing on the end of the stream (FIN) by `delay` ms.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::int_attr;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SlowClose {
    /// Milliseconds between the source closing and the close reaching the other side.
    #[serde(deserialize_with = "int_attr")]
    pub delay: i64,
}

impl SlowClose {
    pub fn close_delay(&self) -> Duration {
        Duration::from_millis(self.delay.max(0) as u64)
    }
}
