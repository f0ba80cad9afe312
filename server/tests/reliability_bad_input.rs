//! Bad-input corpus against a live broker (issue 7), one scenario per test, each with its own
//! broker. The rule every case checks: bad input gets a Kafka error response (the exact code
//! asserted), or a closed connection plus a log line saying why; never silence, never just any
//! reply. After each scenario a normal client still produces and consumes byte-exact, the
//! broker process is alive, and its RSS stayed bounded.

mod bad_input_support;
mod common;

use std::time::{Duration, Instant};

use bad_input_support::frames::{flexible_header, frame_bytes, header, CORRELATION_ID};
use bad_input_support::observe::{self, close_lines, wait_for_close_line};
use bad_input_support::{Scenario, FRAME_BYTES_MAX, IDLE_MS, VICTIM_TOPIC};
use bytes::Bytes;
use common::broker::Broker;
use common::kafka::{self, error_code};
use common::records::{self, TestRng};
use common::wire::CLIENT_ID;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, CreatePartitionsRequest, CreateTopicsRequest,
    DescribeClusterRequest, DescribeConfigsRequest, FetchRequest, ListOffsetsRequest,
    MetadataRequest, ProduceRequest,
};
use kafka_protocol::protocol::Request;
use sluice_engine::batch;
use sluice_kafka_client::error_code::ResponseError;
use sluice_kafka_client::{decode_response, encode_request};

/// Connections opened and dropped in the churn case.
const CHURN_CONNECTIONS: usize = 1_000;
/// The churn case's clients hold at most this many connections at once.
const CHURN_BATCH_CONNECTIONS: usize = 250;

/// Sends `bytes` on a fresh connection; the broker must close it (nothing sent back) and log
/// a close line containing `log_fragment`.
fn assert_closed_with_log(broker: &Broker, bytes: &[u8], log_fragment: &str, case: &str) {
    let before = close_lines(broker, log_fragment);
    let mut conn = broker.connect();
    conn.send_bytes(bytes)
        .unwrap_or_else(|e| panic!("{case}: send: {e}"));
    if let Err(why) = conn.expect_closed() {
        broker.fail(&format!("{case}: {why}"));
    }
    wait_for_close_line(broker, log_fragment, before, case);
}

#[test]
fn bad_input_truncated_frames_close_the_connection() {
    let scenario = Scenario::start();
    // The size promises more than ever arrives, then the client half-closes. The client ended
    // the stream, so the broker has nothing to log beyond its debug line: closing is the rule.
    for cut in [1usize, 3, 4, 10, 30] {
        let mut body = header(ApiKey::ApiVersions as i16, 0);
        body.extend_from_slice(&[0; 32]);
        let full = frame_bytes(&body);
        let mut conn = scenario.broker.connect();
        let raw = conn.raw();
        raw.send_raw(&full[..cut]).expect("send");
        raw.shutdown_write().expect("half-close");
        if let Err(why) = raw.expect_closed() {
            scenario
                .broker
                .fail(&format!("frame truncated at {cut} bytes: {why}"));
        }
    }
    scenario.finish("truncated frames");
}

#[test]
fn bad_input_negative_and_oversized_frame_sizes_close_the_connection() {
    let scenario = Scenario::start();
    for (size, log_fragment) in [
        (-1i32, "too small to hold a request header"),
        (i32::MIN, "too small to hold a request header"),
        (-100, "too small to hold a request header"),
        (FRAME_BYTES_MAX + 1, "exceeds socket.request.max.bytes"),
        (i32::MAX, "exceeds socket.request.max.bytes"),
    ] {
        let mut bytes = size.to_be_bytes().to_vec();
        bytes.extend_from_slice(&header(ApiKey::ApiVersions as i16, 0));
        assert_closed_with_log(
            &scenario.broker,
            &bytes,
            log_fragment,
            &format!("frame size {size}"),
        );
    }
    scenario.finish("negative and oversized frame sizes");
}

