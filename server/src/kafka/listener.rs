//! The accept loops of one shard, one per client listener. Every shard binds the same
//! addresses with SO_REUSEPORT (glommio sets it), so the kernel spreads connections across
//! shards. Each listener has its security protocol: TLS first, then SASL, as configured.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use futures_lite::future;
use glommio::net::TcpListener;
use sluice_security::principal_mapping::PrincipalMapper;

use super::connection;
use super::services::Services;
use crate::config::{ClientListener, SecurityProtocol, SecuritySettings};
use crate::tls::TlsAcceptors;

/// Pause after a failed accept (e.g. EMFILE) so the loop doesn't spin.
const ACCEPT_RETRY_MS: u64 = 50;

/// One client listener as this shard serves it.
pub struct ListenerContext {
    pub name: String,
    pub protocol: SecurityProtocol,
    /// What Metadata advertises for this broker to clients of this listener (None: the
    /// address the client reached).
    pub advertised: Option<(String, i32)>,
    pub tls: Option<TlsAcceptors>,
    /// `ssl.principal.mapping.rules` for client certificates (TLS listeners).
    pub principal_mapper: Option<PrincipalMapper>,
}

impl ListenerContext {
    /// Errors (unreadable certificates, bad mapping rules) stop the broker at start.
    pub fn build(
        listener: &ClientListener,
        security: &SecuritySettings,
    ) -> Result<ListenerContext, String> {
        let (tls, principal_mapper) = match (&security.tls, listener.protocol.uses_tls()) {
            (Some(settings), true) => {
                let mapper = PrincipalMapper::parse(&settings.principal_mapping_rules)
                    .map_err(|err| format!("ssl.principal.mapping.rules: {err}"))?;
                (Some(TlsAcceptors::load(settings)?), Some(mapper))
            }
            (None, true) => {
                return Err(format!(
                    "listener {} uses TLS but no ssl.keystore.location is set",
                    listener.name
                ))
            }
            (_, false) => (None, None),
        };
        Ok(ListenerContext {
            name: listener.name.clone(),
            protocol: listener.protocol,
            advertised: listener
                .advertised
                .as_ref()
                .map(|e| (e.host.clone(), i32::from(e.port))),
            tls,
            principal_mapper,
        })
    }
}

/// Accepts until the shard stops, counting live connections in `open` (for draining).
pub async fn accept_loop(
    services: Rc<Services>,
    context: Rc<ListenerContext>,
    listener: TcpListener,
    open: Rc<Cell<usize>>,
) {
    loop {
        let accepted = future::or(async { Some(listener.accept().await) }, async {
            services.ctx.stopping().await;
            None
        })
        .await;
        match accepted {
            None => break,
            Some(Ok(stream)) => {
                let services = services.clone();
                let context = context.clone();
                let open = open.clone();
                open.set(open.get() + 1);
                glommio::spawn_local(async move {
                    connection::serve(services, context, stream).await;
                    open.set(open.get() - 1);
                })
                .detach();
            }
            Some(Err(err)) => {
                tracing::warn!(listener = %context.name, "accept failed: {err}");
                glommio::timer::sleep(Duration::from_millis(ACCEPT_RETRY_MS)).await;
            }
        }
    }
}
