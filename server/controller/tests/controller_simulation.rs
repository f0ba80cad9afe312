//! The controller on top of the metadata quorum keeps the metadata consistent under message
//! loss, reordering, duplication, network splits, voter crashes with torn writes, broker
//! restarts and pauses (sessions expire, brokers get fenced), ISR changes from leaders
//! (AlterPartition), reassignments, unclean elections and leader rebalancing, for many seeds;
//! and it recovers once the faults stop. See `controller_sim/mod.rs` for the model, `controller_sim/checker.rs`
//! for the properties, and `server/controller/README.md` ("Controller simulation") for how to
//! run more seeds or replay one.
//!
//! - `SLUICE_SIM_SEED=n`: run only seed `n` (with `SLUICE_SIM_TRACE=1`, print every event).
//! - `SLUICE_SIM_SEEDS=n`: run seeds `0..n` of each size (the long run), instead of the
//!   default count.

mod controller_sim;

use std::panic::{catch_unwind, AssertUnwindSafe};

use controller_sim::RunSummary;

/// Seeds per voter count in the default run, chosen so that both tests together stay within
/// about 30 s on one core in a debug build (see the README's "Controller simulation").
const SEEDS_DEFAULT_THREE_VOTERS: u64 = 600;
const SEEDS_DEFAULT_FIVE_VOTERS: u64 = 400;

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    match value.parse() {
        Ok(parsed) => Some(parsed),
        Err(_) => panic!("{name}={value} is not a number"),
    }
}

fn add(total: &mut RunSummary, run: &RunSummary) {
    total.events += run.events;
    total.offset_max += run.offset_max;
    total.elections += run.elections;
    total.crashes += run.crashes;
    total.partitions += run.partitions;
    total.snapshots_installed += run.snapshots_installed;
    total.acknowledged += run.acknowledged;
    total.lost_proposals += run.lost_proposals;
    total.topics_created += run.topics_created;
    total.registrations += run.registrations;
    total.fencings += run.fencings;
    total.broker_faults += run.broker_faults;
    total.isr_changes += run.isr_changes;
    total.reassignments_completed += run.reassignments_completed;
    total.unclean_elections += run.unclean_elections;
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
            controller_sim::run(voters, *seed, trace_live)
        }));
        let summary = match outcome {
            Ok(Ok(summary)) => summary,
            Ok(Err(report)) => panic!("{report}"),
            Err(_) => panic!(
                "controller simulation panicked: {voters} voters, seed {seed}\nreplay: \
                 SLUICE_SIM_SEED={seed} SLUICE_SIM_TRACE=1 cargo test -p sluice-controller \
                 --test controller_simulation -- --nocapture"
            ),
        };
        add(&mut total, &summary);
    }
    eprintln!("{voters} voters, {} seeds: {total:?}", seeds.len());
}

#[test]
fn three_voters_keep_the_metadata_consistent_under_faults() {
    run_seeds(3, SEEDS_DEFAULT_THREE_VOTERS);
}

#[test]
fn five_voters_keep_the_metadata_consistent_under_faults() {
    run_seeds(5, SEEDS_DEFAULT_FIVE_VOTERS);
}

#[test]
fn a_seed_replays_exactly() {
    for (voters, seed) in [(3, 21), (5, 22)] {
        let first = controller_sim::run(voters, seed, false).expect("first run");
        let second = controller_sim::run(voters, seed, false).expect("second run");
        assert_eq!(first, second, "seed {seed} did not replay");
    }
}
