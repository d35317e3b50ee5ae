//! Objectives written as configuration in a code block (`p99: 400ms`, `availability: 99.95%`): redline
//! reads objectives from tables and sentences, so these are named as diagnostics, never silently
//! passed over.

use super::claims::Claims;
use super::diag;
use super::markdown::{Block, Kind};
use super::names::normalize_name;
use super::percentiles;
use super::tokens::{duration_at, percent_at, tokenize};

pub(crate) fn read(blocks: &[Block], claims: &mut Claims) {
    for b in blocks {
        let Kind::Code { lang, lines } = &b.kind else {
            continue;
        };
        if matches!(
            lang.trim().to_lowercase().as_str(),
            "mermaid" | "sql" | "text"
        ) {
            continue;
        }
        for (line, text) in lines {
            if let Some(what) = objective_setting(text) {
                let msg = format!(
                    "\"{}\" in a code block looks like {what} objective; objectives are read from tables and sentences, not configuration: not read",
                    text.trim()
                );
                diag(claims, *line, msg);
            }
        }
    }
}

/// `key: value`, `key = value` or `"key": "value"` where the key names a percentile (with a
/// duration value) or availability / an error rate or budget (with a percentage).
fn objective_setting(text: &str) -> Option<&'static str> {
    let (key, value) = text.split_once([':', '='])?;
    let key = key.trim().trim_matches(['"', '\'', '-', ' ']);
    let toks = tokenize(value);
    let has_duration = (0..toks.len()).any(|i| duration_at(&toks, i).is_some());
    let has_percent = (0..toks.len()).any(|i| percent_at(&toks, i).is_some());
    let norm = normalize_name(key);
    let key_toks = tokenize(key);
    let percentile_key = key_toks.len() <= 3
        && key_toks
            .iter()
            .any(|t| t.word().and_then(percentiles::from_word).is_some());
    if percentile_key && has_duration {
        return Some("a latency");
    }
    let objective_key = matches!(
        norm.as_str(),
        "availability"
            | "availabilitytarget"
            | "uptime"
            | "slo"
            | "sla"
            | "successrate"
            | "errorrate"
            | "maxerrorrate"
            | "errorbudget"
    );
    (objective_key && has_percent).then_some("an availability or error-rate")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_that_look_like_objectives() {
        assert_eq!(objective_setting("    p99: 400ms"), Some("a latency"));
        assert_eq!(objective_setting("  \"p99.9\": \"1s\","), Some("a latency"));
        assert_eq!(
            objective_setting("availability: 99.95%"),
            Some("an availability or error-rate")
        );
        assert_eq!(objective_setting("timeout: 5s"), None);
        assert_eq!(objective_setting("failure_threshold: 5"), None);
        assert_eq!(objective_setting("p99: computed below"), None);
    }
}
