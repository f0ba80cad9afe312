//! The per-shard batch cache: recently appended batches kept as `Bytes`, so tail reads make no
//! disk read and no copy.
//!
//! Each partition's cached batches are a contiguous suffix of its log (appends push at the back,
//! eviction pops at the front, truncation pops at the back). Batches at or above the partition's
//! `written_offset` are pinned: they may exist only in write-behind buffers, so the cache is the
//! only place a read can get them from. Pinned bytes are bounded by the write buffer pool.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use bytes::Bytes;

/// One shard's cache budget and eviction order.
pub(crate) struct BatchCache {
    bytes_max: usize,
    bytes_used: Cell<usize>,
    id_next: Cell<u64>,
    /// Insertion order across partitions; entries whose batch is already gone are skipped.
    fifo: RefCell<VecDeque<FifoEntry>>,
}

struct FifoEntry {
    partition: Weak<PartitionCache>,
    id: u64,
}

/// A cached batch.
#[derive(Debug, Clone)]
pub(crate) struct CachedBatch {
    pub id: u64,
    pub base_offset: i64,
    pub last_offset: i64,
    pub max_timestamp: i64,
    /// The batch is `head` followed by `body`: leader appends rewrite only the first bytes of
    /// the header, so the body stays the producer's buffer, shared, not copied.
    pub head: Bytes,
    pub body: Bytes,
}

impl CachedBatch {
    pub(crate) fn len(&self) -> usize {
        self.head.len() + self.body.len()
    }
}

/// One partition's part of the cache.
pub(crate) struct PartitionCache {
    shard: Rc<BatchCache>,
    entries: RefCell<VecDeque<CachedBatch>>,
    /// Batches with `last_offset >= written_offset` are pinned.
    written_offset: Cell<i64>,
}

impl BatchCache {
    pub(crate) fn new(bytes_max: usize) -> Rc<Self> {
        Rc::new(BatchCache {
            bytes_max,
            bytes_used: Cell::new(0),
            id_next: Cell::new(0),
            fifo: RefCell::new(VecDeque::new()),
        })
    }

    pub(crate) fn partition(self: &Rc<Self>, written_offset: i64) -> Rc<PartitionCache> {
        Rc::new(PartitionCache {
            shard: self.clone(),
            entries: RefCell::new(VecDeque::new()),
            written_offset: Cell::new(written_offset),
        })
    }

    #[allow(dead_code)]
    pub(crate) fn bytes_used(&self) -> usize {
        self.bytes_used.get()
    }

    /// Evicts oldest unpinned batches until under budget or the oldest is pinned.
    fn evict(&self) {
        let mut fifo = self.fifo.borrow_mut();
        while self.bytes_used.get() > self.bytes_max {
            let Some(entry) = fifo.pop_front() else {
                return;
            };
            let Some(partition) = entry.partition.upgrade() else {
                continue;
            };
            let mut entries = partition.entries.borrow_mut();
            let Some(front) = entries.front() else {
                continue;
            };
            if front.id != entry.id {
                continue; // already removed by truncation or an earlier pass
            }
            if front.last_offset >= partition.written_offset.get() {
                fifo.push_front(entry);
                return; // pinned: stays until written
            }
            let size = front.len();
            entries.pop_front();
            self.bytes_used.set(self.bytes_used.get() - size);
        }
    }
}

impl PartitionCache {
    /// Appends a batch (must continue the cached suffix).
    pub(crate) fn push(
        self: &Rc<Self>,
        base_offset: i64,
        last_offset: i64,
        max_ts: i64,
        head: Bytes,
        body: Bytes,
    ) {
        let shard = &self.shard;
        let id = shard.id_next.get();
        shard.id_next.set(id + 1);
        {
            let mut entries = self.entries.borrow_mut();
            if let Some(back) = entries.back() {
                assert!(
                    back.last_offset < base_offset,
                    "cache must stay in offset order"
                );
            }
            let size = head.len() + body.len();
            entries.push_back(CachedBatch {
                id,
                base_offset,
                last_offset,
                max_timestamp: max_ts,
                head,
                body,
            });
            shard.bytes_used.set(shard.bytes_used.get() + size);
        }
        shard.fifo.borrow_mut().push_back(FifoEntry {
            partition: Rc::downgrade(self),
            id,
        });
        shard.evict();
    }

    /// Records that every batch below `offset` is written to its segment file.
    pub(crate) fn set_written_offset(&self, offset: i64) {
        assert!(
            offset >= self.written_offset.get(),
            "the written offset only moves forward"
        );
        self.written_offset.set(offset);
    }

    /// Resets the written offset (after truncation), dropping nothing.
    pub(crate) fn reset_written_offset(&self, offset: i64) {
        self.written_offset.set(offset);
    }

    /// Drops every batch whose last offset is >= `offset` (truncation).
    pub(crate) fn remove_from(&self, offset: i64) {
        let mut entries = self.entries.borrow_mut();
        while let Some(back) = entries.back() {
            if back.last_offset < offset {
                break;
            }
            let size = back.len();
            entries.pop_back();
            self.shard
                .bytes_used
                .set(self.shard.bytes_used.get() - size);
        }
    }

    /// Drops every batch whose last offset is < `offset` (log start moved).
    pub(crate) fn remove_below(&self, offset: i64) {
        let mut entries = self.entries.borrow_mut();
        while let Some(front) = entries.front() {
            if front.last_offset >= offset {
                break;
            }
            let size = front.len();
            entries.pop_front();
            self.shard
                .bytes_used
                .set(self.shard.bytes_used.get() - size);
        }
    }

    /// Offset of the first cached batch, if any.
    pub(crate) fn first_offset(&self) -> Option<i64> {
        self.entries.borrow().front().map(|entry| entry.base_offset)
    }

    /// Visits cached batches from the one containing `offset`, until `visit` returns false.
    pub(crate) fn visit_from(&self, offset: i64, mut visit: impl FnMut(&CachedBatch) -> bool) {
        let entries = self.entries.borrow();
        let start = entries.partition_point(|entry| entry.last_offset < offset);
        for entry in entries.range(start..) {
            if !visit(entry) {
                return;
            }
        }
    }
}

impl Drop for PartitionCache {
    fn drop(&mut self) {
        let bytes: usize = self.entries.borrow().iter().map(|entry| entry.len()).sum();
        self.shard
            .bytes_used
            .set(self.shard.bytes_used.get() - bytes);
    }
}
