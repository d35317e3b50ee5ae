//! Latency percentiles over time for one request, fault windows shaded, and a breaker-state strip
//! per dependency underneath on the same time axis.

use plotters::prelude::*;

use crate::result::RunResult;

use plotters::coord::combinators::{LogCoord, WithKeyPoints};
use plotters::style::RGBColor;

use super::{
    axis_ms, breaker_states, fault_windows, font, label_font, log_bounds, state_color, svg,
    BreakerState, ChartResult, AMBER, BLUE, FAULT, GRID, HEIGHT, INK, RED, WIDTH,
};

const STRIP_ROW: u32 = 22;
const Y_LABELS: u32 = 78;

type Lines = [(&'static str, RGBColor, Vec<(f64, f64)>); 3];

/// P50 / P95 / P99 per second of request `op` (seconds where it settled nothing are gaps).
fn lines(r: &RunResult, op: &str) -> Lines {
    let points = |f: fn(&crate::result::OpSecond) -> f64| -> Vec<(f64, f64)> {
        r.timeline
            .iter()
            .filter_map(|b| {
                b.ops
                    .get(op)
                    .filter(|s| s.count > 0)
                    .map(|s| (f64::from(b.t_s) + 0.5, f(s)))
            })
            .filter(|(_, v)| *v > 0.0)
            .collect()
    };
    [
        ("P50", BLUE, points(|s| s.p50_ms)),
        ("P95", AMBER, points(|s| s.p95_ms)),
        ("P99", RED, points(|s| s.p99_ms)),
    ]
}

/// A log latency axis labelled at every decade (1 ms, 10 ms ...) with light lines at 2× and 5×.
pub(super) fn log_axis(lo: f64, hi: f64) -> WithKeyPoints<LogCoord<f64>> {
    let mut decades = Vec::new();
    let mut light = Vec::new();
    let mut d = lo;
    while d <= hi * 1.0001 {
        decades.push(d);
        light.extend([2.0 * d, 5.0 * d].into_iter().filter(|v| *v < hi));
        d *= 10.0;
    }
    (lo..hi)
        .log_scale()
        .with_key_points(decades)
        .with_light_points(light)
}

/// The chart for request `op`.
pub fn chart(r: &RunResult, op: &str) -> ChartResult {
    let deps: Vec<&String> = r.dependencies.keys().collect();
    let strip_h = if deps.is_empty() {
        0
    } else {
        24 + STRIP_ROW * deps.len() as u32
    };
    let series = lines(r, op);
    let x_max = r.duration_s.max(r.timeline.len() as f64).max(1.0);
    let (y_lo, y_hi) = log_bounds(series.iter().flat_map(|s| s.2.iter().map(|p| p.1)));
    svg((WIDTH, HEIGHT + strip_h), |root| {
        let (top, bottom) = root.split_vertically(HEIGHT);
        let mut chart = ChartBuilder::on(&top)
            .margin(12)
            .margin_top(30)
            .margin_right(24)
            .x_label_area_size(34)
            .y_label_area_size(Y_LABELS)
            .build_cartesian_2d(0f64..x_max, log_axis(y_lo, y_hi))?;
        chart
            .configure_mesh()
            .light_line_style(GRID.mix(0.6))
            .bold_line_style(GRID)
            .axis_style(INK.mix(0.5))
            .label_style(label_font())
            .axis_desc_style(font(13))
            .x_desc("seconds since start")
            .y_label_formatter(&|v| axis_ms(*v))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        for w in fault_windows(r, None) {
            let rect = Rectangle::new([(w.from_s, y_lo), (w.to_s, y_hi)], FAULT.mix(0.10).filled());
            chart.draw_series(std::iter::once(rect))?;
            // A thin edge where each fault starts, so back-to-back faults read as two.
            let edge = PathElement::new(vec![(w.from_s, y_lo), (w.from_s, y_hi)], FAULT.mix(0.5));
            chart.draw_series(std::iter::once(edge))?;
            // Label rows step down the log axis by a fixed share of its height.
            let decades = (y_hi / y_lo).log10();
            let at = (
                w.from_s + 0.3,
                y_hi / 10f64.powf(decades * (0.04 + 0.035 * f64::from(w.row))),
            );
            chart.draw_series(std::iter::once(Text::new(
                w.label,
                at,
                font(12).color(&RED),
            )))?;
        }
        // The legend sits above the plot: inside it, it hid the last seconds of the lines.
        let (w, _) = top.dim_in_pixel();
        let mut x = w as i32 - 24 - 190;
        for (name, color, _) in &series {
            let y = 14;
            // P99's swatch is dashed like its line.
            let pieces: &[(i32, i32)] = if *name == "P99" {
                &[(0, 8), (12, 22)]
            } else {
                &[(0, 22)]
            };
            for (a, b) in pieces {
                top.draw(&PathElement::new(
                    vec![(x + a, y), (x + b, y)],
                    color.stroke_width(3),
                ))?;
            }
            top.draw(&Text::new(*name, (x + 28, y - 8), font(13)))?;
            x += 64;
        }
        for (name, color, pts) in series {
            // P99 dashed: with a few requests a second P95 and P99 are often the same sample,
            // and a solid P99 would hide the P95 line completely.
            let style = color.stroke_width(2);
            if name == "P99" {
                chart.draw_series(DashedLineSeries::new(pts, 7, 4, style))?;
            } else {
                chart.draw_series(LineSeries::new(pts, style))?;
            }
        }
        if !deps.is_empty() {
            strip(&bottom, r, &deps, x_max)?;
        }
        Ok(())
    })
}

/// One row per dependency: green closed, red open, amber half-open (probe calls).
fn strip(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    r: &RunResult,
    deps: &[&String],
    x_max: f64,
) -> Result<(), Box<dyn std::error::Error>> {
    let rows = deps.len() as f64;
    let mut chart = ChartBuilder::on(area)
        .margin_left(12)
        .margin_right(24)
        .margin_top(20)
        .margin_bottom(4)
        .y_label_area_size(Y_LABELS)
        .build_cartesian_2d(0f64..x_max, 0f64..rows)?;
    for (i, dep) in deps.iter().enumerate() {
        let y0 = rows - i as f64 - 0.85;
        let y1 = rows - i as f64 - 0.15;
        let bars = breaker_states(r, dep)
            .into_iter()
            .map(move |(from, to, s)| {
                Rectangle::new([(from, y0), (to, y1)], state_color(s).mix(0.75).filled())
            });
        chart.draw_series(bars)?;
        // backend_coord is absolute; the strip area starts below the main chart.
        let pos = chart.backend_coord(&(0.0, (y0 + y1) / 2.0));
        let base = area.get_base_pixel();
        let at = (pos.0 - base.0 - Y_LABELS as i32 + 2, pos.1 - base.1 - 7);
        area.draw(&Text::new(dep.to_string(), at, font(12)))?;
    }
    let legend = [
        (BreakerState::Closed, "closed"),
        (BreakerState::Open, "open"),
        (BreakerState::HalfOpen, "half-open probes"),
    ];
    let (w, _) = area.dim_in_pixel();
    let mut x = w as i32 - 330;
    for (s, name) in legend {
        area.draw(&Rectangle::new(
            [(x, 2), (x + 12, 12)],
            state_color(s).mix(0.75).filled(),
        ))?;
        area.draw(&Text::new(name, (x + 16, 1), font(11)))?;
        x += 26 + 7 * name.len() as i32;
    }
    Ok(())
}
