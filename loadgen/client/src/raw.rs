//! The raw-frame side of a [`Connection`], for tests that send what no client would (bad
//! sizes, truncated frames, garbage bodies) and must see exactly how the broker reacts: one
//! response frame, or the connection closed. Every wait ends at the read timeout.

use std::io::{ErrorKind, Read, Write};

use bytes::Bytes;

use crate::conn::Connection;
use crate::error::{is_timeout, Error, Result};

/// Bytes accepted while waiting for a close before giving up on it.
const BYTES_BEFORE_CLOSE_MAX: usize = 1 << 20;

impl Connection {
    /// Writes `bytes` as they are: framed or not, valid or not.
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<()> {
        let write_error = |source| Error::Write {
            addr: self.addr.clone(),
            source,
        };
        self.stream.write_all(bytes).map_err(write_error)?;
        self.stream.flush().map_err(write_error)
    }

    /// Half-closes: the broker reads end-of-stream after what was sent.
    pub fn shutdown_write(&self) -> Result<()> {
        self.stream
            .shutdown(std::net::Shutdown::Write)
            .map_err(|source| Error::Write {
                addr: self.addr.clone(),
                source,
            })
    }

    /// Reads until one whole response frame arrived (`Some`, without its size) or the broker
    /// closed the connection (`None`, also when it closed part-way through a frame). A read
    /// timeout is an error: the broker neither answered nor closed.
    pub fn read_frame_or_close(&mut self) -> Result<Option<Bytes>> {
        let addr = self.addr.clone();
        let reader = self.own_reader()?;
        let mut received = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(size) = received.first_chunk::<4>().map(|s| i32::from_be_bytes(*s)) {
                let size = usize::try_from(size).map_err(|_| {
                    Error::Protocol(format!("response frame size {size} out of range"))
                })?;
                if received.len() >= 4 + size {
                    return Ok(Some(Bytes::copy_from_slice(&received[4..4 + size])));
                }
            }
            // Read only up to the end of the first frame: what follows belongs to the next call.
            let wanted = match received.first_chunk::<4>() {
                Some(s) => (4 + i32::from_be_bytes(*s) as usize - received.len()).min(chunk.len()),
                None => 4 - received.len(),
            };
            match reader.stream.read(&mut chunk[..wanted]) {
                Ok(0) => return Ok(None),
                Ok(n) => received.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::ConnectionReset | ErrorKind::UnexpectedEof
                    ) =>
                {
                    return Ok(None)
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(source) => return Err(Error::Read { addr, source }),
            }
        }
    }

    /// Waits until the broker closes the connection (end-of-stream or reset). Any byte the
    /// broker sends first is an error, as is the read timeout passing.
    pub fn expect_closed(&mut self) -> Result<()> {
        let addr = self.addr.clone();
        let reader = self.own_reader()?;
        let mut received_bytes = 0usize;
        let mut chunk = [0u8; 4096];
        // (detail, timed out) when the connection did not close cleanly.
        let still_open = loop {
            match reader.stream.read(&mut chunk) {
                Ok(0) => break None,
                Ok(n) => {
                    received_bytes += n;
                    if received_bytes > BYTES_BEFORE_CLOSE_MAX {
                        break Some(("the broker keeps sending".to_string(), false));
                    }
                }
                // Over TLS, a close without close_notify reads as UnexpectedEof.
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::ConnectionReset | ErrorKind::UnexpectedEof
                    ) =>
                {
                    break None
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if is_timeout(&e) => {
                    break Some(("no close within the read timeout".to_string(), true))
                }
                Err(e) => break Some((format!("read failed: {e}"), false)),
            }
        };
        let (detail, timed_out) = match (still_open, received_bytes) {
            (None, 0) => return Ok(()),
            (None, _) => ("bytes arrived before the close".to_string(), false),
            (Some(why), _) => why,
        };
        Err(Error::NotClosed {
            addr,
            received_bytes,
            timed_out,
            detail,
        })
    }
}
