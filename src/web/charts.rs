//! Charts for `/insights`, drawn on the server by plotters into SVG text, so no charting code reaches the
//! browser. Series are told apart by legend and by lightness as well as hue, and every chart is shown beside
//! the table of its numbers.

use plotters::prelude::*;

type Drawn = Result<String, Box<dyn std::error::Error>>;

/// Dark to light, and distinct in hue: readable in greyscale.
const SERIES: [RGBColor; 4] =
    [RGBColor(30, 80, 160), RGBColor(200, 90, 40), RGBColor(120, 120, 120), RGBColor(170, 200, 235)];
// Drawn about the size it is shown at, so its text stays readable.
const SIZE: (u32, u32) = (520, 250);
const FONT: &str = "sans-serif";

/// Bars per label, one bar per series (side by side), or one stacked bar per label when `stacked`.
pub fn bars(labels: &[String], series: &[(&str, Vec<f64>)], y_desc: &str, stacked: bool) -> String {
    draw(labels, series, y_desc, stacked).unwrap_or_else(|e| {
        tracing::error!(error = %e, "a chart could not be drawn");
        String::new()
    })
}

fn draw(labels: &[String], series: &[(&str, Vec<f64>)], y_desc: &str, stacked: bool) -> Drawn {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let n = labels.len().max(1) as u32;
        let top = if stacked {
            (0..labels.len())
                .map(|i| series.iter().map(|(_, v)| v.get(i).copied().unwrap_or(0.0)).sum::<f64>())
                .fold(0.0, f64::max)
        } else {
            series.iter().flat_map(|(_, v)| v.iter().copied()).fold(0.0, f64::max)
        };
        // Headroom above the tallest bar for the legend.
        let headroom = if series.len() > 1 { 1.4 } else { 1.1 };
        let top = if top <= 0.0 { 1.0 } else { top * headroom };
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(52)
            .build_cartesian_2d((0u32..n - 1).into_segmented(), 0f64..top)?;
        // Many days: label every few so the labels do not collide.
        let every = (labels.len() / 7).max(1);
        let label_of = |v: &SegmentValue<u32>| match v {
            SegmentValue::CenterOf(i) if (*i as usize).is_multiple_of(every) => {
                labels.get(*i as usize).cloned().unwrap_or_default()
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(labels.len().min(60))
            .x_label_formatter(&label_of)
            .y_desc(y_desc)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 14))
            .draw()?;
        let width = series.len().max(1) as f64;
        for (k, (name, values)) in series.iter().enumerate() {
            let colour = SERIES[k % SERIES.len()];
            let bars = values.iter().enumerate().map(|(i, v)| {
                let i = i as u32;
                let (low, high) = if stacked {
                    let below: f64 = series[..k].iter().map(|(_, v)| v.get(i as usize).copied().unwrap_or(0.0)).sum();
                    (below, below + v)
                } else {
                    (0.0, *v)
                };
                let mut bar = Rectangle::new(
                    [(SegmentValue::Exact(i), low), (SegmentValue::Exact(i + 1), high)],
                    colour.filled(),
                );
                // Side by side: each series takes its share of the slot.
                let (left, right) = if stacked {
                    (2, 2)
                } else {
                    let slot = 440.0 / f64::from(n);
                    let share = slot / width;
                    ((share * k as f64 + 1.0) as u32, (share * (width - 1.0 - k as f64) + 1.0) as u32)
                };
                bar.set_margin(0, 0, left, right);
                bar
            });
            chart
                .draw_series(bars)?
                .label(*name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
        }
        if series.len() > 1 {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .label_font((FONT, 14))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()?;
        }
        root.present()?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_their_legend() {
        let labels: Vec<String> = ["Mon", "Tue", "Wed"].iter().map(|s| s.to_string()).collect();
        let svg =
            bars(&labels, &[("approved", vec![3.0, 5.0, 0.0]), ("denied", vec![1.0, 0.0, 2.0])], "decisions", true);
        assert!(svg.starts_with("<svg") && svg.contains("approved") && svg.contains("denied"), "{svg}");
        assert!(svg.contains("Mon"));
        let empty = bars(&[], &[("x", vec![])], "n", false);
        assert!(empty.starts_with("<svg"), "an empty period still draws its axes");
    }
}
