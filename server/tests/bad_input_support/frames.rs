//! Hand-made request bytes: what no client library would send.

/// `body` with its 4-byte size in front.
pub fn frame_bytes(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

/// Correlation id of every hand-made request header.
pub const CORRELATION_ID: i32 = 1;

/// A request header v1 (api, version, correlation 1, client id "bad") without its size.
pub fn header(api: i16, version: i16) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&api.to_be_bytes());
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&CORRELATION_ID.to_be_bytes());
    out.extend_from_slice(&3i16.to_be_bytes());
    out.extend_from_slice(b"bad");
    out
}

/// A header v2 (flexible versions): v1 plus empty tagged fields.
pub fn flexible_header(api: i16, version: i16) -> Vec<u8> {
    let mut out = header(api, version);
    out.push(0);
    out
}
