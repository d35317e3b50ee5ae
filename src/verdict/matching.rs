//! Name matching between the scenario and the spec: case, spacing and punctuation do not matter.
//!
//! Normalisation is the spec reader's own (`spec::normalize_name`), so a name the reader matches
//! is matched here the same way.

/// Lowercase letters and digits only: "GET /users/{id}" -> "getusersid".
pub use crate::spec::normalize_name as normalize;

/// True when two names are the same apart from case, spacing and punctuation.
pub fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (normalize(a), normalize(b));
    !a.is_empty() && a == b
}

/// True when `haystack` mentions `needle` (both normalised), e.g. "fx_breaker" mentions "FX".
pub fn mentions(haystack: &str, needle: &str) -> bool {
    let needle = normalize(needle);
    !needle.is_empty() && normalize(haystack).contains(&needle)
}

/// Slug for verdict ids: "GET /users/{id}" -> "get-users-id".
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// What a request is called by, for matching spec rows: its name, the operation it exercises,
/// and for a gRPC request without an `operation` its method's names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestNames {
    pub name: String,
    pub operation: String,
    /// "catalog.v1.Items/Get", "Items/Get" and (when no other gRPC request of the run has a
    /// method of that name) "Get".
    pub grpc: Vec<String>,
}

impl RequestNames {
    /// True when the spec row `row` names this request.
    pub fn named(&self, row: &str) -> bool {
        same_name(row, &self.operation)
            || same_name(row, &self.name)
            || self.grpc.iter().any(|g| same_name(row, g))
    }
}

/// The names a spec row may give a gRPC method ("catalog.v1.Items/Get", leading `/` or not):
/// the full name, the service's short name with the method ("Items/Get"), and the method
/// ("Get") unless `others` (the run's other gRPC methods) has one of that name in another service.
pub fn grpc_method_names(method: &str, others: &[&str]) -> Vec<String> {
    let method = method.trim_start_matches('/');
    let Some((service, call)) = method.rsplit_once('/') else {
        return vec![method.to_string()];
    };
    let short = service.rsplit('.').next().unwrap_or(service);
    let mut out = vec![method.to_string(), format!("{short}/{call}")];
    let clash = others.iter().any(|o| {
        let o = o.trim_start_matches('/');
        o != method && o.rsplit_once('/').is_some_and(|(_, c)| c == call)
    });
    if !clash {
        out.push(call.to_string());
    }
    out
}

/// The method names a spec row may give request `name` (`grpc_method_names`) when it is a gRPC
/// request and neither the scenario nor the result states its operation (`stated`).
pub fn grpc_aliases(
    requests: &std::collections::BTreeMap<String, super::model::RequestInfo>,
    name: &str,
    stated: Option<&str>,
) -> Vec<String> {
    let methods: Vec<&str> = requests
        .values()
        .filter_map(|r| r.grpc_method.as_deref())
        .collect();
    match (
        stated,
        requests.get(name).and_then(|r| r.grpc_method.as_deref()),
    ) {
        (None, Some(m)) => grpc_method_names(m, &methods),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_across_case_spacing_and_punctuation() {
        assert!(same_name("GET /users/{id}", "get users id"));
        assert!(same_name("User Service", "userservice"));
        assert!(!same_name("GET user", "GET users"));
        assert!(!same_name("", ""));
        assert!(mentions("fx_breaker", "FX"));
        assert!(!mentions("fx_breaker", "Postgres"));
    }

    #[test]
    fn a_grpc_method_is_named_by_its_full_short_or_bare_name() {
        let names = grpc_method_names("catalog.v1.Items/GetItem", &[]);
        let r = RequestNames {
            name: "get".into(),
            operation: "get".into(),
            grpc: names,
        };
        for row in [
            "catalog.v1.Items/GetItem",
            "/catalog.v1.Items/GetItem",
            "Items/GetItem",
            "GetItem",
            "`GetItem`",
        ] {
            assert!(r.named(row), "{row}");
        }
        assert!(!r.named("Items") && !r.named("ListItems"));
        // Two services with a Get: the bare "Get" names neither.
        let both = ["catalog.v1.Items/Get", "orders.v1.Orders/Get"];
        assert_eq!(
            grpc_method_names(both[0], &both),
            ["catalog.v1.Items/Get", "Items/Get"]
        );
        assert_eq!(grpc_method_names(both[0], &both[..1]).len(), 3);
    }

    #[test]
    fn slugs_are_stable_ids() {
        assert_eq!(slug("GET /users/{id}"), "get-users-id");
        assert_eq!(slug("UserService"), "userservice");
        assert_eq!(slug("  "), "_");
    }
}
