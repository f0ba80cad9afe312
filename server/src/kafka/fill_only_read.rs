//! Receiving into a buffer's spare capacity without zeroing it first. Zeroing every receive
//! buffer (`BytesMut::zeroed`) cost 9-11 % of the broker's core in the produce profile
//! (benches/results/shards-2026-12-03.md); the socket overwrites those bytes anyway.

use std::io;

use bytes::BytesMut;
use futures_lite::{AsyncRead, AsyncReadExt};

/// A reader whose `poll_read` only ever writes into the buffer it is given, never reads from
/// it, and reports in its result how many leading bytes it wrote.
///
/// # Safety
/// Implement only for readers that hold to this: [`read_into_spare`] hands them memory that
/// was never initialised.
pub unsafe trait FillOnlyRead: AsyncRead + Unpin {}

// SAFETY: glommio's TcpStream receives with recv(2) straight into the buffer (yolo_recv) or,
// when that would block, waits for readiness and tries again; the kernel only writes.
unsafe impl FillOnlyRead for glommio::net::TcpStream {}

// SAFETY: rustls decrypts into its own buffers; poll_read copies plaintext out of them into
// ours (ChunkVecBuffer::read via `<&[u8] as Read>::read`) and never reads ours.
unsafe impl<S: AsyncRead + futures_lite::AsyncWrite + Unpin> FillOnlyRead
    for futures_rustls::server::TlsStream<S>
{
}

// SAFETY: the read half forwards poll_read to the stream under its lock, buffer untouched.
unsafe impl<S: FillOnlyRead + futures_lite::AsyncWrite> FillOnlyRead
    for futures_lite::io::ReadHalf<S>
{
}

// SAFETY: std's Cursor copies from its own bytes into the buffer (copy_from_slice).
unsafe impl<T: AsRef<[u8]> + Unpin> FillOnlyRead for futures_lite::io::Cursor<T> {}

/// Reads once into `buffer`'s spare capacity and extends its length by what arrived.
/// Returns 0 at end of stream (or if there is no spare capacity).
pub async fn read_into_spare<R: FillOnlyRead>(
    reader: &mut R,
    buffer: &mut BytesMut,
) -> io::Result<usize> {
    let spare = buffer.spare_capacity_mut();
    let spare_bytes = spare.len();
    // SAFETY: `u8` and `MaybeUninit<u8>` have the same layout. The slice is given only to a
    // `FillOnlyRead`, which writes into it and never reads it, so no uninitialised byte is read.
    let spare: &mut [u8] =
        unsafe { &mut *(spare as *mut [std::mem::MaybeUninit<u8>] as *mut [u8]) };
    let received = reader.read(spare).await?;
    if received > spare_bytes {
        return Err(io::Error::other(format!(
            "reader claimed {received} bytes into {spare_bytes} bytes of room"
        )));
    }
    // SAFETY: the reader initialised the first `received` bytes after the old length, and
    // they lie within the capacity (checked above).
    unsafe { buffer.set_len(buffer.len() + received) };
    Ok(received)
}
