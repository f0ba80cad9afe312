//! `Shard`: everything one executor owns: its partition logs (engine `LogManager`), its copy of
//! the topic metadata, its senders to the other shards, and the append notifier for long polls.
//! Lives on exactly one shard; handlers on that shard reach it through an `Rc`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use glommio::channels::shared_channel::ConnectedSender;
use glommio::sync::Semaphore;
use sluice_engine::{LogManager, PartitionLog};

use super::messages::{AdminOp, AdminResult, Reply, ShardRequest};
use super::metadata::METADATA_SHARD;
use super::notify::AppendNotify;
use super::ownership::owner_shard;
use super::service;
use crate::config::BrokerConfig;
use crate::topics::ClusterMeta;

#[derive(Debug, thiserror::Error)]
#[error("shard {0} is not answering (shutting down)")]
pub struct ShardDown(pub usize);

pub struct Shard {
    pub id: usize,
    pub shards: usize,
    pub config: Arc<BrokerConfig>,
    pub logs: Rc<LogManager>,
    pub notify: AppendNotify,
    /// Serialises metadata changes; only used on shard 0.
    pub admin_lock: Semaphore,
    meta: RefCell<Arc<ClusterMeta>>,
    /// Set once the process is asked to stop; wakes everything waiting in `stopping()`.
    stopped: Cell<bool>,
    stop_notify: AppendNotify,
    /// Indexed by shard id; None at our own index.
    peers: Vec<Option<ConnectedSender<ShardRequest>>>,
    /// Coordinator of the consumer groups whose `__consumer_offsets` partitions we own.
    pub groups: crate::group::runtime::GroupRuntime,
}

impl Shard {
    pub fn new(
        id: usize,
        config: Arc<BrokerConfig>,
        logs: Rc<LogManager>,
        meta: Arc<ClusterMeta>,
        peers: Vec<Option<ConnectedSender<ShardRequest>>>,
    ) -> Self {
        let shards = peers.len();
        assert!(id < shards);
        assert!(peers[id].is_none());
        let groups = crate::group::runtime::GroupRuntime::new(
            id,
            crate::group::GroupConfig::from_broker(&config),
        );
        Shard {
            id,
            shards,
            config,
            logs,
            notify: AppendNotify::default(),
            admin_lock: Semaphore::new(1),
            meta: RefCell::new(meta),
            stopped: Cell::new(false),
            stop_notify: AppendNotify::default(),
            peers,
            groups,
        }
    }

    /// The current topic metadata snapshot (cheap clone of an Arc).
    pub fn meta(&self) -> Arc<ClusterMeta> {
        self.meta.borrow().clone()
    }

    pub fn set_meta(&self, meta: Arc<ClusterMeta>) {
        *self.meta.borrow_mut() = meta;
    }

    pub fn owner_of(&self, topic: &str, partition: i32) -> usize {
        owner_shard(topic, partition, self.shards)
    }

    pub fn owns(&self, topic: &str, partition: i32) -> bool {
        self.owner_of(topic, partition) == self.id
    }

    pub fn log(&self, topic: &str, partition: i32) -> Option<Rc<PartitionLog>> {
        self.logs.get(topic, partition)
    }

    /// Starts this shard's shutdown: listeners stop accepting, connections stop reading.
    pub fn begin_stop(&self) {
        self.stopped.set(true);
        self.stop_notify.notify();
    }

    pub fn is_stopping(&self) -> bool {
        self.stopped.get()
    }

    /// Resolves once `begin_stop` has been called.
    pub async fn stopping(&self) {
        loop {
            let generation = self.stop_notify.generation();
            if self.stopped.get() {
                return;
            }
            self.stop_notify.changed_since(generation).await;
        }
    }

    /// Runs a metadata change on the metadata shard.
    pub async fn admin(self: &Rc<Self>, op: AdminOp) -> AdminResult {
        match self
            .call(METADATA_SHARD, |reply| ShardRequest::Admin { op, reply })
            .await
        {
            Ok(result) => result,
            Err(err) => Err((crate::kafka::errors::UNKNOWN_SERVER_ERROR, err.to_string())),
        }
    }

    /// Sends a request to shard `target` (or serves it here when it is us) and awaits the reply.
    /// Local and remote requests run the same service code.
    pub async fn call<R>(
        self: &Rc<Self>,
        target: usize,
        make: impl FnOnce(Reply<R>) -> ShardRequest,
    ) -> Result<R, ShardDown> {
        assert!(target < self.shards);
        let (reply, answer) = flume::bounded(1);
        let request = make(reply);
        if target == self.id {
            service::serve(self.clone(), request).await;
        } else {
            let sender = self.peers[target].as_ref().ok_or(ShardDown(target))?;
            if sender.send(request).await.is_err() {
                return Err(ShardDown(target));
            }
        }
        answer.recv_async().await.map_err(|_| ShardDown(target))
    }
}
