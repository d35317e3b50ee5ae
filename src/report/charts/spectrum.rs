//! The latency percentile spectrum per request, as HdrHistogram plots it: x = 1 / (1 − q) on a
//! log axis labelled 0%, 90%, 99%, 99.9% ..., y = latency on a log axis; one line per request.

use plotters::prelude::*;

use super::super::histogram::{self, Latency};
use super::{axis_ms, font, label_font, svg, ChartResult, GRID, HEIGHT, INK, PALETTE, WIDTH};

/// One line per (request name, histogram).
pub fn chart(ops: &[(&str, &Latency)]) -> ChartResult {
    let lines: Vec<(&str, Vec<(f64, f64)>)> = ops
        .iter()
        .filter(|(_, h)| !h.is_empty())
        .map(|(name, h)| (*name, histogram::spectrum(h)))
        .collect();
    if lines.is_empty() {
        return Err("no histogram to plot".into());
    }
    let x_hi = lines
        .iter()
        .flat_map(|(_, pts)| pts.iter().map(|p| p.0))
        .fold(10.0f64, f64::max);
    let x_hi = 10f64.powf(x_hi.log10().ceil());
    // A log latency axis: fast fallbacks (sub-millisecond) and timeouts (hundreds of ms) in
    // one run would otherwise flatten everything below the slowest decade to zero.
    // The q = 0 point is the histogram's lowest bucket, often far below every real answer: it
    // would stretch the axis by decades, so it only gets clamped onto the axis.
    let (y_lo, y_hi) = super::log_bounds(
        lines
            .iter()
            .flat_map(|(_, pts)| pts.iter().filter(|p| p.0 > 1.0).map(|p| p.1)),
    );
    // Decades (0%, 90%, 99% ...) plus 50% and 75%: the first decade holds half the requests,
    // and on a run with fallbacks that is where the fast answers end.
    let mut decades: Vec<f64> = (0..=x_hi.log10().round() as i32)
        .map(|d| 10f64.powi(d))
        .collect();
    decades.extend([2.0, 4.0]);
    decades.sort_by(f64::total_cmp);
    svg((WIDTH, HEIGHT), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(30)
            .x_label_area_size(34)
            .y_label_area_size(78)
            .build_cartesian_2d(
                (1f64..x_hi).log_scale().with_key_points(decades.clone()),
                super::latency::log_axis(y_lo, y_hi),
            )?;
        chart
            .configure_mesh()
            .light_line_style(GRID.mix(0.6))
            .bold_line_style(GRID)
            .axis_style(INK.mix(0.5))
            .label_style(label_font())
            .axis_desc_style(font(13))
            .x_desc("percentile (log scale of 1 / (1 − q))")
            .x_label_formatter(&|x| percentile_label(*x))
            .y_label_formatter(&|v| axis_ms(*v))
            .draw()?;
        for (i, (name, pts)) in lines.into_iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let pts = pts.into_iter().map(|(x, y)| (x, y.max(y_lo)));
            chart
                .draw_series(LineSeries::new(pts, color.stroke_width(2)))?
                .label(name)
                .legend(super::swatch(color));
        }
        super::draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    })
}

/// 1 -> "0%", 10 -> "90%", 100 -> "99%", 1000 -> "99.9%" ...
pub fn percentile_label(x: f64) -> String {
    if x <= 1.0 {
        return "0%".to_string();
    }
    let q = 100.0 * (1.0 - 1.0 / x);
    let decimals = (x.log10().round() as i32 - 2).max(0) as usize;
    format!("{q:.decimals$}%")
}

#[cfg(test)]
mod tests {
    use super::percentile_label;

    #[test]
    fn labels_read_like_hdrhistogram_plots() {
        assert_eq!(percentile_label(1.0), "0%");
        assert_eq!(percentile_label(2.0), "50%");
        assert_eq!(percentile_label(4.0), "75%");
        assert_eq!(percentile_label(10.0), "90%");
        assert_eq!(percentile_label(100.0), "99%");
        assert_eq!(percentile_label(1000.0), "99.9%");
        assert_eq!(percentile_label(100000.0), "99.999%");
    }
}
