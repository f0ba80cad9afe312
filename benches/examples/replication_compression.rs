//! Does compressing the replication stream pay on this machine? (issue 13: "Compress the stream
//! when its batches are uncompressed, but measure the gain on this machine first".)
//!
//! Builds the uncompressed RecordBatch v2 batches `sluice-loadgen` sends (its `BatchBuilder`,
//! 64 KiB batches of 1 KiB values), packs them into fetch-sized chunks (whole batches up to
//! `replica.fetch.max.bytes`, 1 MiB, as a follower's fetch answer carries them), and measures,
//! each on one thread (one core):
//! - zstd level 1 and lz4 (block, fast mode): ratio, compress and decompress MB/s;
//! - the same chunks copied through a loopback TCP connection in this process (a writer and a
//!   reader thread): MB/s, and MB per CPU-second of the whole process (both ends' syscalls and
//!   kernel copies), since on this 2-core machine the brokers share the same cores.
//!
//! Three value kinds: loadgen's (a 28-byte header, then its repeating 61-byte text pattern: far
//! more compressible than real data), JSON-like events (fixed keys, random ids, numbers and
//! words from a small vocabulary: a plausible middle), and random bytes (nothing to gain).
//!
//! Run: `cargo run --release -p sluice-benches --example replication_compression`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sluice_kafka_client::{BatchBuilder, Codec};

/// loadgen's default `--value-bytes` is 1 KiB-ish; the issue names 1 KiB.
const VALUE_BYTES: usize = 1024;
/// loadgen's `--batch-bytes` default.
const BATCH_BYTES: usize = 65_536;
/// `replica.fetch.max.bytes` default: what one partition's fetch answer carries at most.
const CHUNK_BYTES: usize = 1 << 20;
/// Chunks per workload (64 MiB): larger than the L2/L3 caches, so no chunk stays hot.
const CHUNKS: usize = 64;
/// Each codec measurement repeats its pass over every chunk until this much time has passed.
const MEASURE_MIN: Duration = Duration::from_secs(2);
/// Bytes pushed through loopback per measurement (the chunks, cycled).
const LOOPBACK_BYTES: usize = 4 << 30;
/// zstd's fastest regular level (the choice); level 3 is Kafka's default.
const ZSTD_LEVEL: i32 = 1;
/// loadgen's value header: producer id, sequence, send time, CRC-32C of the 24 bytes before.
const VALUE_HEADER_BYTES: usize = 28;

const _: () = assert!(BATCH_BYTES < CHUNK_BYTES);
const _: () = assert!(VALUE_BYTES > VALUE_HEADER_BYTES);
const _: () = assert!(LOOPBACK_BYTES >= CHUNKS * CHUNK_BYTES);

#[derive(Clone, Copy)]
enum Values {
    Loadgen,
    Json,
    Random,
}

impl Values {
    fn name(self) -> &'static str {
        match self {
            Values::Loadgen => "loadgen",
            Values::Json => "json-like",
            Values::Random => "random",
        }
    }
}

/// Words of the JSON-like events' string fields.
const WORDS: [&str; 16] = [
    "page_view",
    "click",
    "purchase",
    "signup",
    "logout",
    "search",
    "add_to_cart",
    "checkout",
    "mobile",
    "desktop",
    "tablet",
    "eu-west-1",
    "us-east-1",
    "ap-south-1",
    "ok",
    "retry",
];

/// One JSON-like event, padded with more events' fields until `VALUE_BYTES` long.
fn json_value(sequence: u64, send_time_us: u64, rng: &mut Rng) -> Vec<u8> {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(VALUE_BYTES + 256);
    while text.len() < VALUE_BYTES {
        let word = |rng: &mut Rng| WORDS[(rng.next() % WORDS.len() as u64) as usize];
        let (event, device, region, status) = (word(rng), word(rng), word(rng), word(rng));
        write!(
            text,
            "{{\"seq\":{sequence},\"ts_us\":{send_time_us},\"user\":\"u{:08x}\",\
             \"session\":\"{:016x}\",\"event\":\"{event}\",\"device\":\"{device}\",\
             \"region\":\"{region}\",\"status\":\"{status}\",\"amount_cents\":{},\
             \"latency_ms\":{:.3}}}",
            rng.next() % 1_000_000,
            rng.next(),
            rng.next() % 100_000,
            (rng.next() % 1_000_000) as f64 / 1000.0,
        )
        .expect("writing to a String cannot fail");
    }
    let mut value = text.into_bytes();
    value.truncate(VALUE_BYTES);
    value
}

/// loadgen's payload byte `index` (`loadgen/src/message.rs`, `payload_byte`; loadgen is a
/// binary crate, so the one-line pattern is repeated here).
fn loadgen_payload_byte(index: usize) -> u8 {
    b"sluice-loadgen payload 0123456789 abcdefghijklmnopqrstuvwxyz\n"[index % 61]
}

/// xorshift64*: random enough for incompressible bytes, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let word = self.next().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

