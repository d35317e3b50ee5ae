//! Names and words: normalised name matching, heading cleanup, and matching a breaker to a dependency.

/// Case-, space- and punctuation-insensitive form of a name: "Acquirer API" and "acquirer_api" both
/// become "acquirerapi". Use it to compare operation and dependency names across spec and scenario.
pub fn normalize_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Lower-case words of prose (letters and digits; everything else separates).
pub(crate) fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The words of an identifier or name, splitting snake_case, kebab-case and CamelCase:
/// "AcquirerAPI" -> ["acquirer", "api"], "fx_rates_breaker" -> ["fx", "rates", "breaker"].
pub(crate) fn name_words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        let chars: Vec<char> = part.chars().collect();
        let mut cur = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let prev = i.checked_sub(1).map(|k| chars[k]);
            let next = chars.get(i + 1).copied();
            let lower_to_upper = prev.is_some_and(|p| p.is_lowercase()) && c.is_uppercase();
            let acronym_end = prev.is_some_and(|p| p.is_uppercase())
                && c.is_uppercase()
                && next.is_some_and(|n| n.is_lowercase());
            if (lower_to_upper || acronym_end) && !cur.is_empty() {
                out.push(std::mem::take(&mut cur).to_lowercase());
            }
            cur.push(c);
        }
        if !cur.is_empty() {
            out.push(cur.to_lowercase());
        }
    }
    out
}

/// Words that say what kind of thing a name is, not which one: they never decide a match alone.
const GENERIC: &[&str] = &[
    "api",
    "service",
    "svc",
    "client",
    "breaker",
    "circuit",
    "cb",
    "the",
    "for",
    "external",
    "internal",
    "server",
    "http",
    "gateway",
    "call",
    "calls",
    "dependency",
    "dep",
];

fn significant(words: Vec<String>) -> Vec<String> {
    words
        .into_iter()
        .filter(|w| w.len() >= 2 && !GENERIC.contains(&w.as_str()))
        .collect()
}

/// How well `name` (a breaker variable, heading or comment) names dependency `dep`: the number of
/// significant words they share, where one word may be a prefix of the other ("postgres" names
/// "PostgreSQL"). 0 means no match.
pub(crate) fn match_score(name: &str, dep: &str) -> usize {
    let dep_norm = normalize_name(dep);
    let dep_words = significant(name_words(dep));
    let mut score = 0;
    for w in significant(name_words(name)) {
        let hit = dep_words.iter().any(|d| {
            d == &w || (w.len() >= 4 && d.starts_with(&w)) || (d.len() >= 4 && w.starts_with(d))
        }) || (w.len() >= 4 && dep_norm.starts_with(&w));
        if hit {
            score += 1;
        }
    }
    score
}

/// The one dependency in `deps` best named by `name`; None when none matches or two tie.
pub(crate) fn best_match<'a>(name: &str, deps: &'a [String]) -> Option<&'a String> {
    let mut scored: Vec<(usize, &String)> = deps
        .iter()
        .map(|d| (match_score(name, d), d))
        .filter(|(s, _)| *s > 0)
        .collect();
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    match scored.as_slice() {
        [(s1, d), (s2, _), ..] if s1 > s2 => Some(d),
        [(_, d)] => Some(d),
        _ => None,
    }
}

/// A heading without its numbering ("3.2", "4)", "IV.") and emoji or other leading symbols.
pub(crate) fn clean_heading(text: &str) -> String {
    let t = text.trim_start_matches(|c: char| !c.is_alphanumeric());
    let mut parts = t.splitn(2, char::is_whitespace);
    let first = parts.next().unwrap_or("");
    let rest = parts.next().unwrap_or("");
    let numbering = !rest.is_empty()
        && first.chars().next().is_some_and(|c| c.is_ascii_digit())
        && first
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | ')' | ':'));
    let t = if numbering {
        rest.trim_start_matches(|c: char| !c.is_alphanumeric())
    } else {
        t
    };
    t.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_names() {
        assert_eq!(
            normalize_name("Acquirer API"),
            normalize_name("acquirer_api")
        );
        assert_eq!(normalize_name("GET /payments/{id}"), "getpaymentsid");
    }

    #[test]
    fn splits_identifiers() {
        assert_eq!(name_words("AcquirerAPI"), ["acquirer", "api"]);
        assert_eq!(name_words("PostgreSQL"), ["postgre", "sql"]);
        assert_eq!(name_words("fx_rates-breaker"), ["fx", "rates", "breaker"]);
        assert_eq!(name_words("HTTPClient"), ["http", "client"]);
    }

    #[test]
    fn matches_breakers_to_dependencies() {
        let deps: Vec<String> = ["AcquirerAPI", "FraudCheck", "PostgreSQL", "FxRates"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            best_match("acquirer_breaker", &deps).map(String::as_str),
            Some("AcquirerAPI")
        );
        assert_eq!(
            best_match("postgres_cb", &deps).map(String::as_str),
            Some("PostgreSQL")
        );
        assert_eq!(
            best_match("fx_rates_breaker", &deps).map(String::as_str),
            Some("FxRates")
        );
        assert_eq!(best_match("circuit_breaker", &deps), None);
        assert_eq!(best_match("api_breaker", &deps), None);
    }

    #[test]
    fn cleans_headings() {
        assert_eq!(clean_heading("⚡ 7.2 Latency Targets"), "Latency Targets");
        assert_eq!(clean_heading("3) Dependencies"), "Dependencies");
        assert_eq!(clean_heading("🛡️ Circuit Breaker"), "Circuit Breaker");
        assert_eq!(clean_heading("2xx responses"), "2xx responses");
    }
}
