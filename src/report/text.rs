//! Number formatting, word wrapping and fixed-width tables shared by the text renderers.

use crate::result::VerdictStatus;

use super::model::Report;

/// A latency for people: "0.85 ms", "4.27 ms", "31.6 ms", "143 ms", "1.25 s".
pub fn ms(v: f64) -> String {
    if !v.is_finite() {
        return "–".to_string();
    }
    if v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else if v >= 100.0 {
        format!("{v:.0} ms")
    } else if v >= 10.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

pub fn opt_ms(v: Option<f64>) -> String {
    v.map(ms).unwrap_or_else(|| "–".to_string())
}

/// A count with thousands separators: 12,345.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A percentage with precision where it matters: "0%", "0.04%", "2.3%", "41%".
/// One line about a TCP dependency's connections: how many, who closed them first, and when
/// the service gave up on held answers (`None` when the result has no connection log).
pub fn tcp_connections(name: &str, d: &crate::result::DependencyReport) -> Option<String> {
    let c = d.connections.as_ref()?;
    let by = |k: &str| count(c.closed_by.get(k).copied().unwrap_or(0));
    let mut line = format!(
        "{name} (tcp): {} connections; closed first by client {}, upstream {}, toxic {}",
        count(c.total),
        by("client"),
        by("upstream"),
        by("toxic"),
    );
    if c.gave_up > 0 {
        let p50 = d.gave_up_ms.map_or("–".into(), |g| ms(g.p50));
        line.push_str(&format!("; gave up {} (p50 {p50})", count(c.gave_up)));
    }
    Some(line)
}

/// A breaker episode's cells: dependency, opened at, failures before, open for, probes, outcome.
pub fn episode_cells(e: &crate::result::BreakerEpisode) -> Vec<String> {
    vec![
        e.dependency.clone(),
        secs(e.opened_at_s),
        e.failures_before_open.to_string(),
        e.open_for_s.map_or("until end".to_string(), secs),
        e.probes.to_string(),
        e.outcome.clone(),
    ]
}

pub fn pct(p: f64) -> String {
    if p == 0.0 {
        "0%".to_string()
    } else if p < 1.0 {
        format!("{p:.2}%")
    } else if p < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

pub fn secs(s: f64) -> String {
    format!("{s:.1} s")
}

/// A signed relative change: "+12.4%", "−3.1%".
pub fn change(p: Option<f64>) -> String {
    match p {
        None => "–".to_string(),
        Some(p) if p < 0.0 => format!("−{:.1}%", -p),
        Some(p) => format!("+{p:.1}%"),
    }
}

pub fn status_label(s: VerdictStatus) -> &'static str {
    match s {
        VerdictStatus::Pass => "PASS",
        VerdictStatus::Fail => "FAIL",
        VerdictStatus::Inconclusive => "INCONCLUSIVE",
    }
}

/// "200×1,234 · 503×87", at most `max` entries.
pub fn tally(items: &[(String, u64)], max: usize) -> String {
    let mut parts: Vec<String> = items
        .iter()
        .take(max)
        .map(|(k, n)| format!("{k}×{}", count(*n)))
        .collect();
    if items.len() > max {
        parts.push(format!("+{} more", items.len() - max));
    }
    parts.join(" · ")
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// The failure kinds behind the errors column. Judged against a spec, those other than a
/// status: the statuses are in the status tally, and whether one was an error or the promised
/// fallback is the errors/fallback split's call. Measured alone, all of them (the errors column
/// then counts statuses outside `expect_status`).
pub fn failure_kinds(report: &Report, kinds: &[(String, u64)]) -> Vec<(String, u64)> {
    let all = report.result.verdicts.is_empty();
    kinds
        .iter()
        .filter(|(k, _)| all || !k.contains("status"))
        .cloned()
        .collect()
}

/// What the errors and fallback columns count, in one sentence under the per-request table.
pub fn answers_legend(report: &Report) -> String {
    if !report.fallback_known {
        return "Errors: transport failures and 5xx answers, the spec's fallback answers included: \
                this result was judged before redline recorded when the fallback was the promised \
                answer (its error-rate verdicts left those out)."
            .to_string();
    }
    if report.result.verdicts.is_empty() {
        return "Errors: transport failures, timeouts and statuses outside the scenario's \
                expect_status (no spec judged)."
            .to_string();
    }
    let windows = report.result.fallback_windows.as_deref().unwrap_or(&[]);
    if windows.is_empty() {
        return "Errors: transport failures and 5xx answers (as the error-rate verdicts count them)."
            .to_string();
    }
    let mut deps: Vec<String> = Vec::new();
    for w in windows {
        let answer = crate::spec::claims::fallback_statuses(w.status, w.grpc_status);
        let d = format!("{} from {}", answer.unwrap_or_default(), w.dependency);
        if !deps.contains(&d) {
            deps.push(d);
        }
    }
    format!(
        "Fallback: the spec's fallback answer ({}) while the dependency was down or its breaker \
         open; errors: the other transport failures and 5xx answers. The error-rate verdicts count \
         the same way.",
        deps.join(", ")
    )
}

/// Wraps `text` into lines of at most `width` characters, splitting over-long words.
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in glue_units(text) {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > max {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(word.drain(..max).collect());
        }
        let word: String = word.into_iter().collect();
        if !line.is_empty() && width(&line) + 1 + width(&word) > max {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Words of `text`, with a unit kept on the number before it ("250 ms" never splits).
fn glue_units(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for w in text.split_whitespace() {
        // "ms–302" (a range's end) still belongs to the number before it.
        let bare = w.split('–').next().unwrap_or(w);
        let unit = matches!(
            bare.trim_end_matches([',', ')', '.', ';']),
            "ms" | "s" | "µs" | "%" | "req/s"
        );
        match words.last_mut() {
            Some(prev) if unit && prev.ends_with(|c: char| c.is_ascii_digit()) => {
                prev.push(' ');
                prev.push_str(w);
            }
            _ => words.push(w.to_string()),
        }
    }
    words
}

/// Pads (or leaves) `s` to `w` characters, on the left when `right`.
pub fn pad(s: &str, w: usize, right: bool) -> String {
    let fill = " ".repeat(w.saturating_sub(width(s)));
    if right {
        format!("{fill}{s}")
    } else {
        format!("{s}{fill}")
    }
}

/// One column of a fixed-width table.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub header: &'static str,
    pub width: usize,
    pub right: bool,
}

pub const fn col(header: &'static str, width: usize) -> Col {
    Col {
        header,
        width,
        right: false,
    }
}

pub const fn rcol(header: &'static str, width: usize) -> Col {
    Col {
        header,
        width,
        right: true,
    }
}

/// Sizes `cols` to their content (header and cells, never below the given width for numbers,
/// which keeps related tables aligned) so nothing wraps; when the table would exceed `max`
/// columns (with its two-space indent and gaps), the first column, the name, gives up room and
/// its cells are abbreviated in the middle ("fault:UserS…:abort"), never wrapped mid-word.
pub fn fit(cols: &[Col], rows: &mut [Vec<String>], max: usize) -> Vec<Col> {
    let mut fitted: Vec<Col> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let content = rows
                .iter()
                .filter_map(|r| r.get(i))
                .map(|s| width(s))
                .max()
                .unwrap_or(0)
                .max(width(c.header));
            // Names shrink to their content; numbers keep their usual width as a minimum.
            let w = if i == 0 {
                content
            } else {
                content.max(c.width)
            };
            Col { width: w, ..*c }
        })
        .collect();
    let total =
        |cols: &[Col]| 2 + cols.iter().map(|c| c.width).sum::<usize>() + 2 * (cols.len() - 1);
    if fitted.is_empty() || total(&fitted) <= max {
        return fitted;
    }
    let others = total(&fitted) - fitted[0].width;
    let name_width = max.saturating_sub(others).max(width(fitted[0].header));
    fitted[0].width = name_width;
    for row in rows.iter_mut() {
        if let Some(name) = row.first_mut() {
            *name = abbreviate(name, name_width);
        }
    }
    fitted
}

/// Shortens `s` to `max` characters with an ellipsis in the middle, keeping the end (the part
/// after the last ':' or '/', which tells similar names apart) whenever it fits.
pub fn abbreviate(s: &str, max: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= max || max < 3 {
        return s.to_string();
    }
    let last_sep = chars.iter().rposition(|c| *c == ':' || *c == '/');
    let tail = match last_sep {
        Some(i) if chars.len() - i <= max - 2 => chars.len() - i,
        _ => (max - 1) / 2,
    };
    let head = max - 1 - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// Renders a table indented by two spaces; cells wrap within their column. `style` gets
/// (row, column, padded cell) and may add colour around it without changing its width.
pub fn table(
    cols: &[Col],
    rows: &[Vec<String>],
    style: &dyn Fn(usize, usize, String) -> String,
) -> Vec<String> {
    let mut out = Vec::new();
    let header: Vec<String> = cols
        .iter()
        .map(|c| pad(c.header, c.width, c.right))
        .collect();
    out.push(format!("  {}", header.join("  ").trim_end()));
    for (r, row) in rows.iter().enumerate() {
        let wrapped: Vec<Vec<String>> = cols
            .iter()
            .zip(row)
            .map(|(c, cell)| wrap(cell, c.width))
            .collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        for l in 0..height {
            let cells: Vec<String> = cols
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let text = wrapped
                        .get(i)
                        .and_then(|w| w.get(l))
                        .map_or("", String::as_str);
                    let padded = pad(text, c.width, c.right);
                    if text.is_empty() {
                        padded
                    } else {
                        style(r, i, padded)
                    }
                })
                .collect();
            out.push(format!("  {}", cells.join("  ")).trim_end().to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers_for_people() {
        assert_eq!(ms(0.853), "0.85 ms");
        assert_eq!(ms(143.4), "143 ms");
        assert_eq!(ms(1250.0), "1.25 s");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(pct(0.0), "0%");
        assert_eq!(change(Some(-3.04)), "−3.0%");
    }

    #[test]
    fn wraps_and_splits_long_words() {
        assert_eq!(wrap("a bb ccc dddd", 6), vec!["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert_eq!(wrap("", 5), vec![""]);
        // Words are never cut while they fit a line; units stay on their number.
        assert_eq!(
            wrap("phase 'fault:UserService:abort' took 250 ms", 25),
            vec!["phase", "'fault:UserService:abort'", "took 250 ms"]
        );
    }

    #[test]
    fn abbreviates_in_the_middle_keeping_the_distinguishing_end() {
        assert_eq!(
            abbreviate("fault:UserService:abort", 16),
            "fault:Use…:abort"
        );
        assert_eq!(abbreviate("fault:UserService:hang", 16), "fault:User…:hang");
        assert_eq!(abbreviate("short", 16), "short");
        assert_eq!(abbreviate("abcdefghij", 5), "ab…ij");
        assert_eq!(abbreviate("fault:UserService:abort", 9), "fa…:abort");
    }

    #[test]
    fn fitted_tables_grow_to_their_content_and_shrink_the_name_when_too_wide() {
        let cols = [col("PHASE", 10), rcol("REQS", 6)];
        let mut rows = vec![vec![
            "fault:UserService:abort".to_string(),
            "208".to_string(),
        ]];
        let fitted = fit(&cols, &mut rows, 80);
        assert_eq!(fitted[0].width, 23, "the whole name fits");
        assert_eq!(fitted[1].width, 6, "numbers keep their width");
        let fitted = fit(&cols, &mut rows, 26);
        assert_eq!(fitted[0].width, 16);
        assert_eq!(rows[0][0], "fault:Use…:abort");
        let lines = table(&fitted, &rows, &|_, _, s| s);
        assert!(lines.iter().all(|l| l.chars().count() <= 26), "{lines:?}");
    }

    #[test]
    fn tables_never_exceed_their_width() {
        let cols = [col("A", 5), rcol("B", 4)];
        let rows = vec![vec!["one two three".to_string(), "12".to_string()]];
        let lines = table(&cols, &rows, &|_, _, s| s);
        assert!(lines.iter().all(|l| l.chars().count() <= 2 + 5 + 2 + 4));
        assert_eq!(lines.len(), 1 + 3);
    }
}