/// One value as loadgen's producer writes it for `sequence`, or random bytes.
fn value(kind: Values, sequence: u64, send_time_us: u64, rng: &mut Rng) -> Vec<u8> {
    let mut value = vec![0u8; VALUE_BYTES];
    match kind {
        Values::Loadgen => {
            value[0..8].copy_from_slice(&1u64.to_be_bytes());
            value[8..16].copy_from_slice(&sequence.to_be_bytes());
            value[16..24].copy_from_slice(&send_time_us.to_be_bytes());
            let check = crc32c::crc32c(&value[0..24]);
            value[24..28].copy_from_slice(&check.to_be_bytes());
            for (i, byte) in value.iter_mut().enumerate().skip(VALUE_HEADER_BYTES) {
                *byte = loadgen_payload_byte(i);
            }
        }
        Values::Json => value = json_value(sequence, send_time_us, rng),
        Values::Random => rng.fill(&mut value),
    }
    assert_eq!(value.len(), VALUE_BYTES);
    value
}

/// `CHUNKS` fetch-sized chunks of whole uncompressed batches.
fn build_chunks(kind: Values) -> Vec<Bytes> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut builder = BatchBuilder::new(BATCH_BYTES);
    let mut chunks = Vec::with_capacity(CHUNKS);
    let mut chunk: Vec<u8> = Vec::with_capacity(CHUNK_BYTES);
    let mut sequence = 0u64;
    let started_ms: i64 = 1_764_633_600_000;
    while chunks.len() < CHUNKS {
        let record = BatchBuilder::record_size_bytes(None, VALUE_BYTES);
        if !builder.is_empty() && builder.size_bytes() + record > BATCH_BYTES {
            let batch = builder
                .seal(Codec::None)
                .expect("uncompressed seal cannot fail");
            if chunk.len() + batch.len() > CHUNK_BYTES {
                assert!(!chunk.is_empty());
                chunks.push(Bytes::from(std::mem::take(&mut chunk)));
                chunk.reserve(CHUNK_BYTES);
            }
            chunk.extend_from_slice(&batch);
        }
        // One record every 20 µs, as a producer at 50k records/s stamps them.
        let send_time_us = started_ms as u64 * 1000 + sequence * 20;
        let bytes = value(kind, sequence, send_time_us, &mut rng);
        builder.append(started_ms + (sequence / 50) as i64, None, &bytes, &[]);
        sequence += 1;
    }
    chunks
}

struct CodecFigures {
    ratio: f64,
    compress_mb_s: f64,
    decompress_mb_s: f64,
}

/// Repeats `pass` (over every chunk, returning the bytes it consumed) for at least
/// `MEASURE_MIN`; MB/s of uncompressed bytes.
fn rate_mb_s(mut pass: impl FnMut() -> usize) -> f64 {
    pass(); // warm-up: allocations, page faults
    let started = Instant::now();
    let mut bytes = 0usize;
    while started.elapsed() < MEASURE_MIN {
        bytes += pass();
    }
    bytes as f64 / started.elapsed().as_secs_f64() / 1e6
}

fn measure_zstd(chunks: &[Bytes]) -> CodecFigures {
    let mut compressor = zstd::bulk::Compressor::new(ZSTD_LEVEL).expect("zstd compressor");
    let mut decompressor = zstd::bulk::Decompressor::new().expect("zstd decompressor");
    let compressed: Vec<Vec<u8>> = chunks
        .iter()
        .map(|c| compressor.compress(c).expect("zstd compress"))
        .collect();
    for (chunk, packed) in chunks.iter().zip(&compressed) {
        let unpacked = decompressor
            .decompress(packed, CHUNK_BYTES)
            .expect("zstd decompress");
        assert_eq!(&unpacked[..], &chunk[..], "zstd round trip");
    }
    let compress_mb_s = rate_mb_s(|| {
        let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(CHUNK_BYTES));
        chunks
            .iter()
            .map(|c| {
                out.clear();
                compressor.compress_to_buffer(c, &mut out).expect("zstd");
                c.len()
            })
            .sum()
    });
    let decompress_mb_s = rate_mb_s(|| {
        let mut out = Vec::with_capacity(CHUNK_BYTES);
        compressed
            .iter()
            .map(|packed| {
                out.clear();
                decompressor
                    .decompress_to_buffer(packed, &mut out)
                    .expect("zstd")
            })
            .sum()
    });
    CodecFigures {
        ratio: ratio(chunks, &compressed),
        compress_mb_s,
        decompress_mb_s,
    }
}

