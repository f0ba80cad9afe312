//! A blocking Kafka connection over a plain `TcpStream`, for tests that need to see exactly
//! what goes over the wire (bad frames, error codes) rather than what a client library makes
//! of it. Every read and write has a timeout, so a broker that hangs fails the test instead of
//! hanging it.

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::{ApiVersionsRequest, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};

/// Read/write timeout for every socket operation.
pub const IO_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest response frame a test accepts (a sanity bound, not a broker limit).
pub const RESPONSE_BYTES_MAX: usize = 256 * 1024 * 1024;
pub const CLIENT_ID: &str = "sluice-tests";

/// Encoding/decoding failures as text: the tests only ever print them.
pub type WireResult<T> = Result<T, String>;

pub struct KafkaConnection {
    stream: TcpStream,
    correlation_id_next: i32,
    /// api_key -> (min, max) as advertised by the broker, once `negotiate` ran.
    versions: HashMap<i16, (i16, i16)>,
}

impl KafkaConnection {
    pub fn connect(addr: SocketAddr) -> io::Result<Self> {
        let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(KafkaConnection {
            stream,
            correlation_id_next: 1,
            versions: HashMap::new(),
        })
    }

    /// Write raw bytes, framed or not: the caller decides what goes on the wire.
    pub fn send_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// Encode header + body for `version`, size-prefix it and send it. Returns the
    /// correlation id to match the response against.
    pub fn send_request<R: Request>(&mut self, version: i16, request: &R) -> io::Result<i32> {
        let correlation_id = self.correlation_id_next;
        self.correlation_id_next += 1;
        let frame = encode_request(version, correlation_id, request).map_err(io::Error::other)?;
        self.send_bytes(&frame)?;
        Ok(correlation_id)
    }

    /// Read one size-prefixed frame (without its size).
    pub fn receive_frame(&mut self) -> io::Result<Bytes> {
        let mut size = [0u8; 4];
        self.stream.read_exact(&mut size)?;
        let size = i32::from_be_bytes(size);
        if size < 0 || size as usize > RESPONSE_BYTES_MAX {
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                format!("response frame size {size}"),
            ));
        }
        let mut body = vec![0u8; size as usize];
        self.stream.read_exact(&mut body)?;
        Ok(Bytes::from(body))
    }

    /// Read and decode the response to `correlation_id`. The decoder must consume the frame
    /// exactly: trailing bytes mean the broker encoded something the client would misread.
    pub fn receive_response<R: Request>(
        &mut self,
        version: i16,
        correlation_id: i32,
    ) -> io::Result<R::Response> {
        let mut frame = self.receive_frame()?;
        decode_response::<R>(&mut frame, version, correlation_id).map_err(io::Error::other)
    }

    /// Send a request and wait for its response; panics with context on any failure.
    pub fn request<R: Request + std::fmt::Debug>(
        &mut self,
        version: i16,
        request: &R,
    ) -> R::Response {
        let api = R::KEY;
        let correlation_id = self
            .send_request(version, request)
            .unwrap_or_else(|e| panic!("send api {api} v{version}: {e}"));
        self.receive_response::<R>(version, correlation_id)
            .unwrap_or_else(|e| panic!("response to api {api} v{version}: {e}"))
    }

    /// ApiVersions v0 round trip; used to tell that the broker is serving.
    pub fn ping(&mut self) -> io::Result<()> {
        let correlation_id = self.send_request(0, &ApiVersionsRequest::default())?;
        let response = self.receive_response::<ApiVersionsRequest>(0, correlation_id)?;
        if response.error_code != 0 {
            return Err(io::Error::other(format!(
                "ApiVersions v0 error {}",
                response.error_code
            )));
        }
        Ok(())
    }

    /// Learn the broker's version ranges (ApiVersions v0, which every broker must answer).
    pub fn negotiate(&mut self) {
        let response = self.request(0, &ApiVersionsRequest::default());
        assert_eq!(response.error_code, 0, "ApiVersions v0 error");
        self.versions = response
            .api_keys
            .iter()
            .map(|k| (k.api_key, (k.min_version, k.max_version)))
            .collect();
    }

    /// The highest version of `R` that both the broker and this harness (`ours_min..=ours_max`,
    /// the versions whose field layout the helpers fill in) support.
    pub fn version_for<R: Request>(&mut self, ours_min: i16, ours_max: i16) -> i16 {
        if self.versions.is_empty() {
            self.negotiate();
        }
        let (min, max) = *self
            .versions
            .get(&R::KEY)
            .unwrap_or_else(|| panic!("broker does not advertise api key {}", R::KEY));
        let version = max.min(ours_max);
        assert!(
            version >= min.max(ours_min),
            "api key {}: broker range {min}..={max} misses harness range {ours_min}..={ours_max}",
            R::KEY
        );
        version
    }

    /// Waits until the broker closes the connection (EOF or reset). Anything it sends
    /// first is returned, so the caller can say what it expected instead.
    pub fn expect_closed(&mut self) -> Result<(), String> {
        let mut received = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    received.extend_from_slice(&chunk[..n]);
                    if received.len() > 1 << 20 {
                        return Err(format!("broker sent {} bytes, no close", received.len()));
                    }
                }
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(format!(
                        "connection not closed within {IO_TIMEOUT:?} ({e}); received {} bytes",
                        received.len()
                    ))
                }
            }
        }
    }
}

pub fn encode_request<R: Request>(
    version: i16,
    correlation_id: i32,
    request: &R,
) -> WireResult<BytesMut> {
    let header = RequestHeader::default()
        .with_request_api_key(R::KEY)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str(CLIENT_ID)));
    let mut body = BytesMut::new();
    header
        .encode(&mut body, R::header_version(version))
        .map_err(|e| format!("encode request header: {e}"))?;
    request
        .encode(&mut body, version)
        .map_err(|e| format!("encode api {} v{version}: {e}", R::KEY))?;
    let mut frame = BytesMut::with_capacity(4 + body.len());
    frame.extend_from_slice(&(body.len() as i32).to_be_bytes());
    frame.extend_from_slice(&body);
    Ok(frame)
}

pub fn decode_response<R: Request>(
    frame: &mut Bytes,
    version: i16,
    correlation_id: i32,
) -> WireResult<R::Response> {
    let header_version = <R::Response as HeaderVersion>::header_version(version);
    let header = ResponseHeader::decode(frame, header_version)
        .map_err(|e| format!("decode response header v{header_version}: {e}"))?;
    if header.correlation_id != correlation_id {
        return Err(format!(
            "correlation id {} where {correlation_id} was expected",
            header.correlation_id
        ));
    }
    let response = R::Response::decode(frame, version)
        .map_err(|e| format!("decode api {} v{version} response: {e}", R::KEY))?;
    if frame.has_remaining() {
        return Err(format!(
            "api {} v{version} response has {} bytes after the decoded body",
            R::KEY,
            frame.remaining()
        ));
    }
    Ok(response)
}
