//! Size-prefixed frames: a 4-byte big-endian length, then that many bytes of request.
//!
//! A connection receives into one buffer in large pieces (several small requests, or a large
//! piece of a big one, per read) and hands each frame out as a slice of it (`split_to`), so a
//! produce batch reaches the log without another copy and no receive buffer is zeroed.

use bytes::{Buf, Bytes, BytesMut};

use crate::fill_only_read::{read_into_spare, FillOnlyRead};
use crate::limits::REQUEST_HEADER_BYTES_MIN;

const SIZE_PREFIX_BYTES: usize = 4;
/// Room made for each read when the frame in progress needs less: the old read buffer's size,
/// so an idle connection holds about as much as before.
const RECEIVE_CHUNK_BYTES: usize = 64 * 1024;
/// Less spare room than this is not worth a read: a new chunk is made first.
const RECEIVE_SPARE_BYTES_MIN: usize = 4 * 1024;
/// Frames smaller than this are copied out of the receive buffer instead of sharing it: a
/// produced batch may stay cached long after its request, and as a slice it would keep the
/// whole chunk (up to `RECEIVE_CHUNK_BYTES`) alive. Shared frames thus hold at most 8 times
/// their size; copying a small frame costs little.
const SHARED_FRAME_BYTES_MIN: usize = RECEIVE_CHUNK_BYTES / 8;

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("peer closed the connection")]
    Closed,
    #[error("frame of {size} bytes exceeds socket.request.max.bytes ({max} bytes)")]
    TooLarge { size: i64, max: u32 },
    #[error("frame of {0} bytes is too small to hold a request header")]
    TooSmall(i32),
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads frames from one connection.
pub struct FrameReader<R> {
    reader: R,
    /// Received bytes not yet handed out: the start of the next frame, maybe more frames.
    received: BytesMut,
    frame_bytes_max: u32,
}

impl<R: FillOnlyRead> FrameReader<R> {
    pub fn new(reader: R, frame_bytes_max: u32) -> Self {
        Self {
            reader,
            received: BytesMut::new(),
            frame_bytes_max,
        }
    }

    /// Reads one frame. EOF before the first size byte is a clean close. The size prefix is
    /// checked against the limits before any room is made for the frame.
    pub async fn read_frame(&mut self) -> Result<Bytes, FrameError> {
        while self.received.len() < SIZE_PREFIX_BYTES {
            if self.receive(SIZE_PREFIX_BYTES).await? == 0 {
                if self.received.is_empty() {
                    return Err(FrameError::Closed);
                }
                return Err(end_inside_frame());
            }
        }
        let mut size_bytes = [0u8; SIZE_PREFIX_BYTES];
        size_bytes.copy_from_slice(&self.received[..SIZE_PREFIX_BYTES]);
        let size = i32::from_be_bytes(size_bytes);
        if size < REQUEST_HEADER_BYTES_MIN as i32 {
            return Err(FrameError::TooSmall(size));
        }
        if size as u32 > self.frame_bytes_max {
            return Err(FrameError::TooLarge {
                size: size as i64,
                max: self.frame_bytes_max,
            });
        }
        let frame_end = SIZE_PREFIX_BYTES + size as usize;
        while self.received.len() < frame_end {
            if self.receive(frame_end).await? == 0 {
                return Err(end_inside_frame());
            }
        }
        self.received.advance(SIZE_PREFIX_BYTES);
        let frame = self.received.split_to(size as usize);
        if frame.len() < SHARED_FRAME_BYTES_MIN {
            return Ok(Bytes::copy_from_slice(&frame));
        }
        Ok(frame.freeze())
    }

    /// One read, after making room for the frame in progress to end at `frame_end` bytes into
    /// the buffer, contiguous. Returns the bytes read, 0 at end of stream.
    async fn receive(&mut self, frame_end: usize) -> std::io::Result<usize> {
        let missing = frame_end - self.received.len();
        let spare = self.received.capacity() - self.received.len();
        if spare < missing || spare < RECEIVE_SPARE_BYTES_MIN {
            // Frames handed out still share the old allocation; this takes a new one (copying
            // only the partial frame) unless they have all been dropped.
            self.received.reserve(missing.max(RECEIVE_CHUNK_BYTES));
        }
        read_into_spare(&mut self.reader, &mut self.received).await
    }
}

