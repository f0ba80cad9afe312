//! `ReplicaFetcher`: the follower side of one shard. It watches the roles of the shard's
//! partitions and keeps one stream (`stream.rs`) per leader broker that this shard follows
//! partitions from; a stream ends when it has no partition left.
//!
//! Lives on one shard; started once by the broker.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use crate::config::BrokerConfig;
use crate::partition::{Partition, Partitions};
use crate::shard::context::ShardContext;
use crate::topics::MetaCell;

/// How often the fetcher looks at roles without being woken (role changes wake it).
const ROLE_CHECK_INTERVAL_MS: u64 = 500;

pub struct ReplicaFetcher {
    pub(super) ctx: Rc<ShardContext>,
    pub(super) config: Arc<BrokerConfig>,
    pub(super) meta: Rc<MetaCell>,
    pub(super) partitions: Rc<Partitions>,
    /// Leaders with a running stream.
    streams: RefCell<BTreeSet<i32>>,
}

impl ReplicaFetcher {
    pub fn new(
        ctx: Rc<ShardContext>,
        config: Arc<BrokerConfig>,
        meta: Rc<MetaCell>,
        partitions: Rc<Partitions>,
    ) -> Rc<ReplicaFetcher> {
        Rc::new(ReplicaFetcher {
            ctx,
            config,
            meta,
            partitions,
            streams: RefCell::new(BTreeSet::new()),
        })
    }

    /// Runs until the shard stops: starts a stream for every leader that has none.
    pub async fn run(self: Rc<Self>) {
        while !self.ctx.is_stopping() {
            let generation = self.partitions.roles_notify().generation();
            for leader in self.followed_leaders() {
                if self.streams.borrow_mut().insert(leader) {
                    let fetcher = self.clone();
                    glommio::spawn_local(async move {
                        super::stream::run(&fetcher, leader).await;
                        fetcher.streams.borrow_mut().remove(&leader);
                    })
                    .detach();
                }
            }
            let changed = self.partitions.roles_notify().changed_since(generation);
            let tick = glommio::timer::sleep(Duration::from_millis(ROLE_CHECK_INTERVAL_MS));
            futures_lite::future::or(changed, tick).await;
        }
    }

    /// Every broker this shard follows a partition from.
    fn followed_leaders(&self) -> BTreeSet<i32> {
        self.partitions
            .all()
            .iter()
            .filter_map(|p| p.follower_view().map(|view| view.leader))
            .collect()
    }

    /// The partitions this shard follows from `leader`.
    pub(super) fn following(&self, leader: i32) -> Vec<Rc<Partition>> {
        self.partitions
            .all()
            .into_iter()
            .filter(|p| p.follower_view().is_some_and(|view| view.leader == leader))
            .collect()
    }
}
