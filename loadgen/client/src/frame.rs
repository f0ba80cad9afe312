//! Kafka frames: a 4-byte big-endian size, then a request or response header and body,
//! encoded and decoded with `kafka-protocol`'s types.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};

use crate::error::{Error, Result};

/// `Metadata`, or `api key 99` for keys this library does not know.
pub fn api_name(key: i16) -> String {
    ApiKey::try_from(key).map_or_else(|_| format!("api key {key}"), |k| format!("{k:?}"))
}

/// Encodes one request as a complete frame (size, header, body).
pub fn encode_request<R: Request>(
    request: &R,
    version: i16,
    correlation_id: i32,
    client_id: &str,
) -> Result<BytesMut> {
    let mut frame = BytesMut::new();
    encode_request_into(&mut frame, request, version, correlation_id, client_id)?;
    Ok(frame)
}

/// As [`encode_request`], into `frame` (cleared first) so a connection reuses its buffer.
pub(crate) fn encode_request_into<R: Request>(
    frame: &mut BytesMut,
    request: &R,
    version: i16,
    correlation_id: i32,
    client_id: &str,
) -> Result<()> {
    // kafka-protocol reports failures as `anyhow::Error`; only their text is kept.
    let encode_failed = |message: String| Error::Encode {
        api: R::KEY,
        message,
    };
    let header = RequestHeader::default()
        .with_request_api_key(R::KEY)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_string(client_id.to_string())));
    frame.clear();
    frame.put_i32(0);
    header
        .encode(frame, R::header_version(version))
        .map_err(|e| encode_failed(e.to_string()))?;
    request
        .encode(frame, version)
        .map_err(|e| encode_failed(e.to_string()))?;
    let size = i32::try_from(frame.len() - 4).map_err(|_| Error::Encode {
        api: R::KEY,
        message: "request too large".into(),
    })?;
    frame[..4].copy_from_slice(&size.to_be_bytes());
    Ok(())
}

/// Decodes a response frame (without its size); returns (correlation id, body). The body must
/// use the frame exactly: trailing bytes mean a field was misread.
pub fn decode_response<R: Request>(mut frame: Bytes, version: i16) -> Result<(i32, R::Response)> {
    let header = ResponseHeader::decode(&mut frame, R::Response::header_version(version))
        .map_err(|e| Error::Protocol(format!("header: {e}")))?;
    let body =
        R::Response::decode(&mut frame, version).map_err(|e| Error::Protocol(e.to_string()))?;
    if frame.has_remaining() {
        return Err(Error::Protocol(format!(
            "{} bytes after the decoded v{version} body",
            frame.remaining()
        )));
    }
    Ok((header.correlation_id, body))
}

#[cfg(test)]
mod tests {
    use kafka_protocol::messages::{ApiVersionsRequest, CreateTopicsRequest, CreateTopicsResponse};
    use kafka_protocol::protocol::decode_request_header_from_buffer;

    use super::*;

    #[test]
    fn request_frame_decodes_as_the_broker_would() -> Result<()> {
        let request = CreateTopicsRequest::default().with_timeout_ms(1234);
        let mut body = encode_request(&request, 7, 42, "sluice-admin")?.freeze();
        assert_eq!(body.get_i32() as usize, body.remaining());
        let header = decode_request_header_from_buffer(&mut body)
            .map_err(|e| Error::Protocol(e.to_string()))?;
        assert_eq!(header.request_api_key, CreateTopicsRequest::KEY);
        assert_eq!(header.request_api_version, 7);
        assert_eq!(header.correlation_id, 42);
        assert_eq!(
            header.client_id.as_ref().map(|c| c.as_str()),
            Some("sluice-admin")
        );
        let decoded = CreateTopicsRequest::decode(&mut body, 7)
            .map_err(|e| Error::Protocol(e.to_string()))?;
        assert_eq!(decoded, request);
        assert_eq!(body.remaining(), 0);
        Ok(())
    }

    fn response_frame(
        correlation_id: i32,
        response: &CreateTopicsResponse,
        version: i16,
    ) -> BytesMut {
        let mut body = BytesMut::new();
        ResponseHeader::default()
            .with_correlation_id(correlation_id)
            .encode(&mut body, CreateTopicsResponse::header_version(version))
            .unwrap_or_else(|e| panic!("{e}"));
        response
            .encode(&mut body, version)
            .unwrap_or_else(|e| panic!("{e}"));
        body
    }

    #[test]
    fn response_decodes_with_its_correlation_id_and_nothing_left_over() {
        let response = CreateTopicsResponse::default().with_throttle_time_ms(5);
        let frame = response_frame(9, &response, 7);
        let decoded = decode_response::<CreateTopicsRequest>(frame.clone().freeze(), 7);
        assert_eq!(decoded.ok(), Some((9, response)));
        let mut trailing = frame;
        trailing.put_u8(0);
        let left_over = decode_response::<CreateTopicsRequest>(trailing.freeze(), 7);
        assert!(
            matches!(left_over, Err(Error::Protocol(_))),
            "{left_over:?}"
        );
    }

    #[test]
    fn api_names_read_like_kafka_protocol() {
        assert_eq!(api_name(ApiVersionsRequest::KEY), "ApiVersions");
        assert_eq!(api_name(999), "api key 999");
    }
}
