//! A Kafka protocol connection from a follower shard to a leader broker: one request in flight
//! (a stream's fetches are sequential by design), each answered within a deadline. Frames are
//! length-prefixed; headers and bodies go through the `kafka-protocol` codec. A malformed
//! answer closes the connection with an error (the stream reconnects after a backoff).
//!
//! The connection speaks the inter-broker listener's protocol (see `inter_broker_client`):
//! after TCP it completes TLS, then SaslHandshake v1 and SaslAuthenticate (PLAIN, or the
//! three SCRAM messages), before the first request.

use std::net::SocketAddr;
use std::os::fd::{FromRawFd, IntoRawFd};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use kafka_protocol::messages::{
    ApiKey, RequestHeader, ResponseHeader, SaslAuthenticateRequest, SaslAuthenticateResponse,
    SaslHandshakeRequest, SaslHandshakeResponse,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Message, StrBytes};
use rustls_pki_types::ServerName;
use sluice_security::sasl::plain::PlainMessage;
use sluice_security::scram::{ScramClient, ScramMechanism};

use super::inter_broker_client;
use crate::config::inter_broker::SaslLogin;
use crate::fill_only_read::{read_exact_unzeroed, FillOnlyRead};
use crate::limits::REPLICA_FRAME_BYTES_MAX;
use crate::shard::steering;
use crate::tls::PeerStream;

/// SaslHandshake v1: SaslAuthenticate frames follow (v0 sent raw tokens).
const SASL_HANDSHAKE_VERSION: i16 = 1;
/// SaslAuthenticate v1: error message and session lifetime, not flexible.
const SASL_AUTHENTICATE_VERSION: i16 = 1;
/// Random bytes of a SCRAM client nonce (hex-encoded), as many as the server's.
const SCRAM_CLIENT_NONCE_BYTES: usize = 24;

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
    #[error("TLS with {address} failed: {detail}")]
    Tls { address: SocketAddr, detail: String },
    #[error("authentication to {address} as {username} with {mechanism} failed: {detail}")]
    Authentication {
        address: SocketAddr,
        username: String,
        mechanism: String,
        detail: String,
    },
    #[error("cannot connect to {address} securely: {reason}")]
    Unconfigured { address: SocketAddr, reason: String },
}

/// The shard (of `shards`) a connection should land on at the leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SteerTo {
    pub shard: usize,
    pub shards: usize,
}

impl ConnectionError {
    /// The peer refused this broker's credentials or certificate: retrying the same ones
    /// keeps failing, so callers say it once.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            ConnectionError::Tls { .. }
                | ConnectionError::Authentication { .. }
                | ConnectionError::Unconfigured { .. }
        )
    }
}

/// A peer stream that can receive into unzeroed memory: a fetch answer is up to
/// `REPLICA_FRAME_BYTES_MAX`, and zeroing it before the socket overwrites it was a visible
/// share of a follower's CPU (benches/results/replication-profile-2026-12-03.md).
trait ReplicaStream: PeerStream + FillOnlyRead {}
impl<T: PeerStream + FillOnlyRead> ReplicaStream for T {}

pub struct Connection {
    address: SocketAddr,
    stream: Box<dyn ReplicaStream>,
    client_id: String,
    correlation_id: i32,
}

