//! The readiness endpoint's answers where they changed (`RunResult::ready`), shown by every
//! renderer right after the health endpoint's.

use std::fmt::Write;

use super::html::esc;
use super::model::Report;
use super::text;

/// "Readiness endpoint /ready (changes only)", and the changes: (seconds since t = 0, "ready (200)").
/// None when the run took no readiness sample.
pub fn changes(report: &Report) -> Option<(String, Vec<(f64, String)>)> {
    let ready = report.result.ready.as_ref()?;
    let out = super::model::health_changes(&ready.samples);
    if out.is_empty() {
        return None;
    }
    let title = format!("Readiness endpoint {} (changes only)", ready.path);
    Some((title, out))
}

/// The terminal's lines under the section title, wrapped to `width`.
pub fn terminal_lines(changes: &[(f64, String)], width: usize) -> Vec<String> {
    let joined: Vec<String> = changes
        .iter()
        .map(|(t, answer)| format!("{t:.1} s {answer}"))
        .collect();
    text::wrap(&joined.join(" → "), width.saturating_sub(4))
        .into_iter()
        .map(|l| format!("  {l}"))
        .collect()
}

pub fn markdown(report: &Report, md: &mut String) {
    let Some((title, changes)) = changes(report) else {
        return;
    };
    let _ = writeln!(md, "#### {title}\n");
    let joined: Vec<String> = changes
        .iter()
        .map(|(t, answer)| format!("{t:.1} s **{answer}**"))
        .collect();
    md.push_str(&joined.join(" → "));
    md.push_str("\n\n");
}

pub fn html(report: &Report, h: &mut String) {
    let Some((title, changes)) = changes(report) else {
        return;
    };
    let _ = write!(
        h,
        "<h3>{}</h3>\n<table>\n<thead><tr><th class=\"num\">at</th><th>readiness endpoint answered</th></tr></thead>\n<tbody>\n",
        esc(&title)
    );
    for (t, answer) in &changes {
        let _ = writeln!(
            h,
            "<tr><td class=\"num\">{}</td><td>{}</td></tr>",
            esc(&text::secs(*t)),
            esc(answer)
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{HealthSample, ReadySamples, RunResult};

    #[test]
    fn only_changes_are_shown_in_every_format() {
        let sample = |t_s: f64, status: Option<u16>, state: Option<&str>| HealthSample {
            t_s,
            status,
            state: state.map(str::to_string),
        };
        let mut r = RunResult::default();
        assert!(changes(&Report::new(&r)).is_none());
        r.ready = Some(ReadySamples {
            path: "/ready".into(),
            samples: vec![
                sample(0.0, Some(200), Some("ready")),
                sample(0.5, Some(200), Some("ready")),
                sample(1.0, Some(503), Some("not_ready")),
                sample(1.5, None, None),
            ],
        });
        let report = Report::new(&r);
        let (title, c) = changes(&report).unwrap();
        assert_eq!(title, "Readiness endpoint /ready (changes only)");
        assert_eq!(c.len(), 3);
        let lines = terminal_lines(&c, 80);
        assert_eq!(
            lines,
            ["  0.0 s ready (200) → 1.0 s not_ready (503) → 1.5 s no answer"]
        );
        let mut md = String::new();
        markdown(&report, &mut md);
        assert!(md.contains("1.0 s **not_ready (503)**"), "{md}");
        let mut h = String::new();
        html(&report, &mut h);
        assert!(h.contains("<td>not_ready (503)</td>"), "{h}");
    }
}
