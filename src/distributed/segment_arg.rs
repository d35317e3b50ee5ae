//! `--segment I/N` and `--segment auto/N` (the index from `JOB_COMPLETION_INDEX`, as a
//! Kubernetes Indexed Job sets it).

use crate::engine::Segment;

/// The environment variable a Kubernetes Indexed Job sets to each pod's completion index.
pub const INDEX_VAR: &str = "JOB_COMPLETION_INDEX";

/// Parses `I/N` (0 <= I < N) or `auto/N`; `env` looks variables up (`std::env::var` in the CLI).
pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Segment, String> {
    let expected = "expected I/N (0 <= I < N, e.g. 0/4) or auto/N";
    let (i, n) = text
        .split_once('/')
        .ok_or_else(|| format!("--segment: {expected}, found {text:?}"))?;
    let count: u32 = n
        .trim()
        .parse()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| format!("--segment: {expected}, found N = {n:?}"))?;
    let index_text = if i.trim() == "auto" {
        env(INDEX_VAR).ok_or_else(|| {
            format!("--segment {text}: auto reads {INDEX_VAR} (set by a Kubernetes Indexed Job), which is not set")
        })?
    } else {
        i.trim().to_string()
    };
    let index: u32 = index_text.trim().parse().map_err(|_| {
        let from = if i.trim() == "auto" { INDEX_VAR } else { "I" };
        format!(
            "--segment {text}: {from} should be a whole number from 0 to {}, found {index_text:?}",
            count - 1
        )
    })?;
    if index >= count {
        let from = if i.trim() == "auto" {
            format!(" ({INDEX_VAR})")
        } else {
            String::new()
        };
        return Err(format!(
            "--segment {text}: index{from} should be below N = {count}, found {index}"
        ));
    }
    Ok(Segment { index, count })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn reads_index_and_count() {
        assert_eq!(parse("1/4", none), Ok(Segment { index: 1, count: 4 }));
        let env = |k: &str| (k == INDEX_VAR).then(|| "3".to_string());
        assert_eq!(parse("auto/4", env), Ok(Segment { index: 3, count: 4 }));
        assert!(parse("auto/4", none)
            .unwrap_err()
            .contains("JOB_COMPLETION_INDEX"));
        assert!(parse("4/4", none)
            .unwrap_err()
            .contains("below N = 4, found 4"));
        assert!(parse("auto/2", env)
            .unwrap_err()
            .contains("(JOB_COMPLETION_INDEX)"));
        assert!(parse("1", none).unwrap_err().contains("expected I/N"));
        assert!(parse("0/0", none).unwrap_err().contains("N = \"0\""));
        assert!(parse("x/2", none).unwrap_err().contains("found \"x\""));
    }
}
