//! The metadata quorum keeps Raft's promises under message loss, reordering, duplication,
//! network splits, crashes and torn writes, for many seeds; and it recovers once the faults
//! stop. See `simulation/mod.rs` for the model and `server/controller/README.md` ("Simulation")
//! for how to run more seeds or replay one.
//!
//! - `SLUICE_SIM_SEED=n`: run only seed `n` (with `SLUICE_SIM_TRACE=1`, print every event).
//! - `SLUICE_SIM_SEEDS=n`: run seeds `0..n` (the long run), instead of the default count.

mod simulation;

use std::panic::{catch_unwind, AssertUnwindSafe};

use simulation::RunSummary;

/// Seeds per voter count in the default run, chosen so that both tests together stay within
/// about 60 s on one core in a debug build (see the README's "Simulation" section).
const SEEDS_DEFAULT_THREE_VOTERS: u64 = 4_000;
const SEEDS_DEFAULT_FIVE_VOTERS: u64 = 2_000;

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    match value.parse() {
        Ok(parsed) => Some(parsed),
        Err(_) => panic!("{name}={value} is not a number"),
    }
}

fn run_seeds(voters: usize, seeds_default: u64) {
    let trace_live = std::env::var("SLUICE_SIM_TRACE").is_ok();
    let seeds: Vec<u64> = match env_u64("SLUICE_SIM_SEED") {
        Some(seed) => vec![seed],
        None => (0..env_u64("SLUICE_SIM_SEEDS").unwrap_or(seeds_default)).collect(),
    };
    let mut total = RunSummary::default();
    for seed in &seeds {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            simulation::run(voters, *seed, trace_live)
        }));
        let summary = match outcome {
            Ok(Ok(summary)) => summary,
            Ok(Err(report)) => panic!("{report}"),
            Err(_) => panic!(
                "simulation panicked: {voters} voters, seed {seed}\nreplay: SLUICE_SIM_SEED={seed} \
                 SLUICE_SIM_TRACE=1 cargo test -p sluice-controller --test raft_quorum_simulation \
                 -- --nocapture"
            ),
        };
        total.events += summary.events;
        total.decided_index += summary.decided_index;
        total.terms_with_leader += summary.terms_with_leader;
        total.crashes += summary.crashes;
        total.partitions += summary.partitions;
        total.snapshots_installed += summary.snapshots_installed;
    }
    eprintln!("{voters} voters, {} seeds: {total:?}", seeds.len());
}

#[test]
fn three_voters_keep_raft_promises_under_faults() {
    run_seeds(3, SEEDS_DEFAULT_THREE_VOTERS);
}

#[test]
fn five_voters_keep_raft_promises_under_faults() {
    run_seeds(5, SEEDS_DEFAULT_FIVE_VOTERS);
}

#[test]
fn a_seed_replays_exactly() {
    for (voters, seed) in [(3, 11), (5, 12)] {
        let first = simulation::run(voters, seed, false).expect("first run");
        let second = simulation::run(voters, seed, false).expect("second run");
        assert_eq!(first, second, "seed {seed} did not replay");
    }
}
