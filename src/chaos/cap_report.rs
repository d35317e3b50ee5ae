//! An HTTP dependency's proxy at its connection cap, as the run reports it: how many callers it
//! refused and how many idle connections it shed during the run (from its counters, less what
//! an attached proxy had counted before), and the note that makes a contaminated run visible:
//! the seconds in which the proxy, not the service, refused calls.

use serde_json::Value;

use super::proxies::{Dep, Proxies};
use crate::result::ConnectionCap;

/// The cap report of `dep`, if its proxy refused or shed anything during the run.
pub async fn read(proxies: &Proxies, dep: &Dep) -> Option<ConnectionCap> {
    let stats = proxies.stats(dep).await?;
    from_stats(&stats, dep)
}

fn from_stats(stats: &Value, dep: &Dep) -> Option<ConnectionCap> {
    let count = |k: &str| stats.get(k).and_then(Value::as_u64).unwrap_or(0);
    let refused = count("connections_rejected").saturating_sub(dep.refused_before);
    let shed = count("connections_shed").saturating_sub(dep.shed_before);
    if refused == 0 && shed == 0 {
        return None;
    }
    let at = |k: &str| {
        stats
            .get(k)
            .and_then(Value::as_u64)
            .map(|ms| ((ms as f64 + dep.offset_ms) / 1000.0).max(0.0))
    };
    let (from, to) = if refused > 0 {
        (at("refused_first_ms"), at("refused_last_ms"))
    } else {
        (None, None)
    };
    Some(ConnectionCap {
        max_connections: count("max_connections"),
        refused,
        shed,
        refused_from_s: from,
        refused_to_s: to,
    })
}

/// The run's note about a dependency's proxy at its cap.
pub fn note(dependency: &str, cap: &ConnectionCap) -> String {
    if cap.refused == 0 {
        return format!(
            "the proxy of {dependency} reached its cap of {} connections and shed {} idle ones (no caller was refused)",
            cap.max_connections, cap.shed
        );
    }
    let window = match (cap.refused_from_s, cap.refused_to_s) {
        (Some(a), Some(b)) => format!(" in {:.0}-{:.0} s", a.floor(), b.ceil()),
        _ => String::new(),
    };
    format!(
        "the proxy refused {} connections at its cap of {} (and shed {} idle ones): verdicts about {dependency}{window} are suspect",
        cap.refused, cap.max_connections, cap.shed
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_names_the_dependency_and_its_seconds() {
        let cap = ConnectionCap {
            max_connections: 100,
            refused: 7,
            shed: 3,
            refused_from_s: Some(17.2),
            refused_to_s: Some(19.6),
        };
        assert_eq!(
            note("UserService", &cap),
            "the proxy refused 7 connections at its cap of 100 (and shed 3 idle ones): verdicts about UserService in 17-20 s are suspect"
        );
        let shed_only = ConnectionCap {
            refused: 0,
            refused_from_s: None,
            refused_to_s: None,
            ..cap
        };
        assert!(note("UserService", &shed_only).contains("no caller was refused"));
    }
}
