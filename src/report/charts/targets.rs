//! Measured P50/P95/P99 against the spec's targets, from the latency verdicts: one bar per
//! (request, percentile) coloured by its verdict, the target drawn as a black tick across it.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::result::VerdictStatus;

use super::super::model::LatencyTarget;
use super::{
    axis_ms, font, label_font, svg, ChartResult, AMBER, GREEN, GRID, HEIGHT, INK, RED, WIDTH,
};

fn status_color(s: VerdictStatus) -> RGBColor {
    match s {
        VerdictStatus::Pass => GREEN,
        VerdictStatus::Fail => RED,
        VerdictStatus::Inconclusive => AMBER,
    }
}

pub fn chart(targets: &[LatencyTarget]) -> ChartResult {
    if targets.is_empty() {
        return Err("no latency targets".into());
    }
    let n = targets.len();
    let highest = targets
        .iter()
        .flat_map(|t| [t.target_ms, t.measured_ms])
        .flatten();
    let y_hi = highest.fold(1.0f64, f64::max) * 1.2;
    svg((WIDTH, HEIGHT), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(48)
            .y_label_area_size(78)
            .build_cartesian_2d(0f64..n as f64, 0f64..y_hi)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(GRID.mix(0.6))
            .bold_line_style(GRID)
            .axis_style(INK.mix(0.5))
            .label_style(label_font())
            .x_labels(0)
            .y_label_formatter(&|v| axis_ms(*v))
            .draw()?;
        for (i, t) in targets.iter().enumerate() {
            let x0 = i as f64 + 0.2;
            let x1 = i as f64 + 0.8;
            if let Some(m) = t.measured_ms {
                let bar = Rectangle::new(
                    [(x0, 0.0), (x1, m)],
                    status_color(t.status).mix(0.8).filled(),
                );
                chart.draw_series(std::iter::once(bar))?;
                // Above whichever is higher, the bar or the target tick, so neither hides it.
                let top = m.max(t.target_ms.unwrap_or(0.0));
                let (px, py) = chart.backend_coord(&(i as f64 + 0.5, top));
                let centered = font(12).pos(Pos::new(HPos::Center, VPos::Bottom));
                root.draw(&Text::new(axis_ms_short(m), (px, py - 6), centered))?;
            } else {
                // No percentile to draw (too few samples, or no request): say so in place of
                // the bar instead of leaving a gap that reads as "0 ms".
                let (px, py) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
                let color = status_color(t.status);
                let centered = font(11)
                    .color(&color)
                    .pos(Pos::new(HPos::Center, VPos::Bottom));
                for (k, word) in short_measured(&t.measured).iter().rev().enumerate() {
                    root.draw(&Text::new(
                        word.clone(),
                        (px, py - 4 - 14 * k as i32),
                        centered.clone(),
                    ))?;
                }
            }
            if let Some(target) = t.target_ms {
                let tick = PathElement::new(
                    vec![(x0 - 0.08, target), (x1 + 0.08, target)],
                    INK.stroke_width(3),
                );
                chart.draw_series(std::iter::once(tick))?;
            }
        }
        // Category labels drawn by hand (plotters' key-point axes cannot format f64 labels):
        // the percentile under each bar, the request once under its group of bars, so labels
        // never run into each other however many targets there are.
        let centered = font(12).pos(Pos::new(HPos::Center, VPos::Top));
        let mut i = 0;
        while i < n {
            let group = targets[i..]
                .iter()
                .take_while(|t| t.operation == targets[i].operation)
                .count();
            for (j, t) in targets[i..i + group].iter().enumerate() {
                let (x, y) = chart.backend_coord(&((i + j) as f64 + 0.5, 0.0));
                root.draw(&Text::new(
                    t.percentile.clone(),
                    (x, y + 6),
                    centered.clone(),
                ))?;
            }
            let (x, y) = chart.backend_coord(&(i as f64 + group as f64 / 2.0, 0.0));
            let name = font(13).pos(Pos::new(HPos::Center, VPos::Top));
            root.draw(&Text::new(targets[i].operation.clone(), (x, y + 24), name))?;
            i += group;
        }
        legend(root)?;
        Ok(())
    })
}

/// "345 samples" as ["345", "samples"]: two short lines fit under a narrow bar.
fn short_measured(measured: &str) -> Vec<String> {
    let words: Vec<&str> = measured.split_whitespace().take(2).collect();
    if words.is_empty() {
        vec!["no data".to_string()]
    } else {
        words.into_iter().map(str::to_string).collect()
    }
}

fn axis_ms_short(v: f64) -> String {
    super::super::text::ms(v)
}

fn legend(
    root: &DrawingArea<SVGBackend, plotters::coord::Shift>,
) -> Result<(), Box<dyn std::error::Error>> {
    let (w, _) = root.dim_in_pixel();
    let mut x = w as i32 - 430;
    let y = 16;
    for (color, name) in [(GREEN, "pass"), (RED, "fail"), (AMBER, "inconclusive")] {
        root.draw(&Rectangle::new(
            [(x, y), (x + 12, y + 12)],
            color.mix(0.8).filled(),
        ))?;
        root.draw(&Text::new(name, (x + 16, y - 1), font(12)))?;
        x += 30 + 7 * name.len() as i32;
    }
    root.draw(&PathElement::new(
        vec![(x, y + 6), (x + 22, y + 6)],
        INK.stroke_width(3),
    ))?;
    root.draw(&Text::new("spec target", (x + 28, y - 1), font(12)))?;
    Ok(())
}
