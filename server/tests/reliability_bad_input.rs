//! Bad-input corpus against a live broker (issue 7). Each case runs on fresh connections and
//! must end in an error response or a closed connection; after each, a normal client still
//! produces and consumes byte-exact, the broker process is alive, and its RSS stays bounded
//! (printed before and after).

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use common::broker::{Broker, BrokerOptions};
use common::kafka::{self, error_code};
use common::records::{self, TestRng};
use common::wire::{encode_request, KafkaConnection};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, FetchRequest};
use kafka_protocol::protocol::Decodable;
use sluice_engine::batch;

/// `socket.request.max.bytes` for this test: small, so "just over the limit" is cheap.
const FRAME_BYTES_MAX: i32 = 1024 * 1024;
/// `connections.max.idle.ms` for this test: bounds the slowloris case.
const IDLE_MS: u64 = 1_500;
/// Connections opened and dropped in the churn case.
const CHURN_CONNECTIONS: usize = 1_000;
/// Generous bound on RSS growth over the whole corpus.
const RSS_GROWTH_BYTES_MAX: u64 = 256 * 1024 * 1024;
const TOPIC: &str = "victim";

fn rss_bytes(broker: &Broker) -> u64 {
    let pid = broker.pid().expect("broker running");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status");
    kib * 1024
}

/// A client that must keep producing and consuming correctly. It connects afresh for every
/// check, as real clients reconnect after `connections.max.idle.ms` closes an idle connection.
struct NormalClient {
    next_offset: i64,
}

impl NormalClient {
    fn new(broker: &Broker) -> Self {
        let mut conn = broker.connect();
        kafka::create_topic(&mut conn, "normal", 1);
        NormalClient { next_offset: 0 }
    }

    fn assert_works(&mut self, broker: &mut Broker, after: &str) {
        broker.assert_alive();
        let mut conn = broker.connect();
        let record =
            records::numbered_record("normal", self.next_offset as usize, records::now_ms());
        let response = kafka::produce(
            &mut conn,
            "normal",
            0,
            records::encode_batch(std::slice::from_ref(&record)),
            -1,
        );
        assert_eq!(
            response.error_code,
            error_code::NONE,
            "produce after {after}"
        );
        assert_eq!(
            response.base_offset, self.next_offset,
            "offset after {after}"
        );
        let data = kafka::fetch(&mut conn, "normal", 0, self.next_offset, 1 << 20);
        assert_eq!(data.error_code, error_code::NONE, "fetch after {after}");
        let fetched = records::decode_records(&data.records.expect("records"));
        let last = fetched.last().expect("fetched the produced record");
        assert_eq!(
            last.value.as_ref(),
            Some(&record.value),
            "value after {after}"
        );
        self.next_offset += 1;
        // And a brand-new connection is served.
        let mut fresh = broker.connect();
        fresh
            .ping()
            .unwrap_or_else(|e| panic!("new connection after {after}: {e}"));
        eprintln!("ok after {after}");
    }
}

fn raw(broker: &Broker) -> TcpStream {
    let stream = TcpStream::connect(broker.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("read timeout");
    stream.set_nodelay(true).expect("nodelay");
    stream
}

/// Reads until EOF/reset (Ok: "closed") or until a whole response frame arrives (Ok: the
/// frame). Fails on timeout: the broker neither answered nor closed.
fn error_or_close(stream: &mut TcpStream, case: &str) -> Option<Bytes> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if buf.len() >= 4 {
            let size = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
            if buf.len() >= 4 + size {
                return Some(Bytes::copy_from_slice(&buf[4..4 + size]));
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return None,
            Err(e) => panic!("{case}: neither an answer nor a close ({e})"),
        }
    }
}

fn expect_closed(stream: &mut TcpStream, case: &str) {
    if let Some(frame) = error_or_close(stream, case) {
        panic!(
            "{case}: expected a closed connection, got a {}-byte response",
            frame.len()
        );
    }
}

fn frame_bytes(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

/// A request header (api, version, correlation 1, client id "bad") without its size.
fn header(api: i16, version: i16) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&api.to_be_bytes());
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&1i32.to_be_bytes());
    out.extend_from_slice(&3i16.to_be_bytes());
    out.extend_from_slice(b"bad");
    out
}

