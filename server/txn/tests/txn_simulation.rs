//! The transaction coordinator keeps its promises under random clients (two producer
//! instances per transactional id, fencing each other), failed writes, writes that finish in
//! any order across ids, transaction timeouts, id expiry, and coordinator crashes that rebuild
//! the state by replaying the durable `__transaction_state` records (some of them compacted)
//! into a fresh `TxnCoordinator`. See `txn_sim/mod.rs` for the model and the properties.
//!
//! - `SLUICE_SIM_SEED=n`: run only seed `n` (with `SLUICE_SIM_TRACE=1`, print every event).
//! - `SLUICE_SIM_SEEDS=n`: run seeds `0..n` instead of the default count.

#![allow(clippy::unwrap_used)]

mod txn_sim;

use std::time::Instant;

/// Seeds in the default run: well under 5 s in a debug build on two shared cores.
const SEEDS_DEFAULT: u64 = 150;

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    match value.parse() {
        Ok(parsed) => Some(parsed),
        Err(_) => panic!("{name}={value} is not a number"),
    }
}

#[test]
fn coordinator_keeps_epochs_fencing_and_markers_under_faults() {
    let trace = std::env::var("SLUICE_SIM_TRACE").is_ok();
    let seeds: Vec<u64> = match env_u64("SLUICE_SIM_SEED") {
        Some(seed) => vec![seed],
        None => (0..env_u64("SLUICE_SIM_SEEDS").unwrap_or(SEEDS_DEFAULT)).collect(),
    };
    let started = Instant::now();
    let mut total = txn_sim::Summary::default();
    for &seed in &seeds {
        match txn_sim::run(seed, trace) {
            Ok(summary) => total.add(&summary),
            Err(failure) => panic!(
                "txn simulation failed: seed {seed}: {}\nreplay: SLUICE_SIM_SEED={seed} \
                 SLUICE_SIM_TRACE=1 cargo test -p sluice-txn --test txn_simulation -- \
                 --nocapture\nlast events:\n{}",
                failure.message,
                failure.trace.join("\n")
            ),
        }
    }
    if seeds.len() > 1 {
        // The faults and paths the properties are about were all exercised.
        assert!(
            total.commits > 0 && total.aborts > 0 && total.fences > 0,
            "{total:?}"
        );
        assert!(
            total.timeouts > 0 && total.expiries > 0 && total.rotations > 0,
            "{total:?}"
        );
        assert!(total.crashes > 0 && total.failed_writes > 0, "{total:?}");
        assert!(
            total.kip360_answers > 0 && total.fenced_requests > 0,
            "{total:?}"
        );
    }
    eprintln!(
        "{} seeds in {:.1} s: {total:?}",
        seeds.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(seeds.len() > 1 || total.steps > 0);
}

#[test]
fn a_seed_replays_exactly() {
    let first = txn_sim::run(7, false).map_err(|f| f.message).unwrap();
    let second = txn_sim::run(7, false).map_err(|f| f.message).unwrap();
    assert_eq!(first, second);
    assert!(first.commits > 0, "{first:?}");
    assert!(first.fences > 0, "{first:?}");
    assert!(first.crashes > 0, "{first:?}");
}
