//! One blocking TCP connection speaking Kafka frames, in the clear or over TLS, authenticated
//! with SASL when configured. The writer half (`Connection`) and a cloned reader half
//! (`FrameReader`) can live on different threads, which is how a producer pipelines requests:
//! write, write, write… while another thread reads the responses.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::protocol::Request;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};

use crate::error::{Error, Result};
use crate::frame::{decode_response, encode_request_into};
use crate::security::ClientSecurity;
use crate::stream::Stream;
use crate::versions::BrokerVersions;

/// How to open a connection.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Sent in every request header; brokers log it.
    pub client_id: &'static str,
    pub connect_timeout: Duration,
    /// `None`: reads and writes block until the broker answers or the socket fails.
    pub read_timeout: Option<Duration>,
    pub write_timeout: Option<Duration>,
    /// Largest response frame accepted (a fetch of many partitions can be large).
    pub frame_bytes_max: usize,
    /// TLS and SASL (`security.protocol` and friends); `None` is PLAINTEXT.
    pub security: Option<Arc<ClientSecurity>>,
}

impl ConnectOptions {
    pub const FRAME_BYTES_MAX_DEFAULT: usize = 256 * 1024 * 1024;
    pub const CONNECT_TIMEOUT_DEFAULT: Duration = Duration::from_secs(5);

    /// Defaults: 5 s to connect, no read or write timeout, 256 MiB frames.
    pub const fn new(client_id: &'static str) -> Self {
        Self {
            client_id,
            connect_timeout: Self::CONNECT_TIMEOUT_DEFAULT,
            read_timeout: None,
            write_timeout: None,
            frame_bytes_max: Self::FRAME_BYTES_MAX_DEFAULT,
            security: None,
        }
    }

    /// The same timeout to connect, read and write.
    pub const fn with_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self.read_timeout = Some(timeout);
        self.write_timeout = Some(timeout);
        self
    }

    pub const fn with_frame_bytes_max(mut self, frame_bytes_max: usize) -> Self {
        self.frame_bytes_max = frame_bytes_max;
        self
    }

    /// Every connection made with these options uses `security` (TLS, SASL).
    pub fn with_security(mut self, security: Arc<ClientSecurity>) -> Self {
        self.security = Some(security);
        self
    }

    /// The read and write timeout while connecting (TLS handshake, SASL exchange): the
    /// configured one, else the connect timeout, so that setting up never blocks forever.
    fn setup_timeout(&self) -> Duration {
        self.read_timeout.unwrap_or(self.connect_timeout)
    }
}

/// The writing half of one connection to one broker, plus (until taken) its reading half.
pub struct Connection {
    pub(crate) stream: Stream,
    pub(crate) addr: String,
    correlation_id_next: i32,
    client_id: &'static str,
    frame: BytesMut,
    /// Used by `call` for synchronous request/response exchanges.
    pub(crate) reader: Option<FrameReader>,
    /// The broker's ApiVersions answer, when connecting asked for it (before SASL).
    versions: Option<BrokerVersions>,
}

/// The reading half of a connection: whole response frames, in the order requests were sent.
pub struct FrameReader {
    pub(crate) stream: Stream,
    pub(crate) addr: String,
    buf: BytesMut,
    frame_bytes_max: usize,
}

