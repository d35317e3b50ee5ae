//! Which requests a fault may touch: method, path prefix, header present or equal.

use super::{FaultError, Params, RequestView};
use serde::{Deserialize, Serialize};

/// Every condition given must hold; an empty matcher matches every request.
/// CLI keys: `method`, `path` (a prefix), `header` (present), `header_value` (equal to).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matcher {
    /// Case-insensitive method, e.g. "GET".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// A header that must be present (case-insensitive name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// When set with `header`, the header's value must equal this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_value: Option<String>,
}

impl Matcher {
    pub const KEYS: &'static [&'static str] = &["method", "path", "header", "header_value"];

    pub fn from_params(p: &mut Params) -> Result<Matcher, FaultError> {
        let m = Matcher {
            method: p.take_str("method"),
            path_prefix: p.take_str("path"),
            header: p.take_str("header"),
            header_value: p.take_str("header_value"),
        };
        if m.header_value.is_some() && m.header.is_none() {
            return Err(p.bad("header", "a header name to go with header_value", ""));
        }
        Ok(m)
    }

    pub fn is_empty(&self) -> bool {
        self.method.is_none() && self.path_prefix.is_none() && self.header.is_none()
    }

    pub fn matches(&self, req: &RequestView<'_>) -> bool {
        if let Some(m) = &self.method {
            if !m.eq_ignore_ascii_case(req.method) {
                return false;
            }
        }
        if let Some(prefix) = &self.path_prefix {
            if !req.path.starts_with(prefix.as_str()) {
                return false;
            }
        }
        if let Some(name) = &self.header {
            let mut values = req
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v);
            let ok = match &self.header_value {
                None => values.next().is_some(),
                Some(want) => values.any(|v| v == want.as_bytes()),
            };
            if !ok {
                return false;
            }
        }
        true
    }
}
