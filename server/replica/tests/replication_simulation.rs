//! Replication with `sluice-replica` keeps its promises under crashes that lose undurable
//! data, pauses, network partitions, broken connections and lost messages, for many seeds, at
//! min.insync.replicas 2 and 1 over three replicas; and it converges once the faults stop. See
//! `replication_sim/mod.rs` for the model and `replication_sim/checker.rs` for the properties.
//!
//! - `SLUICE_SIM_SEED=n`: run only seed `n` (with `SLUICE_SIM_TRACE=1`, print every event).
//! - `SLUICE_SIM_SEEDS=n`: run seeds `0..n` of each configuration (the long run), instead of
//!   the default count.

#![allow(clippy::unwrap_used)]

mod replication_sim;

use std::time::Instant;

use replication_sim::{Config, RunSummary, Trace};

/// Seeds per configuration in the default run (about 1,400 events each), chosen so that both
/// tests together stay well within 20 s on two cores in a debug build (see the README).
const SEEDS_DEFAULT_MIN_INSYNC_TWO: u64 = 2_000;
const SEEDS_DEFAULT_MIN_INSYNC_ONE: u64 = 1_000;

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    match value.parse() {
        Ok(parsed) => Some(parsed),
        Err(_) => panic!("{name}={value} is not a number"),
    }
}

fn run_seeds(config: Config, seeds_default: u64) {
    let trace_live = std::env::var("SLUICE_SIM_TRACE").is_ok();
    let seeds: Vec<u64> = match env_u64("SLUICE_SIM_SEED") {
        Some(seed) => vec![seed],
        None => (0..env_u64("SLUICE_SIM_SEEDS").unwrap_or(seeds_default)).collect(),
    };
    let started = Instant::now();
    let mut total = RunSummary::default();
    for &seed in &seeds {
        let trace = if trace_live { Trace::Live } else { Trace::Off };
        match replication_sim::run(config, seed, trace) {
            Ok(summary) => total.add(&summary),
            Err(failure) => panic!("{}", report(config, seed, &failure.message)),
        }
    }
    eprintln!(
        "{config:?}, {} seeds in {:.1} s: {total:?}",
        seeds.len(),
        started.elapsed().as_secs_f64()
    );
}

/// Runs the failed seed again keeping its last events (a seed replays exactly) and reports.
fn report(config: Config, seed: u64, message: &str) -> String {
    let replay = replication_sim::run(config, seed, Trace::Ring);
    let Err(failure) = replay else {
        return format!("seed {seed} failed ({message}), but passed when replayed");
    };
    assert_eq!(failure.message, message, "seed {seed} replayed differently");
    let mut report = format!(
        "replication simulation failed: {config:?}, seed {seed}, at {} ms: {message}\n\
         replay: SLUICE_SIM_SEED={seed} SLUICE_SIM_TRACE=1 cargo test -p sluice-replica \
         --test replication_simulation -- --nocapture\nlast events:\n",
        failure.at_ms
    );
    for line in &failure.trace {
        report.push_str(line);
        report.push('\n');
    }
    report
}

#[test]
fn min_insync_two_of_three_keeps_acknowledged_data_under_faults() {
    run_seeds(Config { min_insync: 2 }, SEEDS_DEFAULT_MIN_INSYNC_TWO);
}

#[test]
fn min_insync_one_of_three_keeps_acknowledged_data_under_faults() {
    run_seeds(Config { min_insync: 1 }, SEEDS_DEFAULT_MIN_INSYNC_ONE);
}

#[test]
fn a_seed_replays_exactly() {
    for (config, seed) in [(Config { min_insync: 2 }, 7), (Config { min_insync: 1 }, 8)] {
        let first = replication_sim::run(config, seed, Trace::Off).unwrap();
        let second = replication_sim::run(config, seed, Trace::Off).unwrap();
        assert_eq!(first, second, "seed {seed} did not replay");
    }
}
