//! `down`: the dependency is gone. Installed unconditionally it closes the listener (new
//! connections are refused by the kernel) and drops every open connection; with a probability,
//! matcher or limit it instead resets the connection of each request it picks.

use serde::{Deserialize, Serialize};

/// No parameters; see the module docs for how conditions change its reach.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Down {}
