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
    fn slugs_are_stable_ids() {
        assert_eq!(slug("GET /users/{id}"), "get-users-id");
        assert_eq!(slug("UserService"), "userservice");
        assert_eq!(slug("  "), "_");
    }
}
