//! TLS with rustls (ring as the crypto provider): the server configuration of client and
//! controller listeners read from PEM files, its reload after SIGHUP, and the client side
//! brokers and controllers use towards each other. A leaf (it needs only the config), so the
//! cluster, replication and Kafka layers can all use it.
//!
//! Each shard holds its own [`TlsAcceptors`] and [`TlsConnectors`]: a reload is a file read
//! per shard at its next accepted (or opened) connection, and no lock is shared between
//! shards. A reload that fails (a file half-written by a renewal script) keeps the previous
//! certificates and says why once. The client side reloads too: after a CA rotation the peers
//! present certificates of the new CA, and this broker's own client certificate is renewed
//! with its server certificate (Kafka reconfigures its inter-broker clients the same way).

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;

use futures_rustls::rustls::server::WebPkiClientVerifier;
use futures_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use futures_rustls::{TlsAcceptor, TlsConnector};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::security::{ClientAuth, TlsSettings};

/// Certificates one PEM file may hold (a chain, or a CA bundle).
pub const PEM_CERTIFICATES_MAX: usize = 1_000;

/// A byte stream between brokers: a plain TCP socket, or TLS over one.
pub trait PeerStream: futures_lite::AsyncRead + futures_lite::AsyncWrite + Unpin {}
impl<T: futures_lite::AsyncRead + futures_lite::AsyncWrite + Unpin> PeerStream for T {}

/// A value built from certificate files, built again at its first use after a SIGHUP
/// (`signals::reload_generation`). Not `Sync`: each shard holds its own, so a reload is a file
/// read per shard and no lock is shared.
pub struct Reloaded<T> {
    /// The reload generation the value was built at, and the value.
    current: RefCell<(u64, T)>,
}

impl<T: Clone> Reloaded<T> {
    /// `value`, as built at reload generation `generation`.
    pub fn built_at(generation: u64, value: T) -> Reloaded<T> {
        Reloaded {
            current: RefCell::new((generation, value)),
        }
    }

    /// The value, after `rebuild(previous)` if SIGHUP came since it was built.
    pub fn get_with(&self, rebuild: impl FnOnce(&T) -> T) -> T {
        let generation = crate::signals::reload_generation();
        let mut current = self.current.borrow_mut();
        if current.0 != generation {
            let value = rebuild(&current.1);
            *current = (generation, value);
        }
        current.1.clone()
    }

    /// The value, built again by `build` if SIGHUP came since; a build that fails (a file
    /// half-written by a renewal script) keeps the previous value and says why once. `what`
    /// ends the log lines (e.g. " for inter-broker connections").
    pub fn get(&self, build: impl FnOnce() -> Result<T, String>, keystore: &Path, what: &str) -> T {
        self.get_with(|previous| match build() {
            Ok(value) => {
                tracing::info!(keystore = %keystore.display(), "reloaded TLS certificates{what}");
                value
            }
            Err(err) => {
                tracing::error!("keeping the previous TLS certificates{what}: {err}");
                previous.clone()
            }
        })
    }
}

pub struct TlsAcceptors {
    settings: TlsSettings,
    acceptor: Reloaded<TlsAcceptor>,
}

impl TlsAcceptors {
    /// Reads the stores; an error here stops the broker at start (it names the file).
    pub fn load(settings: &TlsSettings) -> Result<TlsAcceptors, String> {
        let generation = crate::signals::reload_generation();
        let config = server_config(settings)?;
        Ok(TlsAcceptors {
            settings: settings.clone(),
            acceptor: Reloaded::built_at(generation, TlsAcceptor::from(config)),
        })
    }

    /// The acceptor for a new connection, re-read from the files if SIGHUP came since.
    pub fn acceptor(&self) -> TlsAcceptor {
        let build = || server_config(&self.settings).map(TlsAcceptor::from);
        self.acceptor.get(build, &self.settings.keystore, "")
    }
}

/// The client side of [`TlsAcceptors`]: the connector for connections this broker opens to
/// other brokers or controllers, re-read from the files after SIGHUP.
pub struct TlsConnectors {
    settings: TlsSettings,
    connector: Reloaded<TlsConnector>,
}

