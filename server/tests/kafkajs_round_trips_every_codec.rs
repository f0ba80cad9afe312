//! kafkajs creates a 6-partition topic per codec, produces 10,000 keyed messages with headers
//! and timestamps, reads them back by partition and offset byte-exact, and checks ListOffsets
//! earliest, latest and by time. The checks live in `clients/node/kafkajs_round_trip.js`;
//! snappy, lz4 and zstd use the pure-JS codecs registered in `clients/node/codecs.js`.

mod common;

use std::process::Command;

use common::broker::{Broker, BrokerOptions};
use common::clients::{self, ALL_CODECS};

#[test]
fn kafkajs_round_trips_every_codec() {
    let Some(kafkajs) = clients::kafkajs() else {
        return;
    };
    let mut broker = Broker::start(BrokerOptions::default());
    let mut command = Command::new(&kafkajs.node);
    command
        .current_dir(&kafkajs.dir)
        .env("KAFKAJS_NO_PARTITIONER_WARNING", "1")
        .arg("kafkajs_round_trip.js")
        .args(clients::round_trip_args(&broker, "kafkajs", &ALL_CODECS));
    clients::run_round_trip(&mut broker, &mut command, "kafkajs round trip", &ALL_CODECS);
}