/// Whether `frame` is a well-formed response of `api` at `version` to the hand-made header.
fn answers_the_request(api: i16, version: i16, frame: Bytes) -> Result<(), String> {
    fn decoded<R: Request>(frame: Bytes, version: i16) -> Result<i32, String> {
        decode_response::<R>(frame, version)
            .map(|(correlation_id, _)| correlation_id)
            .map_err(|e| e.to_string())
    }
    let correlation_id = match ApiKey::try_from(api) {
        Ok(ApiKey::Produce) => decoded::<ProduceRequest>(frame, version),
        Ok(ApiKey::Fetch) => decoded::<FetchRequest>(frame, version),
        Ok(ApiKey::ListOffsets) => decoded::<ListOffsetsRequest>(frame, version),
        Ok(ApiKey::Metadata) => decoded::<MetadataRequest>(frame, version),
        Ok(ApiKey::CreateTopics) => decoded::<CreateTopicsRequest>(frame, version),
        Ok(ApiKey::DescribeConfigs) => decoded::<DescribeConfigsRequest>(frame, version),
        Ok(ApiKey::CreatePartitions) => decoded::<CreatePartitionsRequest>(frame, version),
        Ok(ApiKey::DescribeCluster) => decoded::<DescribeClusterRequest>(frame, version),
        _ => Err(format!("api {api} is not in this corpus")),
    }?;
    if correlation_id != CORRELATION_ID {
        return Err(format!(
            "correlation id {correlation_id}, not {CORRELATION_ID}"
        ));
    }
    Ok(())
}

#[test]
fn bad_input_garbage_bodies_get_a_response_or_a_logged_close() {
    let scenario = Scenario::start();
    let mut rng = TestRng::new(0xbad_1417);
    // A valid header followed by garbage, for every API the broker decodes. Garbage that
    // fails to decode closes the connection with a "malformed" line; garbage that happens to
    // decode is a request like any other and must get a well-formed response to it.
    for (api, version) in [
        (ApiKey::Produce, 9i16),
        (ApiKey::Fetch, 12),
        (ApiKey::ListOffsets, 7),
        (ApiKey::Metadata, 12),
        (ApiKey::CreateTopics, 7),
        (ApiKey::DescribeConfigs, 4),
        (ApiKey::CreatePartitions, 3),
        (ApiKey::DescribeCluster, 0),
    ] {
        for len in [1usize, 7, 64, 4096] {
            let api = api as i16;
            let mut body = match ApiKey::try_from(api) {
                Ok(key) if key.request_header_version(version) >= 2 => {
                    flexible_header(api, version)
                }
                _ => header(api, version),
            };
            body.extend(rng.bytes(len));
            let case = format!("api {api} v{version} + {len} garbage bytes");
            let malformed_before = close_lines(&scenario.broker, "malformed");
            let mut conn = scenario.broker.connect();
            conn.send_bytes(&frame_bytes(&body)).expect("send");
            match conn.raw().read_frame_or_close() {
                Ok(None) => {
                    wait_for_close_line(&scenario.broker, "malformed", malformed_before, &case)
                }
                Ok(Some(frame)) => {
                    if let Err(why) = answers_the_request(api, version, frame) {
                        scenario
                            .broker
                            .fail(&format!("{case}: answered with a bad response: {why}"));
                    }
                }
                Err(e) => scenario
                    .broker
                    .fail(&format!("{case}: neither an answer nor a close: {e}")),
            }
        }
    }
    scenario.finish("valid headers with garbage bodies");
}

#[test]
fn bad_input_unsupported_versions_get_unsupported_version_or_a_logged_close() {
    let scenario = Scenario::start();
    // ApiVersions answers any version, in v0, with UNSUPPORTED_VERSION: that is how a client
    // learns which versions to use.
    let mut conn = scenario.broker.connect();
    conn.send_bytes(&frame_bytes(&flexible_header(
        ApiKey::ApiVersions as i16,
        99,
    )))
    .expect("send");
    let frame = conn
        .receive_frame()
        .unwrap_or_else(|e| scenario.broker.fail(&format!("ApiVersions v99: {e}")));
    let (correlation_id, response) = decode_response::<ApiVersionsRequest>(frame, 0)
        .unwrap_or_else(|e| panic!("ApiVersions v99 answer is not a v0 response: {e}"));
    assert_eq!(correlation_id, CORRELATION_ID);
    assert_eq!(
        response.error_code,
        ResponseError::UnsupportedVersion.code(),
        "ApiVersions v99: {}",
        error_code::name(response.error_code)
    );
    // Other APIs cannot say which version they would have answered: the connection closes.
    for (api, version) in [
        (ApiKey::Produce, 99i16),
        (ApiKey::Fetch, 99),
        (ApiKey::Metadata, -1),
        (ApiKey::CreateTopics, 100),
    ] {
        assert_closed_with_log(
            &scenario.broker,
            &frame_bytes(&header(api as i16, version)),
            "unsupported version",
            &format!("{api:?} v{version}"),
        );
    }
    scenario.finish("unsupported versions");
}

