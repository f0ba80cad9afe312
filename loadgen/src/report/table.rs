//! The terminal table.

use crate::results::RunReport;

fn us(v: Option<u64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v >= 10_000 => format!("{:.1}ms", v as f64 / 1000.0),
        Some(v) => format!("{v}us"),
    }
}

fn ratio(value: Option<f64>) -> String {
    value
        .map(|r| format!("{r:.2}"))
        .unwrap_or_else(|| "-".into())
}

pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let header = format!(
        "{:<5} {:>6} {:>7} {:>10} {:>12} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7} {:>6}\n",
        "acks",
        "parts",
        "msg B",
        "MB/s",
        "msgs/s",
        "p50",
        "p99",
        "p99.9",
        "p99.99",
        "max",
        "cons MB/s",
        "disk×",
        "net×",
        "limit×",
        "verify"
    );
    out.push_str(&header);
    out.push_str(&"-".repeat(header.len() - 1));
    out.push('\n');
    for c in &report.cells {
        let t = c.headline();
        let l = c.headline_latency();
        out.push_str(&format!(
            "{:<5} {:>6} {:>7} {:>10.1} {:>12.0} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7} {:>6}\n",
            c.acks,
            c.partitions,
            c.message_bytes,
            t.map(|t| t.mb_per_s).unwrap_or(0.0),
            t.map(|t| t.msgs_per_s).unwrap_or(0.0),
            us(l.map(|l| l.p50_us)),
            us(l.map(|l| l.p99_us)),
            us(l.map(|l| l.p999_us)),
            us(l.map(|l| l.p9999_us)),
            us(l.map(|l| l.max_us)),
            c.consume
                .as_ref()
                .map(|t| format!("{:.1}", t.mb_per_s))
                .unwrap_or_else(|| "-".into()),
            ratio(c.disk_ratio),
            ratio(c.net_ratio),
            ratio(c.limit_ratio),
            c.verify
                .as_ref()
                .map(|v| if v.ok() { "PASS" } else { "FAIL" })
                .unwrap_or("-"),
        ));
    }
    for c in &report.cells {
        if let Some(t) = &c.transactions {
            out.push_str(&format!("{}\n", t.line()));
        }
    }
    let busy: Vec<String> = report
        .cells
        .iter()
        .filter_map(|c| {
            c.client_cpu
                .as_ref()
                .map(|u| format!("{:.2}", u.cores_busy))
        })
        .collect();
    if !busy.is_empty() {
        out.push_str(&format!(
            "loadgen CPU (cores busy) per cell: {}\n",
            busy.join(" ")
        ));
    }
    let lat_kind = if report.mode == "e2e" {
        "produce→ack (e2e in JSON)"
    } else {
        "produce→ack, or end-to-end"
    };
    out.push_str(&format!(
        "latency: {lat_kind}; MB = 10^6 bytes of record values"
    ));
    if let Some(b) = &report.disk_baseline {
        let (kind, mb_per_s) = if report.mode == "consume" {
            ("read", b.read_mb_per_s)
        } else {
            ("write", b.mb_per_s)
        };
        out.push_str(&format!(
            "; disk× = ratio to the same-run O_DIRECT {kind} baseline {mb_per_s:.1} MB/s"
        ));
    }
    if let Some(b) = &report.net_baseline {
        out.push_str(&format!(
            "; net× = ratio to the same-run loopback TCP baseline {:.1} MB/s",
            b.mb_per_s
        ));
    }
    if report.disk_baseline.is_some() || report.net_baseline.is_some() {
        out.push_str("; limit× = ratio to the smaller baseline");
    }
    out.push('\n');
    out
}
