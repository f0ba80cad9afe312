//! `sluice-icount`: the hot paths, one per run, for counting instructions under callgrind
//! (`benches/icount/run.sh` runs each path and compares the counts with `reference.toml`).
//!
//! ```text
//! sluice-icount <path> <iterations>      # one path; prints what it did
//! sluice-icount --list                   # the paths
//! ```
//!
//! Each path sets up its state, then polls the future of its `iterations` runs through
//! `measured`. Callgrind counts only inside `measured` (`--toggle-collect`), so setup and
//! teardown are left out and the count divided by `iterations` is the cost of one iteration.
//!
//! Instruction counts are stable only when the work is: every input is fixed (no clock, no
//! random seed), and the engine runs on `MemStorage`, so no path waits on io_uring (glommio
//! starts under valgrind 3.19, but how often a reactor polls depends on timing). The futures of
//! `MemStorage` are ready at once: all iterations run inside one poll, with no executor work
//! between (were one to wait, its executor work would be left out, not counted twice). No path
//! flushes while counted: `MemStorage::fdatasync` copies the whole file to model power loss,
//! a cost of the model and not of the engine. Writes of full chunks are counted (a memcpy
//! into `MemStorage`, where the real storage submits a DMA write).

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use glommio::{LocalExecutorBuilder, Placement};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{ApiKey, ProduceRequest, TopicName};
use kafka_protocol::protocol::{Encodable, StrBytes};
use sluice_benches::{batch_near, log_config};
use sluice_engine::storage::MemStorage;
use sluice_engine::{LogConfig, LogManager, PartitionLog, ReadChunk, ShardEngineConfig};
use sluice_server::kafka::dispatch::Request;
use sluice_server::kafka::handlers::fetch::{self, SessionAnswer};
use sluice_server::kafka::handlers::produce::split_batches;
use sluice_server::partition::messages::{OutChunk, PartitionRead};

/// The paths, with what one iteration does.
const PATHS: &[(&str, &str)] = &[
    (
        "produce_request_to_append",
        "decode a Produce v9 request (1 partition, one 16 KiB batch), split its records into \
         batches, append them to the partition log (validation, CRC, offsets, buffers, cache)",
    ),
    (
        "engine_append",
        "append one 16 KiB batch (16 records of 1000 bytes); full 1 MiB write-behind chunks are \
         written as they fill",
    ),
    (
        "engine_read_cached",
        "read the newest batch of a partition from the batch cache",
    ),
    (
        "engine_read_index",
        "position a read at a pseudo-random offset in sealed, uncached segments (segment \
         search, sparse index, batch header scan)",
    ),
    (
        "fetch_response",
        "read the newest batch of 8 partitions from the cache and assemble the Fetch v13 \
         response around them",
    ),
];

/// A 16 KiB batch: the batch size of the criterion append benches.
const BATCH_BYTES: usize = 16 << 10;
const FETCH_PARTITIONS: i32 = 8;
/// Iterations run with valgrind are few; this bounds a mistyped argument.
const ITERATIONS_MAX: u64 = 1_000_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--list") {
        for (name, what) in PATHS {
            println!("{name}\t{what}");
        }
        return;
    }
    let [path, iterations] = args.as_slice() else {
        eprintln!("usage: sluice-icount <path> <iterations> | --list");
        std::process::exit(2);
    };
    let Some(&(path, _)) = PATHS.iter().find(|(name, _)| name == path) else {
        eprintln!("unknown path {path}; sluice-icount --list names them");
        std::process::exit(2);
    };
    let iterations: u64 = match iterations.parse() {
        Ok(n) if (1..=ITERATIONS_MAX).contains(&n) => n,
        _ => {
            eprintln!("iterations must be 1..={ITERATIONS_MAX}");
            std::process::exit(2);
        }
    };
    let executor = LocalExecutorBuilder::new(Placement::Unbound)
        .io_memory(4 << 20)
        .make()
        .expect("glommio executor");
    let done = executor.run(run(path, iterations));
    println!("{path}: {iterations} iterations, {done}");
}

