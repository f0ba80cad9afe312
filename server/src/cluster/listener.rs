//! The controller listener: accepts connections from the other nodes on the controller shard.
//! A connection says hello first (its cluster and node); after that it carries Raft messages
//! and controller requests. Anything malformed, or a peer of another cluster, closes it with
//! one log line.

use std::rc::Rc;

use futures_lite::future;
use glommio::net::TcpListener;

use super::controller_tls::{self, ControllerTls};
use super::raft_node::RaftNode;
use super::wire::{
    decode_json, encode_json, read_frame, write_frame, ControllerRequest, FrameKind, Hello,
    WireError,
};
use crate::shard::context::ShardContext;
use crate::tls::PeerStream;

/// Accepts controller connections until the shard stops; with `tls`, a connection must
/// complete mutual TLS first (a refused one is closed with one log line).
pub async fn accept_loop(
    ctx: Rc<ShardContext>,
    node: Rc<RaftNode>,
    tls: Option<Rc<ControllerTls>>,
    listener: TcpListener,
) {
    loop {
        let accepted = future::or(async { Some(listener.accept().await) }, async {
            ctx.stopping().await;
            None
        })
        .await;
        match accepted {
            None => return,
            Some(Ok(stream)) => {
                let node = node.clone();
                let ctx = ctx.clone();
                let tls = tls.clone();
                glommio::spawn_local(async move {
                    let peer = stream.peer_addr().ok();
                    let stream = match controller_tls::accept(tls.as_deref(), stream).await {
                        Ok(stream) => stream,
                        Err(err) => {
                            tracing::warn!(peer = ?peer, "closing controller connection: {err}");
                            return;
                        }
                    };
                    let served = future::or(serve(node, stream), async {
                        ctx.stopping().await;
                        Ok(())
                    })
                    .await;
                    if let Err(err) = served {
                        tracing::warn!(peer = ?peer, "closing controller connection: {err}");
                    }
                })
                .detach();
            }
            Some(Err(err)) => {
                tracing::warn!("controller listener accept failed: {err}");
                glommio::timer::sleep(std::time::Duration::from_millis(
                    crate::limits::CONTROLLER_RETRY_MS,
                ))
                .await;
            }
        }
    }
}

async fn serve(node: Rc<RaftNode>, mut stream: Box<dyn PeerStream>) -> Result<(), WireError> {
    let hello = read_frame(&mut stream).await?;
    if hello.kind != FrameKind::Hello {
        return Err(WireError::UnknownKind(hello.kind as u8));
    }
    let hello: Hello = decode_json("hello", &hello.payload)?;
    let settings = node.settings();
    if hello.cluster_id != settings.cluster_id {
        tracing::warn!(
            peer_node = hello.node_id,
            peer_cluster = %hello.cluster_id,
            cluster = %settings.cluster_id,
            "refusing a controller connection from another cluster"
        );
        return Ok(());
    }
    loop {
        let frame = match read_frame(&mut stream).await {
            Ok(frame) => frame,
            Err(WireError::Closed) => return Ok(()),
            Err(err) => return Err(err),
        };
        match frame.kind {
            FrameKind::Raft => {
                if let Err(err) = node.step(hello.node_id, &frame.payload) {
                    tracing::warn!(
                        peer_node = hello.node_id,
                        "closing controller connection: bad raft message: {err}"
                    );
                    return Ok(());
                }
            }
            FrameKind::Request => {
                let request: ControllerRequest = decode_json("controller request", &frame.payload)?;
                let reply = node.execute(request).await;
                write_frame(
                    &mut stream,
                    FrameKind::Reply,
                    frame.correlation_id,
                    &encode_json(&reply),
                )
                .await?;
            }
            FrameKind::Hello | FrameKind::Reply => {
                return Err(WireError::UnknownKind(frame.kind as u8))
            }
        }
    }
}
