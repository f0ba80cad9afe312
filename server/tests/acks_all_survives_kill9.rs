//! Every batch the broker acknowledged with acks=all is still there, byte-exact and at the
//! offset it was given, after the broker is killed with SIGKILL in the middle of a stream of
//! produce requests and restarted. Three kill rounds on the same data dir, with writers on
//! three partitions racing the kill.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::broker::{Broker, BrokerOptions};
use common::kafka::{self, error_code};
use common::records::{self, TestRecord, TestRng};
use common::wait::wait_until;
use common::wire::KafkaConnection;

const TOPIC: &str = "durable";
const PARTITIONS: i32 = 3;
const KILL_ROUNDS: usize = 3;
/// Upper bound on batches one writer sends per round (the kill normally comes first).
const BATCHES_PER_ROUND_MAX: usize = 5_000;
const RECORDS_PER_BATCH_MAX: u64 = 20;
/// How long the writers may take to get a first batch acknowledged after a (re)start.
const FIRST_ACK_TIMEOUT: Duration = Duration::from_secs(60);
/// Fetch size when reading everything back.
const FETCH_BYTES_MAX: i32 = 4 * 1024 * 1024;

/// A batch the broker acknowledged: where it went and what it held.
struct Acked {
    partition: i32,
    base_offset: i64,
    records: Vec<TestRecord>,
}

#[test]
fn acks_all_survives_kill9() {
    let mut broker = Broker::start(BrokerOptions::default());
    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, TOPIC, PARTITIONS);
    drop(conn);

    let mut acked: Vec<Acked> = Vec::new();
    let mut rng = TestRng::new(0xdead_beef);
    for round in 0..KILL_ROUNDS {
        let stop = Arc::new(AtomicBool::new(false));
        let acked_in_round = Arc::new(AtomicUsize::new(0));
        let writers: Vec<_> = (0..PARTITIONS)
            .map(|partition| {
                let addr = broker.addr();
                let stop = stop.clone();
                let acked_in_round = acked_in_round.clone();
                let seed = rng.next_u64();
                thread::spawn(move || {
                    write_until_error(addr, partition, round, seed, &stop, &acked_in_round)
                })
            })
            .collect();
        // The kill must land mid-stream: once the writers are going, at a varying moment.
        wait_until(
            &format!("round {round}: a first acks=all batch acknowledged"),
            FIRST_ACK_TIMEOUT,
            || acked_in_round.load(Ordering::SeqCst) > 0,
        );
        thread::sleep(Duration::from_millis(300 + rng.below(700)));
        broker.kill9();
        stop.store(true, Ordering::SeqCst);
        let mut round_acked = 0;
        for writer in writers {
            let batches = writer.join().expect("writer thread panicked");
            round_acked += batches.len();
            acked.extend(batches);
        }
        assert!(
            round_acked > 0,
            "round {round}: no batch was acknowledged before the kill"
        );
        eprintln!("round {round}: {round_acked} batches acknowledged before SIGKILL");
        broker.restart();
        verify_all_acked_present(&mut broker, &acked);
    }
    // The recovered log takes new writes after the last restart.
    let mut conn = broker.connect();
    let batch = records::encode_batch(&[records::numbered_record("after", 0, records::now_ms())]);
    let response = kafka::produce(&mut conn, TOPIC, 0, batch, -1);
    assert_eq!(
        response.error_code,
        error_code::NONE,
        "produce after recovery"
    );
    broker.assert_alive();
}

