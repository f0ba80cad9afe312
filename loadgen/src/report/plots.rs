//! SVG charts: throughput per cell, and the latency percentile spectrum per acks setting
//! (x = 1/(1−percentile) on a log axis, the HdrHistogram convention).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::results::RunReport;

const SIZE: (u32, u32) = (1100, 650);
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

fn plot_err<E: std::fmt::Debug>(e: E) -> Error {
    Error::Plot(format!("{e:?}"))
}

/// Writes every chart into `dir`; returns the file names written.
pub fn write_all(report: &RunReport, dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    if !report.cells.is_empty() {
        let name = "throughput.svg".to_string();
        throughput(report, &dir.join(&name))?;
        names.push(name);
    }
    let mut acks_seen: Vec<String> = Vec::new();
    for c in &report.cells {
        if !acks_seen.contains(&c.acks) {
            acks_seen.push(c.acks.clone());
        }
    }
    for acks in acks_seen {
        let has_latency = report
            .cells
            .iter()
            .any(|c| c.acks == acks && c.headline_latency().is_some());
        if has_latency {
            let name = format!("latency-acks-{acks}.svg");
            latency_spectrum(report, &acks, &dir.join(&name))?;
            names.push(name);
        }
    }
    Ok(names)
}

fn throughput(report: &RunReport, path: &Path) -> Result<()> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    let values: Vec<f64> = report
        .cells
        .iter()
        .map(|c| c.headline().map(|t| t.mb_per_s).unwrap_or(0.0))
        .collect();
    let labels: Vec<String> = report
        .cells
        .iter()
        .map(|c| format!("acks={} p={} m={}", c.acks, c.partitions, c.message_bytes))
        .collect();
    let y_max = values.iter().cloned().fold(0.0, f64::max).max(1.0) * 1.15;
    let n = values.len();
    let disk_mb_per_s = report.disk_baseline.as_ref().map(|b| b.mb_per_s);
    let net_mb_per_s = report.net_baseline.as_ref().map(|b| b.mb_per_s);
    let mut baselines = Vec::new();
    if let Some(mb_per_s) = disk_mb_per_s {
        baselines.push(format!("disk {mb_per_s:.0} black"));
    }
    if let Some(mb_per_s) = net_mb_per_s {
        baselines.push(format!("loopback {mb_per_s:.0} red"));
    }
    let caption = if baselines.is_empty() {
        format!("{} throughput per cell (MB/s)", report.mode)
    } else {
        format!(
            "{} throughput per cell (MB/s; dashed baselines: {})",
            report.mode,
            baselines.join(", ")
        )
    };
    let y_max = [disk_mb_per_s, net_mb_per_s]
        .into_iter()
        .flatten()
        .map(|mb_per_s| mb_per_s * 1.1)
        .fold(y_max, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(110)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..n as f64, 0f64..y_max)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("MB/s (record values)")
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(plot_err)?;
    chart
        .draw_series(values.iter().enumerate().map(|(i, v)| {
            let color = PALETTE[i % PALETTE.len()];
            Rectangle::new(
                [(i as f64 + 0.1, 0.0), (i as f64 + 0.9, *v)],
                color.filled(),
            )
        }))
        .map_err(plot_err)?;
    for (mb_per_s, color) in [(disk_mb_per_s, BLACK), (net_mb_per_s, RED)] {
        let Some(mb_per_s) = mb_per_s else { continue };
        chart
            .draw_series(DashedLineSeries::new(
                vec![(0.0, mb_per_s), (n as f64, mb_per_s)],
                8,
                6,
                color.stroke_width(2),
            ))
            .map_err(plot_err)?;
    }
    draw_cell_labels(&root, &chart_x_positions(n), &labels)?;
    root.present().map_err(plot_err)?;
    Ok(())
}

/// Pixel x of each bar centre: plot area starts after the y label area and margin.
fn chart_x_positions(n: usize) -> Vec<i32> {
    let left = 15 + 70;
    let width = SIZE.0 as i32 - left - 15;
    (0..n)
        .map(|i| left + ((i as f64 + 0.5) / n.max(1) as f64 * width as f64) as i32)
        .collect()
}

fn draw_cell_labels(
    root: &DrawingArea<SVGBackend, Shift>,
    xs: &[i32],
    labels: &[String],
) -> Result<()> {
    let style = TextStyle::from(("sans-serif", 13).into_font()).transform(FontTransform::Rotate90);
    let y = SIZE.1 as i32 - 105;
    for (x, label) in xs.iter().zip(labels) {
        root.draw(&Text::new(label.clone(), (*x - 6, y), style.clone()))
            .map_err(plot_err)?;
    }
    Ok(())
}

fn latency_spectrum(report: &RunReport, acks: &str, path: &Path) -> Result<()> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    let cells: Vec<_> = report
        .cells
        .iter()
        .filter(|c| c.acks == acks && c.headline_latency().is_some())
        .collect();
    let y_max = cells
        .iter()
        .filter_map(|c| c.headline_latency().map(|l| l.max_us))
        .max()
        .unwrap_or(1)
        .max(10) as f64
        * 2.0;
    let kind = if report.mode == "produce" || report.mode == "sweep" {
        "produce→ack"
    } else {
        "latency"
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{kind} latency spectrum, acks={acks}"),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d((1f64..1e6f64).log_scale(), (1f64..y_max).log_scale())
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency (µs)")
        .x_label_formatter(&|x| percentile_label(*x))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(plot_err)?;
    for (i, c) in cells.iter().enumerate() {
        let Some(l) = c.headline_latency() else {
            continue;
        };
        let color = PALETTE[i % PALETTE.len()];
        let points: Vec<(f64, f64)> = l
            .spectrum
            .iter()
            .filter(|(p, _)| *p < 100.0)
            .map(|(p, v)| (1.0 / (1.0 - p / 100.0), (*v).max(1) as f64))
            .collect();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(plot_err)?
            .label(format!(
                "p={} m={} (max {} µs)",
                c.partitions, c.message_bytes, l.max_us
            ))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(plot_err)?;
    root.present().map_err(plot_err)?;
    Ok(())
}

fn percentile_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 1.0 / x);
    if p < 99.0 {
        format!("{p:.0}%")
    } else {
        let s = format!("{p:.4}");
        format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
    }
}
