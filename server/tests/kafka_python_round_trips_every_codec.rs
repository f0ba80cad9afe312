//! kafka-python (pure Python, its default idempotent producer) creates a 6-partition topic per
//! codec, produces 10,000 keyed messages with headers and timestamps, reads them back by
//! partition and offset byte-exact, and checks ListOffsets earliest, latest and by time. The checks live in
//! `clients/python/kafka_python_round_trip.py`.

mod common;

use std::process::Command;

use common::broker::{Broker, BrokerOptions};
use common::clients::{self, ALL_CODECS};

#[test]
fn kafka_python_round_trips_every_codec() {
    let Some(python) = clients::python_with("kafka") else {
        return;
    };
    let mut broker = Broker::start(BrokerOptions::default());
    let mut command = Command::new(python);
    command
        .current_dir(clients::python_scripts_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg("kafka_python_round_trip.py")
        .args(clients::round_trip_args(
            &broker,
            "kafka-python",
            &ALL_CODECS,
        ));
    clients::run_round_trip(
        &mut broker,
        &mut command,
        "kafka-python round trip",
        &ALL_CODECS,
    );
}