fn measure_lz4(chunks: &[Bytes]) -> CodecFigures {
    use lz4::block::{compress_to_buffer, decompress_to_buffer, CompressionMode};
    let mode = Some(CompressionMode::DEFAULT);
    let bound = lz4::block::compress_bound(CHUNK_BYTES).expect("lz4 bound");
    let mut out = vec![0u8; bound];
    let compressed: Vec<Vec<u8>> = chunks
        .iter()
        .map(|c| {
            let n = compress_to_buffer(c, mode, false, &mut out).expect("lz4 compress");
            out[..n].to_vec()
        })
        .collect();
    let mut plain = vec![0u8; CHUNK_BYTES];
    for (chunk, packed) in chunks.iter().zip(&compressed) {
        let n = decompress_to_buffer(packed, Some(chunk.len() as i32), &mut plain).expect("lz4");
        assert_eq!(&plain[..n], &chunk[..], "lz4 round trip");
    }
    let compress_mb_s = rate_mb_s(|| {
        chunks
            .iter()
            .map(|c| {
                compress_to_buffer(c, mode, false, &mut out).expect("lz4");
                c.len()
            })
            .sum()
    });
    let decompress_mb_s = rate_mb_s(|| {
        chunks
            .iter()
            .zip(&compressed)
            .map(|(chunk, packed)| {
                decompress_to_buffer(packed, Some(chunk.len() as i32), &mut plain).expect("lz4")
            })
            .sum()
    });
    CodecFigures {
        ratio: ratio(chunks, &compressed),
        compress_mb_s,
        decompress_mb_s,
    }
}

fn ratio(chunks: &[Bytes], compressed: &[Vec<u8>]) -> f64 {
    let plain: usize = chunks.iter().map(Bytes::len).sum();
    let packed: usize = compressed.iter().map(Vec::len).sum();
    assert!(packed > 0);
    plain as f64 / packed as f64
}

/// CPU time of the whole process (every thread), user and system.
fn process_cpu() -> Duration {
    let mut spec = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `spec` is a valid, writable timespec; the clock id is a constant libc knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut spec) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
    Duration::new(spec.tv_sec as u64, spec.tv_nsec as u32)
}

struct LoopbackFigures {
    mb_s: f64,
    mb_per_cpu_s: f64,
}

/// Copies `LOOPBACK_BYTES` of the chunks through a loopback TCP connection (writer on this
/// thread, reader on another), the way a leader's response reaches a follower on this host.
fn measure_loopback(chunks: &[Bytes]) -> LoopbackFigures {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("loopback address");
    let reader = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().expect("accept");
        let mut buffer = vec![0u8; CHUNK_BYTES];
        let mut received = 0usize;
        loop {
            let n = socket.read(&mut buffer).expect("loopback read");
            if n == 0 {
                return received;
            }
            received += n;
        }
    });
    let mut socket = TcpStream::connect(address).expect("connect loopback");
    socket.set_nodelay(true).expect("nodelay");
    let cpu_before = process_cpu();
    let started = Instant::now();
    let mut sent = 0usize;
    for chunk in chunks.iter().cycle() {
        if sent >= LOOPBACK_BYTES {
            break;
        }
        socket.write_all(chunk).expect("loopback write");
        sent += chunk.len();
    }
    drop(socket);
    let received = reader.join().expect("reader thread");
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = (process_cpu() - cpu_before).as_secs_f64();
    assert_eq!(received, sent, "loopback lost bytes");
    LoopbackFigures {
        mb_s: sent as f64 / elapsed / 1e6,
        mb_per_cpu_s: sent as f64 / cpu / 1e6,
    }
}

/// CPU-seconds per uncompressed MB to ship it compressed: compress on the leader, copy the
/// smaller bytes through loopback, decompress on the follower.
fn compressed_cpu_ms_per_mb(figures: &CodecFigures, loopback: &LoopbackFigures) -> f64 {
    1000.0
        * (1.0 / figures.compress_mb_s
            + 1.0 / figures.decompress_mb_s
            + 1.0 / (figures.ratio * loopback.mb_per_cpu_s))
}

fn main() {
    println!(
        "chunks: {CHUNKS} x up to {CHUNK_BYTES} B of uncompressed {BATCH_BYTES} B batches, \
         {VALUE_BYTES} B values; each rate on one thread, >= {} s",
        MEASURE_MIN.as_secs()
    );
    let loopback = measure_loopback(&build_chunks(Values::Loadgen));
    let raw_cpu_ms_per_mb = 1000.0 / loopback.mb_per_cpu_s;
    println!(
        "loopback TCP, {} MiB: {:.0} MB/s, {:.0} MB per CPU-second (both ends): \
         {raw_cpu_ms_per_mb:.3} CPU-ms per MB shipped uncompressed\n",
        LOOPBACK_BYTES >> 20,
        loopback.mb_s,
        loopback.mb_per_cpu_s
    );
    println!(
        "| values | codec | ratio | compress MB/s | decompress MB/s | CPU-ms/MB compressed | \
         CPU-ms/MB uncompressed |"
    );
    println!("|---|---|---|---|---|---|---|");
    for kind in [Values::Loadgen, Values::Json, Values::Random] {
        let chunks = build_chunks(kind);
        for (codec, figures) in [
            (format!("zstd -{ZSTD_LEVEL}"), measure_zstd(&chunks)),
            ("lz4 (block, fast)".to_string(), measure_lz4(&chunks)),
        ] {
            println!(
                "| {} | {codec} | {:.2} | {:.0} | {:.0} | {:.3} | {raw_cpu_ms_per_mb:.3} |",
                kind.name(),
                figures.ratio,
                figures.compress_mb_s,
                figures.decompress_mb_s,
                compressed_cpu_ms_per_mb(&figures, &loopback),
            );
        }
    }
}
