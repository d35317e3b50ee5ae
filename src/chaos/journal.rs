//! Fault changes made by hand over the control API (the proxy's change journal) -> the fault
//! book, with the time and the actor of each change. The run's own changes are not journaled
//! (in-process proxies) or carry the run's actor (attached proxies) and are skipped here.

use redline_proxy::control::journal::Change;
use serde_json::Value;

use super::book::{flat_params, kind_of, name_of, FaultBook};
use super::remote::ACTOR;

/// Applies one journal change to the book. `dependency` maps a proxy name to the scenario's
/// dependency name (a proxy created by hand keeps its own name).
pub fn record(book: &FaultBook, c: &Change, dependency: &dyn Fn(&str) -> String) {
    if c.actor == ACTOR {
        return;
    }
    let at = c.t_ms / 1000.0;
    let source = format!("api {}", c.actor);
    let dep = c.proxy.as_deref().map(dependency).unwrap_or_default();
    let target = c.target.clone().unwrap_or_default();
    let named = |t: &str| {
        let t = t.to_string();
        move |f: &crate::result::AppliedFault| name_of(f) == Some(t.as_str())
    };
    match c.action.as_str() {
        "fault.add" | "toxic.add" => open(book, &dep, &c.detail, at, &source),
        "fault.update" | "toxic.update" => {
            book.close_where(&dep, at, named(&target));
            open(book, &dep, &c.detail, at, &source);
        }
        "fault.remove" | "toxic.remove" => book.close_where(&dep, at, named(&target)),
        "faults.clear" => book.close_where(&dep, at, |f| f.kind != "down" || name_of(f).is_some()),
        "proxy.delete" => book.close_where(&dep, at, |_| true),
        "reset" => book.close_all(at),
        "proxy.update" | "proxy.create" => match c.detail.get("enabled").and_then(Value::as_bool) {
            Some(false) => {
                book.close_where(&dep, at, |f| f.kind == "down" && name_of(f).is_none());
                book.open(
                    &dep,
                    "down",
                    serde_json::json!({"enabled": false}),
                    at,
                    &source,
                );
            }
            Some(true) => book.close_where(&dep, at, |f| f.kind == "down" && name_of(f).is_none()),
            None => {}
        },
        _ => {}
    }
}

fn open(book: &FaultBook, dep: &str, detail: &Value, at: f64, source: &str) {
    if detail.is_null() {
        return;
    }
    let flat = flat_params(detail);
    let kind = kind_of(&flat, "fault");
    book.open(dep, &kind, flat, at, source);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(
        seq: u64,
        t_ms: f64,
        actor: &str,
        action: &str,
        target: Option<&str>,
        detail: Value,
    ) -> Change {
        Change {
            seq,
            t_ms,
            unix_ms: 0,
            actor: actor.into(),
            peer: None,
            action: action.into(),
            proxy: Some("users".into()),
            target: target.map(str::to_string),
            detail,
        }
    }

    #[test]
    fn adds_and_removals_by_hand_become_windows_with_their_actor() {
        let book = FaultBook::default();
        let dep = |p: &str| {
            if p == "users" {
                "UserService".to_string()
            } else {
                p.to_string()
            }
        };
        let spec =
            json!({"name": "abort", "kind": {"type": "abort", "status": 503}, "probability": 1.0});
        record(
            &book,
            &change(0, 1500.0, "alice", "fault.add", Some("abort"), spec),
            &dep,
        );
        record(
            &book,
            &change(
                1,
                1600.0,
                ACTOR,
                "fault.add",
                Some("x"),
                json!({"name": "x", "kind": {"type": "reset"}}),
            ),
            &dep,
        );
        record(
            &book,
            &change(
                2,
                4000.0,
                "alice",
                "fault.remove",
                Some("abort"),
                Value::Null,
            ),
            &dep,
        );
        record(
            &book,
            &change(
                3,
                5000.0,
                "bob",
                "proxy.update",
                None,
                json!({"enabled": false}),
            ),
            &dep,
        );
        let f = book.snapshot();
        assert_eq!(f.len(), 2);
        assert_eq!(
            (
                f[0].dependency.as_str(),
                f[0].kind.as_str(),
                f[0].source.as_str()
            ),
            ("UserService", "abort", "api alice")
        );
        assert_eq!((f[0].applied_at_s, f[0].removed_at_s), (1.5, Some(4.0)));
        assert_eq!(f[0].params["status"], json!(503));
        assert_eq!((f[1].kind.as_str(), f[1].removed_at_s), ("down", None));
    }
}
