//! The accept loop of one shard. Every shard binds the same address with SO_REUSEPORT (glommio
//! sets it), so the kernel spreads connections across shards.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use futures_lite::future;
use glommio::net::TcpListener;

use super::connection;
use super::services::Services;

/// Pause after a failed accept (e.g. EMFILE) so the loop doesn't spin.
const ACCEPT_RETRY_MS: u64 = 50;

/// Accepts until the shard stops; returns the live-connection counter for draining.
pub async fn accept_loop(services: Rc<Services>, listener: TcpListener) -> Rc<Cell<usize>> {
    let open = Rc::new(Cell::new(0usize));
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
                let open = open.clone();
                open.set(open.get() + 1);
                glommio::spawn_local(async move {
                    connection::serve(services, stream).await;
                    open.set(open.get() - 1);
                })
                .detach();
            }
            Some(Err(err)) => {
                tracing::warn!("accept failed: {err}");
                glommio::timer::sleep(Duration::from_millis(ACCEPT_RETRY_MS)).await;
            }
        }
    }
    open
}
