//! A request for a known API at a version the broker does not support (other than
//! ApiVersions, which must answer) gets the connection closed, as Kafka does: the body's
//! layout is unknown. The broker stays up and another client is served meanwhile.

mod common;

use common::broker::{Broker, BrokerOptions};
use common::canary::Canary;

const METADATA_KEY: i16 = kafka_protocol::messages::ApiKey::Metadata as i16;
const PRODUCE_KEY: i16 = kafka_protocol::messages::ApiKey::Produce as i16;
const VERSION_TOO_NEW: i16 = 999;

fn frame_with_header(api_key: i16, api_version: i16) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&api_key.to_be_bytes());
    body.extend_from_slice(&api_version.to_be_bytes());
    body.extend_from_slice(&7i32.to_be_bytes());
    body.extend_from_slice(&(-1i16).to_be_bytes());
    body.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut frame = (body.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    frame
}

#[test]
fn unknown_api_version_closes_the_connection() {
    let broker = Broker::start(BrokerOptions::default());
    let mut canary = Canary::new(&broker);
    for api_key in [METADATA_KEY, PRODUCE_KEY] {
        let mut bad = broker.connect();
        bad.send_bytes(&frame_with_header(api_key, VERSION_TOO_NEW))
            .expect("send request");
        if let Err(why) = bad.expect_closed() {
            broker.fail(&format!("api key {api_key} v{VERSION_TOO_NEW}: {why}"));
        }
        canary.assert_served(
            &broker,
            &format!("after api key {api_key} v{VERSION_TOO_NEW}"),
        );
    }
}
