//! `SegmentAppender`: the O_DIRECT write path of the active segment.
//!
//! Appended bytes are copied into an aligned chunk taken from the shard's buffer pool. A full
//! chunk is written with one DMA write, in the background (write-behind), at most
//! `CHUNKS_IN_FLIGHT_MAX` at a time. `flush` writes the partially filled chunk, rounded up to
//! whole blocks (the bytes after the logical end are zeros), waits for every write, then
//! fdatasyncs. The last partial block is kept (`tail_block`) and becomes the head of the next
//! chunk, so it is written again with the next flush: that is the only data written twice.
//!
//! Contract (as in Redpanda's segment appender): `append` means the bytes are in memory or
//! written, not durable; `flush` means written and fdatasynced. Only one task may call it at a
//! time (the partition log's write lock guarantees it). A write that fails keeps its buffer and
//! is retried by the next `append` or `flush`, so nothing acknowledged as appended is dropped.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use glommio::io::DmaBuffer;

use crate::buffer_pool::{BufferPool, PoolPermit};
use crate::error::LogError;
use crate::limits::{BLOCK_BYTES, CHUNK_BYTES_MIN};
use crate::limits::{PREALLOCATE_BYTES_STEP_MAX, PREALLOCATE_BYTES_STEP_MIN};
use crate::storage::SegmentFile;

pub(crate) fn align_down(value: u64) -> u64 {
    value - value % BLOCK_BYTES
}

pub(crate) fn align_up(value: u64) -> u64 {
    align_down(value + BLOCK_BYTES - 1)
}

struct Chunk {
    buf: DmaBuffer,
    file_position: u64,
    fill: usize,
    permit: PoolPermit,
    /// Every batch below this offset ends inside this chunk or before it.
    offset_complete: i64,
}

enum WriteStatus {
    Running(WriteFuture),
    Written,
    /// Resubmitted by the next `append` or `flush`.
    Failed,
}

struct Inflight {
    buf: Rc<DmaBuffer>,
    file_position: u64,
    offset_complete: i64,
    status: WriteStatus,
    _permit: PoolPermit,
}

/// Write path of one active segment. Owned by the partition log's write state (one shard).
pub(crate) struct SegmentAppender {
    file: Rc<dyn SegmentFile>,
    pool: Rc<BufferPool>,
    chunk: Option<Chunk>,
    /// Bytes of the partial last block when there is no chunk; they start at align_down(size).
    tail_block: Vec<u8>,
    size_bytes: u64,
    inflight: VecDeque<Inflight>,
    offset_appended: i64,
    offset_written: i64,
    preallocated_bytes: u64,
    segment_bytes: u64,
    chunk_bytes_next: usize,
}

/// A write in flight, owned by the appender (polled by it, not by a spawned task).
type WriteFuture = std::pin::Pin<Box<dyn Future<Output = Option<io::Result<usize>>>>>;

/// Starts a DMA write: polled once right away so it is queued in the ring now; the next time
/// the task yields, the reactor submits it while the appender keeps copying.
fn spawn_write(file: Rc<dyn SegmentFile>, buf: Rc<DmaBuffer>, position: u64) -> WriteFuture {
    let mut write: WriteFuture = Box::pin(async move { Some(file.write_at(buf, position).await) });
    let mut context = Context::from_waker(Waker::noop());
    match write.as_mut().poll(&mut context) {
        Poll::Ready(result) => Box::pin(std::future::ready(result)),
        Poll::Pending => write,
    }
}

