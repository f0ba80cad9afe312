//! Mutual TLS on the controller listener, when `controller.listener.names`' listener maps to
//! SSL: the listener requires a client certificate that chains to `ssl.truststore.location`,
//! and this node connects to the other voters with TLS, verifying their certificate and
//! presenting its own (`ssl.keystore.location`). Without it (PLAINTEXT, the default) the
//! streams are plain TCP.
//!
//! Lives on the controller shard. Both sides' certificates are re-read after SIGHUP: the
//! listener's at its next accepted connection, as the client listeners' are, and the client's
//! (the CAs it trusts, the certificate it presents) at the next connection it opens.

use std::net::SocketAddr;
use std::time::Duration;

use futures_lite::future;
use glommio::net::TcpStream;
use rustls_pki_types::ServerName;

use crate::config::security::{ClientAuth, TlsSettings};
use crate::limits::TLS_HANDSHAKE_MS_MAX;
use crate::tls::{PeerStream, TlsAcceptors, TlsConnectors};

pub struct ControllerTls {
    acceptors: TlsAcceptors,
    connectors: TlsConnectors,
}

impl ControllerTls {
    /// Reads the stores; errors stop the node at start (they name the file).
    pub fn load(settings: &TlsSettings) -> Result<ControllerTls, String> {
        // Whatever the client listeners ask of their clients, controllers always prove who
        // they are: anyone who can speak this protocol can rewrite the cluster's metadata.
        let mut server = settings.clone();
        server.client_auth = ClientAuth::Required;
        let acceptors =
            TlsAcceptors::load(&server).map_err(|err| format!("controller listener TLS: {err}"))?;
        let connectors =
            TlsConnectors::load(settings).map_err(|err| format!("controller peers' TLS: {err}"))?;
        Ok(ControllerTls {
            acceptors,
            connectors,
        })
    }
}

/// The accepted connection, after the TLS handshake when `tls` is on (within
/// `TLS_HANDSHAKE_MS_MAX`); an error says why the peer is refused.
pub async fn accept(
    tls: Option<&ControllerTls>,
    stream: TcpStream,
) -> Result<Box<dyn PeerStream>, String> {
    let _ = stream.set_nodelay(true);
    let Some(tls) = tls else {
        return Ok(Box::new(stream));
    };
    let handshake = future::or(
        async { Some(tls.acceptors.acceptor().accept(stream).await) },
        async {
            glommio::timer::sleep(Duration::from_millis(TLS_HANDSHAKE_MS_MAX)).await;
            None
        },
    );
    match handshake.await {
        Some(Ok(stream)) => Ok(Box::new(stream)),
        Some(Err(err)) => Err(format!(
            "TLS handshake failed ({err}); controllers need a certificate that chains to \
             ssl.truststore.location"
        )),
        None => Err(format!("no TLS handshake within {TLS_HANDSHAKE_MS_MAX} ms")),
    }
}

/// Connects to the voter at `address` (written as `host` in `controller.quorum.voters`, the
/// name its certificate must carry), with TLS when `tls` is on.
pub async fn connect(
    tls: Option<&ControllerTls>,
    host: &str,
    address: SocketAddr,
) -> std::io::Result<Box<dyn PeerStream>> {
    let stream = TcpStream::connect(address).await?;
    let _ = stream.set_nodelay(true);
    let Some(tls) = tls else {
        return Ok(Box::new(stream));
    };
    let name = ServerName::try_from(host.to_string()).map_err(|err| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{host:?} is not a host name for TLS: {err}"),
        )
    })?;
    let handshake = future::or(
        async { Some(tls.connectors.connector().connect(name, stream).await) },
        async {
            glommio::timer::sleep(Duration::from_millis(TLS_HANDSHAKE_MS_MAX)).await;
            None
        },
    );
    match handshake.await {
        Some(stream) => Ok(Box::new(stream?)),
        None => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no TLS handshake with {address} within {TLS_HANDSHAKE_MS_MAX} ms"),
        )),
    }
}
