//! Cross-shard calls of one subsystem: a request goes to the target shard over a glommio shared
//! channel (a lock-free single-producer ring), and the reply comes back over a second channel
//! into a reply slot on the caller's shard. Nothing is locked and nothing is allocated per call:
//! slots live in a reusable table owned by the calling shard (see `reply_slots`).
//!
//! Each subsystem builds its own mesh with its own request and reply types
//! ([`new_meshes`] on the main thread, [`MeshEnds::connect`] on each shard, [`Mesh::serve`] to
//! answer), so adding a subsystem never edits a shared enum. A mesh never serves a call to its
//! own shard: the subsystem runs that one inline, on the same code path as a served request.

use std::future::Future;
use std::rc::Rc;

use glommio::channels::shared_channel::{
    self, ConnectedReceiver, ConnectedSender, SharedReceiver, SharedSender,
};

use super::reply_slots::{PendingReply, ReplySlots, SlotId};
use crate::limits::MESH_CHANNEL_CAPACITY;
use crate::util::join_all;

#[derive(Debug, thiserror::Error)]
#[error("shard {0} is not answering (shutting down)")]
pub struct ShardDown(pub usize);

/// What travels on a mesh channel: a request or a reply, tagged with the caller's slot.
pub struct Envelope<T> {
    slot: SlotId,
    value: T,
}

/// The wait for the reply of a request already sent ([`Mesh::send`]); owns its slot, so it
/// may be awaited by another task than the sender.
pub struct Reply<Resp> {
    target: usize,
    pending: PendingReply<Resp>,
}

impl<Resp> std::future::Future for Reply<Resp> {
    type Output = Result<Resp, ShardDown>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let target = self.target;
        std::pin::Pin::new(&mut self.pending)
            .poll(cx)
            .map(|reply| reply.ok_or(ShardDown(target)))
    }
}

/// The owner side of a mesh: how a shard answers its peers' requests.
pub trait Handler<Req, Resp>: 'static {
    /// Answers one request from a peer.
    fn handle(self: Rc<Self>, request: Req) -> impl Future<Output = Resp> + 'static;
    /// True when `request` must be served in arrival order (inline in the peer's receive
    /// loop, e.g. appends); otherwise it runs as its own task.
    fn in_order(request: &Req) -> bool;
}

/// One shard's unconnected ends of a mesh; `Send`, built on the main thread.
pub struct MeshEnds<Req: Send + 'static, Resp: Send + 'static> {
    id: usize,
    shards: usize,
    /// Indexed by peer shard; None at our own index.
    requests_out: Vec<Option<SharedSender<Envelope<Req>>>>,
    replies_out: Vec<Option<SharedSender<Envelope<Resp>>>>,
    /// (peer, receiver) pairs.
    requests_in: Vec<(usize, SharedReceiver<Envelope<Req>>)>,
    replies_in: Vec<(usize, SharedReceiver<Envelope<Resp>>)>,
}

/// Builds the channels of one mesh among `shards` shards: one request channel and one reply
/// channel per ordered pair. Returns each shard's ends, indexed by shard id.
pub fn new_meshes<Req: Send + 'static, Resp: Send + 'static>(
    shards: usize,
) -> Vec<MeshEnds<Req, Resp>> {
    assert!(shards > 0);
    let mut ends: Vec<MeshEnds<Req, Resp>> = (0..shards)
        .map(|id| MeshEnds {
            id,
            shards,
            requests_out: (0..shards).map(|_| None).collect(),
            replies_out: (0..shards).map(|_| None).collect(),
            requests_in: Vec::new(),
            replies_in: Vec::new(),
        })
        .collect();
    for from in 0..shards {
        for to in 0..shards {
            if from == to {
                continue;
            }
            let (request_tx, request_rx) = shared_channel::new_bounded(MESH_CHANNEL_CAPACITY);
            ends[from].requests_out[to] = Some(request_tx);
            ends[to].requests_in.push((from, request_rx));
            // Replies to `from`'s calls flow back from `to`.
            let (reply_tx, reply_rx) = shared_channel::new_bounded(MESH_CHANNEL_CAPACITY);
            ends[to].replies_out[from] = Some(reply_tx);
            ends[from].replies_in.push((to, reply_rx));
        }
    }
    ends
}

type Inbound<T> = Vec<(usize, ConnectedReceiver<Envelope<T>>)>;