async fn run(path: &'static str, iterations: u64) -> String {
    let manager = LogManager::with_storage(
        ShardEngineConfig {
            batch_cache_bytes_max: 1 << 20,
            ..ShardEngineConfig::new("/mem/icount")
        },
        Rc::new(MemStorage::new()),
    );
    let mut state = State::new(path, &manager).await;
    let start = Instant::now();
    let checksum = Counted(Box::pin(iterate(&mut state, iterations))).await;
    let elapsed = start.elapsed();
    manager.close_all().await.expect("close");
    format!("checksum {checksum}, {elapsed:?}")
}

/// What a path needs, built before counting starts.
enum State {
    Produce {
        log: Rc<PartitionLog>,
        request: Request,
    },
    Append {
        log: Rc<PartitionLog>,
        batch: Bytes,
    },
    ReadCached {
        log: Rc<PartitionLog>,
    },
    ReadIndex {
        log: Rc<PartitionLog>,
        sealed_end: i64,
        seed: u64,
    },
    Fetch {
        logs: Vec<Rc<PartitionLog>>,
        request: Request,
    },
}

impl State {
    async fn new(path: &str, manager: &Rc<LogManager>) -> State {
        let batch = batch_near(BATCH_BYTES);
        let open = |partition: i32, config: LogConfig| async move {
            manager
                .open_log("icount", partition, config)
                .await
                .expect("open")
        };
        match path {
            "produce_request_to_append" => State::Produce {
                log: open(0, log_config()).await,
                request: produce_request(&batch),
            },
            "engine_append" => State::Append {
                log: open(0, log_config()).await,
                batch,
            },
            "engine_read_cached" => {
                let log = open(0, log_config()).await;
                fill(&log, &batch, 16).await;
                State::ReadCached { log }
            }
            "engine_read_index" => {
                // 4 MiB in 128 KiB segments: the 1 MiB batch cache holds only the newest.
                let config = LogConfig {
                    segment_bytes: 128 << 10,
                    ..log_config()
                };
                let log = open(0, config).await;
                fill(&log, &batch, (4 << 20) / batch.len()).await;
                let sealed_end = log.log_end_offset() / 2;
                State::ReadIndex {
                    log,
                    sealed_end,
                    seed: 0x2545_f491_4f6c_dd1d,
                }
            }
            "fetch_response" => {
                let mut logs = Vec::new();
                for partition in 0..FETCH_PARTITIONS {
                    let log = open(partition, log_config()).await;
                    fill(&log, &batch, 4).await;
                    logs.push(log);
                }
                State::Fetch {
                    logs,
                    request: request(ApiKey::Fetch, 13, Bytes::new()),
                }
            }
            _ => unreachable!("main checked the path"),
        }
    }
}

async fn fill(log: &PartitionLog, batch: &Bytes, batches: usize) {
    for _ in 0..batches {
        log.append(std::slice::from_ref(batch), 0)
            .await
            .expect("append");
    }
    log.flush().await.expect("flush");
}

fn request(api_key: ApiKey, version: i16, body: Bytes) -> Request {
    Request {
        api_key,
        version,
        correlation_id: 7,
        client_id: Some("icount".to_string()),
        body,
    }
}

fn produce_request(batch: &Bytes) -> Request {
    const VERSION: i16 = 9;
    let body = ProduceRequest::default()
        .with_acks(1)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_static_str("icount")))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(0)
                .with_records(Some(batch.clone()))])]);
    let mut buf = BytesMut::new();
    body.encode(&mut buf, VERSION).expect("encode produce");
    request(ApiKey::Produce, VERSION, buf.freeze())
}

/// Polls the iterations through `measured`, the one function callgrind counts in.
struct Counted<'a>(Pin<Box<dyn Future<Output = i64> + 'a>>);

