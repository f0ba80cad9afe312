//! A blocking Kafka client for one broker: framing, correlation ids, and version
//! negotiation from the broker's ApiVersions. Used only by the admin CLI (never on a shard).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{
    Decodable, Encodable, HeaderVersion, Request, StrBytes, VersionRange,
};

use super::error::AdminError;

/// Largest response frame accepted (Kafka's socket.request.max.bytes default).
pub const RESPONSE_BYTES_MAX: usize = 100 * 1024 * 1024;
const CLIENT_ID: &str = "sluice-admin";

pub fn api_name(key: i16) -> String {
    ApiKey::try_from(key).map_or_else(|_| format!("api key {key}"), |k| format!("{k:?}"))
}

/// Encodes one request as a complete frame (4-byte size, header, body).
pub fn encode_request<R: Request>(
    request: &R,
    version: i16,
    correlation_id: i32,
) -> Result<BytesMut, AdminError> {
    let mut header = RequestHeader::default();
    header.request_api_key = R::KEY;
    header.request_api_version = version;
    header.correlation_id = correlation_id;
    header.client_id = Some(StrBytes::from_static_str(CLIENT_ID));
    let mut frame = BytesMut::new();
    frame.put_i32(0);
    header
        .encode(&mut frame, R::header_version(version))
        .map_err(encode_failed(R::KEY))?;
    request
        .encode(&mut frame, version)
        .map_err(encode_failed(R::KEY))?;
    let body_len = i32::try_from(frame.len() - 4).map_err(|_| AdminError::Encode {
        api: api_name(R::KEY),
        message: "request too large".into(),
    })?;
    frame[..4].copy_from_slice(&body_len.to_be_bytes());
    Ok(frame)
}

/// Decodes a response frame body (without the size prefix), checking the correlation id.
pub fn decode_response<R: Request>(
    addr: &str,
    mut body: Bytes,
    version: i16,
    correlation_id: i32,
) -> Result<R::Response, AdminError> {
    let protocol = |message: String| AdminError::Protocol {
        addr: addr.to_string(),
        api: api_name(R::KEY),
        message,
    };
    let header = ResponseHeader::decode(&mut body, R::Response::header_version(version))
        .map_err(|e| protocol(format!("header: {e}")))?;
    if header.correlation_id != correlation_id {
        return Err(protocol(format!(
            "correlation id {} does not match request {correlation_id}",
            header.correlation_id
        )));
    }
    R::Response::decode(&mut body, version).map_err(|e| protocol(e.to_string()))
}

/// The version both sides speak: the highest in the intersection of ranges.
pub fn negotiate(ours: VersionRange, broker: Option<VersionRange>) -> Option<i16> {
    let common = ours.intersect(&broker?);
    (!common.is_empty()).then_some(common.max)
}

/// One connection to one broker.
pub struct AdminClient {
    stream: TcpStream,
    addr: String,
    correlation_id: i32,
    broker_versions: HashMap<i16, VersionRange>,
}

impl AdminClient {
    /// Connects and asks the broker which API versions it serves.
    pub fn connect(addr: &str, timeout: Duration) -> Result<Self, AdminError> {
        let connect_error = |source| AdminError::Connect {
            addr: addr.to_string(),
            source,
        };
        let mut last_error =
            std::io::Error::new(std::io::ErrorKind::NotFound, "address resolved to nothing");
        let mut connected = None;
        for socket_addr in addr.to_socket_addrs().map_err(connect_error)? {
            match TcpStream::connect_timeout(&socket_addr, timeout) {
                Ok(stream) => {
                    connected = Some(stream);
                    break;
                }
                Err(e) => last_error = e,
            }
        }
        let stream = connected.ok_or_else(|| connect_error(last_error))?;
        let io_error = |source| AdminError::Io {
            addr: addr.to_string(),
            source,
        };
        stream.set_read_timeout(Some(timeout)).map_err(io_error)?;
        stream.set_write_timeout(Some(timeout)).map_err(io_error)?;
        stream.set_nodelay(true).map_err(io_error)?;
        let mut client = Self {
            stream,
            addr: addr.to_string(),
            correlation_id: 0,
            broker_versions: HashMap::new(),
        };
        // v0 is answered by every broker, old and new, with the full version table.
        let versions = client.send(&ApiVersionsRequest::default(), 0)?;
        AdminError::check(versions.error_code, None, || {
            format!("ApiVersions from {addr}")
        })?;
        for api in versions.api_keys {
            client.broker_versions.insert(
                api.api_key,
                VersionRange {
                    min: api.min_version,
                    max: api.max_version,
                },
            );
        }
        Ok(client)
    }

    /// (api key, min, max) of every API the broker serves, by key.
    pub fn broker_versions(&self) -> Vec<(i16, i16, i16)> {
        let mut apis: Vec<_> = self
            .broker_versions
            .iter()
            .map(|(k, r)| (*k, r.min, r.max))
            .collect();
        apis.sort_unstable();
        apis
    }

