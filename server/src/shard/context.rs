//! `ShardContext`: what every subsystem on a shard may know about the shard itself: its id,
//! how many shards there are, which shard owns a partition, and whether the shard is stopping.
//! Lives on exactly one shard; shared there through an `Rc`.

use super::notify::Notify;
use super::ownership::owner_shard;

pub struct ShardContext {
    id: usize,
    shards: usize,
    /// Set once the process is asked to stop; wakes everything waiting in `stopping()`.
    stopped: std::cell::Cell<bool>,
    stop_notify: Notify,
}

impl ShardContext {
    pub fn new(id: usize, shards: usize) -> ShardContext {
        assert!(shards > 0);
        assert!(id < shards);
        ShardContext {
            id,
            shards,
            stopped: std::cell::Cell::new(false),
            stop_notify: Notify::default(),
        }
    }

    pub fn id(&self) -> usize {
        self.id
    }

    pub fn shards(&self) -> usize {
        self.shards
    }

    /// The shard owning `topic`/`partition` (the same on every shard).
    pub fn owner_of(&self, topic: &str, partition: i32) -> usize {
        owner_shard(topic, partition, self.shards)
    }

    pub fn owns(&self, topic: &str, partition: i32) -> bool {
        self.owner_of(topic, partition) == self.id
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
}
