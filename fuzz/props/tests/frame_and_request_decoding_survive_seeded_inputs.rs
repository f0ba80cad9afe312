//! Stable-toolchain run of the `frame_header` and `request_body` fuzz targets' properties
//! (`sluice_fuzz_props::{frame_props, request_props}`, which drive the broker's own
//! `read_frame`, version table and request types) from fixed seeds — every API the broker
//! serves at every codec version, encoded from its default value — their mutations, random
//! bytes, and the committed regression inputs (`fuzz/regressions/{frame_header,request_body}/`).
//! SLUICE_FUZZ_CASES scales the case count.

use bytes::BytesMut;
use kafka_protocol::messages::{ApiKey, RequestHeader};
use kafka_protocol::protocol::{Encodable, StrBytes};
use sluice_fuzz_props::{frame_props, request_props, seeded};
use sluice_server::kafka::handlers;

const CASES_DEFAULT: usize = 20_000;

fn cases() -> usize {
    seeded::cases_from_env().unwrap_or(CASES_DEFAULT)
}

/// (API, version, default body) for every served API at every codec version that encodes.
fn request_seeds() -> Vec<(ApiKey, i16, Vec<u8>)> {
    let mut seeds = Vec::new();
    for api_key in request_props::decoded_apis() {
        let range = api_key.valid_versions();
        for version in range.min..=range.max {
            if let Some(body) = request_props::default_body(api_key, version) {
                seeds.push((api_key, version, body));
            }
        }
    }
    seeds
}

fn frame_of(api_key: ApiKey, version: i16, body: &[u8]) -> Vec<u8> {
    let header = RequestHeader::default()
        .with_request_api_key(api_key as i16)
        .with_request_api_version(version)
        .with_correlation_id(7)
        .with_client_id(Some(StrBytes::from_static_str("fuzz")));
    let mut frame = BytesMut::new();
    header
        .encode(&mut frame, api_key.request_header_version(version))
        .expect("encode a request header");
    frame.extend_from_slice(body);
    let mut out = (frame.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(&frame);
    out
}

#[test]
fn request_bodies_decode_without_panics_and_round_trip() {
    let default_seeds = request_seeds();
    assert!(
        default_seeds.len() > 100,
        "only {} request seeds",
        default_seeds.len()
    );
    assert!(
        default_seeds
            .iter()
            .any(|(api_key, _, _)| *api_key == ApiKey::OffsetDelete),
        "every served API is seeded"
    );
    let seeds: Vec<Vec<u8>> = default_seeds
        .iter()
        .map(|(api_key, version, body)| request_props::input(*api_key, *version, body))
        .chain(
            seeded::corpus(&seeded::repo_root(), "request_body")
                .into_iter()
                .map(|(_, d)| d),
        )
        .collect();
    let inputs = seeded::inputs(&seeds, cases(), 0x5eed_b0d1, 300);
    let mut decoded = 0usize;
    for input in &inputs {
        if request_props::check(input) {
            decoded += 1;
        }
    }
    eprintln!("{} request inputs, {decoded} decoded", inputs.len());
    assert!(
        decoded >= default_seeds.len() / 2,
        "too few inputs decoded: {decoded}"
    );
}

#[test]
fn frames_and_headers_survive_seeded_streams() {
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    let mut served = 0usize;
    for (i, (api_key, version, body)) in request_seeds().into_iter().enumerate() {
        let mut input = vec![i as u8];
        let frame = frame_of(api_key, version, &body);
        if frame_props::request_header(&frame[4..].to_vec().into()).is_some() {
            served += 1;
        }
        input.extend_from_slice(&frame);
        // Two pipelined frames in one stream half the time.
        if i % 2 == 0 {
            input.extend_from_slice(&frame_of(ApiKey::ApiVersions, 0, &[]));
        }
        seeds.push(input);
    }
    // The seeds must reach the broker's body decoding, not only its version check.
    assert!(
        served >= handlers::APIS.len(),
        "only {served} seeded frames pass the broker's version check"
    );
    seeds.extend(
        seeded::corpus(&seeded::repo_root(), "frame_header")
            .into_iter()
            .map(|(_, d)| d),
    );
    let inputs = seeded::inputs(&seeds, cases() / 2, 0x5eed_f4a3, 300);
    for input in &inputs {
        frame_props::check(input);
    }
    eprintln!("{} frame streams checked", inputs.len());
}
