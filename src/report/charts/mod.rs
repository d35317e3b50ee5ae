//! SVG charts for the HTML report, drawn with plotters' SVG backend; one file per chart.
//!
//! Every chart returns a complete `<svg>` string with no external reference (text uses generic
//! font families, which the page's CSS maps to the system UI font).

pub mod capacity;
pub mod dependency;
pub mod latency;
pub mod spectrum;
pub mod targets;
pub mod throughput;

use plotters::prelude::*;
use plotters::style::RGBColor;

use crate::result::RunResult;

pub type ChartResult = Result<String, Box<dyn std::error::Error>>;

/// Chart width and height in SVG units (the page scales them to its column).
pub const WIDTH: u32 = 1120;
pub const HEIGHT: u32 = 340;

pub const INK: RGBColor = RGBColor(31, 41, 55);
pub const GRID: RGBColor = RGBColor(229, 231, 235);
pub const MUTED: RGBColor = RGBColor(107, 114, 128);
pub const BLUE: RGBColor = RGBColor(37, 99, 235);
pub const AMBER: RGBColor = RGBColor(217, 119, 6);
pub const RED: RGBColor = RGBColor(220, 38, 38);
pub const GREEN: RGBColor = RGBColor(22, 163, 74);
pub const PURPLE: RGBColor = RGBColor(124, 58, 237);
pub const TEAL: RGBColor = RGBColor(13, 148, 136);
pub const FAULT: RGBColor = RGBColor(239, 68, 68);

/// Distinct series colours, in order.
pub const PALETTE: [RGBColor; 6] = [BLUE, AMBER, TEAL, PURPLE, RED, GREEN];

/// A stretch of the run's clock to shade behind a time chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub from_s: f64,
    pub to_s: f64,
    pub label: String,
    /// Label row from the top (0, 1 or 2), so labels of close windows stay apart; fault
    /// labels use rows 0 and 2, breaker labels row 1.
    pub row: u8,
}

/// Fault windows, optionally only those on one dependency. Labels name the fault kind, plus the
/// dependency when the run faulted more than one; a label that would run into the previous one
/// (about 8 px a character on a ~1000 px plot) drops to the next label row.
pub fn fault_windows(r: &RunResult, dependency: Option<&str>) -> Vec<Window> {
    let faults: Vec<&crate::result::AppliedFault> = r
        .faults
        .iter()
        .filter(|f| dependency.is_none_or(|d| d == f.dependency))
        .collect();
    let several = faults.iter().any(|f| f.dependency != faults[0].dependency);
    let secs_per_char = r.duration_s.max(1.0) * 8.0 / 1000.0;
    let mut out: Vec<Window> = Vec::new();
    for f in faults {
        let label = if several {
            format!("{} on {}", f.kind, f.dependency)
        } else {
            f.kind.clone()
        };
        let collides = out.last().is_some_and(|prev| {
            prev.from_s + 0.3 + secs_per_char * prev.label.chars().count() as f64 > f.applied_at_s
        });
        let row = match out.last() {
            Some(prev) if collides && prev.row == 0 => 2,
            _ => 0,
        };
        out.push(Window {
            from_s: f.applied_at_s,
            to_s: f.removed_at_s.unwrap_or(r.duration_s),
            label,
            row,
        });
    }
    out
}

/// Breaker state at one instant, from the episodes seen from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    /// The second in which traffic resumed with probe calls.
    HalfOpen,
}

/// Breaker state intervals of one dependency over [0, duration): (from, to, state).
pub fn breaker_states(r: &RunResult, dependency: &str) -> Vec<(f64, f64, BreakerState)> {
    let end = r.duration_s.max(1.0);
    let mut out = Vec::new();
    let mut t = 0.0;
    for e in r
        .breaker_episodes
        .iter()
        .filter(|e| e.dependency == dependency)
    {
        let open_to = e.open_for_s.map_or(end, |d| (e.opened_at_s + d).min(end));
        if e.opened_at_s > t {
            out.push((t, e.opened_at_s, BreakerState::Closed));
        }
        out.push((e.opened_at_s, open_to, BreakerState::Open));
        t = open_to;
        if e.open_for_s.is_some() && e.probes > 0 && t < end {
            let probe_to = (t + 1.0).min(end);
            out.push((t, probe_to, BreakerState::HalfOpen));
            t = probe_to;
        }
    }
    if t < end {
        out.push((t, end, BreakerState::Closed));
    }
    out
}