impl Future for Counted<'_> {
    type Output = i64;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<i64> {
        measured(self.0.as_mut(), cx)
    }
}

/// The counted part (run.sh: `--toggle-collect=sluice_icount::measured`): a plain function,
/// never inlined, so its symbol exists in every profile (an async fn's body is a closure that
/// an optimised build inlines into its caller).
#[inline(never)]
fn measured(
    iterations: Pin<&mut (dyn Future<Output = i64> + '_)>,
    cx: &mut Context<'_>,
) -> Poll<i64> {
    iterations.poll(cx)
}

/// `iterations` runs of the path. Returns a checksum of the results so the work cannot be
/// optimised away, and so a run shows it did what it says.
async fn iterate(state: &mut State, iterations: u64) -> i64 {
    let mut checksum = 0i64;
    for _ in 0..iterations {
        checksum = checksum.wrapping_add(match state {
            State::Produce { log, request } => produce_once(log, request).await,
            State::Append { log, batch } => append_once(log, batch).await,
            State::ReadCached { log } => read_cached_once(log).await,
            State::ReadIndex {
                log,
                sealed_end,
                seed,
            } => read_index_once(log, *sealed_end, seed).await,
            State::Fetch { logs, request } => fetch_once(logs, request).await,
        });
    }
    checksum
}

async fn produce_once(log: &PartitionLog, request: &Request) -> i64 {
    let body: ProduceRequest = request.decode().expect("decode produce");
    let mut last_offset = 0;
    for topic in &body.topic_data {
        for partition in &topic.partition_data {
            let records = partition.records.as_ref().expect("records");
            let batches = split_batches(records).expect("whole batches");
            let info = log.append(&batches, 0).await.expect("append");
            last_offset = info.last_offset;
        }
    }
    last_offset
}

async fn append_once(log: &PartitionLog, batch: &Bytes) -> i64 {
    let info = log
        .append(std::slice::from_ref(batch), 0)
        .await
        .expect("append");
    info.last_offset
}

async fn read_cached_once(log: &PartitionLog) -> i64 {
    let tail = log.log_end_offset() - 1;
    let result = log.read(tail, 1 << 20, i64::MAX).await.expect("read");
    assert!(matches!(result.chunks[0], ReadChunk::Cached(_)));
    i64::from(result.bytes)
}

async fn read_index_once(log: &PartitionLog, sealed_end: i64, seed: &mut u64) -> i64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    let offset = (*seed % sealed_end as u64) as i64;
    let result = log.read(offset, 1, i64::MAX).await.expect("read");
    let ReadChunk::File(range) = &result.chunks[0] else {
        panic!("offset {offset} of the sealed half came from the cache");
    };
    range.position as i64
}

async fn fetch_once(logs: &[Rc<PartitionLog>], request: &Request) -> i64 {
    let mut reads = Vec::with_capacity(logs.len());
    for log in logs {
        let end = log.log_end_offset();
        let result = log.read(end - 1, 1 << 20, end).await.expect("read");
        let chunks = result
            .chunks
            .into_iter()
            .map(|chunk| match chunk {
                ReadChunk::Cached(bytes) => OutChunk::Bytes(bytes),
                ReadChunk::File(_) => panic!("the newest batch is cached"),
            })
            .collect();
        reads.push(PartitionRead {
            error_code: 0,
            high_watermark: end,
            last_stable_offset: end,
            log_start_offset: result.log_start_offset,
            aborted: None,
            diverging_epoch: None,
            chunks,
            bytes: result.bytes,
        });
    }
    let topics = [("icount".to_string(), logs.len())];
    let indexes: Vec<i32> = (0..FETCH_PARTITIONS).collect();
    let response = fetch::encode(request, &topics, &indexes, reads, SessionAnswer::NONE);
    response.bytes() as i64
}
