//! A request with an API key Kafka does not define gets the connection closed, as Kafka does
//! (the header cannot be parsed, so there is no response format to answer in). The broker
//! stays up and another client is served meanwhile.

mod common;

use common::broker::{Broker, BrokerOptions};
use common::canary::Canary;

/// A request header v1 (api_key, api_version, correlation_id, null client_id), framed.
fn frame_with_header(api_key: i16, api_version: i16) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&api_key.to_be_bytes());
    body.extend_from_slice(&api_version.to_be_bytes());
    body.extend_from_slice(&42i32.to_be_bytes());
    body.extend_from_slice(&(-1i16).to_be_bytes());
    body.extend_from_slice(&[0, 0, 0, 0]);
    let mut frame = (body.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    frame
}

#[test]
fn unknown_api_key_closes_the_connection() {
    let broker = Broker::start(BrokerOptions::default());
    let mut canary = Canary::new(&broker);
    for api_key in [999, i16::MAX, -1] {
        let mut bad = broker.connect();
        bad.send_bytes(&frame_with_header(api_key, 0))
            .expect("send request");
        if let Err(why) = bad.expect_closed() {
            broker.fail(&format!("api key {api_key}: {why}"));
        }
        canary.assert_served(&broker, &format!("after api key {api_key}"));
    }
}
