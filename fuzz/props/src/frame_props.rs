//! The broker's framing and request-header path on arbitrary byte streams.
//!
//! `FrameReader` is the server's own code (`sluice_server::kafka::frame`); the header steps
//! mirror `sluice_server::kafka::dispatch::handle` call for call, with the broker's own version
//! table (`handlers::versions`).
//!
//! Properties: no panic; every frame returned is within the limits and re-encodes (size prefix
//! and body) to exactly the bytes consumed; headers that decode round-trip; bodies then go
//! through `request_props::decode_body`.

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader};
use kafka_protocol::protocol::{Decodable, Encodable};
use sluice_server::kafka::frame::FrameReader;
use sluice_server::kafka::handlers;
use sluice_server::limits::{FRAME_BYTES_MIN, REQUEST_HEADER_BYTES_MIN};

use crate::request_props;

/// `socket.request.max.bytes` values tried: the smallest allowed, a small one, the default.
pub const FRAME_BYTES_MAX_CHOICES: [u32; 3] = [FRAME_BYTES_MIN, 64 * 1024, 100 * 1024 * 1024];

/// Fuzz entry: byte 0 picks the frame limit; the rest is what a client sent.
pub fn check(data: &[u8]) {
    let Some((&limit_pick, stream)) = data.split_first() else {
        return;
    };
    let frame_bytes_max =
        FRAME_BYTES_MAX_CHOICES[limit_pick as usize % FRAME_BYTES_MAX_CHOICES.len()];
    let reader = futures_lite::io::Cursor::new(stream.to_vec());
    let mut frames = FrameReader::new(reader, frame_bytes_max);
    let mut consumed = 0usize;
    loop {
        let next = futures_lite::future::block_on(frames.read_frame());
        let Ok(frame) = next else {
            return;
        };
        assert!(
            frame.len() >= REQUEST_HEADER_BYTES_MIN,
            "frame of {} bytes",
            frame.len()
        );
        assert!(frame.len() as u64 <= u64::from(frame_bytes_max));
        let end = consumed + 4 + frame.len();
        assert_eq!(
            &stream[consumed..consumed + 4],
            &(frame.len() as i32).to_be_bytes()
        );
        assert_eq!(&stream[consumed + 4..end], &frame[..]);
        consumed = end;
        if let Some((api_key, version, body)) = request_header(&frame) {
            request_props::decode_body(api_key, version, &body);
        }
    }
}

/// dispatch.rs: fixed fields, the broker's version table, header decode. Returns the
/// undecoded body of a request the broker would hand to its handler.
pub fn request_header(frame: &Bytes) -> Option<(ApiKey, i16, Bytes)> {
    assert!(frame.len() >= REQUEST_HEADER_BYTES_MIN);
    let api_key_raw = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let correlation_id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    // An unknown key or an unsupported version gets an error response, not a header decode.
    let range = handlers::versions(api_key_raw)?;
    let api_key = ApiKey::try_from(api_key_raw).ok()?;
    if version < range.min || version > range.max {
        return None;
    }
    let header_version = api_key.request_header_version(version);
    let mut body = frame.clone();
    let header = RequestHeader::decode(&mut body, header_version).ok()?;
    assert_eq!(header.request_api_key, api_key_raw);
    assert_eq!(header.request_api_version, version);
    assert_eq!(header.correlation_id, correlation_id);
    if request_props::has_out_of_range_tag(&header) {
        return Some((api_key, version, body));
    }
    let mut encoded = BytesMut::new();
    if let Err(err) = header.encode(&mut encoded, header_version) {
        panic!("decoded header v{header_version} does not re-encode: {err}");
    }
    let mut again = encoded.clone().freeze();
    let decoded_again = RequestHeader::decode(&mut again, header_version)
        .unwrap_or_else(|err| panic!("re-encoded header v{header_version} does not decode: {err}\n{header:?}\nencoded {encoded:02x?}"));
    assert!(again.is_empty());
    assert_eq!(header, decoded_again);
    // Where the input was canonical (the usual case: a length-prefixed client id), decode →
    // encode gives back the very bytes.
    let header_bytes = frame.len() - body.len();
    if header_bytes == encoded.len() && header.unknown_tagged_fields.is_empty() {
        assert_eq!(
            &frame[..header_bytes],
            &encoded[..],
            "header bytes changed in round trip"
        );
    }
    Some((api_key, version, body))
}
