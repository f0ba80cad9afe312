//! File ranges of Fetch responses (cold reads, not in the batch cache) put on a plaintext socket
//! with `sendfile`, without a thread ever waiting for the socket.
//!
//! `sendfile` may wait for two things: the disk (pages not in the page cache) and the socket
//! (send buffer full). The disk wait must not be on the reactor, so `sendfile` runs on the
//! shard's blocking pool, which has only `BLOCKING_THREADS_PER_SHARD` threads. The socket wait
//! must not be there either: a consumer that stops reading would hold a thread for as long as it
//! stays connected, and a few such consumers would stall every cold read of the shard.
//!
//! So the socket is nonblocking (`set_nonblocking`, at accept) and each blocking step sends
//! until the socket is full (`EAGAIN`), then reads the next piece of the range into memory (that
//! is a disk wait, so it belongs on the pool) and returns. The reactor writes the piece through
//! the connection's runtime writer, which waits for writability with an io_uring poll (no
//! thread) and fails with `TimedOut` after the connection's write timeout without progress; then
//! the next blocking step continues after the piece.
//!
//! Why a piece and not a bare "wait until writable": glommio 0.9 has no public readiness wait
//! for a raw descriptor, only writes through its stream; writing real bytes of the range is what
//! gives us its wait (and its timeout) without a private API, a second event loop, or a thread.
//! The copy is one piece per time the send buffer fills, small next to the buffer itself.
//! io_uring splice would need glommio's private ring; a bounded pool with timeouts would still
//! let stalled consumers hold threads for the length of the timeout.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use futures_lite::{AsyncWrite, AsyncWriteExt};

use super::response::read_range;

/// Bytes read into memory and written through the runtime writer when the socket is full:
/// enough to refill the send buffer's low-water mark in one write after it drains.
const PIECE_BYTES_MAX: u64 = 64 * 1024;

/// Puts `O_NONBLOCK` on a plaintext connection's socket, so `sendfile` on it returns `EAGAIN`
/// instead of waiting. The runtime's own reads and writes use `MSG_DONTWAIT` and io_uring polls,
/// which the flag does not change.
pub fn set_nonblocking(socket: RawFd) -> std::io::Result<()> {
    // SAFETY: fcntl on a descriptor the caller owns; no pointers involved.
    let flags = unsafe { libc::fcntl(socket, libc::F_GETFL) };
    if flags < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(socket, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Sends `len` bytes of `file` from `position` to `socket` (nonblocking, see `set_nonblocking`),
/// whose runtime writer is `writer`. Returns when every byte is in the socket, or with the
/// writer's error (`TimedOut` when the client reads nothing for the write timeout).
pub async fn sendfile_all<W: AsyncWrite + Unpin>(
    socket: RawFd,
    writer: &mut W,
    file: Arc<std::fs::File>,
    position: u64,
    len: u32,
) -> std::io::Result<()> {
    // The blocking step gets its own descriptor: if this future is dropped while a step runs,
    // the connection may close `socket` and the number may be reused by another file.
    let socket = Arc::new(dup(socket)?);
    let end = position + u64::from(len);
    let mut position = position;
    while position < end {
        let (socket, file) = (socket.clone(), file.clone());
        let step = glommio::executor()
            .spawn_blocking(move || send_until_full(&socket, &file, position, end))
            .await?;
        assert!(step.sent_bytes + step.piece.len() as u64 <= end - position);
        position += step.sent_bytes;
        if !step.piece.is_empty() {
            writer.write_all(&step.piece).await?;
            position += step.piece.len() as u64;
        }
    }
    assert_eq!(position, end);
    Ok(())
}

/// What one blocking step did: bytes sent by `sendfile`, then (when the socket filled) the next
/// bytes of the range, read for the reactor to write.
struct Step {
    sent_bytes: u64,
    piece: Vec<u8>,
}

/// Runs on the blocking pool. Waits for the disk, never for the socket.
fn send_until_full(
    socket: &OwnedFd,
    file: &std::fs::File,
    position: u64,
    end: u64,
) -> std::io::Result<Step> {
    assert!(position < end);
    let mut offset = position;
    while offset < end {
        let mut offset_io = offset as libc::off_t;
        let remaining = (end - offset) as usize;
        // SAFETY: both descriptors are valid for the duration of the call; offset_io is ours.
        let sent = unsafe {
            libc::sendfile(
                socket.as_raw_fd(),
                file.as_raw_fd(),
                &mut offset_io,
                remaining,
            )
        };
        if sent > 0 {
            assert!(sent as usize <= remaining);
            offset += sent as u64;
            assert_eq!(offset_io as u64, offset);
            continue;
        }
        if sent == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "segment file ended before the range the engine returned",
            ));
        }
        let err = std::io::Error::last_os_error();
        match err.kind() {
            std::io::ErrorKind::Interrupted => {}
            std::io::ErrorKind::WouldBlock => {
                let piece = read_range(file, offset, (end - offset).min(PIECE_BYTES_MAX) as u32)?;
                return Ok(Step {
                    sent_bytes: offset - position,
                    piece,
                });
            }
            _ => return Err(err),
        }
    }
    Ok(Step {
        sent_bytes: offset - position,
        piece: Vec::new(),
    })
}

fn dup(socket: RawFd) -> std::io::Result<OwnedFd> {
    // SAFETY: dup returns a new descriptor we own (or -1).
    let dup = unsafe { libc::fcntl(socket, libc::F_DUPFD_CLOEXEC, 0) };
    if dup < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: dup is a fresh, valid descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(dup) })
}
