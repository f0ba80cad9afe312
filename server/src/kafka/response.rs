//! Responses as lists of chunks, and the code that puts them on the socket.
//!
//! A response is its 4-byte size prefix and header followed by body chunks. Most responses are
//! one encoded buffer. Fetch responses interleave hand-encoded headers with record bytes that are
//! never copied: cached `Bytes` go out with one `sendmsg` (writev) per run of buffers, file ranges
//! with `sendfile` (sendfile.rs), so the shard's reactor never blocks.

use std::io::IoSlice;
use std::os::fd::RawFd;

use bytes::{BufMut, Bytes, BytesMut};
use futures_lite::{AsyncWrite, AsyncWriteExt};
use kafka_protocol::messages::ResponseHeader;
use kafka_protocol::protocol::Encodable;

use super::sendfile::sendfile_all;
use crate::partition::messages::OutChunk;

/// Most buffers handed to one sendmsg call.
const IOVECS_PER_WRITE_MAX: usize = 64;

pub struct Response {
    /// The first chunk starts with the size prefix, which counts every following byte.
    pub chunks: Vec<OutChunk>,
}

impl Response {
    /// Bytes on the wire, size prefix included.
    pub fn bytes(&self) -> usize {
        self.chunks.iter().map(OutChunk::len).sum()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot encode response: {0}")]
pub struct EncodeError(pub String);

/// Encodes a whole response with the crate's encoder (every API but Fetch).
pub fn encode<M: Encodable>(
    correlation_id: i32,
    header_version: i16,
    body: &M,
    version: i16,
) -> Result<Response, EncodeError> {
    let header = ResponseHeader::default().with_correlation_id(correlation_id);
    let header_size = header
        .compute_size(header_version)
        .map_err(|e| EncodeError(e.to_string()))?;
    let body_size = body
        .compute_size(version)
        .map_err(|e| EncodeError(e.to_string()))?;
    let size = header_size + body_size;
    let mut buf = BytesMut::with_capacity(4 + size);
    buf.put_i32(size as i32);
    header
        .encode(&mut buf, header_version)
        .map_err(|e| EncodeError(e.to_string()))?;
    body.encode(&mut buf, version)
        .map_err(|e| EncodeError(e.to_string()))?;
    assert_eq!(buf.len(), 4 + size);
    Ok(Response {
        chunks: vec![OutChunk::Bytes(buf.freeze())],
    })
}

/// Writes every chunk of `response` in order.
pub async fn write_response<W: AsyncWrite + Unpin>(
    fd: RawFd,
    writer: &mut W,
    response: Response,
) -> std::io::Result<()> {
    let mut chunks = response.chunks.into_iter().peekable();
    let mut run: Vec<Bytes> = Vec::new();
    while let Some(chunk) = chunks.next() {
        match chunk {
            OutChunk::Bytes(bytes) => {
                run.push(bytes);
                let next_is_bytes = matches!(chunks.peek(), Some(OutChunk::Bytes(_)));
                if !next_is_bytes || run.len() >= IOVECS_PER_WRITE_MAX {
                    write_vectored_all(fd, writer, &run).await?;
                    run.clear();
                }
            }
            OutChunk::File {
                file,
                position,
                len,
            } => {
                assert!(run.is_empty());
                sendfile_all(fd, writer, file, position, len).await?;
            }
        }
    }
    assert!(run.is_empty());
    Ok(())
}

/// Writes every chunk through `writer` (a TLS stream): buffers as they are, file ranges read
/// into memory first on the blocking pool (the reactor never waits for the disk). Flushed at
/// the end, so the last TLS record leaves now.
pub async fn write_response_through<W: AsyncWrite + Unpin>(
    writer: &mut W,
    response: Response,
) -> std::io::Result<()> {
    for chunk in response.chunks {
        match chunk {
            OutChunk::Bytes(bytes) => writer.write_all(&bytes).await?,
            OutChunk::File {
                file,
                position,
                len,
            } => {
                let bytes = glommio::executor()
                    .spawn_blocking(move || read_range(&file, position, len))
                    .await?;
                writer.write_all(&bytes).await?;
            }
        }
    }
    writer.flush().await
}

/// `len` bytes of `file` from `position`, read into memory (blocking: call it off the reactor).
pub(super) fn read_range(
    file: &std::fs::File,
    position: u64,
    len: u32,
) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let mut bytes = vec![0u8; len as usize];
    file.read_exact_at(&mut bytes, position)?;
    Ok(bytes)
}

/// One nonblocking sendmsg for the whole run; when the socket buffer fills, the rest goes through
/// the runtime's writer, which waits for writability without blocking the reactor.
async fn write_vectored_all<W: AsyncWrite + Unpin>(
    fd: RawFd,
    writer: &mut W,
    buffers: &[Bytes],
) -> std::io::Result<()> {
    let total: usize = buffers.iter().map(Bytes::len).sum();
    let mut written = try_sendmsg(fd, buffers)?;
    assert!(written <= total);
    let mut skip = written;
    for buffer in buffers {
        if skip >= buffer.len() {
            skip -= buffer.len();
            continue;
        }
        writer.write_all(&buffer[skip..]).await?;
        written += buffer.len() - skip;
        skip = 0;
    }
    assert_eq!(written, total);
    Ok(())
}

/// Bytes written by one nonblocking sendmsg (0 when the socket buffer is full).
fn try_sendmsg(fd: RawFd, buffers: &[Bytes]) -> std::io::Result<usize> {
    let slices: Vec<IoSlice<'_>> = buffers.iter().map(|b| IoSlice::new(b)).collect();
    // SAFETY: msghdr is plain data; we point it at `slices`, which outlives the call, and
    // IoSlice is ABI-compatible with iovec.
    let sent = unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = slices.as_ptr() as *mut libc::iovec;
        msg.msg_iovlen = slices.len() as _;
        libc::sendmsg(fd, &msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)
    };
    if sent >= 0 {
        return Ok(sent as usize);
    }
    let err = std::io::Error::last_os_error();
    match err.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted => Ok(0),
        _ => Err(err),
    }
}
