//! The `timeout` toxic: lets no data through and closes the connection after `timeout` ms;
//! with 0 it holds the connection open (dropping data) until the toxic is removed, and
//! removing it then closes the connection, as Toxiproxy does.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::int_attr;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Timeout {
    /// Milliseconds from the toxic starting on a connection until that connection is closed;
    /// 0 = never.
    #[serde(deserialize_with = "int_attr")]
    pub timeout: i64,
}

impl Timeout {
    /// How long after starting the connection is closed, or `None` to hold it forever.
    pub fn close_after(&self) -> Option<Duration> {
        (self.timeout > 0).then(|| Duration::from_millis(self.timeout as u64))
    }
}
