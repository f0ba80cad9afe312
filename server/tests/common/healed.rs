//! The checks a replication fault test makes once the fault healed: the loadgen producer and
//! the confluent-kafka stream finished, every replica back in the ISR, then `verify` over the
//! loadgen history, every confluent delivery and acknowledged probe write at its offset, and
//! replicas byte-identical below the high watermark. The verdict is asserted last, so the
//! other checks run (and report) even when it fails.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::cluster::Cluster;
use super::confluent::{self, ConfluentStream};
use super::loadgen::{produce_counts, verify};
use super::probe::{self, ProbeWrite};
use super::process::ChildGuard;
use super::replicas::{assert_replicas_identical, REJOIN_TIMEOUT};

/// What a fault test ran during the fault.
pub struct Workload<'a> {
    pub loadgen: &'a Path,
    pub kcat: &'a Path,
    pub dir: &'a Path,
    pub history: PathBuf,
    pub loadgen_log: PathBuf,
    pub loadgen_timeout: Duration,
    pub loadgen_topic: &'a str,
    pub confluent_topic: &'a str,
    pub partitions: usize,
}

pub fn check_after_healing(
    cluster: &Cluster,
    survivor: usize,
    workload: Workload<'_>,
    mut producer: ChildGuard,
    stream: ConfluentStream,
    writes: &[ProbeWrite],
) {
    let status = producer.wait(workload.loadgen_timeout, "loadgen produce");
    let text = std::fs::read_to_string(&workload.loadgen_log).unwrap_or_default();
    assert!(
        workload.history.exists(),
        "loadgen ({status}) wrote no history\n{text}"
    );
    eprintln!("loadgen: {}", produce_counts(&workload.history));
    let report = stream.finish();
    eprintln!("confluent-kafka: {}", report.summary);
    let topics = [workload.loadgen_topic, workload.confluent_topic];
    for topic in topics {
        cluster.wait_for_full_isr(survivor, topic, workload.partitions, REJOIN_TIMEOUT);
    }
    let verdict = verify(
        workload.loadgen,
        &cluster.brokers[survivor].bootstrap(),
        workload.loadgen_topic,
        &[workload.history],
        workload.dir,
    );
    eprintln!("verify: {}", verdict.summary());
    let stored = confluent::read_topic(
        workload.kcat,
        &cluster.bootstrap(),
        workload.confluent_topic,
    );
    confluent::assert_delivered_in_place(&report, &stored);
    probe::assert_acknowledged_kept(writes, &stored);
    for topic in topics {
        assert_replicas_identical(cluster, survivor, topic, workload.partitions);
    }
    verdict.assert_safe();
}
