//! The Markdown report.

use crate::results::RunReport;

fn opt_us(v: Option<u64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

pub fn render(report: &RunReport, plots: &[String]) -> String {
    let mut md = String::new();
    md.push_str(&format!("# sluice-loadgen {} report\n\n", report.mode));
    if let Some(label) = &report.label {
        md.push_str(&format!("**{label}**\n\n"));
    }
    md.push_str(&format!("Command: `{}`\n\n", report.command_line));
    let m = &report.machine;
    md.push_str(&format!(
        "Machine: {} CPUs ({}), {} memory, Linux {}. Started at Unix time {}.\n\n",
        m.cpus, m.cpu_model, m.memory, m.kernel, report.started_unix_s
    ));
    if let Some(b) = &report.disk_baseline {
        md.push_str(&format!(
            "Disk baseline (same run): **{:.1} MB/s** into `{}` ({}; {} bytes in {:.2} s).\n\n",
            b.mb_per_s, b.dir, b.method, b.bytes, b.seconds
        ));
        md.push_str(&format!(
            "Disk read baseline (same run; consume runs are compared with it): **{:.1} MB/s** \
             ({}; {} bytes in {:.2} s).\n\n",
            b.read_mb_per_s, b.read_method, b.read_bytes, b.read_seconds
        ));
    }
    if let Some(b) = &report.net_baseline {
        md.push_str(&format!(
            "Network baseline (same run): **{:.1} MB/s** ({}; {} bytes in {:.2} s).\n\n",
            b.mb_per_s, b.method, b.bytes, b.seconds
        ));
    }
    md.push_str("| mode | acks | partitions | message B | MB/s | msgs/s | ratio to disk | ratio to net | ratio to min(disk, net) | p50 µs | p99 µs | p99.9 µs | p99.99 µs | max µs | e2e p99 µs | consume MB/s | loadgen cores busy | verify |\n");
    md.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for c in &report.cells {
        let t = c.headline();
        let l = c.headline_latency();
        md.push_str(&format!(
            "| {} | {} | {} | {} | {:.1} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            c.mode,
            c.acks,
            c.partitions,
            c.message_bytes,
            t.map(|t| t.mb_per_s).unwrap_or(0.0),
            t.map(|t| t.msgs_per_s).unwrap_or(0.0),
            ratio(c.disk_ratio),
            ratio(c.net_ratio),
            ratio(c.limit_ratio),
            opt_us(l.map(|l| l.p50_us)),
            opt_us(l.map(|l| l.p99_us)),
            opt_us(l.map(|l| l.p999_us)),
            opt_us(l.map(|l| l.p9999_us)),
            opt_us(l.map(|l| l.max_us)),
            opt_us(c.e2e_latency.as_ref().map(|l| l.p99_us)),
            c.consume
                .as_ref()
                .map(|t| format!("{:.1}", t.mb_per_s))
                .unwrap_or_else(|| "-".into()),
            c.client_cpu.as_ref().map(|u| format!("{:.2}", u.cores_busy)).unwrap_or_else(|| "-".into()),
            c.verify
                .as_ref()
                .map(|v| v.summary_line())
                .unwrap_or_else(|| "-".into()),
        ));
    }
    let txn: Vec<String> = report
        .cells
        .iter()
        .filter_map(|c| c.transactions.as_ref())
        .map(|t| format!("- {}\n", t.line()))
        .collect();
    if !txn.is_empty() {
        md.push_str("\nTransactions (committed throughput counts the records of transactions committed inside the window; commit latency is the EndTxn round trip):\n\n");
        md.push_str(&txn.concat());
    }
    md.push_str("\nLatency columns: produce→ack (measured from the intended send time with --rate); end-to-end in consume/e2e modes. MB = 10^6 bytes of record values.\n\n");
    for p in plots {
        md.push_str(&format!("![{p}]({p})\n\n"));
    }
    md.push_str("## Configuration\n\n```json\n");
    md.push_str(&serde_json::to_string_pretty(&report.config).unwrap_or_default());
    md.push_str("\n```\n");
    md
}

fn ratio(value: Option<f64>) -> String {
    value
        .map(|r| format!("{r:.2}"))
        .unwrap_or_else(|| "-".into())
}
