//! One blocking TCP connection speaking Kafka frames. The writer half (`Connection`) and a
//! cloned reader half (`FrameReader`) can live on different threads, which is how the
//! producer pipelines requests: write, write, write… while another thread reads responses.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};

use crate::error::{io_context, Error, ProtocolContext, Result};

/// Largest response frame accepted (a fetch of many partitions can be large).
pub const FRAME_BYTES_MAX: usize = 256 * 1024 * 1024;
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Connection {
    stream: TcpStream,
    peer: String,
    correlation_id_next: i32,
    client_id: StrBytes,
    frame: BytesMut,
    /// Used by `call` for synchronous request/response exchanges.
    reader: Option<FrameReader>,
}

pub struct FrameReader {
    stream: TcpStream,
    buf: BytesMut,
}

impl Connection {
    pub fn connect(addr: &str) -> Result<Self> {
        let sock = addr
            .to_socket_addrs()
            .map_err(io_context(format!("resolving {addr}")))?
            .next()
            .ok_or_else(|| Error::Config(format!("{addr} resolves to no address")))?;
        let stream = TcpStream::connect_timeout(&sock, CONNECT_TIMEOUT)
            .map_err(io_context(format!("connecting to {addr}")))?;
        stream.set_nodelay(true)?;
        let reader = FrameReader::new(stream.try_clone()?);
        Ok(Self {
            stream,
            peer: addr.to_string(),
            correlation_id_next: 1,
            client_id: StrBytes::from_static_str("sluice-loadgen"),
            frame: BytesMut::with_capacity(64 * 1024),
            reader: Some(reader),
        })
    }

    /// Hands the reading half to another thread; `call` is unusable afterwards.
    pub fn take_reader(&mut self) -> Result<FrameReader> {
        self.reader
            .take()
            .ok_or_else(|| Error::Config("reader already taken".into()))
    }

    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) -> Result<()> {
        self.stream.set_read_timeout(timeout)?;
        Ok(())
    }

    /// Encodes and writes one request; returns its correlation id.
    pub fn send<R: Request>(&mut self, request: &R, version: i16) -> Result<i32> {
        let correlation_id = self.correlation_id_next;
        self.correlation_id_next = self.correlation_id_next.wrapping_add(1).max(1);
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(correlation_id)
            .with_client_id(Some(self.client_id.clone()));
        self.frame.clear();
        self.frame.put_i32(0);
        header
            .encode(&mut self.frame, R::header_version(version))
            .protocol("request header")?;
        request
            .encode(&mut self.frame, version)
            .protocol("request body")?;
        let size = (self.frame.len() - 4) as i32;
        self.frame[0..4].copy_from_slice(&size.to_be_bytes());
        self.stream
            .write_all(&self.frame)
            .map_err(io_context(format!("writing to {}", self.peer)))?;
        Ok(correlation_id)
    }

    /// Closes both directions, which also wakes a reader blocked on this socket.
    pub fn shutdown(&self) {
        // Already-closed sockets report an error here; there is nothing left to do then.
        let _already_closed = self.stream.shutdown(std::net::Shutdown::Both);
    }

    /// Reads one frame on this connection's own reader (synchronous use only).
    pub fn read_own_frame(&mut self) -> Result<Bytes> {
        let reader = self
            .reader
            .as_mut()
            .ok_or_else(|| Error::Config("reader taken".into()))?;
        reader.read_frame()
    }

    /// Sends one request and waits for its response (no pipelining).
    pub fn call<R: Request>(&mut self, request: &R, version: i16) -> Result<R::Response> {
        let correlation_id = self.send(request, version)?;
        let frame = self.read_own_frame()?;
        let (got, response) = decode_response::<R>(frame, version)?;
        if got != correlation_id {
            return Err(Error::Protocol(format!(
                "correlation id {got} does not match request {correlation_id}"
            )));
        }
        Ok(response)
    }
}

impl FrameReader {
    fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            buf: BytesMut::with_capacity(64 * 1024),
        }
    }

    /// Reads one size-prefixed frame (without the size).
    pub fn read_frame(&mut self) -> Result<Bytes> {
        let mut size = [0u8; 4];
        self.stream.read_exact(&mut size).map_err(timeout_or_io)?;
        let size = i32::from_be_bytes(size);
        if size < 4 || size as usize > FRAME_BYTES_MAX {
            return Err(Error::Protocol(format!(
                "response frame size {size} out of range"
            )));
        }
        self.buf.clear();
        self.buf.resize(size as usize, 0);
        self.stream
            .read_exact(&mut self.buf)
            .map_err(timeout_or_io)?;
        Ok(self.buf.split().freeze())
    }
}

/// A blocking read past its timeout reports EAGAIN; say what it means.
fn timeout_or_io(e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            Error::Timeout("no response from the broker within the read timeout".into())
        }
        _ => Error::Io(e),
    }
}

/// Decodes a response frame; returns (correlation id, body).
pub fn decode_response<R: Request>(mut frame: Bytes, version: i16) -> Result<(i32, R::Response)> {
    let header = ResponseHeader::decode(&mut frame, R::Response::header_version(version))
        .protocol("response header")?;
    let body = R::Response::decode(&mut frame, version).protocol("response body")?;
    Ok((header.correlation_id, body))
}