fn rewrite_crc(batch: &mut [u8]) {
    let crc = batch::compute_crc(batch);
    batch[batch::CRC_AT..batch::CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
}

fn produce_error(conn: &mut KafkaConnection, records: Bytes, case: &str) -> i16 {
    let response = kafka::produce(conn, TOPIC, 0, records, 1);
    eprintln!(
        "{case}: error code {} ({:?})",
        response.error_code, response.error_message
    );
    response.error_code
}

#[test]
fn bad_input_gets_errors_or_closes_and_the_broker_keeps_serving() {
    let mut broker = Broker::start(BrokerOptions::default().config(&format!(
        "\"socket.request.max.bytes\" = {FRAME_BYTES_MAX}\n\"connections.max.idle.ms\" = {IDLE_MS}\n"
    )));
    let mut normal = NormalClient::new(&broker);
    kafka::create_topic(&mut broker.connect(), TOPIC, 2);
    normal.assert_works(&mut broker, "start");
    let rss_before = rss_bytes(&broker);
    let mut rng = TestRng::new(0xbad_1417);

    // Truncated frames: the size promises more than ever arrives, then the client half-closes.
    for cut in [1usize, 3, 4, 10, 30] {
        let mut body = header(18, 0);
        body.extend_from_slice(&[0; 32]);
        let full = frame_bytes(&body);
        let mut stream = raw(&broker);
        stream
            .write_all(&full[..cut.min(full.len())])
            .expect("send");
        stream
            .shutdown(std::net::Shutdown::Write)
            .expect("half-close");
        expect_closed(&mut stream, &format!("frame truncated at {cut} bytes"));
    }
    normal.assert_works(&mut broker, "truncated frames");

    // Negative sizes, a size just over the limit, the largest size.
    for size in [-1i32, i32::MIN, -100, FRAME_BYTES_MAX + 1, i32::MAX] {
        let mut stream = raw(&broker);
        stream.write_all(&size.to_be_bytes()).expect("send size");
        stream.write_all(&header(18, 0)).expect("send header");
        expect_closed(&mut stream, &format!("frame size {size}"));
    }
    normal.assert_works(&mut broker, "negative and oversized frame sizes");

    // A valid header followed by garbage, for every API the broker decodes.
    for (api, version) in [
        (0i16, 9i16),
        (1, 12),
        (2, 7),
        (3, 12),
        (19, 7),
        (32, 4),
        (37, 3),
        (60, 0),
    ] {
        for len in [1usize, 7, 64, 4096] {
            let mut body = header(api, version);
            if ApiKey::try_from(api).is_ok_and(|k| k.request_header_version(version) >= 2) {
                body.push(0); // empty tagged fields of a flexible header
            }
            body.extend(rng.bytes(len));
            let mut stream = raw(&broker);
            stream.write_all(&frame_bytes(&body)).expect("send");
            let case = format!("api {api} v{version} + {len} garbage bytes");
            match error_or_close(&mut stream, &case) {
                None => {}
                Some(frame) => eprintln!("{case}: answered ({} bytes)", frame.len()),
            }
        }
    }
    normal.assert_works(&mut broker, "valid headers with garbage bodies");

    // Known APIs at unsupported versions: ApiVersions answers UNSUPPORTED_VERSION, others close.
    {
        let mut stream = raw(&broker);
        let mut body = header(18, 99);
        body.push(0);
        stream.write_all(&frame_bytes(&body)).expect("send");
        let frame = error_or_close(&mut stream, "ApiVersions v99").expect("ApiVersions answers");
        let mut rest = frame.slice(4..);
        let response = kafka_protocol::messages::ApiVersionsResponse::decode(&mut rest, 0)
            .expect("ApiVersions v0 response");
        assert_eq!(response.error_code, error_code::UNSUPPORTED_VERSION);
        for (api, version) in [(0i16, 99i16), (1, 99), (3, -1), (19, 100)] {
            let mut stream = raw(&broker);
            stream
                .write_all(&frame_bytes(&header(api, version)))
                .expect("send");
            expect_closed(&mut stream, &format!("api {api} at version {version}"));
        }
    }
    normal.assert_works(&mut broker, "unsupported versions");

    // Produce whose record counts disagree with the bytes.
    {
        let valid = batch::build_batch(0, records::now_ms(), 3, b"counted");
        // recordsCount says 4 (CRC recomputed): disagrees with lastOffsetDelta.
        let mut more = valid.to_vec();
        more[batch::RECORDS_COUNT_AT..batch::RECORDS_COUNT_AT + 4]
            .copy_from_slice(&4i32.to_be_bytes());
        rewrite_crc(&mut more);
        // recordsCount and lastOffsetDelta both say 5, but only 3 records follow.
        let mut consistent_lie = valid.to_vec();
        consistent_lie[batch::RECORDS_COUNT_AT..batch::RECORDS_COUNT_AT + 4]
            .copy_from_slice(&5i32.to_be_bytes());
        consistent_lie[batch::LAST_OFFSET_DELTA_AT..batch::LAST_OFFSET_DELTA_AT + 4]
            .copy_from_slice(&4i32.to_be_bytes());
        rewrite_crc(&mut consistent_lie);
        // recordsCount 1 with 3 records' bytes.
        let mut fewer = valid.to_vec();
        fewer[batch::RECORDS_COUNT_AT..batch::RECORDS_COUNT_AT + 4]
            .copy_from_slice(&1i32.to_be_bytes());
        fewer[batch::LAST_OFFSET_DELTA_AT..batch::LAST_OFFSET_DELTA_AT + 4]
            .copy_from_slice(&0i32.to_be_bytes());
        rewrite_crc(&mut fewer);
        // batchLength larger than the bytes sent.
        let mut long = valid.to_vec();
        let length = (long.len() - batch::LOG_OVERHEAD_BYTES + 10) as i32;
        long[batch::BATCH_LENGTH_AT..batch::BATCH_LENGTH_AT + 4]
            .copy_from_slice(&length.to_be_bytes());
        for (case, bytes) in [
            ("recordsCount 4 over 3 records", more),
            (
                "recordsCount and lastOffsetDelta 5 over 3 records",
                consistent_lie,
            ),
            ("recordsCount 1 over 3 records", fewer),
            ("batchLength past the records", long),
        ] {
            let mut conn = broker.connect();
            let code = produce_error(&mut conn, Bytes::from(bytes), case);
            assert_ne!(code, error_code::NONE, "{case} was accepted");
        }
        let end = kafka::list_offset(&mut broker.connect(), TOPIC, 0, kafka::LATEST_TIMESTAMP);
        assert_eq!(end.offset, 0, "a refused batch left records behind");
    }
    normal.assert_works(&mut broker, "produce with lying record counts");

    // Batches with magic 0 and 1 (message formats v0/v1) in a v3+ Produce.
    for magic in [0u8, 1] {
        let mut old = batch::build_batch(0, records::now_ms(), 1, b"old").to_vec();
        old[batch::MAGIC_AT] = magic;
        let mut conn = broker.connect();
        let code = produce_error(&mut conn, Bytes::from(old), &format!("magic {magic}"));
        assert_ne!(code, error_code::NONE, "magic {magic} accepted");
    }
    normal.assert_works(&mut broker, "magic 0 and 1 batches");

    // Fetch with negative max_bytes, and with a huge partition count (real and declared).
    {
        let mut conn = broker.connect();
        let version = conn.version_for::<FetchRequest>(4, 12);
        for max_bytes in [-1, i32::MIN] {
            let request = kafka::fetch_request(TOPIC, 0, 0, max_bytes, max_bytes, 10);
            let correlation_id = conn.send_request(version, &request).expect("send fetch");
            match conn.receive_response::<FetchRequest>(version, correlation_id) {
                Ok(response) => {
                    eprintln!("fetch max_bytes {max_bytes}: error {}", response.error_code)
                }
                Err(e) => {
                    eprintln!("fetch max_bytes {max_bytes}: connection ended ({e})");
                    conn = broker.connect();
                }
            }
        }
        let partitions: Vec<FetchPartition> = (0..25_000)
            .map(|p| {
                FetchPartition::default()
                    .with_partition(p)
                    .with_fetch_offset(0)
                    .with_partition_max_bytes(1024)
            })
            .collect();
        let request = kafka::fetch_request(TOPIC, 0, 0, 1 << 20, 1024, 10).with_topics(vec![
            FetchTopic::default()
                .with_topic(kafka::topic_name(TOPIC))
                .with_partitions(partitions),
        ]);
        let frame = encode_request(version, 77, &request).expect("encode big fetch");
        let mut stream = raw(&broker);
        stream.write_all(&frame).expect("send big fetch");
        match error_or_close(&mut stream, "fetch of 25000 partitions") {
            None => eprintln!("fetch of 25000 partitions: closed"),
            Some(frame) => eprintln!("fetch of 25000 partitions: {} byte answer", frame.len()),
        }
        // Declared counts far beyond the bytes sent: the decoder must not reserve for them.
        for (api, version, tail) in [
            (3i16, 0i16, vec![0x7f, 0xff, 0xff, 0xff]),
            (1, 4, {
                let mut t = Vec::new();
                t.extend_from_slice(&(-1i32).to_be_bytes()); // replica
                t.extend_from_slice(&10i32.to_be_bytes()); // max wait
                t.extend_from_slice(&1i32.to_be_bytes()); // min bytes
                t.extend_from_slice(&(1i32 << 20).to_be_bytes()); // max bytes
                t.push(0); // isolation
                t.extend_from_slice(&0x7fff_ffffi32.to_be_bytes()); // topics
                t
            }),
            (0, 3, {
                let mut t = Vec::new();
                t.extend_from_slice(&(-1i16).to_be_bytes()); // transactional id: null
                t.extend_from_slice(&1i16.to_be_bytes()); // acks
                t.extend_from_slice(&1000i32.to_be_bytes()); // timeout
                t.extend_from_slice(&0x7fff_fff0i32.to_be_bytes()); // topics
                t
            }),
        ] {
            let mut body = header(api, version);
            body.extend_from_slice(&tail);
            let mut stream = raw(&broker);
            stream.write_all(&frame_bytes(&body)).expect("send");
            let case = format!("api {api} v{version} declaring ~2^31 array entries");
            let _ = error_or_close(&mut stream, &case);
            broker.assert_alive();
        }
    }
    normal.assert_works(&mut broker, "negative max_bytes and huge partition counts");

    // Slowloris: a valid ApiVersions frame, one byte every 200 ms. It would take ~6 s; the idle
    // limit (1.5 s) must close it first.
    {
        let mut body = header(18, 3);
        body.push(0);
        body.extend_from_slice(&[0; 20]);
        let frame = frame_bytes(&body);
        let mut stream = raw(&broker);
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("short read timeout");
        let started = Instant::now();
        let mut closed_after = None;
        for byte in &frame {
            if stream.write_all(std::slice::from_ref(byte)).is_err() {
                closed_after = Some(started.elapsed());
                break;
            }
            let mut probe = [0u8; 16];
            match stream.read(&mut probe) {
                Ok(0) => {
                    closed_after = Some(started.elapsed());
                    break;
                }
                Ok(_) => panic!("slowloris frame was answered"),
                Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                    closed_after = Some(started.elapsed());
                    break;
                }
                Err(_) => {}
            }
            thread::sleep(Duration::from_millis(150));
        }
        let closed_after = closed_after.expect("slowloris connection was never closed");
        eprintln!("slowloris closed after {closed_after:?} (idle limit {IDLE_MS} ms)");
        assert!(
            closed_after < Duration::from_millis(IDLE_MS * 3),
            "closed too late"
        );
    }
    normal.assert_works(&mut broker, "slowloris");

    // 1,000 connections opened and dropped, half with a partial frame in flight.
    {
        let mut streams = Vec::with_capacity(CHURN_CONNECTIONS);
        for i in 0..CHURN_CONNECTIONS {
            let mut stream = raw(&broker);
            if i % 2 == 0 {
                let _ = stream.write_all(&frame_bytes(&header(3, 12))[..9]);
            }
            streams.push(stream);
            if streams.len() == 250 {
                streams.clear();
            }
        }
        drop(streams);
        thread::sleep(Duration::from_millis(500));
    }
    normal.assert_works(&mut broker, "1000 connections opened and dropped");

    // Pipelined junk after a good request on one connection: the good one is answered first.
    {
        let mut conn = broker.connect();
        let good = encode_request(0, 5, &ApiVersionsRequest::default()).expect("encode");
        let mut both = BytesMut::from(&good[..]);
        both.extend_from_slice(&frame_bytes(&rng.bytes(50)));
        conn.send_bytes(&both).expect("send");
        let response = conn
            .receive_response::<ApiVersionsRequest>(0, 5)
            .expect("first answered");
        assert_eq!(response.error_code, 0);
        let _ = conn.expect_closed();
    }
    normal.assert_works(&mut broker, "pipelined junk");

    let rss_after = rss_bytes(&broker);
    eprintln!(
        "broker RSS before the corpus {:.1} MiB, after {:.1} MiB",
        rss_before as f64 / 1048576.0,
        rss_after as f64 / 1048576.0
    );
    assert!(
        rss_after <= rss_before + RSS_GROWTH_BYTES_MAX,
        "RSS grew from {rss_before} to {rss_after} bytes"
    );
    std::io::stderr().flush().expect("flush stderr");
}
