//! A Kafka protocol connection from a follower shard to a leader broker: one request in flight
//! (a stream's fetches are sequential by design), each answered within a deadline. Frames are
//! length-prefixed; headers and bodies go through the `kafka-protocol` codec. A malformed
//! answer closes the connection with an error (the stream reconnects after a backoff).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Message, StrBytes};

use crate::limits::REPLICA_FRAME_BYTES_MAX;

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("i/o with {address}: {source}")]
    Io {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("no answer from {address} within {timeout:?}")]
    TimedOut {
        address: SocketAddr,
        timeout: Duration,
    },
    #[error("bad answer from {address}: {detail}")]
    Malformed { address: SocketAddr, detail: String },
}

pub struct Connection {
    address: SocketAddr,
    stream: TcpStream,
    client_id: String,
    correlation_id: i32,
}

impl Connection {
    pub async fn connect(
        address: SocketAddr,
        client_id: String,
        timeout: Duration,
    ) -> Result<Connection, ConnectionError> {
        let connect = async {
            TcpStream::connect(address)
                .await
                .map_err(|err| ConnectionError::Io {
                    address,
                    source: err.into(),
                })
        };
        let stream = with_deadline(address, timeout, connect).await?;
        // Latency of the replication round trip is acks=all latency.
        let _ = stream.set_nodelay(true);
        Ok(Connection {
            address,
            stream,
            client_id,
            correlation_id: 0,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Sends `request` at `version` and decodes its response, within `timeout`.
    pub async fn call<Req, Resp>(
        &mut self,
        api_key: ApiKey,
        request: &Req,
        version: i16,
        timeout: Duration,
    ) -> Result<Resp, ConnectionError>
    where
        Req: Encodable + Message + HeaderVersion,
        Resp: Decodable + HeaderVersion,
    {
        self.correlation_id = self.correlation_id.wrapping_add(1);
        let correlation_id = self.correlation_id;
        let frame = self.encode(api_key, request, version, correlation_id)?;
        let address = self.address;
        let exchange = async {
            self.stream
                .write_all(&frame)
                .await
                .map_err(|err| io(address, err))?;
            let mut length = [0u8; 4];
            self.stream
                .read_exact(&mut length)
                .await
                .map_err(|err| io(address, err))?;
            let length = i32::from_be_bytes(length);
            if length < 4 || length as usize > REPLICA_FRAME_BYTES_MAX {
                return Err(malformed(address, format!("frame of {length} bytes")));
            }
            let mut body = vec![0u8; length as usize];
            self.stream
                .read_exact(&mut body)
                .await
                .map_err(|err| io(address, err))?;
            Ok(Bytes::from(body))
        };
        let mut body = with_deadline(address, timeout, exchange).await?;
        let decoded = crate::util::catch_decoder_panic(|| {
            let header = ResponseHeader::decode(&mut body, Resp::header_version(version))
                .map_err(|err| format!("response header: {err}"))?;
            let response =
                Resp::decode(&mut body, version).map_err(|err| format!("response: {err}"))?;
            Ok::<_, String>((header, response))
        });
        let (header, response) = match decoded {
            Some(Ok(decoded)) => decoded,
            Some(Err(detail)) => return Err(malformed(address, detail)),
            None => return Err(malformed(address, "undecodable response".to_string())),
        };
        if header.correlation_id != correlation_id {
            return Err(malformed(
                address,
                format!(
                    "correlation id {} for {correlation_id}",
                    header.correlation_id
                ),
            ));
        }
        if body.has_remaining() {
            return Err(malformed(
                address,
                format!("{} trailing bytes", body.remaining()),
            ));
        }
        Ok(response)
    }

    fn encode<Req: Encodable + HeaderVersion>(
        &self,
        api_key: ApiKey,
        request: &Req,
        version: i16,
        correlation_id: i32,
    ) -> Result<BytesMut, ConnectionError> {
        let header = RequestHeader::default()
            .with_request_api_key(api_key as i16)
            .with_request_api_version(version)
            .with_correlation_id(correlation_id)
            .with_client_id(Some(StrBytes::from_string(self.client_id.clone())));
        let mut frame = BytesMut::with_capacity(256);
        frame.put_i32(0);
        header
            .encode(&mut frame, Req::header_version(version))
            .and_then(|()| request.encode(&mut frame, version))
            .map_err(|err| malformed(self.address, format!("encoding: {err}")))?;
        let length = (frame.len() - 4) as i32;
        frame[..4].copy_from_slice(&length.to_be_bytes());
        Ok(frame)
    }
}

fn io(address: SocketAddr, err: std::io::Error) -> ConnectionError {
    ConnectionError::Io {
        address,
        source: err,
    }
}

fn malformed(address: SocketAddr, detail: String) -> ConnectionError {
    ConnectionError::Malformed { address, detail }
}

async fn with_deadline<T>(
    address: SocketAddr,
    timeout: Duration,
    work: impl std::future::Future<Output = Result<T, ConnectionError>>,
) -> Result<T, ConnectionError> {
    futures_lite::future::or(work, async {
        glommio::timer::sleep(timeout).await;
        Err(ConnectionError::TimedOut { address, timeout })
    })
    .await
}
