//! Criterion benches of the engine's hot paths (see `sluice_benches` for the workloads):
//! `append_flush/{engine,raw_dma_batch,raw_dma_1mib}/<batch>`, `read/cached_tail` (newest batch
//! from the batch cache) and `read/index_lookup_cold` (read positioning of a random offset in
//! sealed segments: segment binary search, sparse index, header scan; returns a file range).

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sluice_benches::*;
use sluice_engine::{LogConfig, LogManager, ReadChunk, ShardEngineConfig};

fn append_flush(c: &mut Criterion) {
    let ex = executor();
    let dir = bench_dir();
    let mut group = c.benchmark_group("append_flush");
    group.sample_size(10);
    let mut round = 0u64;
    for (label, batch_bytes) in [("16KiB", 16 << 10), ("64KiB", 64 << 10), ("1MiB", 1 << 20)] {
        let batch = batch_near(batch_bytes);
        let total = iteration_bytes(&batch);
        group.throughput(Throughput::Bytes(total as u64));
        group.bench_function(BenchmarkId::new("engine", label), |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    round += 1;
                    elapsed += ex.run(engine_iteration(dir.path(), round, &batch));
                }
                elapsed
            })
        });
        group.bench_function(BenchmarkId::new("raw_dma_batch", label), |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    round += 1;
                    elapsed += ex.run(raw_iteration(dir.path(), round, batch.len(), total));
                }
                elapsed
            })
        });
        group.bench_function(BenchmarkId::new("raw_dma_1mib", label), |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    round += 1;
                    elapsed += ex.run(raw_iteration(
                        dir.path(),
                        round,
                        RAW_LARGE_WRITE_BYTES,
                        total,
                    ));
                }
                elapsed
            })
        });
    }
    group.finish();
}

fn reads(c: &mut Criterion) {
    let ex = executor();
    let dir = bench_dir();
    let path = dir.path().to_path_buf();
    let (manager, log, end) = ex.run(async move {
        let manager = LogManager::new(ShardEngineConfig {
            batch_cache_bytes_max: 8 << 20,
            ..ShardEngineConfig::new(&path)
        });
        let config = LogConfig {
            segment_bytes: 16 << 20,
            ..log_config()
        };
        let log = manager.open_log("read", 0, config).await.expect("open");
        let batch = batch_near(16 << 10);
        for _ in 0..(64 << 20) / batch.len() {
            log.append(std::slice::from_ref(&batch), 0)
                .await
                .expect("append");
        }
        log.flush().await.expect("flush");
        let end = log.log_end_offset();
        (manager, log, end)
    });
    let mut group = c.benchmark_group("read");
    let tail_offset = end - 1;
    // One executor entry per sample, many reads inside: measures the read, not ex.run().
    group.bench_function("cached_tail", |b| {
        b.iter_custom(|iters| {
            ex.run(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let result = log
                        .read(tail_offset, 1 << 20, i64::MAX)
                        .await
                        .expect("read");
                    assert!(matches!(result.chunks[0], ReadChunk::Cached(_)));
                    std::hint::black_box(result);
                }
                start.elapsed()
            })
        })
    });
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    group.bench_function("index_lookup_cold", |b| {
        b.iter_custom(|iters| {
            ex.run(async {
                let start = Instant::now();
                for _ in 0..iters {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    // The first half of the log: sealed segments, evicted from the cache.
                    let offset = (seed % (end as u64 / 2)) as i64;
                    let result = log.read(offset, 1, i64::MAX).await.expect("read");
                    assert!(matches!(result.chunks[0], ReadChunk::File(_)));
                    std::hint::black_box(result);
                }
                start.elapsed()
            })
        })
    });
    group.finish();
    ex.run(async move { manager.close_all().await.expect("close") });
}

criterion_group!(benches, append_flush, reads);
criterion_main!(benches);
