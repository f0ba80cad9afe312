//! Raises the kernel's io-wq worker limit of a shard's thread, so that the fdatasyncs of one
//! flush round run side by side.
//!
//! io_uring cannot complete an fdatasync (or an O_DIRECT write that converts preallocated
//! extents) without blocking, so it hands it to an io-wq worker thread of the submitting task.
//! The kernel caps those "bounded" workers per task at four per CPU the task may run on: a shard
//! pinned to one CPU gets four, and a flush round over sixteen partitions then syncs four files
//! at a time (traced: at most 4 `ext4_sync_file` in flight, a round several times one
//! fdatasync). The workers sleep on the device, not the CPU, so a higher cap costs threads that
//! exist only while syncs wait, and lets concurrent cache flushes merge in the block layer.
//!
//! The limit belongs to the thread's io-wq, which every ring of the thread shares (glommio's
//! too): a throwaway ring sets it from the shard's own thread.

use io_uring::{opcode, IoUring};

use crate::limits::IOWQ_BOUNDED_WORKERS_PER_SHARD;

/// Sets this thread's bounded io-wq worker limit; returns the previous limit.
pub fn raise_bounded() -> std::io::Result<u32> {
    let mut ring = IoUring::new(2)?;
    // The thread's io-wq exists once it has submitted to some ring; make sure it does, or the
    // kernel would keep the limit on this ring only.
    let nop = opcode::Nop::new().build();
    // SAFETY: a NOP references no memory; the ring outlives its completion (waited for below).
    unsafe { ring.submission().push(&nop) }
        .map_err(|_| std::io::Error::other("io_uring submission queue full"))?;
    ring.submit_and_wait(1)?;
    // Index 1 (unbounded workers, sockets) at 0: unchanged.
    let mut limits = [IOWQ_BOUNDED_WORKERS_PER_SHARD, 0];
    ring.submitter().register_iowq_max_workers(&mut limits)?;
    Ok(limits[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This thread's current limits ([bounded, unbounded]); zeros change nothing.
    fn current_limits() -> [u32; 2] {
        let ring = IoUring::new(2).expect("io_uring");
        let mut limits = [0, 0];
        ring.submitter()
            .register_iowq_max_workers(&mut limits)
            .expect("read io-wq limits");
        limits
    }

    #[test]
    fn the_bounded_limit_is_raised_for_the_calling_thread() {
        std::thread::spawn(|| {
            raise_bounded().expect("raise the io-wq limit");
            let [bounded, _] = current_limits();
            let nproc = nproc_limit();
            assert_eq!(bounded, IOWQ_BOUNDED_WORKERS_PER_SHARD.min(nproc));
        })
        .join()
        .expect("test thread");
    }

    /// RLIMIT_NPROC, which the kernel also caps the limit at.
    fn nproc_limit() -> u32 {
        let limits = std::fs::read_to_string("/proc/self/limits").expect("/proc/self/limits");
        limits
            .lines()
            .find(|line| line.starts_with("Max processes"))
            .and_then(|line| line.split_whitespace().nth(2))
            .and_then(|soft| soft.parse::<u32>().ok())
            .unwrap_or(u32::MAX)
    }
}
