//! The capacity search's chart: each judged latency claim's measured value at each step's offered
//! rate, the claim as a dashed line in the same colour, the knee (the capacity found) and the
//! first failing rate above it as vertical lines.

use std::collections::BTreeMap;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::capacity::search::fmt_rate;
use crate::result::Capacity;

use super::{
    axis_ms, font, label_font, log_bounds, svg, swatch, ChartResult, GREEN, GRID, HEIGHT, INK,
    PALETTE, RED, WIDTH,
};

/// One step's reading of one claim.
#[derive(Debug, Clone, Copy)]
struct Point {
    rate: f64,
    ms: f64,
    held: bool,
    verify: bool,
}

/// Per claim id: (target, points in rate order).
type Series = BTreeMap<String, (Option<f64>, Vec<Point>)>;

/// Most series one chart shows (one colour each).
pub const MAX_SERIES: usize = 6;

/// The percentile claims to draw: the limiting one first, then those that failed in the most
/// steps, at most `MAX_SERIES`; timeouts (a maximum, seconds above the percentiles) are left out.
/// With no failure at all, the first claims. Returns the series and how many claims were left out.
fn series(c: &Capacity) -> (Series, usize) {
    let mut all: Series = BTreeMap::new();
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    for s in &c.steps {
        for k in s.claims.iter().filter(|k| !k.id.ends_with(".timeout")) {
            let e = all.entry(k.id.clone()).or_insert((k.target_ms, Vec::new()));
            if let Some(m) = k.measured_ms {
                e.1.push(Point {
                    rate: s.rate,
                    ms: m,
                    held: s.holds == Some(true),
                    verify: s.phase == "verify",
                });
            }
            *failures.entry(k.id.clone()).or_default() += usize::from(k.status == "fail");
        }
    }
    let limiting = c.limiting_claim.as_ref().map(|l| l.id.as_str());
    let mut ids: Vec<&String> = all.keys().collect();
    ids.sort_by_key(|id| {
        (
            Some(id.as_str()) != limiting,
            std::cmp::Reverse(failures.get(*id).copied().unwrap_or(0)),
        )
    });
    let keep: Vec<String> = ids.into_iter().take(MAX_SERIES).cloned().collect();
    let left_out = all.len() - keep.len();
    let mut out: Series = all
        .into_iter()
        .filter(|(id, _)| keep.contains(id))
        .collect();
    for (_, points) in out.values_mut() {
        points.sort_by(|a, b| a.rate.total_cmp(&b.rate));
    }
    (out, left_out)
}

/// How many judged percentile claims the chart leaves out (for the caption).
pub fn left_out(c: &Capacity) -> usize {
    series(c).1
}

pub fn chart(c: &Capacity) -> ChartResult {
    let (data, _) = series(c);
    if data.values().all(|(_, p)| p.is_empty()) {
        return Err("no step measured a claimed percentile".into());
    }
    let rates = c.steps.iter().map(|s| s.rate);
    let x_hi = rates.fold(1.0f64, f64::max) * 1.08;
    let values = data
        .values()
        .flat_map(|(t, p)| p.iter().map(|x| x.ms).chain(*t));
    let (y_lo, y_hi) = log_bounds(values);
    svg((WIDTH, HEIGHT + 60), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(24)
            .margin_top(36)
            .x_label_area_size(48)
            .y_label_area_size(78)
            .build_cartesian_2d(0f64..x_hi, (y_lo..y_hi).log_scale())?;
        chart
            .configure_mesh()
            .light_line_style(GRID.mix(0.6))
            .bold_line_style(GRID)
            .axis_style(INK.mix(0.5))
            .label_style(label_font())
            .x_desc("offered rate (req/s)")
            .axis_desc_style(label_font())
            .y_label_formatter(&|v| axis_ms(*v))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        for (rate, color, label) in [
            (c.max_rate, GREEN, "capacity"),
            (c.upper_rate, RED, "fails"),
        ] {
            let Some(x) = rate else { continue };
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x, y_lo), (x, y_hi)],
                color.stroke_width(2),
            )))?;
            let (px, py) = chart.backend_coord(&(x, y_hi));
            let (hpos, dx) = if label == "fails" {
                (HPos::Left, 6)
            } else {
                (HPos::Right, -6)
            };
            let style = font(12).color(&color).pos(Pos::new(hpos, VPos::Top));
            root.draw(&Text::new(
                format!("{label} {}", fmt_rate(x)),
                (px + dx, py + 4),
                style,
            ))?;
        }
        for (i, (id, (target, points))) in data.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            if let Some(t) = target {
                chart.draw_series(dashes(0.0, x_hi, *t, color))?;
            }
            // The curve joins the short steps; verification runs (longer, later) are squares
            // beside it, so a target that changed over time shows as a square off the curve.
            chart
                .draw_series(LineSeries::new(
                    points.iter().filter(|p| !p.verify).map(|p| (p.rate, p.ms)),
                    color.stroke_width(2),
                ))?
                .label(short(id))
                .legend(swatch(color));
            chart.draw_series(points.iter().filter(|p| !p.verify).map(|p| {
                let style = if p.held {
                    color.filled()
                } else {
                    color.stroke_width(2)
                };
                Circle::new((p.rate, p.ms), 5, style)
            }))?;
            for p in points.iter().filter(|p| p.verify) {
                let (x, y) = chart.backend_coord(&(p.rate, p.ms));
                let style = if p.held {
                    color.filled()
                } else {
                    color.stroke_width(2)
                };
                root.draw(&Rectangle::new([(x - 6, y - 6), (x + 6, y + 6)], style))?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.9))
            .border_style(GRID)
            .label_font(font(12))
            .draw()?;
        Ok(())
    })
}

/// "latency.get-item.p99" as "get-item p99".
fn short(id: &str) -> String {
    let rest = id.strip_prefix("latency.").unwrap_or(id);
    match rest.rsplit_once('.') {
        Some((op, p)) => format!("{op} {p} (dashed: claim)"),
        None => rest.to_string(),
    }
}

/// A horizontal dashed line at `y` from `x0` to `x1` (plotters' SVG backend has no dash style).
fn dashes(
    x0: f64,
    x1: f64,
    y: f64,
    color: RGBColor,
) -> impl Iterator<Item = PathElement<(f64, f64)>> {
    let n = 60;
    let w = (x1 - x0) / n as f64;
    (0..n).step_by(2).map(move |k| {
        let a = x0 + k as f64 * w;
        PathElement::new(vec![(a, y), (a + w, y)], color.stroke_width(2))
    })
}
