//! The per-shard pool of aligned write-behind buffers: a byte budget shared by every partition
//! of the shard. A partition holds buffer space only while it has unwritten data, so an idle
//! partition holds none.

use std::cell::RefCell;
use std::rc::Rc;

use glommio::io::DmaBuffer;
use glommio::sync::{Semaphore, StaticPermit};

use crate::error::LogError;
use crate::limits;
use crate::WriteTuning;

/// Lives on one shard; shared by its partition logs.
pub(crate) struct BufferPool {
    bytes_max: usize,
    tuning: WriteTuning,
    semaphore: Rc<Semaphore>,
    /// Full-size chunk buffers whose writes completed, kept for reuse: a fresh allocation of a
    /// large buffer costs page faults and zeroing on every chunk.
    free: RefCell<Vec<DmaBuffer>>,
}

/// Budget held by one buffer; released when dropped (after its write completed).
pub(crate) struct PoolPermit {
    _permit: StaticPermit,
}

impl BufferPool {
    pub(crate) fn new(bytes_max: usize, tuning: WriteTuning) -> Self {
        assert!(tuning.chunk_bytes_max >= limits::CHUNK_BYTES_MIN);
        assert!(tuning.chunks_in_flight_max >= 1);
        // A pool smaller than one chunk could never serve a full-size chunk.
        let bytes_max = bytes_max.max(tuning.chunk_bytes_max);
        BufferPool {
            bytes_max,
            tuning,
            semaphore: Rc::new(Semaphore::new(bytes_max as u64)),
            free: RefCell::new(Vec::new()),
        }
    }

    /// A full-size chunk buffer from the free list, if any.
    pub(crate) fn reuse(&self, len: usize) -> Option<DmaBuffer> {
        if len != self.tuning.chunk_bytes_max {
            return None;
        }
        self.free.borrow_mut().pop()
    }

    /// Keeps a written full-size buffer for reuse (up to `FREE_CHUNKS_MAX`).
    pub(crate) fn give_back(&self, buf: DmaBuffer) {
        let mut free = self.free.borrow_mut();
        if buf.len() == self.tuning.chunk_bytes_max && free.len() < limits::FREE_CHUNKS_MAX {
            free.push(buf);
        }
    }

    /// Reserves `bytes` of budget, waiting until buffers are released (by writes completing or
    /// partitions flushing) when the pool is exhausted.
    pub(crate) async fn acquire(&self, bytes: usize) -> Result<PoolPermit, LogError> {
        assert!(bytes <= self.bytes_max);
        assert!(bytes > 0);
        let permit = self
            .semaphore
            .acquire_static_permit(bytes as u64)
            .await
            .map_err(|err| LogError::Closed {
                name: format!("write buffer pool: {err}"),
            })?;
        Ok(PoolPermit { _permit: permit })
    }

    /// How this shard's appenders size and pipeline their writes.
    pub(crate) fn tuning(&self) -> WriteTuning {
        self.tuning
    }

    /// Bytes currently reserved.
    #[allow(dead_code)]
    pub(crate) fn bytes_in_use(&self) -> usize {
        self.bytes_max - self.semaphore.available() as usize
    }
}
