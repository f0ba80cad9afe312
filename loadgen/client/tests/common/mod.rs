//! A scripted secure broker for the client's TLS and SASL tests: one thread per accepted
//! connection, rustls on the server side when asked, SaslHandshake/SaslAuthenticate answered
//! with `sluice-security`'s PLAIN check and SCRAM server, and Metadata answered by echoing
//! the requested topic names (so a test sees large frames both ways and in order).
//! Certificates come from the `openssl` command, in a temp dir.

#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned};
use sluice_kafka_client::kafka_protocol::messages::api_versions_response::ApiVersion;
use sluice_kafka_client::kafka_protocol::messages::metadata_response::MetadataResponseTopic;
use sluice_kafka_client::kafka_protocol::messages::{
    ApiKey, ApiVersionsResponse, MetadataRequest, MetadataResponse, ResponseHeader,
    SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest, SaslHandshakeResponse,
};
use sluice_kafka_client::kafka_protocol::protocol::{
    decode_request_header_from_buffer, Decodable, Encodable, StrBytes,
};
use sluice_security::sasl::plain::PlainMessage;
use sluice_security::scram::{ScramCredential, ScramMechanism, ScramServer};
use tempfile::TempDir;

pub const TEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Kafka's SASL_AUTHENTICATION_FAILED.
pub const SASL_AUTHENTICATION_FAILED: i16 = 58;
const FRAME_BYTES_MAX: usize = 64 * 1024 * 1024;

/// A CA, a broker certificate for 127.0.0.1, a client certificate, and a rogue CA.
pub struct Pki {
    dir: TempDir,
}

impl Pki {
    pub fn new() -> Pki {
        let dir = tempfile::Builder::new()
            .prefix("sluice-client-pki-")
            .tempdir()
            .expect("temp dir");
        let pki = Pki { dir };
        pki.make_ca("ca");
        pki.make_ca("rogue");
        pki.make_signed(
            "server",
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        );
        pki.make_signed("client", "extendedKeyUsage=clientAuth\n");
        pki
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn file(&self, name: &str) -> String {
        self.path(name).to_string_lossy().into_owned()
    }

    fn make_ca(&self, name: &str) {
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &self.file(&format!("{name}.key")),
            "-out",
            &self.file(&format!("{name}.crt")),
        ]);
    }

    fn make_signed(&self, name: &str, extensions: &str) {
        let ext = self.path(&format!("{name}.ext"));
        std::fs::write(&ext, extensions).expect("write extensions");
        let (key, csr, crt) = (
            self.file(&format!("{name}.key")),
            self.file(&format!("{name}.csr")),
            self.file(&format!("{name}.crt")),
        );
        openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &key,
            "-out",
            &csr,
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &self.file("ca.crt"),
            "-CAkey",
            &self.file("ca.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext.to_string_lossy(),
            "-out",
            &crt,
        ]);
    }

    /// The broker's TLS config; `client_auth` requires a client certificate from the CA.
    pub fn server_config(&self, client_auth: bool) -> Arc<ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("versions");
        let builder = if client_auth {
            let mut roots = RootCertStore::empty();
            for c in certificates(&self.path("ca.crt")) {
                roots.add(c).expect("CA");
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .expect("verifier");
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let key = PrivateKeyDer::from_pem_file(self.path("server.key")).expect("server key");
        let config = builder
            .with_single_cert(certificates(&self.path("server.crt")), key)
            .expect("server cert");
        Arc::new(config)
    }
}

fn certificates(path: &Path) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(path)
        .expect("read PEM")
        .map(|c| c.expect("PEM certificate"))
        .collect()
}

