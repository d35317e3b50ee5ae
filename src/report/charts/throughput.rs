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
        // Headroom for the fault labels along the top.
        * 1.25;
    // The legend sits in rows above the plot: in its upper right corner it hid the data of the
    // last seconds (sent, 2xx and the fault label during a late fault).
    let legend_rows = legend_layout(series);
    let legend_h = 22 * legend_rows.last().map_or(0, |(_, row)| row + 1) as u32;
    svg((WIDTH, HEIGHT + legend_h), |root| {
        for (s, (x, row)) in series.iter().zip(&legend_rows) {
            let y = 14 + 22 * *row as i32;
            let pieces: &[(i32, i32)] = if s.dashed {
                &[(0, 8), (12, 22)]
            } else {
                &[(0, 22)]
            };
            for (a, b) in pieces {
                root.draw(&PathElement::new(
                    vec![(x + a, y), (x + b, y)],
                    s.color.stroke_width(3),
                ))?;
            }
            root.draw(&Text::new(s.name.clone(), (x + 28, y - 8), font(13)))?;
        }
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_top(12 + legend_h)
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
            if s.dashed {
                chart.draw_series(DashedLineSeries::new(s.points.iter().copied(), 6, 4, style))?;
            } else {
                chart.draw_series(LineSeries::new(s.points.iter().copied(), style))?;
            }
        }
        Ok(())
    })
}

/// Where each series' legend entry goes: (x in pixels, row), left to right from the plot's left
/// edge, wrapping to a new row before the chart's right edge.
pub(super) fn legend_layout(series: &[Series]) -> Vec<(i32, usize)> {
    let (left, right) = (90, WIDTH as i32 - 24);
    let (mut x, mut row) = (left, 0);
    let mut out = Vec::with_capacity(series.len());
    for s in series {
        // A swatch, the label at 13 px (about 7 px a character) and a gap.
        let w = 28 + 7 * s.name.chars().count() as i32 + 24;
        if x + w > right && x > left {
            (x, row) = (left, row + 1);
        }
        out.push((x, row));
        x += w;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> Series {
        Series {
            name: name.into(),
            color: BLUE,
            dashed: false,
            points: vec![],
        }
    }

    #[test]
    fn legend_entries_stay_inside_the_chart_and_do_not_overlap() {
        let long = "a legend label long enough that a few of them fill a row";
        let series: Vec<Series> = (0..6).map(|_| named(long)).collect();
        let at = legend_layout(&series);
        assert!(at.last().unwrap().1 >= 2, "{at:?}");
        for (i, ((x, row), s)) in at.iter().zip(&series).enumerate() {
            let end = x + 28 + 7 * s.name.chars().count() as i32;
            assert!(end <= WIDTH as i32 - 24, "entry {i} ends at {end}");
            if let Some((next_x, next_row)) = at.get(i + 1) {
                assert!(next_row > row || *next_x > end, "{at:?}");
            }
        }
        // The throughput chart's six entries fit one row.
        let six = [
            "sent",
            "2xx",
            "4xx",
            "5xx",
            "fallback answers (not errors)",
            "errors (transport or 5xx)",
        ];
        let at = legend_layout(&six.map(named));
        assert!(at.iter().all(|(_, row)| *row == 0), "{at:?}");
    }
}
