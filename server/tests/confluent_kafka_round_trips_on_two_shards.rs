//! With `--cores 2` a 6-partition topic spans both shards, and a connection accepted by one
//! shard produces to and fetches from partitions owned by the other. librdkafka keeps one
//! connection per broker, so every partition it reaches through it that the accepting shard
//! does not own goes over the cross-shard path.

mod common;

use std::process::Command;

use common::broker::{Broker, BrokerOptions};
use common::clients;

#[test]
fn confluent_kafka_round_trips_on_two_shards() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let codecs = ["none", "zstd"];
    let mut broker = Broker::start(BrokerOptions::default().cores(2));
    let mut command = Command::new(python);
    command
        .current_dir(clients::python_scripts_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg("confluent_kafka_round_trip.py")
        .args(clients::round_trip_args(&broker, "two-shards", &codecs));
    clients::run_round_trip(
        &mut broker,
        &mut command,
        "confluent-kafka on 2 shards",
        &codecs,
    );
}
