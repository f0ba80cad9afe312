//! End-to-end tests of the CLI's request flows against a scripted broker on loopback: a
//! thread that answers each request from a table, so flows the real broker does not serve
//! yet (groups) are exercised over real sockets and real framing.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartitions, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsResponse, BrokerId, ConsumerProtocolAssignment, DescribeGroupsResponse,
    FindCoordinatorResponse, ListOffsetsResponse, MetadataResponse, OffsetFetchResponse,
    ResponseHeader,
};
use kafka_protocol::protocol::{decode_request_header_from_buffer, Encodable, StrBytes};

use super::group::{self, GroupCommand};
use super::pool::BrokerPool;

pub(super) const TEST_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) fn encoded<M: Encodable>(message: &M, version: i16) -> BytesMut {
    let mut body = BytesMut::new();
    message
        .encode(&mut body, version)
        .unwrap_or_else(|e| panic!("encode response: {e}"));
    body
}

/// Serves one connection: `answer(api, version)` returns the encoded response body.
fn scripted_broker(
    answer: impl Fn(ApiKey, i16, u16) -> BytesMut + Send + 'static,
) -> (String, JoinHandle<()>) {
    scripted_broker_seeing(move |api, version, port, _body| answer(api, version, port))
}

/// As [`scripted_broker`], and `answer` also sees the request body (after its header), to
/// check what the CLI sent.
pub(super) fn scripted_broker_seeing(
    answer: impl Fn(ApiKey, i16, u16, Bytes) -> BytesMut + Send + 'static,
) -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let port = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("addr: {e}"))
        .port();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap_or_else(|e| panic!("accept: {e}"));
        stream
            .set_read_timeout(Some(TEST_TIMEOUT))
            .unwrap_or_else(|e| panic!("timeout: {e}"));
        while let Some(mut frame) = read_frame(&mut stream) {
            let header = decode_request_header_from_buffer(&mut frame)
                .unwrap_or_else(|e| panic!("header: {e}"));
            let api =
                ApiKey::try_from(header.request_api_key).unwrap_or_else(|_| panic!("api key"));
            let version = header.request_api_version;
            let body = answer(api, version, port, frame);
            let mut response_header = ResponseHeader::default();
            response_header.correlation_id = header.correlation_id;
            let header_bytes = encoded(&response_header, api.response_header_version(version));
            let size = i32::try_from(header_bytes.len() + body.len()).unwrap_or(i32::MAX);
            let mut out = BytesMut::new();
            out.put_i32(size);
            out.extend_from_slice(&header_bytes);
            out.extend_from_slice(&body);
            stream
                .write_all(&out)
                .unwrap_or_else(|e| panic!("write: {e}"));
        }
    });
    (format!("127.0.0.1:{port}"), handle)
}

fn read_frame(stream: &mut TcpStream) -> Option<Bytes> {
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).ok()?;
    let mut frame = vec![0u8; usize::try_from(i32::from_be_bytes(size)).ok()?];
    stream.read_exact(&mut frame).ok()?;
    Some(Bytes::from(frame))
}

/// The ApiVersions body at the version the client asked for.
pub(super) fn api_versions(version: i16, apis: &[(ApiKey, i16, i16)]) -> BytesMut {
    let mut response = ApiVersionsResponse::default();
    response.api_keys = apis
        .iter()
        .map(|(key, min, max)| {
            let mut api = ApiVersion::default();
            api.api_key = *key as i16;
            api.min_version = *min;
            api.max_version = *max;
            api
        })
        .collect();
    encoded(&response, version)
}

pub(super) fn s(text: &'static str) -> StrBytes {
    StrBytes::from_static_str(text)
}

fn metadata(port: u16) -> MetadataResponse {
    let mut broker = MetadataResponseBroker::default();
    broker.node_id = BrokerId(1);
    broker.host = s("127.0.0.1");
    broker.port = i32::from(port);
    let mut topic = MetadataResponseTopic::default();
    topic.name = Some(s("t").into());
    topic.partitions = (0..2)
        .map(|i| {
            let mut p = MetadataResponsePartition::default();
            p.partition_index = i;
            p.leader_id = BrokerId(1);
            p
        })
        .collect();
    let mut response = MetadataResponse::default();
    response.brokers = vec![broker];
    response.topics = vec![topic];
    response
}

