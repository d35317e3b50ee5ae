//! Rate-limit prose that restates a limit ("beyond 100 requests per second the answer is 429") is
//! read as that limit, never as a tier named after the word before the figure.

use redline::spec::parse;

/// The reference service's rate-limit section as it was shipped before f1b50d6.
const OLD_REFERENCE: &str = r#"## Reference Item Service

### Security

#### Rate Limiting

```python
RATE_LIMITS = {
    "default": "100/second",   # per client key (x-client-key header, else client IP)
}
```

Each key may send a burst of 100 requests; beyond 100 requests per second the answer is 429 with
`Retry-After`. `/health` and `/ready` are not limited.
"#;

fn names(spec: &str) -> Vec<(String, u64, f64, usize)> {
    parse(spec)
        .rate_limits
        .iter()
        .map(|r| (r.name.clone(), r.requests, r.per_s, r.line))
        .collect()
}

#[test]
fn prose_restating_the_code_block_limit_is_not_a_second_tier() {
    assert_eq!(names(OLD_REFERENCE), [("default".to_string(), 100, 1.0, 9)]);
}

#[test]
fn prose_alone_is_the_sections_limit() {
    let spec = "# S\n\n## Rate Limiting\n\nEach key may send a burst of 100 requests; beyond 100 requests \
                per second the answer is 429.\n";
    assert_eq!(names(spec), [("default".to_string(), 100, 1.0, 5)]);
}

#[test]
fn comparison_words_are_never_names() {
    for word in ["beyond", "above", "over", "past", "exceeding", "after"] {
        let spec = format!(
            "# S\n\n## Rate Limiting\n\n```python\n@rate_limit(key=\"client_key\", rate=\"100/second\")\n\
             def items_api(request):\n    ...\n```\n\nSends {word} 100 requests per second get 429.\n"
        );
        let got = names(&spec);
        assert_eq!(got, [("items_api".to_string(), 100, 1.0, 6)], "{word}");
    }
}

#[test]
fn a_different_figure_in_prose_is_its_own_limit() {
    // Not a restatement: a second figure the prose gives on its own is still read (named by the
    // section), so a conflict between code and prose shows instead of vanishing.
    let spec = "# S\n\n## Rate Limiting\n\n```python\nRATE_LIMITS = {\"default\": \"100/second\"}\n```\n\n\
                Beyond 50 requests per second the answer is 429.\n";
    let got = names(spec);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|(n, ..)| n == "default"), "{got:?}");
}

#[test]
fn labelled_tiers_keep_their_labels() {
    let spec = "# S\n\n## Rate Limits\n\nAnon: 60/min, Pro: 1000/min\n";
    assert_eq!(
        names(spec),
        [
            ("Anon".to_string(), 60, 60.0, 5),
            ("Pro".to_string(), 1000, 60.0, 5)
        ]
    );
}
