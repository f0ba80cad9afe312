//! Power loss on `MemStorage`: whatever `flush` acknowledged survives, byte-exact, and nothing
//! invalid is served after recovery. Each seed runs several cycles of: appends and flushes
//! across segment rolls, more appends never flushed, a power loss (nothing unsynced kept, or
//! a seeded torn subset of the unsynced blocks), reopen and check. A storage whose fdatasync
//! lies must fail the same check: that is what makes it a test.

mod common;

use std::path::Path;
use std::rc::Rc;

use common::*;
use sluice_engine::storage::{Fault, FaultyStorage, MemStorage};
use sluice_engine::{LogConfig, LogManager, PartitionLog};

const SEEDS: u64 = 12;
const CYCLES: usize = 3;
const ROUNDS_MAX: u64 = 4;
const BATCHES_PER_ROUND_MAX: u64 = 40;
const VALUE_BYTES_MAX: u64 = 4_000;
const SEGMENT_BYTES_LARGE: u64 = 512 * 1024;

type Batches = Vec<(i64, Vec<u8>)>;

/// Odd seeds: the smallest segments (a roll every few batches). Even seeds: segments large
/// enough that write-behind chunks fill and reach the device unsynced between flushes, which
/// is what a torn crash then keeps or drops block by block.
fn config(seed: u64) -> LogConfig {
    let segment_bytes = if seed % 2 == 1 {
        sluice_engine::limits::SEGMENT_BYTES_MIN
    } else {
        SEGMENT_BYTES_LARGE
    };
    LogConfig {
        index_interval_bytes: 256,
        ..log_config(segment_bytes)
    }
}

/// What the log must hold after a power loss.
#[derive(Default)]
struct Expected {
    /// Acknowledged by `flush` (or recovered, hence already durable).
    durable: Batches,
    durable_end: i64,
    /// Appended after the last flush: may be lost, but only as a suffix, never altered (a roll
    /// may have made some of them durable already).
    unflushed: Batches,
}

/// Appends up to `BATCHES_PER_ROUND_MAX` random batches; returns them as stored.
async fn append_some(log: &PartitionLog, rng: &mut Xorshift) -> Batches {
    let mut out = Vec::new();
    for _ in 0..=rng.below(BATCHES_PER_ROUND_MAX) {
        let base = log.log_end_offset();
        let records = 1 + rng.below(4) as i32;
        let value_len = rng.below(VALUE_BYTES_MAX) as usize;
        let sent = batch_of(records, value_len, rng.below(1 << 20), 1_000 + base);
        out.push(append_as_stored(log, &sent).await);
    }
    out
}

/// Compares a recovered log with what was acknowledged; `Err` says what was lost or altered.
/// Returns how many unflushed batches came back.
fn check_recovered(recovered: &Batches, end: i64, expected: &Expected) -> Result<usize, String> {
    if end < expected.durable_end {
        return Err(format!(
            "log end {end} below the flushed offset {}",
            expected.durable_end
        ));
    }
    let durable = expected.durable.len();
    if recovered.len() < durable || recovered[..durable] != expected.durable[..] {
        let differ = recovered
            .iter()
            .zip(&expected.durable)
            .position(|(got, want)| got != want)
            .unwrap_or(recovered.len().min(durable));
        let base_at = |batches: &Batches| batches.get(differ).map(|(base, _)| *base);
        return Err(format!(
            "flushed batches changed or lost: {} recovered, {durable} flushed; first difference \
             at batch {differ} (recovered base {:?}, flushed base {:?})",
            recovered.len(),
            base_at(recovered),
            base_at(&expected.durable)
        ));
    }
    let extra = &recovered[durable..];
    if extra.len() > expected.unflushed.len() || *extra != expected.unflushed[..extra.len()] {
        return Err("batches past the flushed offset are not a prefix of the appends".into());
    }
    Ok(extra.len())
}

/// Runs `CYCLES` append/flush/power-loss cycles for `seed`; `lie` arms `Fault::SyncLies`.
/// Returns the number of segments at the end and how many unflushed batches came back.
async fn power_loss_cycles(seed: u64, lie: bool) -> Result<(usize, usize), String> {
    let mem = Rc::new(MemStorage::new());
    let storage = Rc::new(FaultyStorage::new(mem.clone()));
    if lie {
        storage.inject(Fault::SyncLies);
    }
    let data_dir = Path::new("/mem/data");
    let mut rng = Xorshift(0x9e37_79b9 ^ seed.wrapping_mul(0x1000_0001) | 1);
    let mut expected = Expected::default();
    let mut unflushed_kept = 0;
    for cycle in 0..CYCLES {
        let manager = LogManager::with_storage(shard_config(data_dir), storage.clone());
        let log = manager.open_log("t", 0, config(seed)).await.expect("open");
        let recovered = read_all(&log).await;
        unflushed_kept += check_recovered(&recovered, log.log_end_offset(), &expected)
            .map_err(|lost| format!("seed {seed} cycle {cycle}: {lost}"))?;
        // Recovery synced what it kept: all of it is durable now, and what it did not keep is
        // gone for good.
        expected.durable = recovered;
        expected.durable_end = log.log_end_offset();
        expected.unflushed.clear();
        for _ in 0..=rng.below(ROUNDS_MAX) {
            expected.unflushed.extend(append_some(&log, &mut rng).await);
            if rng.below(2) == 0 {
                expected.durable_end = log.flush().await.expect("flush");
                expected.durable.append(&mut expected.unflushed);
            }
        }
        expected.durable_end = log.flush().await.expect("flush");
        expected.durable.append(&mut expected.unflushed);
        expected.unflushed = append_some(&log, &mut rng).await;
        drop(log);
        drop(manager);
        if (seed + cycle as u64).is_multiple_of(2) {
            mem.crash();
        } else {
            mem.crash_torn(seed * 31 + cycle as u64);
        }
    }
    let manager = LogManager::with_storage(shard_config(data_dir), storage.clone());
    let log = manager.open_log("t", 0, config(seed)).await.expect("open");
    let recovered = read_all(&log).await;
    unflushed_kept += check_recovered(&recovered, log.log_end_offset(), &expected)
        .map_err(|lost| format!("seed {seed} last reopen: {lost}"))?;
    let segments = log.segment_count();
    manager.close_all().await.expect("close");
    Ok((segments, unflushed_kept))
}

#[test]
fn flushed_batches_survive_power_loss_byte_exact() {
    run(|| async {
        let mut rolled_seeds = 0;
        let mut unflushed_kept = 0;
        for seed in 0..SEEDS {
            match power_loss_cycles(seed, false).await {
                Ok((segments, kept)) => {
                    rolled_seeds += usize::from(segments > 1);
                    unflushed_kept += kept;
                }
                Err(lost) => panic!("{lost}"),
            }
        }
        // Not vacuous: logs rolled, and some unflushed batches reached the device and came
        // back (the suffix rule was exercised, not only "everything unflushed is lost").
        assert!(
            rolled_seeds as u64 >= SEEDS / 2,
            "only {rolled_seeds} seeds rolled"
        );
        assert!(unflushed_kept > 0, "no unflushed batch ever survived");
        eprintln!("{unflushed_kept} unflushed batches survived power losses");
    });
}

#[test]
fn a_device_that_skips_fdatasync_is_caught() {
    run(|| async {
        for seed in 0..SEEDS {
            let outcome = power_loss_cycles(seed, true).await;
            assert!(
                outcome.is_err(),
                "seed {seed}: a flush that never synced went unnoticed"
            );
        }
    });
}
