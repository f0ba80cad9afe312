//! Request bodies, decoded exactly as the broker does (`T::decode(&mut body, version)` in
//! `sluice_server::kafka::dispatch`), for every API the broker serves: the list is the broker's
//! own table, [`handlers::APIS`], so a new handler is fuzzed as soon as it is served (a unit
//! test fails until [`visit_request`] names its request type).
//!
//! Properties: decoding never panics or over-allocates; whatever decodes re-encodes, the
//! re-encoding decodes to an equal value and consumes every byte, and encoding is
//! deterministic (decode → encode → decode → encode gives the same bytes). Byte-exact
//! equality with the input is not required: Kafka's encoding is not canonical (booleans other
//! than 1, over-long varints, unknown tagged fields are all accepted).
//!
//! Input language of the `request_body` target: byte 0 is the Kafka API key (a key the broker
//! does not serve stands for the next served key above it, wrapping around), byte 1 picks the
//! version within the codec's range for that API, the rest is the body. Naming the API by its
//! key keeps committed inputs meaning the same API when the broker adds one.

use std::fmt::Debug;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, Request};
use sluice_server::kafka::handlers;

/// The APIs whose request bodies the broker decodes, in API-key order.
pub fn decoded_apis() -> Vec<ApiKey> {
    let mut keys: Vec<ApiKey> = handlers::APIS.iter().map(|(key, _)| *key).collect();
    keys.sort_by_key(|key| *key as i16);
    keys
}

/// The API and version named by the first two bytes of a `request_body` input.
pub fn pick(api_pick: u8, version_pick: u8) -> (ApiKey, i16) {
    let apis = decoded_apis();
    let api_key = apis
        .iter()
        .copied()
        .find(|key| *key as i16 >= i16::from(api_pick))
        .unwrap_or(apis[0]);
    let range = api_key.valid_versions();
    let span = (range.max - range.min + 1) as usize;
    let version = range.min + (version_pick as usize % span) as i16;
    (api_key, version)
}

/// The `request_body` input that decodes `body` as the request of `api_key` at `version`
/// (a version within the codec's range).
pub fn input(api_key: ApiKey, version: i16, body: &[u8]) -> Vec<u8> {
    let range = api_key.valid_versions();
    let mut input = vec![api_key as i16 as u8, (version - range.min) as u8];
    input.extend_from_slice(body);
    input
}

/// Fuzz entry: byte 0 = API key, byte 1 = version, the rest is the body (see the module doc).
/// Returns whether the body decoded.
pub fn check(data: &[u8]) -> bool {
    let [api_pick, version_pick, body @ ..] = data else {
        return false;
    };
    let (api_key, version) = pick(*api_pick, *version_pick);
    decode_body(api_key, version, &Bytes::copy_from_slice(body))
}

/// Something done with the request type of an API: see [`visit_request`].
pub trait RequestVisitor {
    type Output;
    fn visit<T: Request + Default + PartialEq + Debug>(self) -> Self::Output;
}

