//! ApiVersions at a version newer than the broker knows is answered, not dropped: error
//! UNSUPPORTED_VERSION (35) with the broker's ranges, encoded as ApiVersions v0 (response
//! header v0, no throttle time), so that a newer client can retry lower on the same
//! connection. This is how every client negotiates.

mod common;

use bytes::{BufMut, BytesMut};
use common::broker::{Broker, BrokerOptions};
use common::canary::Canary;
use common::kafka::error_code;
use common::wire::decode_response;
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::protocol::Decodable;

const API_VERSIONS_KEY: i16 = kafka_protocol::messages::ApiKey::ApiVersions as i16;
const VERSION_TOO_NEW: i16 = 127;
const CORRELATION_ID: i32 = 0x5117;

/// ApiVersions at `version`, laid out like v3+ (request header v2, compact strings,
/// tagged fields), which is what a newer client would send.
fn too_new_api_versions_request(version: i16) -> Vec<u8> {
    let mut body = BytesMut::new();
    body.put_i16(API_VERSIONS_KEY);
    body.put_i16(version);
    body.put_i32(CORRELATION_ID);
    body.put_i16(12);
    body.put_slice(b"sluice-tests");
    body.put_u8(0); // header tagged fields
    body.put_u8(1 + 6); // client_software_name, compact string
    body.put_slice(b"future");
    body.put_u8(1 + 5); // client_software_version
    body.put_slice(b"9.9.9");
    body.put_u8(0); // body tagged fields
    let mut frame = (body.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    frame
}

#[test]
fn api_versions_too_new_gets_unsupported_version() {
    let broker = Broker::start(BrokerOptions::default());
    let mut canary = Canary::new(&broker);
    let mut conn = broker.connect();
    conn.send_bytes(&too_new_api_versions_request(VERSION_TOO_NEW))
        .expect("send ApiVersions");
    let mut frame = conn.receive_frame().unwrap_or_else(|e| {
        broker.fail(&format!("no answer to ApiVersions v{VERSION_TOO_NEW}: {e}"))
    });
    let response: ApiVersionsResponse =
        decode_response::<ApiVersionsRequest>(&mut frame, 0, CORRELATION_ID)
            .unwrap_or_else(|e| panic!("answer is not an ApiVersions v0 response: {e}"));
    assert_eq!(
        response.error_code,
        error_code::ResponseError::UnsupportedVersion.code(),
        "error code"
    );
    let own = response
        .api_keys
        .iter()
        .find(|k| k.api_key == API_VERSIONS_KEY)
        .expect("the ranges include ApiVersions itself");
    assert_eq!(own.min_version, 0, "ApiVersions min version");
    assert!(
        own.max_version >= 3,
        "ApiVersions max version {}",
        own.max_version
    );
    assert!(
        response.api_keys.len() >= 11,
        "the ranges list every API the broker serves, got {}",
        response.api_keys.len()
    );

    // The client retries at the highest version offered, on the same connection.
    let retried = conn.request(own.max_version, &ApiVersionsRequest::default());
    assert_eq!(
        retried.error_code,
        error_code::NONE,
        "retry at v{}",
        own.max_version
    );
    canary.assert_served(&broker, "after ApiVersions too new");
}

#[test]
fn api_versions_response_v0_decodes_without_leftovers() {
    // Guards the decoding used above: a v0 body is error_code + [api_key min max].
    let mut v0 = BytesMut::new();
    v0.put_i16(35);
    v0.put_i32(1);
    v0.put_i16(18);
    v0.put_i16(0);
    v0.put_i16(3);
    let mut bytes = v0.freeze();
    let decoded = ApiVersionsResponse::decode(&mut bytes, 0).expect("decode v0");
    assert_eq!(decoded.error_code, 35);
    assert_eq!(decoded.api_keys.len(), 1);
    assert!(bytes.is_empty());
}
