//! A frame size of 2^31-1 (far above `socket.request.max.bytes`, 100 MiB by default) closes
//! the connection without the broker waiting for, or allocating, the announced bytes. The
//! broker stays up and another client is served meanwhile.

mod common;

use common::broker::{Broker, BrokerOptions};
use common::canary::Canary;

#[test]
fn oversized_frame_closes_the_connection() {
    let broker = Broker::start(BrokerOptions::default());
    let mut canary = Canary::new(&broker);
    let mut bad = broker.connect();
    let mut frame = i32::MAX.to_be_bytes().to_vec();
    // The start of a plausible ApiVersions header: the size alone must be enough to refuse.
    frame.extend_from_slice(&[0, 18, 0, 0, 0, 0, 0, 7]);
    bad.send_bytes(&frame).expect("send oversized frame header");
    canary.assert_served(&broker, "while the oversized frame is pending");
    if let Err(why) = bad.expect_closed() {
        broker.fail(&format!("frame size 2^31-1: {why}"));
    }
    canary.assert_served(&broker, "after the oversized frame");
}

#[test]
fn frame_just_over_the_limit_closes_the_connection() {
    let limit_bytes: i32 = 64 * 1024;
    let broker = Broker::start(
        BrokerOptions::default().config(&format!("\"socket.request.max.bytes\" = {limit_bytes}")),
    );
    let mut canary = Canary::new(&broker);
    let mut bad = broker.connect();
    bad.send_bytes(&(limit_bytes + 1).to_be_bytes())
        .expect("send size");
    if let Err(why) = bad.expect_closed() {
        broker.fail(&format!("frame size limit+1: {why}"));
    }
    canary.assert_served(&broker, "after a frame one byte over the limit");
}
