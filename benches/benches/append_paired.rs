//! Paired append benchmark: for each batch size, alternates engine and raw-DmaFile iterations
//! (order flipped every pair) so machine load drifts hit both alike, then prints a Markdown
//! table of median throughputs and the median of per-pair ratios.
//!
//! Run: cargo bench -p sluice-benches --bench append_paired [-- <pairs>]

use std::time::Duration;

use sluice_benches::*;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

fn mib_per_s(bytes: usize, elapsed: Duration) -> f64 {
    bytes as f64 / (1 << 20) as f64 / elapsed.as_secs_f64()
}

fn main() {
    let pairs: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(15);
    let ex = executor();
    let dir = bench_dir();
    let mut round = 0u64;
    if let Some(mode) = std::env::args()
        .skip(1)
        .find(|arg| arg.starts_with("only-"))
    {
        // Profiling aid: one workload alone, e.g. `only-engine`, `only-raw`.
        let batch_kib: usize = std::env::var("BATCH_KIB")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1024);
        let batch = batch_near(batch_kib << 10);
        let total = iteration_bytes(&batch);
        for _ in 0..pairs {
            round += 1;
            let elapsed = if mode == "only-engine" {
                ex.run(engine_iteration(dir.path(), round, &batch))
            } else {
                ex.run(raw_iteration(
                    dir.path(),
                    round,
                    RAW_LARGE_WRITE_BYTES,
                    total,
                ))
            };
            println!("{mode}: {:.0} MiB/s", mib_per_s(total, elapsed));
        }
        return;
    }
    println!("| batch | engine MiB/s | raw batch-size writes MiB/s | raw 1 MiB writes MiB/s | engine / raw batch | engine / raw 1 MiB |");
    println!("|---|---|---|---|---|---|");
    for (label, batch_bytes) in [
        ("16 KiB", 16 << 10),
        ("64 KiB", 64 << 10),
        ("1 MiB", 1 << 20),
    ] {
        let batch = batch_near(batch_bytes);
        let total = iteration_bytes(&batch);
        let (mut engine, mut raw_batch, mut raw_large) = (Vec::new(), Vec::new(), Vec::new());
        let (mut ratio_batch, mut ratio_large) = (Vec::new(), Vec::new());
        for pair in 0..pairs + 1 {
            let (e, rb, rl);
            if pair % 2 == 0 {
                round += 1;
                e = ex.run(engine_iteration(dir.path(), round, &batch));
                round += 1;
                rb = ex.run(raw_iteration(dir.path(), round, batch.len(), total));
                round += 1;
                rl = ex.run(raw_iteration(
                    dir.path(),
                    round,
                    RAW_LARGE_WRITE_BYTES,
                    total,
                ));
            } else {
                round += 1;
                rl = ex.run(raw_iteration(
                    dir.path(),
                    round,
                    RAW_LARGE_WRITE_BYTES,
                    total,
                ));
                round += 1;
                rb = ex.run(raw_iteration(dir.path(), round, batch.len(), total));
                round += 1;
                e = ex.run(engine_iteration(dir.path(), round, &batch));
            }
            if pair == 0 {
                continue; // warm-up
            }
            let (e, rb, rl) = (
                mib_per_s(total, e),
                mib_per_s(total, rb),
                mib_per_s(total, rl),
            );
            engine.push(e);
            raw_batch.push(rb);
            raw_large.push(rl);
            ratio_batch.push(e / rb);
            ratio_large.push(e / rl);
        }
        println!(
            "| {label} | {:.0} | {:.0} | {:.0} | {:.0}% | {:.0}% |",
            median(engine),
            median(raw_batch),
            median(raw_large),
            100.0 * median(ratio_batch),
            100.0 * median(ratio_large)
        );
    }
}