/// Records the outcome of a write on it; returns the error if it failed.
fn settle(result: Option<io::Result<usize>>, write: &mut Inflight) -> Result<(), LogError> {
    let expected = write.buf.len();
    let error = match result {
        Some(Ok(written)) if written == expected => {
            write.status = WriteStatus::Written;
            return Ok(());
        }
        Some(Ok(written)) => LogError::io(
            format!("writing segment: short write {written} of {expected} bytes"),
            io::Error::from(io::ErrorKind::WriteZero),
        ),
        Some(Err(err)) => LogError::io("writing segment", err),
        None => LogError::io(
            "writing segment: task cancelled",
            io::Error::from(io::ErrorKind::Interrupted),
        ),
    };
    write.status = WriteStatus::Failed;
    tracing::warn!(position = write.file_position, %error, "segment write failed; will retry");
    Err(error)
}

impl SegmentAppender {
    /// An appender continuing a segment of `size_bytes` whose last partial block is `tail_block`.
    pub(crate) fn new(
        file: Rc<dyn SegmentFile>,
        pool: Rc<BufferPool>,
        size_bytes: u64,
        tail_block: Vec<u8>,
        next_offset: i64,
        segment_bytes: u64,
    ) -> Self {
        assert_eq!(tail_block.len() as u64, size_bytes - align_down(size_bytes));
        SegmentAppender {
            file,
            pool,
            chunk: None,
            tail_block,
            size_bytes,
            inflight: VecDeque::new(),
            offset_appended: next_offset,
            offset_written: next_offset,
            preallocated_bytes: 0,
            segment_bytes,
            chunk_bytes_next: CHUNK_BYTES_MIN,
        }
    }

    pub(crate) fn size_bytes(&self) -> u64 {
        self.size_bytes
    }

    /// Every batch below this offset is in the file (not necessarily durable).
    pub(crate) fn offset_written(&self) -> i64 {
        self.offset_written
    }

    /// Prepares for appending `bytes`: retries failed writes and pre-allocates file space. Fails
    /// without side effects, so an append can be refused before anything is copied.
    pub(crate) async fn reserve(&mut self, bytes: u64) -> Result<(), LogError> {
        if self
            .inflight
            .iter()
            .any(|write| matches!(write.status, WriteStatus::Failed))
        {
            self.drain().await?;
        }
        let needed = self.size_bytes + bytes;
        if needed > self.preallocated_bytes {
            let step = self
                .size_bytes
                .clamp(PREALLOCATE_BYTES_STEP_MIN, PREALLOCATE_BYTES_STEP_MAX);
            let target = align_up(needed.max(self.size_bytes + step))
                .min(align_up(self.segment_bytes.max(needed)));
            self.file
                .preallocate(target)
                .await
                .map_err(|err| LogError::io("pre-allocating segment", err))?;
            self.preallocated_bytes = target;
        }
        Ok(())
    }

    /// Copies one batch (`head` then `body`) into write-behind buffers. `next_offset` is the
    /// offset after the batch.
    pub(crate) async fn append(
        &mut self,
        head: &[u8],
        body: &[u8],
        next_offset: i64,
    ) -> Result<(), LogError> {
        assert!(next_offset > self.offset_appended);
        let head_ends_batch = body.is_empty();
        self.copy_in(head, head_ends_batch.then_some(next_offset))
            .await?;
        if !head_ends_batch {
            self.copy_in(body, Some(next_offset)).await?;
        }
        self.offset_appended = next_offset;
        self.reap_ready();
        Ok(())
    }

    /// Copies bytes into chunks, submitting full ones. `batch_end` is the offset after the
    /// batch when these bytes end it.
    async fn copy_in(&mut self, data: &[u8], batch_end: Option<i64>) -> Result<(), LogError> {
        let mut rest = data;
        while !rest.is_empty() {
            if self.chunk.is_none() {
                self.start_chunk(rest.len()).await?;
            }
            let Some(chunk) = self.chunk.as_mut() else {
                unreachable!("start_chunk sets a chunk")
            };
            let room = chunk.buf.len() - chunk.fill;
            let n = room.min(rest.len());
            chunk.buf.as_bytes_mut()[chunk.fill..chunk.fill + n].copy_from_slice(&rest[..n]);
            chunk.fill += n;
            rest = &rest[n..];
            self.size_bytes += n as u64;
            if let (true, Some(next_offset)) = (rest.is_empty(), batch_end) {
                chunk.offset_complete = next_offset;
            }
            if chunk.fill == chunk.buf.len() {
                self.chunk_bytes_next =
                    (self.chunk_bytes_next * 2).min(self.pool.tuning().chunk_bytes_max);
                self.submit_chunk().await;
            }
        }
        Ok(())
    }