impl Connection {
    /// Connects to the first address of `addr` (`host:port`) that accepts.
    pub fn connect(addr: &str, options: &ConnectOptions) -> Result<Self> {
        let connect_error = |step, source| Error::Connect {
            addr: addr.to_string(),
            step,
            source,
        };
        let mut last_error = None;
        let mut connected = None;
        for socket_addr in addr
            .to_socket_addrs()
            .map_err(|e| connect_error("resolving", e))?
        {
            match TcpStream::connect_timeout(&socket_addr, options.connect_timeout) {
                Ok(stream) => {
                    connected = Some(stream);
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        let stream = match (connected, last_error) {
            (Some(stream), _) => stream,
            (None, Some(e)) => return Err(connect_error("connecting to", e)),
            (None, None) => {
                return Err(Error::NoAddress {
                    addr: addr.to_string(),
                })
            }
        };
        let setup_error = |e| connect_error("connecting to", e);
        stream.set_nodelay(true).map_err(setup_error)?;
        let setup_timeout = Some(options.setup_timeout());
        stream
            .set_read_timeout(setup_timeout)
            .map_err(setup_error)?;
        stream
            .set_write_timeout(setup_timeout)
            .map_err(setup_error)?;
        let security = options.security.as_deref();
        let stream = match security.and_then(|s| s.tls.as_ref()) {
            Some(config) => tls_handshake(stream, config, addr)?,
            None => Stream::Plain(stream),
        };
        let reader = FrameReader {
            stream: stream.try_clone().map_err(setup_error)?,
            addr: addr.to_string(),
            buf: BytesMut::with_capacity(64 * 1024),
            frame_bytes_max: options.frame_bytes_max,
        };
        let mut connection = Self {
            stream,
            addr: addr.to_string(),
            correlation_id_next: 1,
            client_id: options.client_id,
            frame: BytesMut::with_capacity(64 * 1024),
            reader: Some(reader),
            versions: None,
        };
        if let Some(credentials) = security.and_then(|s| s.sasl.as_ref()) {
            // Kafka's clients ask ApiVersions first, then authenticate at those versions.
            let versions = BrokerVersions::request(&mut connection, options.client_id)?;
            crate::sasl::authenticate(&mut connection, &versions, credentials)?;
            connection.versions = Some(versions);
        }
        let tcp = connection.stream.tcp();
        tcp.set_read_timeout(options.read_timeout)
            .map_err(setup_error)?;
        tcp.set_write_timeout(options.write_timeout)
            .map_err(setup_error)?;
        Ok(connection)
    }

    /// The broker's versions if connecting asked for them (a SASL connection does), so a
    /// [`crate::Client`] does not ask twice.
    pub(crate) fn take_versions(&mut self) -> Option<BrokerVersions> {
        self.versions.take()
    }

    /// Whether the connection runs over TLS.
    pub fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }

    /// `host:port` as given to `connect`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Hands the reading half to another thread; `call` is unusable afterwards.
    pub fn take_reader(&mut self) -> Result<FrameReader> {
        self.reader
            .take()
            .ok_or_else(|| Error::Config("reader already taken".into()))
    }

    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) -> Result<()> {
        self.stream
            .tcp()
            .set_read_timeout(timeout)
            .map_err(|source| Error::Read {
                addr: self.addr.clone(),
                source,
            })
    }

    /// Encodes and writes one request; returns its correlation id.
    pub fn send<R: Request>(&mut self, request: &R, version: i16) -> Result<i32> {
        let correlation_id = self.correlation_id_next;
        self.correlation_id_next = self.correlation_id_next.wrapping_add(1).max(1);
        encode_request_into(
            &mut self.frame,
            request,
            version,
            correlation_id,
            self.client_id,
        )?;
        self.stream
            .write_all(&self.frame)
            .map_err(|source| Error::Write {
                addr: self.addr.clone(),
                source,
            })?;
        Ok(correlation_id)
    }

    /// Closes both directions, which also wakes a reader blocked on this socket.
    pub fn shutdown(&self) {
        // Already-closed sockets report an error here; there is nothing left to do then.
        let _already_closed = self.stream.shutdown(std::net::Shutdown::Both);
    }

    /// Reads one frame on this connection's own reader (synchronous use only).
    pub fn read_own_frame(&mut self) -> Result<Bytes> {
        self.own_reader()?.read_frame()
    }

    pub(crate) fn own_reader(&mut self) -> Result<&mut FrameReader> {
        self.reader
            .as_mut()
            .ok_or_else(|| Error::Config("reader taken".into()))
    }

    /// Reads the response to `correlation_id` (the next frame) and decodes it as `R`'s.
    pub fn receive<R: Request>(
        &mut self,
        version: i16,
        correlation_id: i32,
    ) -> Result<R::Response> {
        // Framing and decoding faults are named after the request they answered.
        let addr = self.addr.clone();
        let in_response = |e| match e {
            Error::Protocol(message) => Error::Response {
                addr: addr.clone(),
                api: R::KEY,
                message,
            },
            other => other,
        };
        let frame = self.read_own_frame().map_err(in_response)?;
        let (got, response) = decode_response::<R>(frame, version).map_err(in_response)?;
        if got != correlation_id {
            return Err(Error::Response {
                addr,
                api: R::KEY,
                message: format!("correlation id {got} does not match request {correlation_id}"),
            });
        }
        Ok(response)
    }

    /// Sends one request and waits for its response (no pipelining).
    pub fn call<R: Request>(&mut self, request: &R, version: i16) -> Result<R::Response> {
        let correlation_id = self.send(request, version)?;
        self.receive::<R>(version, correlation_id)
    }
}

/// The TLS handshake on a connected socket, verifying the broker's certificate against the
/// host connected to (an IP address is a valid name: the certificate needs it as an IP SAN).
fn tls_handshake(mut tcp: TcpStream, config: &Arc<ClientConfig>, addr: &str) -> Result<Stream> {
    let failed = |message: String| Error::Tls {
        addr: addr.to_string(),
        message,
    };
    let host = host_of(addr);
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| failed(format!("{host:?} is not a valid server name: {e}")))?;
    let mut tls = ClientConnection::new(Arc::clone(config), name)
        .map_err(|e| failed(format!("cannot start: {e}")))?;
    let io_failed = |e: std::io::Error| {
        let hint = match e.kind() {
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => {
                " (the broker closed the connection: is it a TLS listener?)"
            }
            _ if crate::error::is_timeout(&e) => " (no answer: is it a TLS listener?)",
            _ => "",
        };
        failed(format!("{e}{hint}"))
    };
    while tls.is_handshaking() {
        tls.complete_io(&mut tcp).map_err(io_failed)?;
    }
    while tls.wants_write() {
        tls.write_tls(&mut tcp).map_err(io_failed)?;
    }
    Ok(Stream::tls(tcp, tls))
}

/// `host` of `host:port`, `[v6]:port` or a bare host.
fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

impl FrameReader {
    /// Reads one size-prefixed frame (without the size).
    pub fn read_frame(&mut self) -> Result<Bytes> {
        let mut size = [0u8; 4];
        self.stream
            .read_exact(&mut size)
            .map_err(|source| Error::Read {
                addr: self.addr.clone(),
                source,
            })?;
        let size = i32::from_be_bytes(size);
        let Some(size) = usize::try_from(size)
            .ok()
            .filter(|s| (4..=self.frame_bytes_max).contains(s))
        else {
            return Err(Error::Protocol(format!(
                "response frame size {size} out of range"
            )));
        };
        self.buf.clear();
        self.buf.resize(size, 0);
        self.stream
            .read_exact(&mut self.buf)
            .map_err(|source| Error::Read {
                addr: self.addr.clone(),
                source,
            })?;
        Ok(self.buf.split().freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_name_is_the_host_part() {
        assert_eq!(host_of("127.0.0.1:9094"), "127.0.0.1");
        assert_eq!(host_of("broker1.example:9094"), "broker1.example");
        assert_eq!(host_of("[::1]:9094"), "::1");
        assert_eq!(host_of("localhost"), "localhost");
    }
}
