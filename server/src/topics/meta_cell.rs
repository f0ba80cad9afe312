//! `MetaCell`: a shard's current topic metadata snapshot. The metadata subsystem replaces it
//! when a change is applied; everyone else reads the snapshot it holds at that moment.
//! Lives on one shard (not `Send`); the snapshot itself is shared and immutable.

use std::cell::RefCell;
use std::sync::Arc;

use super::meta::ClusterMeta;

pub struct MetaCell {
    meta: RefCell<Arc<ClusterMeta>>,
}

impl MetaCell {
    pub fn new(meta: Arc<ClusterMeta>) -> MetaCell {
        MetaCell {
            meta: RefCell::new(meta),
        }
    }

    /// The current snapshot (a cheap clone of an `Arc`).
    pub fn get(&self) -> Arc<ClusterMeta> {
        self.meta.borrow().clone()
    }

    pub fn set(&self, meta: Arc<ClusterMeta>) {
        *self.meta.borrow_mut() = meta;
    }
}
