//! The compression codecs of RecordBatch v2 records sections (attributes bits 0-2), through the
//! same implementations the server's protocol crate uses. Only the cleaner calls these: it must
//! read the keys of compressed batches and write back the records it keeps with the batch's own
//! codec.

use bytes::{Bytes, BytesMut};
use kafka_protocol::compression::{Compressor, Decompressor, Gzip, Lz4, Snappy, Zstd};

use crate::error::LogError;

/// Codec ids of `attributes & 0x07`.
pub const CODEC_NONE: i16 = 0;
pub const CODEC_GZIP: i16 = 1;
pub const CODEC_SNAPPY: i16 = 2;
pub const CODEC_LZ4: i16 = 3;
pub const CODEC_ZSTD: i16 = 4;

fn failed(what: &str, codec: i16, err: impl std::fmt::Display) -> LogError {
    LogError::Corrupt {
        detail: format!("{what} with codec {codec}: {err}"),
    }
}

fn take(buf: &mut Bytes) -> anyhow::Result<Bytes> {
    Ok(std::mem::take(buf))
}

/// Decompresses a records section compressed with `codec`. Bounded by `decompressed_bytes_max`
/// (a batch that inflates past it is refused rather than exhausting memory).
pub fn decompress(
    codec: i16,
    compressed: &[u8],
    decompressed_bytes_max: usize,
) -> Result<Bytes, LogError> {
    let mut input = Bytes::copy_from_slice(compressed);
    let out = match codec {
        CODEC_NONE => Ok(input),
        CODEC_GZIP => Gzip::decompress(&mut input, take),
        CODEC_SNAPPY => Snappy::decompress(&mut input, take),
        CODEC_LZ4 => Lz4::decompress(&mut input, take),
        CODEC_ZSTD => Zstd::decompress(&mut input, take),
        other => return Err(failed("decompressing", other, "unknown codec")),
    }
    .map_err(|err| failed("decompressing", codec, err))?;
    if out.len() > decompressed_bytes_max {
        return Err(failed(
            "decompressing",
            codec,
            format!("{} bytes > {decompressed_bytes_max}", out.len()),
        ));
    }
    Ok(out)
}

/// Compresses an uncompressed records section with `codec`.
pub fn compress(codec: i16, section: &[u8]) -> Result<Vec<u8>, LogError> {
    let mut out = Vec::with_capacity(section.len() / 2 + 64);
    let fill = |buf: &mut BytesMut| {
        buf.extend_from_slice(section);
        Ok(())
    };
    match codec {
        CODEC_NONE => {
            out.extend_from_slice(section);
            Ok(())
        }
        CODEC_GZIP => Gzip::compress(&mut out, fill),
        CODEC_SNAPPY => Snappy::compress(&mut out, fill),
        CODEC_LZ4 => Lz4::compress(&mut out, fill),
        CODEC_ZSTD => Zstd::compress(&mut out, fill),
        other => return Err(failed("compressing", other, "unknown codec")),
    }
    .map_err(|err| failed("compressing", codec, err))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_codec_round_trips() {
        let section: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        for codec in [CODEC_NONE, CODEC_GZIP, CODEC_SNAPPY, CODEC_LZ4, CODEC_ZSTD] {
            let compressed = compress(codec, &section).expect("compress");
            if codec != CODEC_NONE {
                assert!(compressed.len() < section.len(), "codec {codec} compresses");
            }
            let back = decompress(codec, &compressed, section.len()).expect("decompress");
            assert_eq!(&back[..], &section[..], "codec {codec}");
            assert!(decompress(codec, &compressed, section.len() - 1).is_err());
        }
        assert!(compress(7, &section).is_err());
    }
}
