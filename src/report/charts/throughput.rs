//! Throughput and errors over time (requests per second by outcome), fault windows shaded; also
//! the shared drawing of every per-second count chart.

use plotters::prelude::*;
use plotters::style::RGBColor;

use crate::result::RunResult;
use crate::verdict::errors::{self, Answer};

use super::{
    fault_windows, font, label_font, svg, ChartResult, Window, AMBER, BLUE, FAULT, GREEN, GRID,
    HEIGHT, INK, MUTED, PURPLE, RED, TEAL, WIDTH,
};

/// One line of a count chart.
pub struct Series {
    pub name: String,
    pub color: RGBColor,
    pub dashed: bool,
    pub points: Vec<(f64, f64)>,
}

/// Requests sent, answered by status class, failed and dropped per second.
pub fn chart(r: &RunResult) -> ChartResult {
    let per_second = |f: &dyn Fn(&crate::result::TimelineBucket) -> u64| -> Vec<(f64, f64)> {
        // A trailing second the run did not fill would read as a collapse: leave it out.
        r.timeline
            .iter()
            .filter(|b| b.t_s == 0 || f64::from(b.t_s) + 1.0 <= r.duration_s + 1e-6)
            .map(|b| (f64::from(b.t_s) + 0.5, f(b) as f64))
            .collect()
    };
    let class = |c: &'static str| {
        move |b: &crate::result::TimelineBucket| b.status_classes.get(c).copied().unwrap_or(0)
    };
    let line = |name: &str, color: RGBColor, dashed: bool, points: Vec<(f64, f64)>| Series {
        name: name.into(),
        color,
        dashed,
        points,
    };
    let mut series = vec![
        line("sent", MUTED, true, per_second(&|b| b.sent)),
        line("2xx", GREEN, false, per_second(&class("2xx"))),
    ];
    // 3xx/4xx/5xx only when they occur: a 429 wave or a 503 fallback is the story when it does.
    let seen = |c: &str| {
        r.timeline
            .iter()
            .any(|b| b.status_classes.get(c).is_some_and(|n| *n > 0))
    };
    for (c, color) in [("3xx", TEAL), ("4xx", PURPLE), ("5xx", AMBER)] {
        if seen(c) {
            series.push(line(c, color, false, per_second(&class(c))));
        }
    }
    series.extend(failures(r, &per_second));
    if r.timeline.iter().any(|b| b.dropped > 0) {
        series.push(Series {
            name: "dropped (max in flight)".into(),
            color: INK,
            dashed: true,
            points: per_second(&|b| b.dropped),
        });
    }
    let shaded: Vec<(Window, RGBColor)> = fault_windows(r, None)
        .into_iter()
        .map(|w| (w, FAULT))
        .collect();
    counts_chart(r, &series, &shaded, "requests / s")
}

/// Points (second + 0.5, count) of one per-second count read from the timeline.
type PerSecond<'a> = &'a dyn Fn(&dyn Fn(&crate::result::TimelineBucket) -> u64) -> Vec<(f64, f64)>;

/// The failure lines. With fallback windows recorded and the whole run in the client log, two
/// lines counted per second of send time by the error-rate verdicts' own rule (errors; fallback
/// answers); otherwise the generator's count of failures (transport or a status outside
/// `expect_status`), named for what it holds.
fn failures(r: &RunResult, per_second: PerSecond) -> Vec<Series> {
    let windows = r.fallback_windows.as_deref().unwrap_or(&[]);
    let logged = if windows.is_empty() {
        None
    } else {
        errors::logged_answers(r, windows)
    };
    let Some(logged) = logged else {
        let name = if windows.is_empty() {
            "failed (error or unexpected status)"
        } else {
            "failed (error or unexpected status, fallback answers included)"
        };
        return vec![Series {
            name: name.into(),
            color: RED,
            dashed: true,
            points: per_second(&|b| b.errors),
        }];
    };
    let count = |want: Answer| {
        let mut per: std::collections::BTreeMap<u32, u64> = Default::default();
        for (t_ms, a) in &logged {
            if *a == want && *t_ms >= 0.0 {
                *per.entry((t_ms / 1000.0) as u32).or_default() += 1;
            }
        }
        per_second(&|b| per.get(&b.t_s).copied().unwrap_or(0))
    };
    vec![
        Series {
            name: "fallback answers (not errors)".into(),
            color: BLUE,
            dashed: false,
            points: count(Answer::Fallback),
        },
        Series {
            name: "errors (transport or 5xx)".into(),
            color: RED,
            dashed: true,
            points: count(Answer::Error),
        },
    ]
}

/// A per-second count chart on the run's time axis with `shaded` windows behind the lines.
pub fn counts_chart(
    r: &RunResult,
    series: &[Series],
    shaded: &[(Window, RGBColor)],
    y_desc: &str,
) -> ChartResult {
    let x_max = r.duration_s.max(r.timeline.len() as f64).max(1.0);
    let y_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0f64, f64::max)
        .max(1.0)
        // Headroom for the legend in the upper right, one line per series.
        * (1.3 + 0.1 * series.len() as f64);
    svg((WIDTH, HEIGHT), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(34)
            .y_label_area_size(78)
            .build_cartesian_2d(0f64..x_max, 0f64..y_max)?;
        chart
            .configure_mesh()
            .light_line_style(GRID.mix(0.6))
            .bold_line_style(GRID)
            .axis_style(INK.mix(0.5))
            .label_style(label_font())
            .axis_desc_style(font(13))
            .x_desc("seconds since start")
            .y_desc(y_desc)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        for (w, color) in shaded {
            let rect = Rectangle::new([(w.from_s, 0.0), (w.to_s, y_max)], color.mix(0.10).filled());
            chart.draw_series(std::iter::once(rect))?;
            let edge = PathElement::new(vec![(w.from_s, 0.0), (w.from_s, y_max)], color.mix(0.5));
            chart.draw_series(std::iter::once(edge))?;
            let y = y_max * (0.97 - 0.06 * f64::from(w.row));
            let label = Text::new(w.label.clone(), (w.from_s + 0.3, y), font(12).color(color));
            chart.draw_series(std::iter::once(label))?;
        }
        for s in series {
            let color = s.color;
            let style = color.stroke_width(2);
            let drawn = if s.dashed {
                chart.draw_series(DashedLineSeries::new(s.points.iter().copied(), 6, 4, style))?
            } else {
                chart.draw_series(LineSeries::new(s.points.iter().copied(), style))?
            };
            drawn.label(s.name.clone()).legend(super::swatch(color));
        }
        super::draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        Ok(())
    })
}
