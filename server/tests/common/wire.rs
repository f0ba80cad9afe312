//! The tests' Kafka connection: `sluice-kafka-client`'s [`Connection`] with the test policy on
//! top. Every read and write has a timeout, so a broker that hangs fails the test instead of
//! hanging it, and `request` panics with context instead of returning errors.
//!
//! For what no client would send (bad frames, garbage), [`KafkaConnection::raw`] gives the
//! client's raw-frame API: `send_raw`, `read_frame_or_close`, `expect_closed`.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::ApiVersionsRequest;
use kafka_protocol::protocol::{Request, VersionRange};
use sluice_kafka_client::{error_code, BrokerVersions, ConnectOptions, Connection};

/// Read/write timeout for every socket operation.
pub const IO_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest response frame a test accepts (a sanity bound, not a broker limit).
pub const RESPONSE_BYTES_MAX: usize = 256 * 1024 * 1024;
pub const CLIENT_ID: &str = "sluice-tests";

pub const TEST_OPTIONS: ConnectOptions = ConnectOptions::new(CLIENT_ID)
    .with_timeout(IO_TIMEOUT)
    .with_frame_bytes_max(RESPONSE_BYTES_MAX);

pub struct KafkaConnection {
    conn: Connection,
    /// The broker's version ranges, once `negotiate` ran.
    versions: Option<BrokerVersions>,
}

/// The client's error as an `io::Error` of the same kind, its message keeping the context.
fn io_error(error: sluice_kafka_client::Error) -> io::Error {
    use sluice_kafka_client::Error as E;
    let kind = match &error {
        E::Connect { source, .. } | E::Read { source, .. } | E::Write { source, .. } => {
            source.kind()
        }
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, error.to_string())
}

impl KafkaConnection {
    pub fn connect(addr: SocketAddr) -> io::Result<Self> {
        let conn = Connection::connect(&addr.to_string(), &TEST_OPTIONS).map_err(io_error)?;
        Ok(KafkaConnection {
            conn,
            versions: None,
        })
    }

    /// The client connection, for raw frames: `send_raw`, `shutdown_write`,
    /// `read_frame_or_close`, `expect_closed`.
    pub fn raw(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Write raw bytes, framed or not: the caller decides what goes on the wire.
    pub fn send_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.conn.send_raw(bytes).map_err(io_error)
    }

    /// Encode header + body for `version`, size-prefix it and send it. Returns the
    /// correlation id to match the response against.
    pub fn send_request<R: Request>(&mut self, version: i16, request: &R) -> io::Result<i32> {
        self.conn.send(request, version).map_err(io_error)
    }

    /// Read one size-prefixed frame (without its size).
    pub fn receive_frame(&mut self) -> io::Result<Bytes> {
        self.conn.read_own_frame().map_err(io_error)
    }

    /// Read and decode the response to `correlation_id`. The decoder must consume the frame
    /// exactly: trailing bytes mean the broker encoded something the client would misread.
    pub fn receive_response<R: Request>(
        &mut self,
        version: i16,
        correlation_id: i32,
    ) -> io::Result<R::Response> {
        self.conn
            .receive::<R>(version, correlation_id)
            .map_err(io_error)
    }

    /// Send a request and wait for its response; panics with context on any failure.
    pub fn request<R: Request>(&mut self, version: i16, request: &R) -> R::Response {
        self.conn
            .call(request, version)
            .unwrap_or_else(|e| panic!("api {} v{version}: {e}", R::KEY))
    }

    /// ApiVersions v0 round trip; used to tell that the broker is serving.
    pub fn ping(&mut self) -> io::Result<()> {
        let response = self
            .conn
            .call(&ApiVersionsRequest::default(), 0)
            .map_err(io_error)?;
        if response.error_code != error_code::NONE {
            return Err(io::Error::other(format!(
                "ApiVersions v0 error {}",
                error_code::name(response.error_code)
            )));
        }
        Ok(())
    }

    /// Learn the broker's version ranges.
    pub fn negotiate(&mut self) {
        let versions = BrokerVersions::request(&mut self.conn, CLIENT_ID)
            .unwrap_or_else(|e| panic!("ApiVersions: {e}"));
        self.versions = Some(versions);
    }

    /// The highest version of `R` that both the broker and this harness (`ours_min..=ours_max`,
    /// the versions whose field layout the helpers fill in) support.
    pub fn version_for<R: Request>(&mut self, ours_min: i16, ours_max: i16) -> i16 {
        if self.versions.is_none() {
            self.negotiate();
        }
        let ours = VersionRange {
            min: ours_min,
            max: ours_max,
        };
        self.versions
            .as_ref()
            .map(|v| v.version_for::<R>(ours))
            .unwrap_or_else(|| panic!("negotiate ran"))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Waits until the broker closes the connection (end-of-stream or reset). Bytes sent
    /// first, or no close within [`IO_TIMEOUT`], are the error.
    pub fn expect_closed(&mut self) -> Result<(), sluice_kafka_client::Error> {
        self.conn.expect_closed()
    }
}

/// Decodes a response frame (without its size) as `R`'s at `version`, checking that it
/// answers `correlation_id` and that nothing is left over.
pub fn decode_response<R: Request>(
    frame: &mut Bytes,
    version: i16,
    correlation_id: i32,
) -> Result<R::Response, String> {
    let (got, response) = sluice_kafka_client::decode_response::<R>(frame.split_off(0), version)
        .map_err(|e| e.to_string())?;
    if got != correlation_id {
        return Err(format!(
            "correlation id {got} where {correlation_id} was expected"
        ));
    }
    Ok(response)
}