/// Produces acks=all batches to one partition until the connection breaks (the kill) or
/// `stop` is set; returns the batches the broker acknowledged (and counts them in `acked_in_round`
/// as they come).
fn write_until_error(
    addr: std::net::SocketAddr,
    partition: i32,
    round: usize,
    seed: u64,
    stop: &AtomicBool,
    acked_in_round: &AtomicUsize,
) -> Vec<Acked> {
    let mut rng = TestRng::new(seed);
    let mut acked = Vec::new();
    let Ok(mut conn) = KafkaConnection::connect(addr) else {
        return acked;
    };
    let version = conn.version_for::<kafka_protocol::messages::ProduceRequest>(3, 12);
    for batch_index in 0..BATCHES_PER_ROUND_MAX {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let count = 1 + rng.below(RECORDS_PER_BATCH_MAX) as usize;
        let stream = format!("r{round}-p{partition}-b{batch_index}");
        let batch_records: Vec<TestRecord> = (0..count)
            .map(|i| TestRecord {
                key: Bytes::from(format!("{stream}-{i}")),
                value: {
                    let len = 1 + rng.below(2000) as usize;
                    Bytes::from(rng.bytes(len))
                },
                timestamp_ms: records::now_ms(),
            })
            .collect();
        let request =
            kafka::produce_request(TOPIC, partition, records::encode_batch(&batch_records), -1);
        let Ok(correlation_id) = conn.send_request(version, &request) else {
            break;
        };
        let Ok(response) = conn
            .receive_response::<kafka_protocol::messages::ProduceRequest>(version, correlation_id)
        else {
            break;
        };
        let result = &response.responses[0].partition_responses[0];
        assert_eq!(
            result.error_code,
            error_code::NONE,
            "acks=all produce error"
        );
        acked.push(Acked {
            partition,
            base_offset: result.base_offset,
            records: batch_records,
        });
        acked_in_round.fetch_add(1, Ordering::SeqCst);
    }
    acked
}

fn verify_all_acked_present(broker: &mut Broker, acked: &[Acked]) {
    let mut conn = broker.connect();
    for partition in 0..PARTITIONS {
        let mine: Vec<&Acked> = acked.iter().filter(|a| a.partition == partition).collect();
        let Some(end) = mine
            .iter()
            .map(|a| a.base_offset + a.records.len() as i64)
            .max()
        else {
            continue;
        };
        let fetched = fetch_range(broker, &mut conn, partition, end);
        for batch in &mine {
            for (i, expected) in batch.records.iter().enumerate() {
                let offset = batch.base_offset + i as i64;
                let got = fetched.get(offset as usize).unwrap_or_else(|| {
                    broker.fail(&format!(
                        "partition {partition}: acknowledged offset {offset} lost after kill -9 \
                         (log ends at {})",
                        fetched.len()
                    ))
                });
                assert_eq!(got.offset, offset, "partition {partition}: offset");
                assert_eq!(
                    got.key.as_ref(),
                    Some(&expected.key),
                    "{partition}@{offset}: key"
                );
                assert_eq!(
                    got.value.as_ref(),
                    Some(&expected.value),
                    "{partition}@{offset}: value"
                );
                assert_eq!(
                    got.timestamp, expected.timestamp_ms,
                    "{partition}@{offset}: ts"
                );
            }
        }
    }
}

/// Every record of `partition` from offset 0 up to at least `end`, indexed by offset.
fn fetch_range(
    broker: &Broker,
    conn: &mut KafkaConnection,
    partition: i32,
    end: i64,
) -> Vec<kafka_protocol::records::Record> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut out: Vec<kafka_protocol::records::Record> = Vec::new();
    while (out.len() as i64) < end {
        assert!(
            Instant::now() < deadline,
            "fetching partition {partition} took too long"
        );
        let next = out.len() as i64;
        let data = kafka::fetch(conn, TOPIC, partition, next, FETCH_BYTES_MAX);
        if data.error_code != error_code::NONE {
            broker.fail(&format!(
                "partition {partition}: fetch at {next} failed with error {} (high watermark {})",
                data.error_code, data.high_watermark
            ));
        }
        if data.high_watermark < end {
            broker.fail(&format!(
                "partition {partition}: high watermark {} after restart, but offsets up to {} \
                 were acknowledged with acks=all",
                data.high_watermark,
                end - 1
            ));
        }
        let bytes = data.records.unwrap_or_default();
        let before = out.len();
        for record in records::decode_records(&bytes) {
            if record.offset == out.len() as i64 {
                out.push(record);
            } else {
                assert!(
                    record.offset < out.len() as i64,
                    "partition {partition}: offset {} where {} was expected",
                    record.offset,
                    out.len()
                );
            }
        }
        assert!(
            out.len() > before,
            "partition {partition}: fetch at {next} made no progress"
        );
    }
    out
}
