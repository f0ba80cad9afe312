//! Stable-toolchain fallback of the `frame_header` and `request_body` fuzz targets: the same
//! property functions (`fuzz/src/{frame,request}_props.rs`, included; they include the
//! broker's own `src/kafka/frame.rs`) driven by fixed seeds — every decoded API at every codec
//! version, encoded from its default value — their mutations, random bytes, and the committed
//! regression inputs. SLUICE_FUZZ_CASES scales the case count.

#[path = "../../fuzz/src/frame_props.rs"]
mod frame_props;
#[path = "../src/limits.rs"]
#[allow(dead_code)]
mod limits;
#[path = "../../fuzz/src/request_props.rs"]
mod request_props;
#[path = "../../fuzz/src/seeded.rs"]
mod seeded;

use std::path::Path;

use bytes::BytesMut;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Encodable, StrBytes};

const CASES_DEFAULT: usize = 20_000;

fn cases() -> usize {
    std::env::var("SLUICE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES_DEFAULT)
}

fn encoded<T: Encodable + Default>(version: i16) -> Option<Vec<u8>> {
    let mut buf = BytesMut::new();
    T::default().encode(&mut buf, version).ok()?;
    Some(buf.to_vec())
}

/// The default request of `api_key` encoded at `version`.
fn default_body(api_key: ApiKey, version: i16) -> Option<Vec<u8>> {
    match api_key {
        ApiKey::Produce => encoded::<ProduceRequest>(version),
        ApiKey::Fetch => encoded::<FetchRequest>(version),
        ApiKey::ListOffsets => encoded::<ListOffsetsRequest>(version),
        ApiKey::Metadata => encoded::<MetadataRequest>(version),
        ApiKey::ApiVersions => encoded::<ApiVersionsRequest>(version),
        ApiKey::CreateTopics => encoded::<CreateTopicsRequest>(version),
        ApiKey::DeleteTopics => encoded::<DeleteTopicsRequest>(version),
        ApiKey::DescribeConfigs => encoded::<DescribeConfigsRequest>(version),
        ApiKey::CreatePartitions => encoded::<CreatePartitionsRequest>(version),
        ApiKey::IncrementalAlterConfigs => encoded::<IncrementalAlterConfigsRequest>(version),
        ApiKey::DescribeCluster => encoded::<DescribeClusterRequest>(version),
        ApiKey::FindCoordinator => encoded::<FindCoordinatorRequest>(version),
        ApiKey::JoinGroup => encoded::<JoinGroupRequest>(version),
        ApiKey::SyncGroup => encoded::<SyncGroupRequest>(version),
        ApiKey::Heartbeat => encoded::<HeartbeatRequest>(version),
        ApiKey::LeaveGroup => encoded::<LeaveGroupRequest>(version),
        ApiKey::OffsetCommit => encoded::<OffsetCommitRequest>(version),
        ApiKey::OffsetFetch => encoded::<OffsetFetchRequest>(version),
        ApiKey::ListGroups => encoded::<ListGroupsRequest>(version),
        ApiKey::DescribeGroups => encoded::<DescribeGroupsRequest>(version),
        ApiKey::DeleteGroups => encoded::<DeleteGroupsRequest>(version),
        _ => None,
    }
}

/// (api index, version offset, body) for every decoded API and codec version.
fn request_seeds() -> Vec<(ApiKey, i16, Vec<u8>)> {
    let mut seeds = Vec::new();
    for api_key in request_props::DECODED_APIS {
        let range = api_key.valid_versions();
        for version in range.min..=range.max {
            if let Some(body) = default_body(api_key, version) {
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

fn repo_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn request_bodies_decode_without_panics_and_round_trip() {
    let seeds: Vec<Vec<u8>> = request_seeds()
        .into_iter()
        .map(|(api_key, version, body)| {
            let index = request_props::DECODED_APIS
                .iter()
                .position(|k| *k == api_key)
                .expect("seeded API is listed");
            let range = api_key.valid_versions();
            let mut input = vec![index as u8, (version - range.min) as u8];
            input.extend_from_slice(&body);
            input
        })
        .chain(
            seeded::corpus(&repo_root(), "request_body")
                .into_iter()
                .map(|(_, d)| d),
        )
        .collect();
    let default_seeds = request_seeds().len();
    assert!(default_seeds > 100, "only {default_seeds} request seeds");
    let inputs = seeded::inputs(&seeds, cases(), 0x5eed_b0d1, 300);
    let mut decoded = 0usize;
    for input in &inputs {
        request_props::check(input);
        let [api_pick, version_pick, body @ ..] = &input[..] else {
            continue;
        };
        let api_key =
            request_props::DECODED_APIS[*api_pick as usize % request_props::DECODED_APIS.len()];
        let range = api_key.valid_versions();
        let version =
            range.min + (*version_pick as usize % (range.max - range.min + 1) as usize) as i16;
        if request_props::decode_body(api_key, version, &bytes::Bytes::copy_from_slice(body)) {
            decoded += 1;
        }
    }
    eprintln!("{} request inputs, {decoded} decoded", inputs.len());
    assert!(
        decoded >= default_seeds / 2,
        "too few inputs decoded: {decoded}"
    );
}

#[test]
fn frames_and_headers_survive_seeded_streams() {
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for (i, (api_key, version, body)) in request_seeds().into_iter().enumerate() {
        let mut input = vec![i as u8];
        input.extend_from_slice(&frame_of(api_key, version, &body));
        // Two pipelined frames in one stream half the time.
        if i % 2 == 0 {
            input.extend_from_slice(&frame_of(ApiKey::ApiVersions, 0, &[]));
        }
        seeds.push(input);
    }
    seeds.extend(
        seeded::corpus(&repo_root(), "frame_header")
            .into_iter()
            .map(|(_, d)| d),
    );
    let inputs = seeded::inputs(&seeds, cases() / 2, 0x5eed_f4a3, 300);
    for input in &inputs {
        frame_props::check(input);
    }
    eprintln!("{} frame streams checked", inputs.len());
}