impl<Req: Send + 'static, Resp: Send + 'static> MeshEnds<Req, Resp> {
    /// Connects this shard's ends (on the shard's own executor; every shard must connect).
    pub async fn connect(self) -> Rc<Mesh<Req, Resp>> {
        // Every end connects at once: a sender's connect waits for its receiver's, on another
        // shard that is connecting its own ends meanwhile.
        let senders = futures_lite::future::zip(
            join_all(self.requests_out.into_iter().map(connect_sender).collect()),
            join_all(self.replies_out.into_iter().map(connect_sender).collect()),
        );
        let receivers = futures_lite::future::zip(
            join_all(self.requests_in.into_iter().map(connect_receiver).collect()),
            join_all(self.replies_in.into_iter().map(connect_receiver).collect()),
        );
        let ((requests_out, replies_out), (requests_in, replies_in)) =
            futures_lite::future::zip(senders, receivers).await;
        let mesh = Rc::new(Mesh {
            id: self.id,
            shards: self.shards,
            requests_out,
            replies_out,
            slots: Rc::new(ReplySlots::default()),
            requests_in: std::cell::RefCell::new(Some(requests_in)),
        });
        for (peer, receiver) in replies_in {
            glommio::spawn_local(mesh.clone().receive_replies(peer, receiver)).detach();
        }
        mesh
    }
}

async fn connect_sender<T: Send + 'static>(
    sender: Option<SharedSender<T>>,
) -> Option<ConnectedSender<T>> {
    match sender {
        Some(sender) => Some(sender.connect().await),
        None => None,
    }
}

async fn connect_receiver<T: Send + 'static>(
    (peer, receiver): (usize, SharedReceiver<T>),
) -> (usize, ConnectedReceiver<T>) {
    (peer, receiver.connect().await)
}

/// One shard's connected mesh of a subsystem. Lives on that shard only.
pub struct Mesh<Req: Send + 'static, Resp: Send + 'static> {
    id: usize,
    shards: usize,
    requests_out: Vec<Option<ConnectedSender<Envelope<Req>>>>,
    replies_out: Vec<Option<ConnectedSender<Envelope<Resp>>>>,
    slots: Rc<ReplySlots<Resp>>,
    /// Taken by `serve`.
    requests_in: std::cell::RefCell<Option<Inbound<Req>>>,
}

impl<Req: Send + 'static, Resp: Send + 'static> Mesh<Req, Resp> {
    pub fn shard_id(&self) -> usize {
        self.id
    }

    pub fn shards(&self) -> usize {
        self.shards
    }

    /// Starts answering peers' requests with `handler`. Call once per shard.
    pub fn serve<H: Handler<Req, Resp>>(self: &Rc<Self>, handler: Rc<H>) {
        let inbound = self.requests_in.borrow_mut().take();
        let inbound = inbound.unwrap_or_else(|| panic!("mesh of shard {} served twice", self.id));
        for (peer, receiver) in inbound {
            glommio::spawn_local(
                self.clone()
                    .receive_requests(peer, receiver, handler.clone()),
            )
            .detach();
        }
    }

    /// Sends `request` to shard `target` (never this shard) and waits for its reply.
    pub async fn call(&self, target: usize, request: Req) -> Result<Resp, ShardDown> {
        self.send(target, request).await?.await
    }

    /// Queues `request` on shard `target` (never this shard) and returns the wait for its
    /// reply. Requests sent one after another reach `target` in that order, so a caller can
    /// queue ordered work (appends) in its own turn and collect the replies later.
    pub async fn send(&self, target: usize, request: Req) -> Result<Reply<Resp>, ShardDown> {
        assert!(target < self.shards);
        assert_ne!(target, self.id, "a shard serves its own calls inline");
        let sender = self.requests_out[target]
            .as_ref()
            .ok_or(ShardDown(target))?;
        let pending = self.slots.acquire(target);
        let envelope = Envelope {
            slot: pending.slot(),
            value: request,
        };
        if sender.send(envelope).await.is_err() {
            return Err(ShardDown(target));
        }
        Ok(Reply { target, pending })
    }

    async fn receive_requests<H: Handler<Req, Resp>>(
        self: Rc<Self>,
        peer: usize,
        receiver: ConnectedReceiver<Envelope<Req>>,
        handler: Rc<H>,
    ) {
        while let Some(Envelope { slot, value }) = receiver.recv().await {
            if H::in_order(&value) {
                let reply = handler.clone().handle(value).await;
                self.send_reply(peer, slot, reply).await;
            } else {
                let mesh = self.clone();
                let answer = handler.clone().handle(value);
                glommio::spawn_local(async move {
                    let reply = answer.await;
                    mesh.send_reply(peer, slot, reply).await;
                })
                .detach();
            }
        }
    }

    async fn send_reply(&self, peer: usize, slot: SlotId, value: Resp) {
        let Some(sender) = self.replies_out[peer].as_ref() else {
            unreachable!("shard {} has no reply channel to itself", self.id);
        };
        // An error means the caller's shard has stopped: nobody is waiting any more.
        sender.send(Envelope { slot, value }).await.ok();
    }

    async fn receive_replies(
        self: Rc<Self>,
        peer: usize,
        receiver: ConnectedReceiver<Envelope<Resp>>,
    ) {
        while let Some(Envelope { slot, value }) = receiver.recv().await {
            self.slots.fill(slot, value);
        }
        // The peer is gone: its unanswered calls will never be.
        self.slots.fail_target(peer);
    }
}
