//! The speed-up plot of a scaling study: measured S(p), the fitted Amdahl curve and the
//! ideal line S = p, as SVG or PNG.
//!
//! The PNG carries no text. plotters draws bitmap text only through a font feature
//! (`ttf` finds system fonts through fontconfig at run time; `ab_glyph` needs a font
//! file bundled into the binary), and neither is worth it for a picture whose SVG twin
//! is labelled: the PNG has the same series, colours, grid and marks, and the SVG is the
//! one to read numbers from.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::laws;
use crate::scaling::Scaling;

const SIZE: (u32, u32) = (800, 560);
const MEASURED: RGBColor = RGBColor(200, 40, 40);
const FITTED: RGBColor = RGBColor(30, 90, 200);
const IDEAL: RGBColor = RGBColor(120, 120, 120);

/// A plot that could not be drawn (the backends only fail on I/O, which ours do not do).
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the speed-up plot: {0}")]
pub struct PlotError(String);

/// The plot as an SVG document; `cores` is marked when a worker count exceeds it.
pub fn svg(scaling: &Scaling, cores: usize) -> Result<String, PlotError> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        draw(&root, scaling, cores, true).map_err(|e| PlotError(e.to_string()))?;
        root.present().map_err(|e| PlotError(e.to_string()))?;
    }
    Ok(text)
}

/// The plot as PNG bytes (without text: see the module notes).
pub fn png(scaling: &Scaling, cores: usize) -> Result<Vec<u8>, PlotError> {
    let (width, height) = SIZE;
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
        draw(&root, scaling, cores, false).map_err(|e| PlotError(e.to_string()))?;
        root.present().map_err(|e| PlotError(e.to_string()))?;
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|e| PlotError(e.to_string()))?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| PlotError(e.to_string()))?;
    writer.finish().map_err(|e| PlotError(e.to_string()))?;
    Ok(bytes)
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Draws the three series on `root`; `text` adds the caption, axis labels and legend.
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    scaling: &Scaling,
    cores: usize,
    text: bool,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let max_p = scaling.points.iter().map(|p| p.workers).max().unwrap_or(1) as f64;
    let max_s = scaling
        .points
        .iter()
        .map(|p| p.speedup)
        .filter(|s| s.is_finite())
        .fold(max_p, f64::max);
    let x_range = 0.0..max_p * 1.05 + 0.25;
    let y_range = 0.0..max_s * 1.1;
    let mut builder = ChartBuilder::on(root);
    builder.margin(20);
    if text {
        builder
            .caption(
                format!(
                    "Speed-up: Amdahl fit B = {:.3}",
                    scaling.amdahl.serial_fraction
                ),
                ("sans-serif", 26),
            )
            .x_label_area_size(50)
            .y_label_area_size(60);
    }
    let mut chart = builder.build_cartesian_2d(x_range.clone(), y_range)?;
    let mut mesh = chart.configure_mesh();
    if text {
        mesh.x_desc("workers p")
            .y_desc("speed-up S(p) = T(1)/T(p)")
            .label_style(("sans-serif", 16))
            .axis_desc_style(("sans-serif", 18))
            .x_label_formatter(&|x| tick(*x))
            .y_label_formatter(&|y| tick(*y));
    }
    mesh.draw()?;

    let ideal = chart.draw_series(LineSeries::new(
        [(0.0, 0.0), (x_range.end, x_range.end)],
        IDEAL.stroke_width(2),
    ))?;
    if text {
        ideal
            .label("ideal S = p")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], IDEAL.stroke_width(2)));
    }

    let b = scaling.amdahl.serial_fraction;
    let samples = 200;
    let curve = (0..=samples).map(|i| {
        let p = 1.0 + (x_range.end - 1.0) * i as f64 / samples as f64;
        (p, laws::amdahl(b, p))
    });
    let fitted = chart.draw_series(LineSeries::new(curve, FITTED.stroke_width(2)))?;
    if text {
        fitted
            .label(format!("Amdahl fit S = 1/(B + (1-B)/p), B = {b:.3}"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], FITTED.stroke_width(2)));
    }

    let measured: Vec<(f64, f64)> = scaling
        .points
        .iter()
        .map(|p| (p.workers as f64, p.speedup))
        .collect();
    let line = chart.draw_series(LineSeries::new(measured, MEASURED.stroke_width(2)))?;
    if text {
        line.label("measured S(p)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], MEASURED.stroke_width(2)));
    }
    // Filled dots where p fits the cores present, hollow ones above.
    chart.draw_series(scaling.points.iter().map(|p| {
        let style = if p.above_cores {
            MEASURED.stroke_width(2)
        } else {
            MEASURED.filled()
        };
        Circle::new((p.workers as f64, p.speedup), 5, style)
    }))?;

    if scaling.points.iter().any(|p| p.above_cores) {
        let c = cores as f64;
        let limit = chart.draw_series(DashedLineSeries::new(
            [(c, 0.0), (c, max_s * 1.1)],
            6,
            4,
            BLACK.mix(0.6).stroke_width(1),
        ))?;
        if text {
            limit
                .label(format!("{cores} cores present (hollow: above)"))
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.6)));
        }
    }

    if text {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .label_font(("sans-serif", 18))
            .draw()?;
    }
    Ok(())
}

/// An axis tick: whole numbers without decimals.
fn tick(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn study() -> Scaling {
        Scaling::new(&[(1, 1.0), (2, 0.55), (4, 0.4)], 2).unwrap()
    }

    #[test]
    fn svg_is_well_formed_with_three_labelled_series() {
        let text = svg(&study(), 2).unwrap();
        let doc = roxmltree::Document::parse(&text).expect("well-formed SVG");
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        for label in [
            "measured S(p)",
            "Amdahl fit",
            "ideal S = p",
            "2 cores present",
        ] {
            assert!(text.contains(label), "no {label}");
        }
        let lines = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "polyline")
            .count();
        assert!(lines >= 3, "{lines} polylines");
    }

    #[test]
    fn png_has_the_signature_and_pixels() {
        let bytes = png(&study(), 2).unwrap();
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(bytes.len() > 2000, "{} bytes", bytes.len());
    }
}
