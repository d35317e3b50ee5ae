//! Lookups the verdicts use: a claim by operation or dependency name, compared with `normalize_name`.

use super::claims::{Breaker, Claims, Dependency, LatencyTarget};
use super::names::{best_match, normalize_name};

impl Claims {
    /// The latency target of `operation` ("get payment" finds "GET payment").
    pub fn latency_for(&self, operation: &str) -> Option<&LatencyTarget> {
        let key = normalize_name(operation);
        self.latency
            .iter()
            .find(|t| normalize_name(&t.operation) == key)
    }

    /// The dependency called `name`: an exact normalised match, else the one dependency whose
    /// significant words `name` shares ("acquirer" finds "AcquirerAPI"); None when two tie.
    pub fn dependency(&self, name: &str) -> Option<&Dependency> {
        let key = normalize_name(name);
        if let Some(d) = self
            .dependencies
            .iter()
            .find(|d| normalize_name(&d.name) == key)
        {
            return Some(d);
        }
        let names: Vec<String> = self.dependencies.iter().map(|d| d.name.clone()).collect();
        let found = best_match(name, &names)?;
        self.dependencies.iter().find(|d| &d.name == found)
    }

    /// The breaker guarding `dependency`. When the spec has exactly one breaker and it names no
    /// dependency, that breaker is the service-wide one and is returned for every dependency.
    pub fn breaker_for(&self, dependency: &str) -> Option<&Breaker> {
        let key = self
            .dependency(dependency)
            .map_or_else(|| normalize_name(dependency), |d| normalize_name(&d.name));
        let named = self.breakers.iter().find(|b| {
            b.dependency
                .as_deref()
                .is_some_and(|d| normalize_name(d) == key)
        });
        named.or_else(|| match self.breakers.as_slice() {
            [only] if only.dependency.is_none() => Some(only),
            _ => None,
        })
    }
}
