//! Size-prefixed frames: a 4-byte big-endian length, then that many bytes of request.

use bytes::{Bytes, BytesMut};
use futures_lite::{AsyncRead, AsyncReadExt};

use crate::limits::REQUEST_HEADER_BYTES_MIN;

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

/// Reads one frame. EOF before the first size byte is a clean close.
pub async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    frame_bytes_max: u32,
) -> Result<Bytes, FrameError> {
    let mut size_bytes = [0u8; 4];
    let first = reader.read(&mut size_bytes[..1]).await?;
    if first == 0 {
        return Err(FrameError::Closed);
    }
    reader.read_exact(&mut size_bytes[1..]).await?;
    let size = i32::from_be_bytes(size_bytes);
    if size < REQUEST_HEADER_BYTES_MIN as i32 {
        return Err(FrameError::TooSmall(size));
    }
    if size as u32 > frame_bytes_max {
        return Err(FrameError::TooLarge {
            size: size as i64,
            max: frame_bytes_max,
        });
    }
    let mut body = BytesMut::zeroed(size as usize);
    reader.read_exact(&mut body).await?;
    assert_eq!(body.len(), size as usize);
    Ok(body.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &[u8], max: u32) -> Result<Bytes, FrameError> {
        let mut reader = futures_lite::io::Cursor::new(input.to_vec());
        futures_lite::future::block_on(read_frame(&mut reader, max))
    }

    #[test]
    fn reads_a_frame_and_stops_at_its_end() {
        let mut input = 8i32.to_be_bytes().to_vec();
        input.extend_from_slice(b"12345678trailing");
        assert_eq!(&read(&input, 1024).unwrap()[..], b"12345678");
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
        assert!(matches!(
            read(&[0, 0, 0, 20, 1], 1024),
            Err(FrameError::Io(_))
        ));
    }
}