/// Runs `visitor` with the request type of `api_key`; None for an API without one here. The
/// one place that maps the broker's APIs to their request types.
pub fn visit_request<V: RequestVisitor>(api_key: ApiKey, visitor: V) -> Option<V::Output> {
    Some(match api_key {
        ApiKey::Produce => visitor.visit::<ProduceRequest>(),
        ApiKey::Fetch => visitor.visit::<FetchRequest>(),
        ApiKey::ListOffsets => visitor.visit::<ListOffsetsRequest>(),
        ApiKey::Metadata => visitor.visit::<MetadataRequest>(),
        ApiKey::OffsetCommit => visitor.visit::<OffsetCommitRequest>(),
        ApiKey::OffsetFetch => visitor.visit::<OffsetFetchRequest>(),
        ApiKey::FindCoordinator => visitor.visit::<FindCoordinatorRequest>(),
        ApiKey::JoinGroup => visitor.visit::<JoinGroupRequest>(),
        ApiKey::Heartbeat => visitor.visit::<HeartbeatRequest>(),
        ApiKey::LeaveGroup => visitor.visit::<LeaveGroupRequest>(),
        ApiKey::SyncGroup => visitor.visit::<SyncGroupRequest>(),
        ApiKey::DescribeGroups => visitor.visit::<DescribeGroupsRequest>(),
        ApiKey::ListGroups => visitor.visit::<ListGroupsRequest>(),
        ApiKey::ApiVersions => visitor.visit::<ApiVersionsRequest>(),
        ApiKey::CreateTopics => visitor.visit::<CreateTopicsRequest>(),
        ApiKey::DeleteTopics => visitor.visit::<DeleteTopicsRequest>(),
        ApiKey::DescribeConfigs => visitor.visit::<DescribeConfigsRequest>(),
        ApiKey::CreatePartitions => visitor.visit::<CreatePartitionsRequest>(),
        ApiKey::DeleteGroups => visitor.visit::<DeleteGroupsRequest>(),
        ApiKey::IncrementalAlterConfigs => visitor.visit::<IncrementalAlterConfigsRequest>(),
        ApiKey::AlterPartitionReassignments => {
            visitor.visit::<AlterPartitionReassignmentsRequest>()
        }
        ApiKey::ListPartitionReassignments => visitor.visit::<ListPartitionReassignmentsRequest>(),
        ApiKey::OffsetDelete => visitor.visit::<OffsetDeleteRequest>(),
        ApiKey::DescribeCluster => visitor.visit::<DescribeClusterRequest>(),
        ApiKey::DescribeQuorum => visitor.visit::<DescribeQuorumRequest>(),
        ApiKey::InitProducerId => visitor.visit::<InitProducerIdRequest>(),
        ApiKey::OffsetForLeaderEpoch => visitor.visit::<OffsetForLeaderEpochRequest>(),
        ApiKey::DescribeProducers => visitor.visit::<DescribeProducersRequest>(),
        ApiKey::AddPartitionsToTxn => visitor.visit::<AddPartitionsToTxnRequest>(),
        ApiKey::AddOffsetsToTxn => visitor.visit::<AddOffsetsToTxnRequest>(),
        ApiKey::EndTxn => visitor.visit::<EndTxnRequest>(),
        ApiKey::WriteTxnMarkers => visitor.visit::<WriteTxnMarkersRequest>(),
        ApiKey::TxnOffsetCommit => visitor.visit::<TxnOffsetCommitRequest>(),
        ApiKey::DescribeTransactions => visitor.visit::<DescribeTransactionsRequest>(),
        ApiKey::ListTransactions => visitor.visit::<ListTransactionsRequest>(),
        ApiKey::SaslHandshake => visitor.visit::<SaslHandshakeRequest>(),
        ApiKey::SaslAuthenticate => visitor.visit::<SaslAuthenticateRequest>(),
        ApiKey::DescribeAcls => visitor.visit::<DescribeAclsRequest>(),
        ApiKey::CreateAcls => visitor.visit::<CreateAclsRequest>(),
        ApiKey::DeleteAcls => visitor.visit::<DeleteAclsRequest>(),
        ApiKey::DescribeUserScramCredentials => {
            visitor.visit::<DescribeUserScramCredentialsRequest>()
        }
        ApiKey::AlterUserScramCredentials => visitor.visit::<AlterUserScramCredentialsRequest>(),
        _ => return None,
    })
}

struct RoundTrip<'a> {
    body: &'a Bytes,
    version: i16,
}

impl RequestVisitor for RoundTrip<'_> {
    type Output = bool;
    fn visit<T: Request + Default + PartialEq + Debug>(self) -> bool {
        round_trip::<T>(self.body, self.version)
    }
}

struct EncodeDefault(i16);

impl RequestVisitor for EncodeDefault {
    type Output = Option<Vec<u8>>;
    fn visit<T: Request + Default + PartialEq + Debug>(self) -> Option<Vec<u8>> {
        let mut buf = BytesMut::new();
        T::default().encode(&mut buf, self.0).ok()?;
        Some(buf.to_vec())
    }
}

/// Decodes `body` as the request of `api_key` at `version` and checks the round trip.
/// Returns whether the body decoded.
pub fn decode_body(api_key: ApiKey, version: i16, body: &Bytes) -> bool {
    visit_request(api_key, RoundTrip { body, version }).unwrap_or(false)
}

/// The default request of `api_key` encoded at `version`: seeds for the stable-toolchain
/// tests. None where the codec cannot encode that version.
pub fn default_body(api_key: ApiKey, version: i16) -> Option<Vec<u8>> {
    visit_request(api_key, EncodeDefault(version)).flatten()
}

