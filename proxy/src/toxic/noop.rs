//! The `noop` toxic: passes everything unchanged (useful to test clients and toxicity).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Noop {}