pub fn state_color(s: BreakerState) -> RGBColor {
    match s {
        BreakerState::Closed => GREEN,
        BreakerState::Open => RED,
        BreakerState::HalfOpen => AMBER,
    }
}

/// The series legend every chart uses: white box, light border, 13 px labels.
pub fn draw_legend<'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    position: SeriesLabelPosition,
) -> Result<(), Box<dyn std::error::Error>> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(GRID)
        .label_font(font(13))
        .draw()?;
    Ok(())
}

/// A legend swatch: a short thick line in `color`.
pub fn swatch(color: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
}

/// Draws `f` on a fresh white SVG canvas and returns the SVG text.
pub fn svg(
    size: (u32, u32),
    f: impl FnOnce(
        &DrawingArea<SVGBackend, plotters::coord::Shift>,
    ) -> Result<(), Box<dyn std::error::Error>>,
) -> ChartResult {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        root.fill(&WHITE)?;
        f(&root)?;
        root.present()?;
    }
    Ok(buf)
}

/// Text of `px` CSS pixels (plotters' SVG backend divides font sizes by 1.24).
pub fn font(px: u32) -> TextStyle<'static> {
    ("sans-serif", f64::from(px) * 1.24).into_font().color(&INK)
}

pub fn label_font() -> TextStyle<'static> {
    font(13).color(&MUTED)
}

/// Axis limits for a log-scale latency axis that holds every value in `values`.
pub fn log_bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::MAX, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if hi <= 0.0 {
        return (0.1, 10.0);
    }
    // Whole decades, so the axis reads 1 ms, 10 ms, 100 ms ... like a log chart should.
    let lo = 10f64.powf(lo.max(0.001).log10().floor());
    let hi = 10f64.powf((hi * 1.05).log10().ceil());
    (lo, hi.max(lo * 10.0))
}

/// "2.5 ms", "100 ms", "1 s" for axis labels.
pub fn axis_ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{} s", trim(v / 1000.0))
    } else {
        format!("{} ms", trim(v))
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::BreakerEpisode;

    #[test]
    fn breaker_states_cover_the_run_in_order() {
        let mut r = RunResult {
            duration_s: 40.0,
            ..RunResult::default()
        };
        r.breaker_episodes.push(BreakerEpisode {
            dependency: "users".into(),
            opened_at_s: 12.0,
            failures_before_open: 5,
            open_for_s: Some(10.0),
            probes: 1,
            outcome: "closed".into(),
        });
        let s = breaker_states(&r, "users");
        assert_eq!(
            s,
            vec![
                (0.0, 12.0, BreakerState::Closed),
                (12.0, 22.0, BreakerState::Open),
                (22.0, 23.0, BreakerState::HalfOpen),
                (23.0, 40.0, BreakerState::Closed),
            ]
        );
        assert!(breaker_states(&r, "other")
            .iter()
            .all(|s| s.2 == BreakerState::Closed));
    }

    #[test]
    fn close_fault_labels_take_turns_on_two_rows() {
        use crate::result::AppliedFault;
        let fault = |kind: &str, dep: &str, from: f64, to: f64| AppliedFault {
            kind: kind.into(),
            dependency: dep.into(),
            applied_at_s: from,
            removed_at_s: Some(to),
            params: serde_json::Value::Null,
            source: "schedule".into(),
        };
        let mut r = RunResult {
            duration_s: 40.0,
            ..RunResult::default()
        };
        r.faults = vec![
            fault("abort", "users", 13.0, 16.0),
            fault("hang", "users", 13.5, 25.0),
            fault("latency", "users", 30.0, 35.0),
        ];
        let w = fault_windows(&r, None);
        let rows: Vec<(String, u8)> = w.iter().map(|w| (w.label.clone(), w.row)).collect();
        assert_eq!(
            rows,
            [
                ("abort".into(), 0),
                ("hang".into(), 2),
                ("latency".into(), 0)
            ]
        );
        r.faults[1].dependency = "orders".into();
        assert_eq!(fault_windows(&r, None)[1].label, "hang on orders");
        assert_eq!(fault_windows(&r, Some("orders")).len(), 1);
    }

    #[test]
    fn log_bounds_are_whole_decades() {
        assert_eq!(log_bounds([3.0, 450.0].into_iter()), (1.0, 1000.0));
        assert_eq!(axis_ms(2500.0), "2.5 s");
        assert_eq!(axis_ms(0.5), "0.5 ms");
    }
}
