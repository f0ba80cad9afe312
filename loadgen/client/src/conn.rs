//! One blocking TCP connection speaking Kafka frames. The writer half (`Connection`) and a
//! cloned reader half (`FrameReader`) can live on different threads, which is how a producer
//! pipelines requests: write, write, write… while another thread reads the responses.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::protocol::Request;

use crate::error::{Error, Result};
use crate::frame::{decode_response, encode_request_into};

/// How to open a connection.
#[derive(Debug, Clone, Copy)]
pub struct ConnectOptions {
    /// Sent in every request header; brokers log it.
    pub client_id: &'static str,
    pub connect_timeout: Duration,
    /// `None`: reads and writes block until the broker answers or the socket fails.
    pub read_timeout: Option<Duration>,
    pub write_timeout: Option<Duration>,
    /// Largest response frame accepted (a fetch of many partitions can be large).
    pub frame_bytes_max: usize,
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
}

/// The writing half of one connection to one broker, plus (until taken) its reading half.
pub struct Connection {
    pub(crate) stream: TcpStream,
    pub(crate) addr: String,
    correlation_id_next: i32,
    client_id: &'static str,
    frame: BytesMut,
    /// Used by `call` for synchronous request/response exchanges.
    pub(crate) reader: Option<FrameReader>,
}

/// The reading half of a connection: whole response frames, in the order requests were sent.
pub struct FrameReader {
    pub(crate) stream: TcpStream,
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
        stream
            .set_read_timeout(options.read_timeout)
            .map_err(setup_error)?;
        stream
            .set_write_timeout(options.write_timeout)
            .map_err(setup_error)?;
        let reader = FrameReader {
            stream: stream.try_clone().map_err(setup_error)?,
            addr: addr.to_string(),
            buf: BytesMut::with_capacity(64 * 1024),
            frame_bytes_max: options.frame_bytes_max,
        };
        Ok(Self {
            stream,
            addr: addr.to_string(),
            correlation_id_next: 1,
            client_id: options.client_id,
            frame: BytesMut::with_capacity(64 * 1024),
            reader: Some(reader),
        })
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
