//! Request dispatch: parse the fixed header fields, check the API and version against what we
//! advertise, decode the header, and hand the body to the API's handler.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;

use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, RequestHeader};
use kafka_protocol::protocol::{Decodable, Encodable};

use super::handlers;
use super::request_meter::RequestMeter;
use super::response::{self, EncodeError, Response};
use super::services::Services;
use crate::config::BrokerConfig;
use crate::util::catch_decoder_panic;

/// One client connection's context; lives on the shard that accepted it.
pub struct Conn {
    pub services: Rc<Services>,
    pub config: std::sync::Arc<BrokerConfig>,
    pub peer: SocketAddr,
    /// The address the client reached us on (what Metadata advertises by default).
    pub local_addr: SocketAddr,
    /// The listener the client connected to.
    pub listener: Rc<super::listener::ListenerContext>,
    /// Its principal and SASL state.
    pub session: super::session::Session,
}

impl Conn {
    /// The authorization context of one request of `api_key`.
    pub fn authz(&self, api_key: ApiKey) -> super::authz::Authz {
        super::authz::Authz::new(
            self.session.principal(),
            self.peer.ip(),
            self.services.acls.acls(),
            api_key as i16,
        )
    }

    /// Host and port that clients should use to reach this broker.
    pub fn advertised(&self) -> (String, i32) {
        if let Some(advertised) = &self.listener.advertised {
            return advertised.clone();
        }
        (
            self.local_addr.ip().to_string(),
            i32::from(self.local_addr.port()),
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("unknown API key {0}")]
    UnknownApiKey(i16),
    #[error("unsupported version {version} of {api:?}")]
    UnsupportedVersion { api: ApiKey, version: i16 },
    #[error("malformed {api:?} v{version} request: {reason}")]
    Malformed {
        api: ApiKey,
        version: i16,
        reason: String,
    },
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// A request the connection's authentication state does not allow (closes it).
    #[error("{0}")]
    Unauthenticated(String),
    /// acks=0 has no response to carry an error: like Kafka, close the connection instead.
    #[error("acks=0 produce failed ({0}); closing so the client notices")]
    AcksZeroFailed(String),
}

/// A decoded request header plus the undecoded body.
pub struct Request {
    pub api_key: ApiKey,
    pub version: i16,
    pub correlation_id: i32,
    /// The header's client.id (JoinGroup builds member ids from it).
    pub client_id: Option<String>,
    pub body: Bytes,
}

impl Request {
    /// Decodes the body. The decoder is generated code fed with untrusted bytes: a panic inside
    /// it becomes a malformed-request error instead of taking the shard down.
    pub fn decode<T: Decodable>(&self) -> Result<T, RequestError> {
        let mut body = self.body.clone();
        let version = self.version;
        let decoded = catch_decoder_panic(|| T::decode(&mut body, version));
        let malformed = |reason: String| RequestError::Malformed {
            api: self.api_key,
            version,
            reason,
        };
        match decoded {
            Some(Ok(value)) => Ok(value),
            Some(Err(err)) => Err(malformed(err.to_string())),
            None => Err(malformed("decoder panicked".to_string())),
        }
    }

    pub fn respond<M: Encodable>(&self, body: &M) -> Result<Response, RequestError> {
        let header_version = self.api_key.response_header_version(self.version);
        Ok(response::encode(
            self.correlation_id,
            header_version,
            body,
            self.version,
        )?)
    }

    pub fn flexible_response_header(&self) -> bool {
        self.api_key.response_header_version(self.version) >= 1
    }
}

pub type DeferredResponse = Pin<Box<dyn Future<Output = Result<Option<Response>, RequestError>>>>;

/// What a handler gives back. Handlers do the order-sensitive part of their work (for example,
/// appending) before returning; the rest (waiting for fdatasync, a fetch long poll) is deferred
/// and runs concurrently with the connection's later requests.
pub enum Outcome {
    /// The response (None: no response at all, e.g. acks=0).
    Ready(Option<Response>),
    Deferred(DeferredResponse),
}

impl From<Response> for Outcome {
    fn from(response: Response) -> Self {
        Outcome::Ready(Some(response))
    }
}

fn header_field(frame: &Bytes, at: usize) -> i16 {
    i16::from_be_bytes([frame[at], frame[at + 1]])
}

pub async fn handle(conn: &Rc<Conn>, frame: Bytes) -> Result<Outcome, RequestError> {
    assert!(frame.len() >= crate::limits::REQUEST_HEADER_BYTES_MIN);
    let api_key_raw = header_field(&frame, 0);
    let meter = RequestMeter::start(api_key_raw, frame.len());
    let version = header_field(&frame, 2);
    let correlation_id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    let Some(range) = handlers::versions(api_key_raw) else {
        return Err(RequestError::UnknownApiKey(api_key_raw));
    };
    let api_key =
        ApiKey::try_from(api_key_raw).map_err(|_| RequestError::UnknownApiKey(api_key_raw))?;
    conn.session
        .admits(api_key)
        .map_err(RequestError::Unauthenticated)?;
    let supported = version >= range.min && version <= range.max;
    if !supported {
        if api_key == ApiKey::ApiVersions {
            return Ok(handlers::api_versions::unsupported_version(correlation_id)?.into());
        }
        return Err(RequestError::UnsupportedVersion {
            api: api_key,
            version,
        });
    }
    let mut body = frame;
    let header_version = api_key.request_header_version(version);
    let decoded = catch_decoder_panic(|| RequestHeader::decode(&mut body, header_version));
    let Some(Ok(header)) = decoded else {
        return Err(RequestError::Malformed {
            api: api_key,
            version,
            reason: "bad request header".to_string(),
        });
    };
    let request = Request {
        api_key,
        version,
        correlation_id,
        client_id: header.client_id.map(|id| id.to_string()),
        body,
    };
    meter.finish(handlers::handle(conn, request).await)
}
