//! Cluster figures, measured on demand (`SLUICE_CLUSTER_MEASURE=1`; without it the test says
//! so and does nothing, as a long run behind an environment variable):
//! - metadata propagation: from the CreateTopics answer until every broker of three serves the
//!   topic, over `CREATIONS` creations (p50 and max);
//! - controller failover: from kill -9 of the active controller until both survivors name the
//!   same new one, over `KILLS` kills (p50 and max).
//!
//! The figures go to stdout as a Markdown table. Each wait is bounded, so a broken cluster
//! fails the run instead of measuring forever.

mod common;

use std::time::{Duration, Instant};

use common::broker::BrokerOptions;
use common::cluster::{try_metadata, Cluster};
use common::kafka::create_topic;
use common::wait::wait_until;

const MEASURE_ENV: &str = "SLUICE_CLUSTER_MEASURE";
const BROKERS: usize = 3;
const CREATIONS: usize = 100;
const KILLS: usize = 20;
const PROPAGATION_TIMEOUT: Duration = Duration::from_secs(10);
const FAILOVER_TIMEOUT: Duration = Duration::from_secs(30);
const REJOIN_TIMEOUT: Duration = Duration::from_secs(60);

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn summary(name: &str, mut samples: Vec<Duration>) -> String {
    samples.sort();
    format!(
        "| {name} | {} | {:.1} | {:.1} | {:.1} |",
        samples.len(),
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    )
}

#[test]
fn cluster_propagation_and_failover_figures() {
    if std::env::var_os(MEASURE_ENV).is_none() {
        eprintln!("set {MEASURE_ENV}=1 to measure metadata propagation and controller failover");
        return;
    }
    let mut cluster = Cluster::start(BROKERS, BrokerOptions::default());
    let mut propagation = Vec::with_capacity(CREATIONS);
    for i in 0..CREATIONS {
        let name = format!("propagate-{i}");
        let mut conn = cluster.brokers[i % BROKERS].connect();
        create_topic(&mut conn, &name, 1);
        let answered = Instant::now();
        for index in 0..BROKERS {
            wait_until(
                &format!("broker {index} to serve {name}"),
                PROPAGATION_TIMEOUT,
                || {
                    let meta = cluster.metadata(index, &[&name]);
                    (meta.topics[0].error_code == 0).then_some(())
                },
            );
        }
        propagation.push(answered.elapsed());
    }

    let mut failover = Vec::with_capacity(KILLS);
    for kill in 0..KILLS {
        let old = cluster.metadata(0, &[]).controller_id.0;
        let victim = cluster
            .node_ids
            .iter()
            .position(|id| *id == old)
            .expect("controller");
        let survivors: Vec<usize> = (0..BROKERS).filter(|i| *i != victim).collect();
        cluster.brokers[victim].kill9();
        let killed = Instant::now();
        wait_until(
            &format!("kill {kill}: a new controller"),
            FAILOVER_TIMEOUT,
            || {
                let ids: Vec<i32> = survivors
                    .iter()
                    .map(|i| {
                        try_metadata(cluster.brokers[*i].addr()).map_or(-1, |m| m.controller_id.0)
                    })
                    .collect();
                (ids[0] >= 0 && ids[0] != old && ids.iter().all(|id| *id == ids[0])).then_some(())
            },
        );
        failover.push(killed.elapsed());
        cluster.brokers[victim].respawn();
        cluster.brokers[victim].wait_started();
        for index in 0..BROKERS {
            cluster.wait_for_brokers(index, BROKERS, REJOIN_TIMEOUT);
        }
    }
    println!("| figure | samples | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|");
    println!(
        "{}",
        summary(
            "metadata propagation (CreateTopics answer → served by all 3)",
            propagation
        )
    );
    println!(
        "{}",
        summary(
            "controller failover (kill -9 → survivors agree on a new one)",
            failover
        )
    );
}
