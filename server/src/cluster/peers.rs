//! Outbound connections to the other voters, one each, carrying this node's Raft messages.
//! Sending never waits: a message goes into the peer's bounded queue, and a task per peer
//! writes the queue to its connection, reconnecting after failures. While a peer is down its
//! queue keeps the newest messages only; Raft retransmits whatever was lost.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use super::controller_tls::{self, ControllerTls};
use super::settings::ClusterSettings;
use super::wire::{encode_frame, encode_json, FrameKind, Hello};
use crate::limits::{CONTROLLER_PEER_QUEUE_MAX, CONTROLLER_RETRY_MS};
use crate::shard::context::ShardContext;
use crate::shard::notify::Notify;
use crate::tls::PeerStream;

struct PeerQueue {
    address: SocketAddr,
    /// As written in `controller.quorum.voters` (what its certificate names).
    host: String,
    messages: RefCell<VecDeque<Vec<u8>>>,
    queued: Notify,
}

pub struct Peers {
    queues: BTreeMap<i32, Rc<PeerQueue>>,
}

impl Peers {
    /// Starts one sender task per peer (every voter but `hello.node_id`).
    pub fn start(
        ctx: &Rc<ShardContext>,
        hello: Hello,
        settings: &ClusterSettings,
        tls: Option<Rc<ControllerTls>>,
        voters: &[(i32, SocketAddr)],
    ) -> Rc<Peers> {
        let mut queues = BTreeMap::new();
        for &(node_id, address) in voters {
            if node_id == hello.node_id {
                continue;
            }
            let queue = Rc::new(PeerQueue {
                address,
                host: settings.voter_host(node_id, address),
                messages: RefCell::new(VecDeque::new()),
                queued: Notify::default(),
            });
            glommio::spawn_local(send_loop(
                ctx.clone(),
                hello.clone(),
                tls.clone(),
                node_id,
                queue.clone(),
            ))
            .detach();
            queues.insert(node_id, queue);
        }
        Rc::new(Peers { queues })
    }

    /// Queues a Raft message for `to`; unknown peers are ignored (Raft only sends to voters).
    pub fn send(&self, to: i32, message: Vec<u8>) {
        let Some(queue) = self.queues.get(&to) else {
            tracing::warn!(to, "dropping a raft message for a node that is not a voter");
            return;
        };
        let mut messages = queue.messages.borrow_mut();
        if messages.len() >= CONTROLLER_PEER_QUEUE_MAX {
            messages.pop_front();
        }
        messages.push_back(encode_frame(FrameKind::Raft, 0, &message));
        drop(messages);
        queue.queued.notify();
    }
}

async fn send_loop(
    ctx: Rc<ShardContext>,
    hello: Hello,
    tls: Option<Rc<ControllerTls>>,
    peer: i32,
    queue: Rc<PeerQueue>,
) {
    let hello_frame = encode_frame(FrameKind::Hello, 0, &encode_json(&hello));
    let mut logged_down = false;
    while !ctx.is_stopping() {
        let connected = controller_tls::connect(tls.as_deref(), &queue.host, queue.address).await;
        let mut stream = match connected {
            Ok(stream) => stream,
            Err(err) => {
                if !logged_down {
                    tracing::info!(peer, address = %queue.address, "controller peer unreachable: {err}");
                    logged_down = true;
                }
                glommio::timer::sleep(Duration::from_millis(CONTROLLER_RETRY_MS)).await;
                continue;
            }
        };
        if logged_down {
            tracing::info!(peer, address = %queue.address, "controller peer reachable");
            logged_down = false;
        }
        if let Err(err) = write_all(&mut stream, &hello_frame).await {
            tracing::debug!(peer, "controller peer connection failed: {err}");
            continue;
        }
        loop {
            let generation = queue.queued.generation();
            let batch: Vec<Vec<u8>> = queue.messages.borrow_mut().drain(..).collect();
            if batch.is_empty() {
                let stopped = futures_lite::future::or(
                    async {
                        queue.queued.changed_since(generation).await;
                        false
                    },
                    async {
                        ctx.stopping().await;
                        true
                    },
                )
                .await;
                if stopped {
                    return;
                }
                continue;
            }
            let bytes: Vec<u8> = batch.concat();
            if let Err(err) = write_all(&mut stream, &bytes).await {
                tracing::debug!(peer, "controller peer connection failed: {err}");
                break;
            }
        }
    }
}

async fn write_all(stream: &mut Box<dyn PeerStream>, bytes: &[u8]) -> std::io::Result<()> {
    use futures_lite::AsyncWriteExt;
    stream.write_all(bytes).await?;
    stream.flush().await
}