impl Connection {
    /// Connects to the inter-broker listener at `address` (advertised as `host`, the name
    /// its TLS certificate must carry), securing and authenticating the connection as that
    /// listener's protocol asks; each step within `timeout`.
    /// With `steer_to`, the connection comes from a source port that the leader's listeners
    /// steer to the shard of that number (`shard::steering`), where the partitions this
    /// stream carries live.
    pub async fn connect(
        address: SocketAddr,
        host: &str,
        client_id: String,
        timeout: Duration,
        steer_to: Option<SteerTo>,
    ) -> Result<Connection, ConnectionError> {
        let client = inter_broker_client::installed()
            .map_err(|reason| ConnectionError::Unconfigured { address, reason })?;
        let connect = async {
            if let Some(steer_to) = steer_to {
                match connect_steered(address, steer_to, timeout).await {
                    // SAFETY: the fd is a connected TCP socket whose ownership moves here.
                    Some(Ok(stream)) => {
                        return Ok(unsafe { TcpStream::from_raw_fd(stream.into_raw_fd()) })
                    }
                    Some(Err(source)) => return Err(ConnectionError::Io { address, source }),
                    // No steering port could be bound: any port works, only slower.
                    None => {}
                }
            }
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
        let stream: Box<dyn ReplicaStream> = match &client.tls {
            None => Box::new(stream),
            Some(connector) => {
                let name =
                    ServerName::try_from(host.to_string()).map_err(|err| ConnectionError::Tls {
                        address,
                        detail: format!("{host:?} is not a host name for TLS: {err}"),
                    })?;
                let handshake = async {
                    connector
                        .connect(name, stream)
                        .await
                        .map_err(|err| ConnectionError::Tls {
                            address,
                            detail: err.to_string(),
                        })
                };
                Box::new(with_deadline(address, timeout, handshake).await?)
            }
        };
        let mut connection = Connection {
            address,
            stream,
            client_id,
            correlation_id: 0,
        };
        if let Some(login) = &client.login {
            connection.authenticate(login, timeout).await?;
        }
        Ok(connection)
    }

    /// SaslHandshake, then the mechanism's SaslAuthenticate exchange.
    async fn authenticate(
        &mut self,
        login: &SaslLogin,
        timeout: Duration,
    ) -> Result<(), ConnectionError> {
        let address = self.address;
        let refused = |detail: String| ConnectionError::Authentication {
            address,
            username: login.username.clone(),
            mechanism: login.mechanism.clone(),
            detail,
        };
        let request = SaslHandshakeRequest::default()
            .with_mechanism(StrBytes::from_string(login.mechanism.clone()));
        let handshake: SaslHandshakeResponse = self
            .call(
                ApiKey::SaslHandshake,
                &request,
                SASL_HANDSHAKE_VERSION,
                timeout,
            )
            .await?;
        if handshake.error_code != 0 {
            let offered: Vec<&str> = handshake.mechanisms.iter().map(|m| m.as_str()).collect();
            return Err(refused(format!(
                "the listener does not take the mechanism (error {}; it offers {})",
                handshake.error_code,
                offered.join(", ")
            )));
        }
        let Some(mechanism) = ScramMechanism::from_mechanism_name(&login.mechanism) else {
            let message = PlainMessage::new("", &login.username, &login.password).to_bytes();
            self.sasl_step(message, timeout).await.map_err(&refused)?;
            return Ok(());
        };
        let nonce = client_nonce().map_err(&refused)?;
        let (mut scram, client_first) =
            ScramClient::new(mechanism, &login.username, &login.password, &nonce);
        let server_first = self
            .sasl_step(client_first, timeout)
            .await
            .map_err(&refused)?;
        let client_final = scram
            .server_first(&server_first)
            .map_err(|err| refused(format!("server-first message: {err}")))?;
        let server_final = self
            .sasl_step(client_final, timeout)
            .await
            .map_err(&refused)?;
        scram
            .server_final(&server_final)
            .map_err(|err| refused(format!("server-final message: {err}")))
    }

    /// One SaslAuthenticate round trip: our token out, the server's back (an error the
    /// server names is the failure's detail).
    async fn sasl_step(&mut self, token: Vec<u8>, timeout: Duration) -> Result<Bytes, String> {
        let request = SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(token));
        let response: SaslAuthenticateResponse = self
            .call(
                ApiKey::SaslAuthenticate,
                &request,
                SASL_AUTHENTICATE_VERSION,
                timeout,
            )
            .await
            .map_err(|err| err.to_string())?;
        if response.error_code != 0 {
            let message = response
                .error_message
                .as_ref()
                .map(|m| m.to_string())
                .unwrap_or_default();
            return Err(format!("error {}: {message}", response.error_code));
        }
        Ok(response.auth_bytes)
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
            let body = read_exact_unzeroed(&mut self.stream, length as usize)
                .await
                .map_err(|err| io(address, err))?;
            Ok(body.freeze())
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

fn client_nonce() -> Result<String, String> {
    let mut bytes = [0u8; SCRAM_CLIENT_NONCE_BYTES];
    getrandom::getrandom(&mut bytes)
        .map_err(|err| format!("no randomness for the nonce: {err}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
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

/// `steering::connect_steered` on a thread of its own: connect() blocks, for up to `timeout`
/// when the leader is unreachable, and the shard's blocking pool is kept for work that waits
/// on the disk only (cold reads). None: no steering port, or no thread to connect on.
async fn connect_steered(
    address: SocketAddr,
    SteerTo { shard, shards }: SteerTo,
    timeout: Duration,
) -> Option<std::io::Result<std::net::TcpStream>> {
    let (answer, answered) = flume::bounded(1);
    let spawned = std::thread::Builder::new()
        .name(format!("replica-connect-{shard}"))
        .spawn(move || {
            // The stream may have given up waiting; then the socket just closes.
            let _ = answer.send(steering::connect_steered(address, shard, shards, timeout));
        });
    if let Err(err) = spawned {
        tracing::debug!(%address, "no thread for a steered connection: {err}");
        return None;
    }
    answered.recv_async().await.ok().flatten()
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