fn end_inside_frame() -> FrameError {
    FrameError::Io(std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        "peer closed the connection inside a frame",
    ))
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use futures_lite::AsyncRead;

    use super::*;

    /// Hands out its input at most `piece_bytes` per read, like a socket under load.
    struct Pieces {
        input: Vec<u8>,
        position: usize,
        piece_bytes: usize,
    }

    impl AsyncRead for Pieces {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<std::io::Result<usize>> {
            let end = (self.position + self.piece_bytes.min(buf.len())).min(self.input.len());
            let piece = end - self.position;
            buf[..piece].copy_from_slice(&self.input[self.position..end]);
            self.position = end;
            Poll::Ready(Ok(piece))
        }
    }

    // SAFETY: poll_read above only copies into the buffer.
    unsafe impl FillOnlyRead for Pieces {}

    fn frames(input: &[u8], piece_bytes: usize, max: u32) -> Vec<Result<Bytes, FrameError>> {
        let reader = Pieces {
            input: input.to_vec(),
            position: 0,
            piece_bytes,
        };
        let mut frames = FrameReader::new(reader, max);
        let mut out = Vec::new();
        loop {
            let next = futures_lite::future::block_on(frames.read_frame());
            let done = next.is_err();
            out.push(next);
            if done {
                return out;
            }
        }
    }

    fn read(input: &[u8], max: u32) -> Result<Bytes, FrameError> {
        let reader = futures_lite::io::Cursor::new(input.to_vec());
        futures_lite::future::block_on(FrameReader::new(reader, max).read_frame())
    }

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut out = (body.len() as i32).to_be_bytes().to_vec();
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn reads_a_frame_and_stops_at_its_end() {
        let mut input = 8i32.to_be_bytes().to_vec();
        input.extend_from_slice(b"12345678trailing");
        assert_eq!(&read(&input, 1024).unwrap()[..], b"12345678");
    }

    #[test]
    fn frames_split_across_reads_and_several_in_one_read_come_out_whole() {
        let bodies: Vec<Vec<u8>> = (0..50u8)
            .map(|i| (0..(8 + i as usize * 37)).map(|j| i ^ j as u8).collect())
            .collect();
        let input: Vec<u8> = bodies.iter().flat_map(|b| framed(b)).collect();
        for piece_bytes in [1, 3, 4, 5, 1000, input.len()] {
            let out = frames(&input, piece_bytes, 1024 * 1024);
            assert_eq!(out.len(), bodies.len() + 1, "pieces of {piece_bytes}");
            for (frame, body) in out.iter().zip(&bodies) {
                assert_eq!(&frame.as_ref().unwrap()[..], &body[..]);
            }
            assert!(matches!(out.last(), Some(Err(FrameError::Closed))));
        }
    }

    #[test]
    fn a_frame_bigger_than_the_receive_chunk_is_one_contiguous_frame() {
        let big: Vec<u8> = (0..RECEIVE_CHUNK_BYTES * 3 + 17)
            .map(|i| (i % 251) as u8)
            .collect();
        let mut input = framed(b"smallone");
        input.extend(framed(&big));
        input.extend(framed(b"afterbig"));
        for piece_bytes in [7, 60_000, input.len()] {
            let out = frames(&input, piece_bytes, 1024 * 1024);
            assert_eq!(&out[0].as_ref().unwrap()[..], b"smallone");
            assert_eq!(&out[1].as_ref().unwrap()[..], &big[..]);
            assert_eq!(&out[2].as_ref().unwrap()[..], b"afterbig");
            assert!(matches!(out[3], Err(FrameError::Closed)));
        }
    }

    #[test]
    fn small_frames_own_their_bytes_and_large_ones_share_the_receive_buffer() {
        let large = vec![7u8; SHARED_FRAME_BYTES_MIN];
        let mut input = framed(b"smallone");
        input.extend(framed(b"smalltwo"));
        input.extend(framed(&large));
        input.extend(framed(&large));
        // One read takes everything in.
        let out = frames(&input, input.len(), 1024 * 1024);
        let frame = |i: usize| out[i].as_ref().unwrap();
        let end = |f: &Bytes| f.as_ptr() as usize + f.len();
        assert_eq!(&frame(0)[..], b"smallone");
        assert_eq!(&frame(1)[..], b"smalltwo");
        assert_eq!(&frame(2)[..], &large[..]);
        assert_eq!(&frame(3)[..], &large[..]);
        // Slices of the receive buffer lie one size prefix apart; copies do not.
        assert_eq!(end(frame(2)) + 4, frame(3).as_ptr() as usize);
        assert_ne!(end(frame(0)) + 4, frame(1).as_ptr() as usize);
        assert!(matches!(out[4], Err(FrameError::Closed)));
    }

    #[test]
    fn frames_handed_out_keep_their_bytes_while_later_ones_are_read() {
        let input: Vec<u8> = (0..100u8).flat_map(|i| framed(&[i; 10_000])).collect();
        let out = frames(&input, 4096, 1024 * 1024);
        for (i, frame) in out[..100].iter().enumerate() {
            assert_eq!(&frame.as_ref().unwrap()[..], &[i as u8; 10_000][..]);
        }
    }

    #[test]
    fn a_size_prefix_over_the_limit_is_refused_before_the_body_arrives() {
        // Only the prefix is sent: the limit is checked before waiting for (or making room
        // for) the body.
        let out = frames(&(1024 * 1024 + 1i32).to_be_bytes(), 1, 1024 * 1024);
        assert!(matches!(
            out[..],
            [Err(FrameError::TooLarge {
                size: 1_048_577,
                max: 1_048_576
            })]
        ));
        let mut after_a_good_one = framed(b"goodgood");
        after_a_good_one.extend_from_slice(&(2000i32).to_be_bytes());
        let out = frames(&after_a_good_one, 1000, 1024);
        assert_eq!(&out[0].as_ref().unwrap()[..], b"goodgood");
        assert!(matches!(
            out[1],
            Err(FrameError::TooLarge { size: 2000, .. })
        ));
    }

    #[test]
    fn oversized_negative_and_tiny_frames_are_refused() {
        let huge = i32::MAX.to_be_bytes();
        assert!(matches!(
            read(&huge, 1024),
            Err(FrameError::TooLarge { .. })
        ));
        let negative = (-5i32).to_be_bytes();
        assert!(matches!(
            read(&negative, 1024),
            Err(FrameError::TooSmall(-5))
        ));
        assert!(matches!(read(&[], 1024), Err(FrameError::Closed)));
        assert!(matches!(read(&[0, 0], 1024), Err(FrameError::Io(_))));
        assert!(matches!(
            read(&[0, 0, 0, 20, 1], 1024),
            Err(FrameError::Io(_))
        ));
    }
}
