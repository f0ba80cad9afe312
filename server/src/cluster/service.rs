//! `ClusterService`: the cluster subsystem's face on the controller shard. It starts the
//! quorum member (and, with several voters, its peers and controller listener), routes
//! controller requests to the active controller wherever it is, and hands out the metadata
//! image.

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use glommio::net::TcpListener;
use sluice_controller::image::MetadataImage;

use super::controller_tls::ControllerTls;
use super::lifecycle::BrokerState;
use super::peers::Peers;
use super::raft_node::RaftNode;
use super::settings::ClusterSettings;
use super::wire::{ControllerReply, ControllerRequest, Hello};
use super::{listener, rpc_client};
use crate::error_code::ResponseError;
use crate::limits::{CONTROLLER_REQUEST_MS_MAX, CONTROLLER_RETRY_MS};
use crate::shard::context::ShardContext;
use crate::shard::notify::Notify;

/// Pending controller connections the listening socket queues before accepting.
const CONTROLLER_LISTEN_BACKLOG: i32 = 128;

/// The controller listener: one socket, bound without SO_REUSEPORT (which glommio's
/// `TcpListener::bind` sets), so that a port another process holds fails with "address in use"
/// instead of both processes sharing its connections.
fn listen_exclusively(address: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    use std::os::fd::{FromRawFd, IntoRawFd};
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(address),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    // As std's listeners: a restart may bind while the last run's connections sit in
    // TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.bind(&address.into())?;
    socket.listen(CONTROLLER_LISTEN_BACKLOG)?;
    // SAFETY: the fd is a bound, listening socket whose ownership moves to the listener.
    Ok(unsafe { TcpListener::from_raw_fd(socket.into_raw_fd()) })
}

pub struct ClusterService {
    ctx: Rc<ShardContext>,
    /// Some: controller connections use mutual TLS.
    tls: Option<Rc<ControllerTls>>,
    node: Rc<RaftNode>,
    hello: Hello,
    broker: Rc<BrokerState>,
}

impl ClusterService {
    /// Opens the metadata log and starts the quorum member; errors are fatal at start.
    pub fn start(
        ctx: Rc<ShardContext>,
        settings: ClusterSettings,
    ) -> Result<Rc<ClusterService>, String> {
        let settings = Rc::new(settings);
        let hello = Hello {
            cluster_id: settings.cluster_id.clone(),
            node_id: settings.node_id,
        };
        let listener = match settings.controller_listen {
            Some(address) => Some(
                listen_exclusively(address)
                    .map_err(|err| format!("cannot listen for controllers on {address}: {err}"))?,
            ),
            None => None,
        };
        let tls = match &settings.controller_tls {
            Some(tls) => Some(Rc::new(ControllerTls::load(tls)?)),
            None => None,
        };
        let voters = settings.voters_with_addresses();
        let peers = (!voters.is_empty())
            .then(|| Peers::start(&ctx, hello.clone(), &settings, tls.clone(), &voters));
        let node = RaftNode::open(ctx.clone(), settings.clone(), peers)?;
        glommio::spawn_local(node.clone().run()).detach();
        if let Some(listener) = listener {
            glommio::spawn_local(listener::accept_loop(
                ctx.clone(),
                node.clone(),
                tls.clone(),
                listener,
            ))
            .detach();
        }
        Ok(Rc::new(ClusterService {
            ctx,
            tls,
            node,
            hello,
            broker: Rc::new(BrokerState::default()),
        }))
    }

    pub fn settings(&self) -> &Rc<ClusterSettings> {
        self.node.settings()
    }

    pub fn node_id(&self) -> i32 {
        self.hello.node_id
    }

    pub fn image(&self) -> Arc<MetadataImage> {
        self.node.image()
    }

    pub fn image_changed(&self) -> &Notify {
        self.node.image_changed()
    }

    pub fn controller_id(&self) -> Option<i32> {
        self.node.leader()
    }

    pub fn raft(&self) -> &Rc<RaftNode> {
        &self.node
    }

    pub fn broker(&self) -> &Rc<BrokerState> {
        &self.broker
    }

    pub fn ctx(&self) -> &Rc<ShardContext> {
        &self.ctx
    }

    /// Sends `request` to the active controller (this node or another), following redirects
    /// and waiting out elections, for at most `CONTROLLER_REQUEST_MS_MAX`.
    pub async fn request(&self, request: ControllerRequest) -> ControllerReply {
        let deadline = Instant::now() + Duration::from_millis(CONTROLLER_REQUEST_MS_MAX);
        let mut hint: Option<i32> = None;
        loop {
            let leader = hint.take().or_else(|| self.node.leader());
            let reply = match leader {
                Some(id) if id == self.hello.node_id => self.node.execute(request.clone()).await,
                Some(id) => match self.node.settings().voter_address(id) {
                    Some(address) => {
                        let left = deadline.saturating_duration_since(Instant::now());
                        let host = self.node.settings().voter_host(id, address);
                        let tls = self.tls.as_deref();
                        let target = rpc_client::Target {
                            address,
                            host: &host,
                            tls,
                        };
                        match rpc_client::call(target, &self.hello, &request, left).await {
                            Ok(reply) => reply,
                            Err(err) => {
                                tracing::debug!(
                                    controller = id,
                                    "controller request failed: {err}"
                                );
                                ControllerReply::NotController { leader: None }
                            }
                        }
                    }
                    None => ControllerReply::NotController { leader: None },
                },
                None => ControllerReply::NotController { leader: None },
            };
            match reply {
                ControllerReply::NotController { leader: redirect } => {
                    if Instant::now() >= deadline || self.ctx.is_stopping() {
                        return ControllerReply::Refused {
                            code: ResponseError::NotController.code(),
                            message: "no active controller answered in time".to_string(),
                        };
                    }
                    // A redirect to another node is followed at once; otherwise wait for the
                    // election to settle.
                    match redirect {
                        Some(next) if Some(next) != leader => hint = Some(next),
                        _ => {
                            glommio::timer::sleep(Duration::from_millis(CONTROLLER_RETRY_MS)).await
                        }
                    }
                }
                reply => return reply,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_controller_port_in_a_reuseport_group_is_refused_as_in_use() {
        // What another broker's glommio listener holds: a socket with SO_REUSEPORT.
        let other = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("a socket");
        other.set_reuse_port(true).expect("SO_REUSEPORT");
        let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        other.bind(&loopback.into()).expect("bind");
        other.listen(8).expect("listen");
        let taken = other
            .local_addr()
            .expect("bound")
            .as_socket()
            .expect("inet");
        let (done, finished) = std::sync::mpsc::channel();
        let handle = glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
            .name("controller-listen-test")
            .io_memory(2 << 20)
            .spawn(move || async move {
                let refused = listen_exclusively(taken).err().map(|err| err.kind());
                let free = listen_exclusively(loopback)
                    .map(|_| ())
                    .map_err(|err| err.kind());
                done.send((refused, free)).expect("the test thread waits");
            })
            .expect("spawn executor");
        let (refused, free) = finished
            .recv_timeout(Duration::from_secs(60))
            .expect("the test finished in time");
        handle.join().expect("executor thread");
        assert_eq!(refused, Some(std::io::ErrorKind::AddrInUse));
        assert_eq!(free, Ok(()));
    }
}
