//! Random bytes on a socket get that connection closed; the broker stays up and keeps serving
//! another client meanwhile. Each garbage frame is size-prefixed with its true length, so the
//! broker has the whole frame and must decide it does not parse (a frame still arriving is
//! not garbage yet). Seeds are fixed, so a failure reproduces.

mod common;

use common::broker::{Broker, BrokerOptions};
use common::canary::Canary;
use common::records::TestRng;

const SEEDS: u64 = 24;
const GARBAGE_BYTES_MAX: u64 = 64 * 1024;

#[test]
fn random_bytes_close_only_their_connection() {
    let broker = Broker::start(BrokerOptions::default());
    let mut canary = Canary::new(&broker);
    for seed in 1..=SEEDS {
        let mut rng = TestRng::new(seed);
        let len = 1 + rng.below(GARBAGE_BYTES_MAX) as usize;
        let body = rng.bytes(len);
        let mut frame = (body.len() as i32).to_be_bytes().to_vec();
        frame.extend_from_slice(&body);

        let mut bad = broker.connect();
        bad.send_bytes(&frame).expect("send garbage");
        canary.assert_served(&broker, &format!("while garbage seed {seed} is pending"));
        if let Err(why) = bad.expect_closed() {
            broker.fail(&format!(
                "garbage frame (seed {seed}, {} bytes): {why}",
                body.len()
            ));
        }
        canary.assert_served(&broker, &format!("after garbage seed {seed}"));
    }
}

#[test]
fn negative_frame_size_closes_the_connection() {
    let broker = Broker::start(BrokerOptions::default());
    let mut canary = Canary::new(&broker);
    let mut bad = broker.connect();
    bad.send_bytes(&[0xff, 0xff, 0xff, 0xfe, 0, 1, 2, 3])
        .expect("send negative size");
    if let Err(why) = bad.expect_closed() {
        broker.fail(&format!("frame size -2: {why}"));
    }
    canary.assert_served(&broker, "after a negative frame size");
}