    async fn start_chunk(&mut self, wanted_bytes: usize) -> Result<(), LogError> {
        let file_position = align_down(self.size_bytes);
        if !self.tail_block.is_empty() && !self.inflight.is_empty() {
            // The head block was written by the last flush; that write must land first.
            self.drain().await?;
        }
        let wanted = align_up((wanted_bytes + self.tail_block.len()) as u64) as usize;
        let len = wanted.clamp(self.chunk_bytes_next, self.pool.tuning().chunk_bytes_max);
        let permit = self.pool.acquire(len).await?;
        let mut buf = match self.pool.reuse(len) {
            Some(buf) => buf,
            None => self.file.alloc_buffer(len),
        };
        assert_eq!(buf.len(), len);
        let fill = self.tail_block.len();
        buf.as_bytes_mut()[..fill].copy_from_slice(&self.tail_block);
        self.tail_block.clear();
        assert_eq!(file_position + fill as u64, self.size_bytes);
        self.chunk = Some(Chunk {
            buf,
            file_position,
            fill,
            permit,
            offset_complete: self.offset_appended,
        });
        Ok(())
    }

    /// Starts the write of the current chunk; waits for the oldest write beyond the limit.
    async fn submit_chunk(&mut self) {
        let Some(chunk) = self.chunk.take() else {
            return;
        };
        assert!(chunk.file_position.is_multiple_of(BLOCK_BYTES));
        assert!((chunk.buf.len() as u64).is_multiple_of(BLOCK_BYTES));
        let buf = Rc::new(chunk.buf);
        let task = spawn_write(self.file.clone(), buf.clone(), chunk.file_position);
        self.inflight.push_back(Inflight {
            buf,
            file_position: chunk.file_position,
            offset_complete: chunk.offset_complete,
            status: WriteStatus::Running(task),
            _permit: chunk.permit,
        });
        // Let the reactor submit the write now, so the device works while we copy the next
        // chunk (a task that never yields would hold it back until its next real wait).
        glommio::executor().yield_task_queue_now().await;
        while self.inflight.len() > self.pool.tuning().chunks_in_flight_max {
            // A failure stays recorded on the write and is reported by the next append/flush;
            // this append is already partly copied and must complete.
            if self.wait_front().await.is_err() {
                break;
            }
        }
    }

    /// Waits for the oldest write (resubmitting it if it failed); on success retires it.
    async fn wait_front(&mut self) -> Result<(), LogError> {
        let file = self.file.clone();
        let Some(front) = self.inflight.front_mut() else {
            return Ok(());
        };
        let status = std::mem::replace(&mut front.status, WriteStatus::Failed);
        let result = match status {
            WriteStatus::Running(task) => settle(task.await, front),
            WriteStatus::Written => {
                // Settled earlier (by `drain`); writing it again would double the bytes.
                front.status = WriteStatus::Written;
                Ok(())
            }
            WriteStatus::Failed => {
                let task = spawn_write(file, front.buf.clone(), front.file_position);
                settle(task.await, front)
            }
        };
        self.retire_front_if_written();
        result
    }

    fn retire_front_if_written(&mut self) {
        while let Some(front) = self.inflight.front() {
            if !matches!(front.status, WriteStatus::Written) {
                return;
            }
            assert!(front.offset_complete >= self.offset_written);
            self.offset_written = front.offset_complete;
            if let Some(done) = self.inflight.pop_front() {
                if let Ok(buf) = Rc::try_unwrap(done.buf) {
                    self.pool.give_back(buf);
                }
            }
        }
    }

