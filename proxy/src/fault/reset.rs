//! `reset`: close the caller's connection abruptly (TCP RST via SO_LINGER 0) with no response.

use serde::{Deserialize, Serialize};

/// No parameters: the request is never forwarded and the connection is reset.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reset {}