fn rewrite_crc(batch: &mut [u8]) {
    let crc = batch::compute_crc(batch);
    batch[batch::CRC_AT..batch::CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
}

fn set_i32(batch: &mut [u8], at: usize, value: i32) {
    batch[at..at + 4].copy_from_slice(&value.to_be_bytes());
}

/// Produces `records` to the victim topic and returns the partition's error code.
fn produce_error_code(broker: &Broker, records: Vec<u8>, case: &str) -> i16 {
    let response = kafka::produce(&mut broker.connect(), VICTIM_TOPIC, 0, records.into(), 1);
    eprintln!(
        "{case}: {} ({:?})",
        error_code::name(response.error_code),
        response.error_message
    );
    response.error_code
}

#[test]
fn bad_input_lying_record_counts_get_invalid_record_or_corrupt_message() {
    let scenario = Scenario::start();
    let valid = batch::build_batch(0, records::now_ms(), 3, b"counted");
    // recordsCount says 4 (CRC recomputed): disagrees with lastOffsetDelta.
    let mut more = valid.to_vec();
    set_i32(&mut more, batch::RECORDS_COUNT_AT, 4);
    rewrite_crc(&mut more);
    // recordsCount and lastOffsetDelta both say 5, but only 3 records follow.
    let mut consistent_lie = valid.to_vec();
    set_i32(&mut consistent_lie, batch::RECORDS_COUNT_AT, 5);
    set_i32(&mut consistent_lie, batch::LAST_OFFSET_DELTA_AT, 4);
    rewrite_crc(&mut consistent_lie);
    // recordsCount 1 with 3 records' bytes.
    let mut fewer = valid.to_vec();
    set_i32(&mut fewer, batch::RECORDS_COUNT_AT, 1);
    set_i32(&mut fewer, batch::LAST_OFFSET_DELTA_AT, 0);
    rewrite_crc(&mut fewer);
    // batchLength larger than the bytes sent.
    let mut long = valid.to_vec();
    let length = (long.len() - batch::LOG_OVERHEAD_BYTES + 10) as i32;
    set_i32(&mut long, batch::BATCH_LENGTH_AT, length);
    // Counts that disagree with each other or with the bytes are invalid records (Kafka's
    // InvalidRecordException); a batch cut short of its own length is corrupt.
    for (case, bytes, expected) in [
        (
            "recordsCount 4 over 3 records",
            more,
            ResponseError::InvalidRecord,
        ),
        (
            "recordsCount and lastOffsetDelta 5 over 3 records",
            consistent_lie,
            ResponseError::InvalidRecord,
        ),
        (
            "recordsCount 1 over 3 records",
            fewer,
            ResponseError::InvalidRecord,
        ),
        (
            "batchLength past the records",
            long,
            ResponseError::CorruptMessage,
        ),
    ] {
        let code = produce_error_code(&scenario.broker, bytes, case);
        assert_eq!(code, expected.code(), "{case}: {}", error_code::name(code));
    }
    let end = kafka::list_offset(
        &mut scenario.broker.connect(),
        VICTIM_TOPIC,
        0,
        kafka::LATEST_TIMESTAMP,
    );
    assert_eq!(end.offset, 0, "a refused batch left records behind");
    scenario.finish("produce with lying record counts");
}

#[test]
fn bad_input_old_message_formats_get_invalid_record() {
    let scenario = Scenario::start();
    // Batches with magic 0 and 1 (message formats v0/v1) in a v3+ Produce: Kafka refuses
    // them as invalid records too.
    for magic in [0u8, 1] {
        let mut old = batch::build_batch(0, records::now_ms(), 1, b"old").to_vec();
        old[batch::MAGIC_AT] = magic;
        let case = format!("magic {magic}");
        let code = produce_error_code(&scenario.broker, old, &case);
        assert_eq!(
            code,
            ResponseError::InvalidRecord.code(),
            "{case}: {}",
            error_code::name(code)
        );
    }
    scenario.finish("magic 0 and 1 batches");
}

#[test]
fn bad_input_fetch_with_negative_max_bytes_reads_without_a_limit() {
    let scenario = Scenario::start();
    // Like Kafka, max_bytes <= 0 is no response limit (partition_max_bytes still applies).
    let mut conn = scenario.broker.connect();
    let version = conn.version_for::<FetchRequest>(4, 12);
    for max_bytes in [-1, i32::MIN] {
        let request = kafka::fetch_request(VICTIM_TOPIC, 0, 0, max_bytes, max_bytes, 10);
        let response = conn.request(version, &request);
        assert_eq!(
            response.error_code,
            error_code::NONE,
            "fetch max_bytes {max_bytes}: {}",
            error_code::name(response.error_code)
        );
        let partition = kafka::single_fetch_partition(response);
        assert_eq!(
            partition.error_code,
            error_code::NONE,
            "fetch max_bytes {max_bytes} partition: {}",
            error_code::name(partition.error_code)
        );
    }
    scenario.finish("fetch with negative max_bytes");
}

#[test]
fn bad_input_fetch_of_25000_partitions_gets_unknown_partition_errors() {
    let scenario = Scenario::start();
    const PARTITIONS: i32 = 25_000;
    let partitions: Vec<FetchPartition> = (0..PARTITIONS)
        .map(|p| {
            FetchPartition::default()
                .with_partition(p)
                .with_fetch_offset(0)
                .with_partition_max_bytes(1024)
        })
        .collect();
    let request = kafka::fetch_request(VICTIM_TOPIC, 0, 0, 1 << 20, 1024, 10).with_topics(vec![
        FetchTopic::default()
            .with_topic(kafka::topic_name(VICTIM_TOPIC))
            .with_partitions(partitions),
    ]);
    let mut conn = scenario.broker.connect();
    let version = conn.version_for::<FetchRequest>(4, 12);
    let response = conn.request(version, &request);
    assert_eq!(response.error_code, error_code::NONE);
    let answered: Vec<(i32, i16)> = response
        .responses
        .iter()
        .flat_map(|t| t.partitions.iter())
        .map(|p| (p.partition_index, p.error_code))
        .collect();
    assert_eq!(
        answered.len(),
        PARTITIONS as usize,
        "one answer per partition"
    );
    // The victim topic has partitions 0 and 1; every other index does not exist.
    for (partition, code) in answered {
        let expected = if partition < 2 {
            error_code::NONE
        } else {
            ResponseError::UnknownTopicOrPartition.code()
        };
        assert_eq!(
            code,
            expected,
            "partition {partition}: {}",
            error_code::name(code)
        );
    }
    scenario.finish("fetch of 25000 partitions");
}

#[test]
fn bad_input_huge_declared_array_counts_close_the_connection() {
    let scenario = Scenario::start();
    // Declared counts far beyond the bytes sent: the decoder must not reserve for them (an
    // allocation that size aborts the process, see server/vendor/kafka-protocol/VENDORED.md).
    let metadata_tail = vec![0x7f, 0xff, 0xff, 0xff];
    let mut fetch_tail = Vec::new();
    fetch_tail.extend_from_slice(&(-1i32).to_be_bytes()); // replica
    fetch_tail.extend_from_slice(&10i32.to_be_bytes()); // max wait
    fetch_tail.extend_from_slice(&1i32.to_be_bytes()); // min bytes
    fetch_tail.extend_from_slice(&(1i32 << 20).to_be_bytes()); // max bytes
    fetch_tail.push(0); // isolation
    fetch_tail.extend_from_slice(&0x7fff_ffffi32.to_be_bytes()); // topics
    let mut produce_tail = Vec::new();
    produce_tail.extend_from_slice(&(-1i16).to_be_bytes()); // transactional id: null
    produce_tail.extend_from_slice(&1i16.to_be_bytes()); // acks
    produce_tail.extend_from_slice(&1000i32.to_be_bytes()); // timeout
    produce_tail.extend_from_slice(&0x7fff_fff0i32.to_be_bytes()); // topics
    for (api, version, tail) in [
        (ApiKey::Metadata, 0i16, metadata_tail),
        (ApiKey::Fetch, 4, fetch_tail),
        (ApiKey::Produce, 3, produce_tail),
    ] {
        let mut body = header(api as i16, version);
        body.extend_from_slice(&tail);
        assert_closed_with_log(
            &scenario.broker,
            &frame_bytes(&body),
            "malformed",
            &format!("{api:?} v{version} declaring ~2^31 array entries"),
        );
    }
    scenario.finish("huge declared array counts");
}

#[test]
fn bad_input_slowloris_is_closed_by_the_idle_limit() {
    let scenario = Scenario::start();
    // A valid ApiVersions frame, one byte every 150 ms: it would take ~5 s, the idle limit
    // (1.5 s) must close it first. The pause paces the attack; it synchronises nothing.
    const BYTE_INTERVAL: Duration = Duration::from_millis(150);
    let mut body = flexible_header(ApiKey::ApiVersions as i16, 3);
    body.extend_from_slice(&[0; 20]);
    let frame = frame_bytes(&body);
    let idle_before = close_lines(&scenario.broker, "connections.max.idle.ms");
    let mut conn = scenario.broker.connect();
    let raw = conn.raw();
    let started = Instant::now();
    let mut closed_after = None;
    for byte in &frame {
        if raw.send_raw(std::slice::from_ref(byte)).is_err() {
            closed_after = Some(started.elapsed());
            break;
        }
        // Waiting for the close is the pause between two bytes.
        raw.set_read_timeout(Some(BYTE_INTERVAL)).expect("timeout");
        match raw.expect_closed() {
            Ok(()) => {
                closed_after = Some(started.elapsed());
                break;
            }
            Err(sluice_kafka_client::Error::NotClosed {
                timed_out: true,
                received_bytes: 0,
                ..
            }) => {}
            Err(e) => scenario
                .broker
                .fail(&format!("slowloris frame was answered: {e}")),
        }
    }
    let closed_after = closed_after.unwrap_or_else(|| {
        scenario
            .broker
            .fail("slowloris connection was never closed")
    });
    eprintln!("slowloris closed after {closed_after:?} (idle limit {IDLE_MS} ms)");
    assert!(
        closed_after < Duration::from_millis(IDLE_MS * 3),
        "closed after {closed_after:?}, the idle limit is {IDLE_MS} ms"
    );
    wait_for_close_line(
        &scenario.broker,
        "connections.max.idle.ms",
        idle_before,
        "slowloris",
    );
    scenario.finish("slowloris");
}

#[test]
fn bad_input_connection_churn_releases_every_connection() {
    let scenario = Scenario::start();
    let sockets_before = observe::open_sockets(&scenario.broker);
    // Opened and dropped in batches, half with a partial frame in flight.
    let partial = frame_bytes(&header(ApiKey::Metadata as i16, 12));
    let mut held = Vec::with_capacity(CHURN_BATCH_CONNECTIONS);
    for i in 0..CHURN_CONNECTIONS {
        let mut conn = scenario.broker.connect();
        if i % 2 == 0 {
            conn.send_bytes(&partial[..9])
                .expect("send a partial frame");
        }
        held.push(conn);
        if held.len() == CHURN_BATCH_CONNECTIONS {
            held.clear();
        }
    }
    drop(held);
    // Every dropped connection must be released, not just the listener kept serving.
    observe::wait_for_sockets_at_most(&scenario.broker, sockets_before, "connection churn");
    scenario.finish("1000 connections opened and dropped");
}

#[test]
fn bad_input_junk_pipelined_after_a_good_request_is_answered_in_order_then_closed() {
    let scenario = Scenario::start();
    let mut rng = TestRng::new(0x0dd_1417);
    let mut conn = scenario.broker.connect();
    let good = encode_request(&ApiVersionsRequest::default(), 0, 5, CLIENT_ID)
        .expect("encode ApiVersions");
    let mut both = good.to_vec();
    // 50 random bytes after a header that names no API.
    let mut junk = header(-7, 0);
    junk.extend(rng.bytes(50));
    both.extend_from_slice(&frame_bytes(&junk));
    let before = close_lines(&scenario.broker, "unknown API key");
    conn.send_bytes(&both).expect("send");
    let response = conn
        .receive_response::<ApiVersionsRequest>(0, 5)
        .unwrap_or_else(|e| scenario.broker.fail(&format!("the good request: {e}")));
    assert_eq!(response.error_code, error_code::NONE);
    if let Err(why) = conn.expect_closed() {
        scenario
            .broker
            .fail(&format!("junk after a good request: {why}"));
    }
    wait_for_close_line(
        &scenario.broker,
        "unknown API key",
        before,
        "pipelined junk",
    );
    scenario.finish("pipelined junk");
}