fn described_group() -> DescribeGroupsResponse {
    let mut assignment = ConsumerProtocolAssignment::default();
    let mut tp = TopicPartition::default();
    tp.topic = s("t").into();
    tp.partitions = vec![0, 1];
    assignment.assigned_partitions = vec![tp];
    let mut bytes = BytesMut::new();
    bytes.put_i16(0);
    bytes.extend_from_slice(&encoded(&assignment, 0));
    let mut member = DescribedGroupMember::default();
    member.client_id = s("app");
    member.client_host = s("/127.0.0.1");
    member.member_assignment = bytes.freeze();
    let mut group = DescribedGroup::default();
    group.group_id = s("g").into();
    group.group_state = s("Stable");
    group.protocol_type = s("consumer");
    group.protocol_data = s("range");
    group.members = vec![member];
    let mut response = DescribeGroupsResponse::default();
    response.groups = vec![group];
    response
}

fn committed() -> OffsetFetchResponse {
    let mut topic = OffsetFetchResponseTopics::default();
    topic.name = s("t").into();
    topic.partitions = [(0, 5), (1, -1)]
        .into_iter()
        .map(|(index, offset)| {
            let mut p = OffsetFetchResponsePartitions::default();
            p.partition_index = index;
            p.committed_offset = offset;
            p
        })
        .collect();
    let mut group = OffsetFetchResponseGroup::default();
    group.group_id = s("g").into();
    group.topics = vec![topic];
    let mut response = OffsetFetchResponse::default();
    response.groups = vec![group];
    response
}

fn log_ends() -> ListOffsetsResponse {
    let mut topic = ListOffsetsTopicResponse::default();
    topic.name = s("t").into();
    topic.partitions = [(0, 12), (1, 4)]
        .into_iter()
        .map(|(index, offset)| {
            let mut p = ListOffsetsPartitionResponse::default();
            p.partition_index = index;
            p.offset = offset;
            p
        })
        .collect();
    let mut response = ListOffsetsResponse::default();
    response.topics = vec![topic];
    response
}

#[test]
fn group_describe_reports_lag_per_partition() {
    let (addr, broker) = scripted_broker(|api, version, port| match api {
        ApiKey::ApiVersions => api_versions(
            version,
            &[
                (ApiKey::Metadata, 1, 12),
                (ApiKey::FindCoordinator, 0, 4),
                (ApiKey::DescribeGroups, 0, 5),
                (ApiKey::OffsetFetch, 2, 8),
                (ApiKey::ListOffsets, 1, 7),
            ],
        ),
        ApiKey::Metadata => encoded(&metadata(port), version),
        ApiKey::FindCoordinator => {
            assert!(
                version >= 4,
                "FindCoordinator v{version}: the batched layout is expected"
            );
            let mut coordinator = Coordinator::default();
            coordinator.key = s("g");
            coordinator.node_id = BrokerId(1);
            coordinator.host = s("127.0.0.1");
            coordinator.port = i32::from(port);
            let mut response = FindCoordinatorResponse::default();
            response.coordinators = vec![coordinator];
            encoded(&response, version)
        }
        ApiKey::DescribeGroups => encoded(&described_group(), version),
        ApiKey::OffsetFetch => encoded(&committed(), version),
        ApiKey::ListOffsets => encoded(&log_ends(), version),
        other => panic!("unexpected {other:?}"),
    });
    let mut pool =
        BrokerPool::connect(&addr, TEST_TIMEOUT).unwrap_or_else(|e| panic!("connect: {e}"));
    let describe = GroupCommand::Describe { group: "g".into() };
    let text = group::execute(&mut pool, &describe).unwrap_or_else(|e| panic!("describe: {e}"));
    drop(pool);
    broker
        .join()
        .unwrap_or_else(|_| panic!("scripted broker panicked"));
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(
        rows.contains(&vec!["t", "0", "5", "12", "7", "app//127.0.0.1"]),
        "{text}"
    );
    assert!(
        rows.contains(&vec!["t", "1", "-", "4", "-", "app//127.0.0.1"]),
        "{text}"
    );
    assert!(text.contains("STATE     Stable"), "{text}");
}

#[test]
fn group_commands_on_a_broker_without_groups_fail_readably() {
    let (addr, broker) = scripted_broker(|api, version, port| match api {
        ApiKey::ApiVersions => api_versions(version, &[(ApiKey::Metadata, 1, 12)]),
        ApiKey::Metadata => encoded(&metadata(port), version),
        other => panic!("unexpected {other:?}"),
    });
    let mut pool =
        BrokerPool::connect(&addr, TEST_TIMEOUT).unwrap_or_else(|e| panic!("connect: {e}"));
    let describe = GroupCommand::Describe { group: "g".into() };
    let error = group::execute(&mut pool, &describe).unwrap_or_else(|e| e.to_string());
    drop(pool);
    broker
        .join()
        .unwrap_or_else(|_| panic!("scripted broker panicked"));
    assert_eq!(
        error,
        format!("broker {addr} does not implement FindCoordinator")
    );
}
