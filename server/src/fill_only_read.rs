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

// SAFETY: as for the server side: rustls decrypts into its own buffers and copies plaintext
// out of them into ours, never reading ours.
unsafe impl<S: AsyncRead + futures_lite::AsyncWrite + Unpin> FillOnlyRead
    for futures_rustls::client::TlsStream<S>
{
}

// SAFETY: a box forwards poll_read to what it holds, which is itself a FillOnlyRead.
unsafe impl<R: FillOnlyRead + ?Sized> FillOnlyRead for Box<R> {}

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
    read_into_spare_at_most(reader, buffer, usize::MAX).await
}

/// Reads exactly `length` bytes into a new buffer, without zeroing it first. End of stream
/// before `length` bytes is `UnexpectedEof`, as `read_exact` reports it.
pub async fn read_exact_unzeroed<R: FillOnlyRead>(
    reader: &mut R,
    length: usize,
) -> io::Result<BytesMut> {
    let mut buffer = BytesMut::with_capacity(length);
    while buffer.len() < length {
        // Never past the frame: what follows it stays in the socket for the next read.
        let room = length - buffer.len();
        if read_into_spare_at_most(reader, &mut buffer, room).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "stream ended {} bytes into a {length}-byte frame",
                    buffer.len()
                ),
            ));
        }
    }
    Ok(buffer)
}

/// One read into at most `room_max` bytes of `buffer`'s spare capacity.
async fn read_into_spare_at_most<R: FillOnlyRead>(
    reader: &mut R,
    buffer: &mut BytesMut,
    room_max: usize,
) -> io::Result<usize> {
    let spare = buffer.spare_capacity_mut();
    let spare_len = spare.len().min(room_max);
    let spare = &mut spare[..spare_len];
    // SAFETY: `u8` and `MaybeUninit<u8>` have the same layout. The slice is given only to a
    // `FillOnlyRead`, which writes into it and never reads it, so no uninitialised byte is read.
    let spare: &mut [u8] =
        unsafe { &mut *(spare as *mut [std::mem::MaybeUninit<u8>] as *mut [u8]) };
    let received = reader.read(spare).await?;
    if received > spare_len {
        return Err(io::Error::other(format!(
            "reader claimed {received} bytes into {spare_len} bytes of room"
        )));
    }
    // SAFETY: the reader initialised the first `received` bytes after the old length, and
    // they lie within the capacity (checked above).
    unsafe { buffer.set_len(buffer.len() + received) };
    Ok(received)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::io::Cursor;

    #[test]
    fn reads_exactly_one_frame_and_leaves_the_next() {
        futures_lite::future::block_on(async {
            let mut stream = Cursor::new(b"abcdefgh".to_vec());
            let first = read_exact_unzeroed(&mut stream, 5).await.expect("5 bytes");
            assert_eq!(&first[..], b"abcde");
            let rest = read_exact_unzeroed(&mut stream, 3).await.expect("3 bytes");
            assert_eq!(&rest[..], b"fgh");
        });
    }

    #[test]
    fn a_short_stream_is_unexpected_eof() {
        futures_lite::future::block_on(async {
            let mut stream = Cursor::new(b"abc".to_vec());
            let err = read_exact_unzeroed(&mut stream, 5)
                .await
                .expect_err("3 bytes of a 5-byte frame");
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        });
    }

    #[test]
    fn an_empty_frame_reads_nothing() {
        futures_lite::future::block_on(async {
            let mut stream = Cursor::new(Vec::new());
            let frame = read_exact_unzeroed(&mut stream, 0)
                .await
                .expect("nothing to read");
            assert!(frame.is_empty());
        });
    }
}