fn openssl(args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl (install it: apt-get install openssl)");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// How the scripted broker secures and authenticates its connections.
#[derive(Clone)]
pub struct BrokerScript {
    pub tls: Option<Arc<ServerConfig>>,
    /// (user, password): PLAIN checks these; SCRAM derives credentials from them.
    pub users: Vec<(String, String)>,
    /// Whether SaslHandshake is expected before anything but ApiVersions.
    pub sasl: bool,
}

/// What one connection saw: API keys in order, and the authenticated user if any.
#[derive(Debug, Default)]
pub struct Seen {
    pub apis: Vec<ApiKey>,
    pub user: Option<String>,
    /// The connection ended with an error (TLS alert, bad frame) rather than a clean close.
    pub error: Option<String>,
}

/// Starts the broker; it serves `connections` connections one after another.
pub fn start_broker(script: BrokerScript, connections: usize) -> (String, JoinHandle<Vec<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let handle = thread::spawn(move || {
        (0..connections)
            .map(|_| {
                let (tcp, _) = listener.accept().expect("accept");
                tcp.set_read_timeout(Some(TEST_TIMEOUT)).expect("timeout");
                let mut seen = Seen::default();
                let outcome = match &script.tls {
                    Some(config) => {
                        let tls = ServerConnection::new(config.clone()).expect("TLS state");
                        serve(StreamOwned::new(tls, tcp), &script, &mut seen)
                    }
                    None => serve(tcp, &script, &mut seen),
                };
                seen.error = outcome.err().map(|e| e.to_string());
                seen
            })
            .collect()
    });
    (addr, handle)
}

fn serve(mut stream: impl Read + Write, script: &BrokerScript, seen: &mut Seen) -> io::Result<()> {
    let mut scram: Option<ScramServer> = None;
    let mut mechanism = String::new();
    while let Some(mut frame) = read_frame(&mut stream)? {
        let header = decode_request_header_from_buffer(&mut frame).map_err(io::Error::other)?;
        let api = ApiKey::try_from(header.request_api_key)
            .map_err(|_| io::Error::other("unknown api key"))?;
        let version = header.request_api_version;
        seen.apis.push(api);
        let authenticated = seen.user.is_some() || !script.sasl;
        let body = match api {
            ApiKey::ApiVersions => encode(&api_versions(), version),
            ApiKey::SaslHandshake => {
                let request =
                    SaslHandshakeRequest::decode(&mut frame, version).map_err(io::Error::other)?;
                mechanism = request.mechanism.to_string();
                let supported = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];
                let mut response = SaslHandshakeResponse::default().with_mechanisms(
                    supported
                        .iter()
                        .map(|m| StrBytes::from_static_str(m))
                        .collect(),
                );
                if !supported.contains(&mechanism.as_str()) {
                    response.error_code = 33; // UNSUPPORTED_SASL_MECHANISM
                }
                scram = ScramMechanism::from_mechanism_name(&mechanism).map(ScramServer::new);
                encode(&response, version)
            }
            ApiKey::SaslAuthenticate => {
                let request = SaslAuthenticateRequest::decode(&mut frame, version)
                    .map_err(io::Error::other)?;
                let response =
                    authenticate(&request.auth_bytes, &mechanism, &mut scram, script, seen);
                encode(&response, version)
            }
            ApiKey::Metadata if authenticated => {
                let request =
                    MetadataRequest::decode(&mut frame, version).map_err(io::Error::other)?;
                let topics = request
                    .topics
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| MetadataResponseTopic::default().with_name(t.name))
                    .collect();
                encode(&MetadataResponse::default().with_topics(topics), version)
            }
            other => return Err(io::Error::other(format!("unexpected {other:?}"))),
        };
        let mut out = BytesMut::new();
        let header_version = ApiKey::response_header_version(&api, version);
        ResponseHeader::default()
            .with_correlation_id(header.correlation_id)
            .encode(&mut out, header_version)
            .map_err(io::Error::other)?;
        out.extend_from_slice(&body);
        let size = u32::try_from(out.len()).map_err(io::Error::other)?;
        stream.write_all(&size.to_be_bytes())?;
        stream.write_all(&out)?;
        stream.flush()?;
    }
    Ok(())
}

fn authenticate(
    token: &[u8],
    mechanism: &str,
    scram: &mut Option<ScramServer>,
    script: &BrokerScript,
    seen: &mut Seen,
) -> SaslAuthenticateResponse {
    let failed = |message: String| {
        SaslAuthenticateResponse::default()
            .with_error_code(SASL_AUTHENTICATION_FAILED)
            .with_error_message(Some(StrBytes::from_string(message)))
    };
    let password_of = |user: &str| {
        script
            .users
            .iter()
            .find(|(u, _)| u == user)
            .map(|(_, p)| p.clone())
    };
    if mechanism == "PLAIN" {
        let Ok(message) = PlainMessage::parse(token) else {
            return failed("Invalid SASL/PLAIN response".into());
        };
        if password_of(&message.username).as_deref() != Some(message.password()) {
            return failed("Authentication failed: Invalid username or password".into());
        }
        seen.user = Some(message.username.clone());
        return SaslAuthenticateResponse::default();
    }
    let Some(server) = scram.as_mut() else {
        return failed("no mechanism".into());
    };
    let m = server.mechanism();
    let result = if server.is_complete() {
        Err("done".to_string())
    } else if seen
        .apis
        .iter()
        .filter(|a| **a == ApiKey::SaslAuthenticate)
        .count()
        == 1
    {
        server
            .client_first(token, "srvnonce", |user| {
                let password = password_of(user)?;
                ScramCredential::derive(m, &password, b"salt-of-test", 4096).ok()
            })
            .map_err(|e| e.to_string())
    } else {
        server
            .client_final(token)
            .map_err(|e| e.to_string())
            .map(|(reply, user)| {
                seen.user = Some(user);
                reply
            })
    };
    match result {
        Ok(reply) => SaslAuthenticateResponse::default().with_auth_bytes(Bytes::from(reply)),
        Err(message) => failed(format!(
            "Authentication failed during authentication due to invalid credentials with SASL \
             mechanism {mechanism}: {message}"
        )),
    }
}

fn api_versions() -> ApiVersionsResponse {
    let apis = [
        (ApiKey::ApiVersions, 0, 3),
        (ApiKey::Metadata, 1, 12),
        (ApiKey::SaslHandshake, 1, 1),
        (ApiKey::SaslAuthenticate, 0, 2),
    ];
    ApiVersionsResponse::default().with_api_keys(
        apis.iter()
            .map(|(key, min, max)| {
                ApiVersion::default()
                    .with_api_key(*key as i16)
                    .with_min_version(*min)
                    .with_max_version(*max)
            })
            .collect(),
    )
}

fn encode<M: Encodable>(message: &M, version: i16) -> BytesMut {
    let mut body = BytesMut::new();
    message.encode(&mut body, version).expect("encode response");
    body
}

/// One request frame without its size; `None` at a clean end of stream.
fn read_frame(stream: &mut impl Read) -> io::Result<Option<Bytes>> {
    let mut size = [0u8; 4];
    match stream.read_exact(&mut size) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let size = usize::try_from(u32::from_be_bytes(size)).map_err(io::Error::other)?;
    if size > FRAME_BYTES_MAX {
        return Err(io::Error::other(format!("frame of {size} bytes")));
    }
    let mut frame = BytesMut::zeroed(size);
    stream.read_exact(&mut frame)?;
    Ok(Some(frame.freeze()))
}
