//! The same-run network baseline: one TCP stream over loopback between two threads of this
//! process, as fast as it goes (what `iperf3` measures with one stream). Broker throughput
//! over loopback cannot beat it, so cells report their rate as a ratio to it, and to
//! min(disk, net) when the disk baseline ran too.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::Instant;

use serde::Serialize;

use crate::error::{io_context, Error, Result};

/// Bytes per write and per read: large, so syscall overhead does not cap the stream.
pub const BLOCK_BYTES: usize = 1 << 20;
/// Stop early at this size, whatever the duration.
const BYTES_MAX: u64 = 256 << 30;

#[derive(Debug, Clone, Serialize)]
pub struct NetBaseline {
    pub block_bytes: usize,
    pub bytes: u64,
    pub seconds: f64,
    pub mb_per_s: f64,
    pub method: String,
}

/// Streams `BLOCK_BYTES` writes from one thread to a reader thread over 127.0.0.1 for
/// `seconds`; the rate counts bytes the reader received until it saw the end of the stream.
pub fn measure(seconds: f64) -> Result<NetBaseline> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(io_context("binding the net baseline"))?;
    let address = listener
        .local_addr()
        .map_err(io_context("net baseline address"))?;
    let reader = std::thread::Builder::new()
        .name("net-baseline-reader".into())
        .spawn(move || -> Result<u64> {
            let (mut stream, _) = listener
                .accept()
                .map_err(io_context("accepting the net baseline stream"))?;
            let mut buffer = vec![0u8; BLOCK_BYTES];
            let mut received = 0u64;
            loop {
                match stream.read(&mut buffer) {
                    Ok(0) => return Ok(received),
                    Ok(n) => received += n as u64,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(io_context("net baseline read")(e)),
                }
            }
        })
        .map_err(io_context("starting the net baseline reader"))?;
    let mut stream =
        TcpStream::connect(address).map_err(io_context("connecting the net baseline"))?;
    let block: Vec<u8> = (0..BLOCK_BYTES).map(crate::message::payload_byte).collect();
    let started = Instant::now();
    let mut sent = 0u64;
    let written = (|| -> Result<()> {
        while started.elapsed().as_secs_f64() < seconds && sent < BYTES_MAX {
            stream
                .write_all(&block)
                .map_err(io_context("net baseline write"))?;
            sent += BLOCK_BYTES as u64;
        }
        stream
            .shutdown(Shutdown::Write)
            .map_err(io_context("net baseline shutdown"))
    })();
    let received = reader
        .join()
        .map_err(|_| Error::Config("the net baseline reader panicked".into()))?;
    let elapsed = started.elapsed().as_secs_f64();
    written?;
    let bytes = received?;
    if bytes != sent {
        return Err(Error::Config(format!(
            "net baseline: sent {sent} bytes, the reader got {bytes}"
        )));
    }
    Ok(NetBaseline {
        block_bytes: BLOCK_BYTES,
        bytes,
        seconds: elapsed,
        mb_per_s: bytes as f64 / elapsed / 1e6,
        method: "one TCP stream over 127.0.0.1 between two threads, 1 MiB writes and reads".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_sent_is_counted_once() {
        let b = measure(0.05).expect("baseline");
        assert!(b.bytes >= BLOCK_BYTES as u64);
        assert_eq!(b.bytes % BLOCK_BYTES as u64, 0, "whole blocks: {}", b.bytes);
        assert!(b.mb_per_s > 0.0 && b.seconds > 0.0);
    }
}
