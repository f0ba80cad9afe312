//! A connection whose client sends a Fetch and then reads nothing of the response is closed
//! once no byte could be written for `connections.max.idle.ms` (as Kafka closes it), with one
//! log line; the client then finds the response cut short by the close.

mod common;

use std::time::Duration;

use common::broker::{Broker, BrokerOptions};
use common::kafka;
use common::stalled_consumer::StalledConsumer;
use common::wait::wait_until;

const TOPIC: &str = "unread";
const IDLE_MS: u64 = 2_000;
/// Far more than loopback socket buffers hold, so the response cannot be written whole.
const RESPONSE_BYTES: usize = 32 << 20;
const LOG_LINE: &str = "the client read nothing of its response within connections.max.idle.ms";
const DEADLINE: Duration = Duration::from_secs(30);

#[test]
fn fetch_to_a_client_that_stops_reading_closes_after_idle_limit() {
    let mut broker = Broker::start(
        BrokerOptions::default().config(&format!("\"connections.max.idle.ms\" = {IDLE_MS}\n")),
    );
    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, TOPIC, 1);
    kafka::produce_bytes(&mut conn, TOPIC, 0, RESPONSE_BYTES);
    drop(conn);

    let mut stalled = StalledConsumer::start(&broker, TOPIC, 0, RESPONSE_BYTES as i32);
    wait_until("the response to start arriving", DEADLINE, || {
        stalled.queued_bytes() > 0
    });
    let log = broker.wait_for_log(LOG_LINE, DEADLINE);
    assert_eq!(
        log.matches(LOG_LINE).count(),
        1,
        "one log line for one connection"
    );

    let read = stalled.read_until_closed(DEADLINE);
    assert!(
        read < RESPONSE_BYTES,
        "the close cut the response short: {read} of more than {RESPONSE_BYTES} bytes"
    );
    broker.assert_alive();
}
