//! Latency histograms and their summaries.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies are recorded in microseconds, 1 µs to 1 h, 3 significant digits.
pub const LATENCY_US_MAX: u64 = 3_600_000_000;

pub fn new_latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_US_MAX, 3).unwrap_or_else(|e| {
        panic!("histogram bounds are constants and valid: {e:?}");
    })
}

/// Records `latency_us`, clamped into the histogram's range.
pub fn record(h: &mut Histogram<u64>, latency_us: u64) {
    let v = latency_us.clamp(1, LATENCY_US_MAX);
    // In range by construction, so this cannot fail.
    let _ignored_in_range = h.record(v);
}

/// Percentiles (in %) plotted as the latency spectrum.
pub const SPECTRUM_PERCENTILES: [f64; 16] = [
    0.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.995, 99.999, 99.9995,
    99.9999, 100.0,
];

#[derive(Debug, Clone, Serialize, Default)]
pub struct LatencySummary {
    pub count: u64,
    pub mean_us: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub p9999_us: u64,
    pub max_us: u64,
    /// (percentile, µs) pairs for the spectrum plot.
    pub spectrum: Vec<(f64, u64)>,
}

impl LatencySummary {
    pub fn of(h: &Histogram<u64>) -> Option<LatencySummary> {
        if h.is_empty() {
            return None;
        }
        Some(LatencySummary {
            count: h.len(),
            mean_us: h.mean(),
            p50_us: h.value_at_quantile(0.50),
            p99_us: h.value_at_quantile(0.99),
            p999_us: h.value_at_quantile(0.999),
            p9999_us: h.value_at_quantile(0.9999),
            max_us: h.max(),
            spectrum: SPECTRUM_PERCENTILES
                .iter()
                .map(|p| (*p, h.value_at_quantile(p / 100.0)))
                .collect(),
        })
    }
}
