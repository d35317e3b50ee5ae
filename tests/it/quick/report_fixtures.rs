//! The committed result fixtures are exactly what the generator makes (REDLINE_UPDATE_FIXTURES=1
//! rewrites them), and they are realistic: the breaker stops dependency traffic, histograms decode.

use crate::report_common;

use report_common::{chaos_run, fixture_path, fixtures, load_fixture, Options};

#[test]
fn committed_fixtures_match_the_generator() {
    for (name, opts) in fixtures() {
        let json = serde_json::to_string_pretty(&chaos_run(opts)).unwrap() + "\n";
        let path = fixture_path(name);
        if std::env::var_os("REDLINE_UPDATE_FIXTURES").is_some_and(|v| v == "1") {
            std::fs::write(&path, &json).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap();
        assert!(
            committed == json,
            "{name} is stale: run with REDLINE_UPDATE_FIXTURES=1"
        );
    }
}

#[test]
fn the_chaos_fixture_behaves_like_a_breaker_run() {
    let r = load_fixture("chaos.json");
    assert!(r.breaker_episodes.len() >= 2);
    let first = &r.breaker_episodes[0];
    assert_eq!(first.failures_before_open, 5);
    // While open, the proxy saw no calls to UserService even though clients kept calling.
    let dep = &r.dependencies["UserService"];
    let open_from = first.opened_at_s.ceil() as u32;
    let open_to = (first.opened_at_s + first.open_for_s.unwrap()).floor() as u32;
    for s in dep
        .per_second
        .iter()
        .filter(|s| s.t_s >= open_from && s.t_s < open_to)
    {
        assert_eq!(s.requests, 0, "second {}", s.t_s);
        let client = &r.timeline[s.t_s as usize];
        assert!(client.status_classes["5xx"] > 100, "fallbacks at {}", s.t_s);
    }
    for op in r.operations.values() {
        let h = redline::report::histogram::decode(&op.histogram).unwrap();
        assert_eq!(h.len(), op.count);
    }
    assert!(r
        .verdicts
        .iter()
        .any(|v| v.status == redline::result::VerdictStatus::Fail));
    assert!(r
        .verdicts
        .iter()
        .any(|v| v.status == redline::result::VerdictStatus::Inconclusive));
}

#[test]
fn the_nospec_fixture_has_no_verdicts() {
    let r = load_fixture("nospec.json");
    assert!(r.verdicts.is_empty());
    assert!(r.spec.is_none());
    assert_eq!(
        r,
        chaos_run(Options {
            with_spec: false,
            ..Options::default()
        })
    );
}