    /// Retires writes that already completed, without waiting.
    fn reap_ready(&mut self) {
        let mut context = Context::from_waker(Waker::noop());
        for write in self.inflight.iter_mut() {
            let WriteStatus::Running(task) = &mut write.status else {
                continue;
            };
            let result = match task.as_mut().poll(&mut context) {
                Poll::Ready(result) => result,
                Poll::Pending => continue,
            };
            // A failure is recorded on the write and reported by the next append or flush.
            let _failure_recorded = settle(result, write);
        }
        self.retire_front_if_written();
    }

    /// Waits for every write, in order. Writes that failed (now or earlier, possibly while a
    /// fault that has since cleared was present) are resubmitted once after every write has
    /// settled; an error then is current and is returned.
    async fn drain(&mut self) -> Result<(), LogError> {
        for write in self.inflight.iter_mut() {
            let status = std::mem::replace(&mut write.status, WriteStatus::Failed);
            if let WriteStatus::Running(task) = status {
                let _settled_before_retry = settle(task.await, write);
            } else {
                write.status = status;
            }
        }
        while !self.inflight.is_empty() {
            self.wait_front().await?;
        }
        Ok(())
    }

    /// Writes the partial chunk (rounded up to whole blocks, zero padded), keeping its last
    /// partial block for the next chunk.
    fn write_tail(&mut self) {
        let Some(mut chunk) = self.chunk.take() else {
            return;
        };
        let fill = chunk.fill;
        let chunk_bytes = chunk.buf.len();
        let padded = align_up(fill as u64) as usize;
        let tail_start = align_down(fill as u64) as usize;
        chunk.buf.as_bytes_mut()[fill..padded].fill(0);
        self.tail_block = chunk.buf.as_bytes()[tail_start..fill].to_vec();
        chunk.buf.trim_to_size(padded);
        if padded < chunk_bytes / 4 {
            self.chunk_bytes_next = (self.chunk_bytes_next / 2).max(CHUNK_BYTES_MIN);
        }
        let buf = Rc::new(chunk.buf);
        let task = spawn_write(self.file.clone(), buf.clone(), chunk.file_position);
        self.inflight.push_back(Inflight {
            buf,
            file_position: chunk.file_position,
            offset_complete: chunk.offset_complete,
            status: WriteStatus::Running(task),
            _permit: chunk.permit,
        });
    }

    /// Writes everything appended so far to the file, without fdatasync.
    pub(crate) async fn write_all(&mut self) -> Result<(), LogError> {
        self.write_tail();
        self.drain().await?;
        assert_eq!(self.offset_written, self.offset_appended);
        Ok(())
    }

    /// The segment file (to fdatasync it without holding the partition's write lock).
    pub(crate) fn file(&self) -> Rc<dyn SegmentFile> {
        self.file.clone()
    }

    /// Writes everything appended so far and fdatasyncs: on return it is durable.
    pub(crate) async fn flush(&mut self) -> Result<(), LogError> {
        self.write_all().await?;
        self.file
            .fdatasync()
            .await
            .map_err(|err| LogError::io("fdatasync of segment", err))
    }

    /// Flushes, truncates the file to its logical size (dropping padding and pre-allocation) and
    /// syncs again: the segment is sealed or cleanly closed.
    pub(crate) async fn finish(&mut self) -> Result<(), LogError> {
        self.flush().await?;
        self.file
            .truncate(self.size_bytes)
            .await
            .map_err(|err| LogError::io("truncating segment to its logical size", err))?;
        self.preallocated_bytes = 0;
        self.file
            .fdatasync()
            .await
            .map_err(|err| LogError::io("fdatasync after truncate", err))
    }

    /// True when nothing is waiting to be written.
    #[allow(dead_code)]
    pub(crate) fn is_idle(&self) -> bool {
        self.chunk.is_none() && self.inflight.is_empty()
    }
}