impl TlsConnectors {
    /// Reads the stores; an error here stops the broker at start (it names the file).
    pub fn load(settings: &TlsSettings) -> Result<TlsConnectors, String> {
        let generation = crate::signals::reload_generation();
        let config = client_config(settings)?;
        Ok(TlsConnectors {
            settings: settings.clone(),
            connector: Reloaded::built_at(generation, TlsConnector::from(config)),
        })
    }

    /// The connector for a new connection, re-read from the files if SIGHUP came since.
    pub fn connector(&self) -> TlsConnector {
        let build = || client_config(&self.settings).map(TlsConnector::from);
        let what = " for connections to other brokers";
        self.connector.get(build, &self.settings.keystore, what)
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

pub fn server_config(settings: &TlsSettings) -> Result<Arc<ServerConfig>, String> {
    let chain = read_certificates(&settings.keystore)?;
    let key = PrivateKeyDer::from_pem_file(&settings.keystore).map_err(|err| {
        format!(
            "ssl.keystore.location {}: no usable private key (PKCS#8, PKCS#1 or SEC1 PEM, \
             unencrypted): {err}",
            settings.keystore.display()
        )
    })?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&protocol_versions(settings))
        .map_err(|err| format!("ssl.enabled.protocols: {err}"))?;
    let builder = match (settings.client_auth, &settings.truststore) {
        (ClientAuth::None, _) | (_, None) => builder.with_no_client_auth(),
        (auth, Some(truststore)) => {
            let roots = root_store(truststore)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
            let verifier = if auth == ClientAuth::Requested {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            let verifier = verifier
                .build()
                .map_err(|err| format!("ssl.truststore.location: {err}"))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder.with_single_cert(chain, key).map_err(|err| {
        format!(
            "ssl.keystore.location {}: the key does not fit the certificate: {err}",
            settings.keystore.display()
        )
    })?;
    Ok(Arc::new(config))
}

/// What this broker presents and trusts when it connects to another broker or controller:
/// the peer's certificate must chain to `ssl.truststore.location`, and this broker's own
/// `ssl.keystore.location` certificate goes along as its client certificate (so a listener
/// with `ssl.client.auth=required` accepts it). [`TlsConnectors`] re-reads it after SIGHUP.
pub fn client_config(settings: &TlsSettings) -> Result<Arc<ClientConfig>, String> {
    let truststore = settings.truststore.as_ref().ok_or_else(|| {
        "ssl.truststore.location: connecting to other brokers over TLS needs the CA \
         certificates their certificates chain to"
            .to_string()
    })?;
    let roots = root_store(truststore)?;
    let chain = read_certificates(&settings.keystore)?;
    let key = PrivateKeyDer::from_pem_file(&settings.keystore).map_err(|err| {
        format!(
            "ssl.keystore.location {}: no usable private key: {err}",
            settings.keystore.display()
        )
    })?;
    let config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&protocol_versions(settings))
        .map_err(|err| format!("ssl.enabled.protocols: {err}"))?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|err| {
            format!(
                "ssl.keystore.location {}: the key does not fit the certificate: {err}",
                settings.keystore.display()
            )
        })?;
    Ok(Arc::new(config))
}

fn protocol_versions(settings: &TlsSettings) -> Vec<&'static rustls::SupportedProtocolVersion> {
    let mut versions: Vec<&'static rustls::SupportedProtocolVersion> = Vec::new();
    if settings.tls12 {
        versions.push(&rustls::version::TLS12);
    }
    if settings.tls13 {
        versions.push(&rustls::version::TLS13);
    }
    versions
}

fn root_store(truststore: &Path) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    for certificate in read_certificates(truststore)? {
        roots
            .add(certificate)
            .map_err(|err| format!("ssl.truststore.location {}: {err}", truststore.display()))?;
    }
    Ok(roots)
}

fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let iter = CertificateDer::pem_file_iter(path)
        .map_err(|err| format!("{}: cannot read certificates: {err}", path.display()))?;
    let mut certificates = Vec::new();
    for certificate in iter {
        let certificate =
            certificate.map_err(|err| format!("{}: bad PEM certificate: {err}", path.display()))?;
        if certificates.len() == PEM_CERTIFICATES_MAX {
            return Err(format!(
                "{}: more than {PEM_CERTIFICATES_MAX} certificates",
                path.display()
            ));
        }
        certificates.push(certificate);
    }
    if certificates.is_empty() {
        return Err(format!("{}: holds no PEM certificate", path.display()));
    }
    Ok(certificates)
}