/// decode → encode → decode → encode.
pub fn round_trip<T: Decodable + Encodable + PartialEq + Debug>(
    body: &Bytes,
    version: i16,
) -> bool {
    let mut input = body.clone();
    let Ok(value) = T::decode(&mut input, version) else {
        return false;
    };
    if has_out_of_range_tag(&value) {
        return true;
    }
    let mut encoded = BytesMut::new();
    if let Err(err) = value.encode(&mut encoded, version) {
        panic!("a decoded v{version} request does not re-encode: {err}\n{value:?}");
    }
    let size = value.compute_size(version).ok();
    assert_eq!(
        size,
        Some(encoded.len()),
        "compute_size disagrees with encode: {value:?}"
    );
    let mut again = encoded.clone().freeze();
    let decoded_again = match T::decode(&mut again, version) {
        Ok(value) => value,
        Err(err) => panic!("re-encoded v{version} request does not decode: {err}\n{value:?}"),
    };
    assert!(
        again.is_empty(),
        "{} bytes left after decoding a re-encoding",
        again.len()
    );
    assert_eq!(
        value, decoded_again,
        "v{version} round trip changed the request"
    );
    let mut encoded_again = BytesMut::new();
    if let Err(err) = decoded_again.encode(&mut encoded_again, version) {
        panic!("second encode failed: {err}");
    }
    assert_eq!(encoded, encoded_again, "encoding is not deterministic");
    true
}

/// Known codec limitation, not a broker concern: a tagged-field tag above i32::MAX decodes to a
/// negative key in `unknown_tagged_fields`, which the encoder then drops while still counting
/// it. The broker never re-encodes what a client sent, so such values skip the encode checks.
/// (BTreeMap's Debug lists keys in ascending order, so a negative key is always first.)
pub fn has_out_of_range_tag<T: Debug>(value: &T) -> bool {
    format!("{value:?}").contains("unknown_tagged_fields: {-")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Key;

    impl RequestVisitor for Key {
        type Output = i16;
        fn visit<T: Request + Default + PartialEq + Debug>(self) -> i16 {
            T::KEY
        }
    }

    /// Every API the broker serves has its own request type here, and the default request of
    /// every version the broker serves (and the codec encodes) round-trips through
    /// `decode_body`.
    #[test]
    fn every_served_api_has_a_typed_round_trip() {
        assert!(handlers::APIS
            .iter()
            .any(|(key, _)| *key == ApiKey::OffsetDelete));
        for (api_key, served) in handlers::APIS {
            assert_eq!(
                visit_request(api_key, Key),
                Some(api_key as i16),
                "{api_key:?} has no (or the wrong) request type in visit_request"
            );
            let codec = api_key.valid_versions();
            let mut round_trips = 0;
            for version in served.min.max(codec.min)..=served.max.min(codec.max) {
                let Some(body) = default_body(api_key, version) else {
                    continue;
                };
                assert!(
                    decode_body(api_key, version, &Bytes::from(body.clone())),
                    "{api_key:?} v{version}: the default request does not decode"
                );
                assert!(check(&input(api_key, version, &body)));
                round_trips += 1;
            }
            assert!(
                round_trips > 0,
                "{api_key:?}: no served version round-trips"
            );
        }
        assert_eq!(decoded_apis().len(), handlers::APIS.len());
    }

    #[test]
    fn an_unserved_key_picks_the_next_served_one() {
        let apis = decoded_apis();
        for api_key in &apis {
            assert_eq!(pick(*api_key as i16 as u8, 0).0, *api_key);
        }
        let last = *apis.last().expect("served APIs") as i16;
        assert_eq!(pick((last + 1) as u8, 0).0, apis[0]);
        assert_eq!(pick(u8::MAX, 0).0, apis[0]);
    }

    /// The committed regression input still names the API and version it was found with.
    #[test]
    fn the_committed_regression_names_describe_configs_v4() {
        let path = crate::seeded::repo_root()
            .join("fuzz/regressions/request_body/negative-tag-describe-configs");
        let data = std::fs::read(&path).expect("committed regression input");
        assert_eq!(pick(data[0], data[1]), (ApiKey::DescribeConfigs, 4));
        let (_, version) = pick(data[0], data[1]);
        let mut body = Bytes::copy_from_slice(&data[2..]);
        let request = DescribeConfigsRequest::decode(&mut body, version).expect("decodes");
        assert!(has_out_of_range_tag(&request));
        assert!(check(&data));
    }
}