    /// The version to use for `R`, given the versions this CLI's code handles.
    pub fn version_for<R: Request>(&self, ours: VersionRange) -> Result<i16, AdminError> {
        let Some(broker) = self.broker_versions.get(&R::KEY).copied() else {
            return Err(AdminError::NotImplemented {
                addr: self.addr.clone(),
                api: api_name(R::KEY),
            });
        };
        negotiate(ours, Some(broker)).ok_or_else(|| AdminError::Unsupported {
            addr: self.addr.clone(),
            api: api_name(R::KEY),
            broker: format!("{}-{}", broker.min, broker.max),
            ours: format!("{}-{}", ours.min, ours.max),
        })
    }

    pub fn supports<R: Request>(&self, ours: VersionRange) -> bool {
        self.version_for::<R>(ours).is_ok()
    }

    /// Sends one request and waits for its response.
    pub fn send<R: Request>(
        &mut self,
        request: &R,
        version: i16,
    ) -> Result<R::Response, AdminError> {
        self.correlation_id = self.correlation_id.wrapping_add(1);
        let frame = encode_request(request, version, self.correlation_id)?;
        let io_error = |source| AdminError::Io {
            addr: self.addr.clone(),
            source,
        };
        self.stream.write_all(&frame).map_err(io_error)?;
        let mut size = [0u8; 4];
        self.stream.read_exact(&mut size).map_err(io_error)?;
        let size = i32::from_be_bytes(size);
        let size = usize::try_from(size)
            .ok()
            .filter(|s| *s <= RESPONSE_BYTES_MAX)
            .ok_or_else(|| AdminError::Protocol {
                addr: self.addr.clone(),
                api: api_name(R::KEY),
                message: format!("frame size {size} outside 0..={RESPONSE_BYTES_MAX}"),
            })?;
        let mut body = vec![0u8; size];
        self.stream.read_exact(&mut body).map_err(io_error)?;
        decode_response::<R>(&self.addr, Bytes::from(body), version, self.correlation_id)
    }

    /// Negotiates a version, builds the request for it, sends it.
    pub fn call<R: Request>(
        &mut self,
        ours: VersionRange,
        build: impl FnOnce(i16) -> R,
    ) -> Result<R::Response, AdminError> {
        let version = self.version_for::<R>(ours)?;
        let request = build(version);
        self.send(&request, version)
    }
}

/// kafka-protocol reports encode failures as `anyhow::Error`; only `Display` is needed here.
fn encode_failed<E: std::fmt::Display>(key: i16) -> impl Fn(E) -> AdminError {
    move |e| AdminError::Encode {
        api: api_name(key),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use bytes::Buf;
    use kafka_protocol::messages::{CreateTopicsRequest, CreateTopicsResponse};
    use kafka_protocol::protocol::decode_request_header_from_buffer;

    use super::*;
    use crate::admin::topic::create_topics_request;

    #[test]
    fn request_frame_decodes_as_the_broker_would() -> Result<(), AdminError> {
        let configs = [("retention.ms".to_string(), "60000".to_string())];
        let request = create_topics_request(7, "orders", 6, None, &configs);
        let frame = encode_request(&request, 7, 42)?;
        let mut body = frame.freeze();
        assert_eq!(body.get_i32() as usize, body.remaining());
        let header = decode_request_header_from_buffer(&mut body)
            .map_err(|e| AdminError::Usage(e.to_string()))?;
        assert_eq!(header.request_api_key, CreateTopicsRequest::KEY);
        assert_eq!(header.request_api_version, 7);
        assert_eq!(header.correlation_id, 42);
        assert_eq!(
            header.client_id.as_ref().map(|c| c.as_str()),
            Some(CLIENT_ID)
        );
        let decoded = CreateTopicsRequest::decode(&mut body, 7)
            .map_err(|e| AdminError::Usage(e.to_string()))?;
        assert_eq!(decoded, request);
        assert_eq!(body.remaining(), 0);
        Ok(())
    }

    fn response_body(correlation_id: i32, response: &CreateTopicsResponse, version: i16) -> Bytes {
        let mut body = BytesMut::new();
        let mut header = ResponseHeader::default();
        header.correlation_id = correlation_id;
        let header_version = CreateTopicsResponse::header_version(version);
        header
            .encode(&mut body, header_version)
            .unwrap_or_else(|e| panic!("{e}"));
        response
            .encode(&mut body, version)
            .unwrap_or_else(|e| panic!("{e}"));
        body.freeze()
    }

    #[test]
    fn response_decodes_and_checks_correlation_id() {
        let mut response = CreateTopicsResponse::default();
        response.throttle_time_ms = 5;
        let body = response_body(9, &response, 7);
        let decoded = decode_response::<CreateTopicsRequest>("b:1", body.clone(), 7, 9);
        assert_eq!(decoded.ok(), Some(response));
        let mismatched = decode_response::<CreateTopicsRequest>("b:1", body, 7, 10);
        assert!(matches!(mismatched, Err(AdminError::Protocol { .. })));
    }

    #[test]
    fn negotiation_picks_highest_common_version() {
        let ours = VersionRange { min: 2, max: 7 };
        assert_eq!(
            negotiate(ours, Some(VersionRange { min: 0, max: 5 })),
            Some(5)
        );
        assert_eq!(
            negotiate(ours, Some(VersionRange { min: 2, max: 9 })),
            Some(7)
        );
        assert_eq!(negotiate(ours, Some(VersionRange { min: 0, max: 1 })), None);
        assert_eq!(negotiate(ours, None), None);
    }
}
