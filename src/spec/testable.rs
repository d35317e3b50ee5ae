//! Whether a spec promised anything redline can test. A `--spec` that yields nothing is a wrong file or
//! a spec the reader cannot read; judging against it would pass by saying nothing.

use super::claims::{AlertCondition, Claims};

/// A spec that yielded no testable claim; its message tells the user how to see what was read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: no testable claim found; `redline spec {path}` shows what was read (pass --allow-empty-spec to run without claims)")]
pub struct EmptySpec {
    pub path: String,
}

impl Claims {
    /// How many claims a run could judge: latency rows and budgets with a value, dependency timeouts
    /// and fallbacks, breakers, retries, rate limits, error classes, testable alerts, objectives,
    /// throughput and health. Names alone (a dependency row with no timeout or fallback) are none.
    pub fn testable_count(&self) -> usize {
        let latency = self
            .latency
            .iter()
            .filter(|t| !t.stated_percentiles().is_empty() || t.timeout_ms.is_some())
            .count();
        let budget = self
            .latency_budget
            .iter()
            .filter(|b| !b.stated_percentiles().is_empty())
            .count();
        let deps = self
            .dependencies
            .iter()
            .filter(|d| d.timeout_ms.is_some() || d.fallback.is_some() || d.critical)
            .count();
        let alerts = self
            .alerts
            .iter()
            .filter(|a| !matches!(a.condition, AlertCondition::Other { .. }))
            .count();
        let scalars = [self.error_rate_max.is_some(), self.availability.is_some()]
            .iter()
            .filter(|x| **x)
            .count();
        latency
            + budget
            + deps
            + alerts
            + scalars
            + self.breakers.len()
            + self.retries.len()
            + self.rate_limits.len()
            + self.error_classes.len()
            + self.objectives.len()
            + self.throughput.len()
            + usize::from(self.health.is_some())
    }
}

/// The check every command that judges a spec makes (`run`, and `capacity` and `merge` too): `Err`
/// when `claims` (read from `path`) hold no testable claim. Callers skip it for `--allow-empty-spec`.
pub fn require_testable(claims: &Claims, path: &str) -> Result<(), EmptySpec> {
    if claims.testable_count() == 0 {
        return Err(EmptySpec {
            path: path.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_read_is_an_error_naming_the_file_and_the_command() {
        let claims = super::super::parse("# Notes\n\nNothing promised here.\n");
        let err = require_testable(&claims, "SPEC.md").unwrap_err();
        assert!(err.to_string().starts_with(
            "SPEC.md: no testable claim found; `redline spec SPEC.md` shows what was read"
        ));
        let claims = super::super::parse("# Svc\n\nP99 < 300ms.\n");
        assert_eq!(require_testable(&claims, "SPEC.md"), Ok(()));
    }
}
