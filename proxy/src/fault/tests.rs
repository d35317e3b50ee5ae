//! Unit tests of the fault model: CLI parsing, JSON shape, matching, limits and seeded coins.

use super::*;
use std::time::Duration;

type Fields<'a> = [(&'a str, &'a [u8])];

fn view<'a>(method: &'a str, path: &'a str, headers: &'a Fields<'a>) -> RequestView<'a> {
    RequestView {
        method,
        path,
        headers,
    }
}

#[test]
fn parse_cli_reads_common_and_kind_keys() {
    let f =
        FaultSpec::parse_cli("abort:status=503,probability=0.5,retry_after=2,path=/api").unwrap();
    assert_eq!(f.name, "abort");
    assert_eq!(f.probability, 0.5);
    assert_eq!(f.matcher.path_prefix.as_deref(), Some("/api"));
    let FaultKind::Abort(a) = &f.kind else {
        panic!("{f:?}")
    };
    assert_eq!(a.status, 503);
    assert_eq!(a.headers.get("retry-after").map(String::as_str), Some("2"));

    let f = FaultSpec::parse_cli("latency:dist=uniform,min=10ms,max=1s,name=slow").unwrap();
    assert_eq!(f.name, "slow");
    assert!(FaultSpec::parse_cli("reset").is_ok());
    assert!(FaultSpec::parse_cli("down").unwrap().is_unconditional());
    assert!(FaultSpec::parse_cli("hang:after=2s,status=504").is_ok());
    assert!(FaultSpec::parse_cli("truncate:bytes=10").is_ok());
    assert!(FaultSpec::parse_cli("throttle:rate=1000").is_ok());
}

#[test]
fn parse_cli_errors_name_field_expected_found() {
    let cases = [
        ("abort:status=abc", "status"),
        ("abort", "status"),
        ("abort:status=700", "status"),
        ("abort:status=503,probability=2", "probability"),
        ("latency:delay=soon", "delay"),
        ("latency:dist=normal,mean=5ms", "stddev"),
        ("throttle:rate=0", "bytes_per_sec"),
        ("abort:status=503,colour=red", "colour"),
        ("abort:status=503,every=0", "every"),
    ];
    for (text, field) in cases {
        let err = FaultSpec::parse_cli(text).unwrap_err().to_string();
        assert!(
            err.contains(field) && err.contains("expected"),
            "{text}: {err}"
        );
    }
    let err = FaultSpec::parse_cli("explode:x=1").unwrap_err().to_string();
    assert!(err.contains("explode") && err.contains("latency"), "{err}");
}

#[test]
fn json_shape_round_trips_and_accepts_duration_strings() {
    let json = r#"{"name":"slow","kind":{"type":"latency","delay":"250ms","jitter":10},
                   "probability":0.25,"matcher":{"method":"GET"},"limit":{"first":3}}"#;
    let f: FaultSpec = serde_json::from_str(json).unwrap();
    let FaultKind::Latency(l) = &f.kind else {
        panic!("{f:?}")
    };
    assert_eq!(l.delay, Some(Ms::from_millis(250)));
    let back: FaultSpec = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
    assert_eq!(back, f);
    let minimal: FaultSpec = serde_json::from_str(r#"{"kind":{"type":"reset"}}"#).unwrap();
    assert_eq!(minimal.probability, 1.0);
}

#[test]
fn matcher_limits_and_first_match_wins() {
    let mut t = FaultTable::new(1);
    let hm: &Fields = &[("X-Chaos", b"yes")];
    let only_post = FaultSpec::parse_cli("abort:status=500,method=post,name=a").unwrap();
    let header = FaultSpec::parse_cli("reset:header=x-chaos,header_value=yes,name=b").unwrap();
    let mut only_header = FaultTable::new(1);
    only_header.add(header.clone()).unwrap();
    let other_value: &Fields = &[("x-chaos", b"no")];
    assert!(only_header.decide(&view("GET", "/", other_value)).is_none());
    assert!(only_header.decide(&view("GET", "/", hm)).is_some());
    let every2 = FaultSpec::parse_cli("abort:status=429,every=2,first=4,name=c").unwrap();
    t.add(only_post).unwrap();
    t.add(header).unwrap();
    t.add(every2).unwrap();
    let empty: &Fields = &[];
    assert_eq!(t.decide(&view("POST", "/", empty)).unwrap().name, "a");
    assert_eq!(
        t.decide(&view("GET", "/", hm)).unwrap().action,
        Action::Reset
    );
    let picks: Vec<bool> = (0..8)
        .map(|_| t.decide(&view("GET", "/", empty)).is_some())
        .collect();
    // Matching requests 1..=8: every 2nd, but only among the first 4.
    assert_eq!(
        picks,
        [false, true, false, true, false, false, false, false]
    );
}

#[test]
fn duplicate_names_update_and_remove() {
    let mut t = FaultTable::new(0);
    t.add(FaultSpec::parse_cli("reset").unwrap()).unwrap();
    assert_eq!(
        t.add(FaultSpec::parse_cli("reset").unwrap()),
        Err(FaultError::Exists("reset".into()))
    );
    let new = FaultSpec::new(FaultKind::Latency(Latency::fixed(Duration::from_millis(5))));
    t.update("reset", new.clone().named("")).unwrap();
    assert_eq!(t.specs()[0].name, "reset");
    assert!(matches!(
        t.update("nope", new),
        Err(FaultError::NotFound(_))
    ));
    assert!(t.remove("reset"));
    assert!(!t.remove("reset"));
    assert!(t.is_empty());
}

#[test]
fn seeded_coins_reproduce_and_match_probability() {
    let run = |seed| {
        let mut t = FaultTable::new(seed);
        t.add(FaultSpec::parse_cli("abort:status=503,probability=0.3").unwrap())
            .unwrap();
        (0..2000)
            .map(|_| t.decide(&view("GET", "/", &[])).is_some())
            .collect::<Vec<_>>()
    };
    let a = run(42);
    assert_eq!(a, run(42));
    assert_ne!(a, run(43));
    let hits = a.iter().filter(|x| **x).count() as f64;
    // Binomial(2000, 0.3): mean 600, sd 20.5; 5 sd either side.
    assert!((497.0..=703.0).contains(&hits), "{hits}");
}
