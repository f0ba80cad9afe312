//! Locked-memory budget: glommio registers each shard's `io_memory` in three io_uring rings, and
//! every registration counts against RLIMIT_MEMLOCK, so io_memory per shard is at most
//! memlock / (3 × shards). Processes with CAP_IPC_LOCK are not bound by the limit.

use crate::limits::{IO_MEMORY_BYTES_DEFAULT, IO_MEMORY_BYTES_MIN, IO_MEMORY_RINGS};

#[derive(Debug, thiserror::Error)]
pub enum MemlockError {
    #[error(
        "locked-memory limit (ulimit -l) is {memlock_bytes} bytes: {shards} shard(s) need at least \
         {needed_bytes} bytes (glommio needs {IO_MEMORY_BYTES_MIN} bytes of io_memory per shard, \
         registered in {IO_MEMORY_RINGS} rings); raise it with `ulimit -l` or use fewer --cores"
    )]
    TooLow {
        memlock_bytes: u64,
        shards: usize,
        needed_bytes: u64,
    },
}

/// What the process may lock, as found at start-up.
#[derive(Debug, Clone, Copy)]
pub struct MemlockBudget {
    /// RLIMIT_MEMLOCK soft limit; None = unlimited.
    pub limit_bytes: Option<u64>,
    /// CAP_IPC_LOCK in the effective set: the limit does not apply.
    pub cap_ipc_lock: bool,
    /// io_memory each shard's executor gets.
    pub io_memory_per_shard_bytes: usize,
}

impl std::fmt::Display for MemlockBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.limit_bytes {
            None => write!(f, "unlimited")?,
            Some(bytes) => write!(f, "{} KiB", bytes / 1024)?,
        }
        if self.cap_ipc_lock {
            write!(f, " (CAP_IPC_LOCK)")?;
        }
        write!(
            f,
            ", io_memory {} KiB/shard",
            self.io_memory_per_shard_bytes / 1024
        )
    }
}

pub fn budget(shards: usize) -> Result<MemlockBudget, MemlockError> {
    assert!(shards > 0);
    let limit_bytes = memlock_limit_bytes();
    let cap_ipc_lock = has_cap_ipc_lock();
    let io_memory_per_shard_bytes = io_memory_per_shard(limit_bytes, cap_ipc_lock, shards)?;
    assert!(io_memory_per_shard_bytes >= IO_MEMORY_BYTES_MIN);
    Ok(MemlockBudget {
        limit_bytes,
        cap_ipc_lock,
        io_memory_per_shard_bytes,
    })
}

fn io_memory_per_shard(
    limit_bytes: Option<u64>,
    cap_ipc_lock: bool,
    shards: usize,
) -> Result<usize, MemlockError> {
    let limit = match limit_bytes {
        Some(limit) if !cap_ipc_lock => limit,
        _ => return Ok(IO_MEMORY_BYTES_DEFAULT),
    };
    let per_shard = limit / (IO_MEMORY_RINGS as u64 * shards as u64);
    if per_shard < IO_MEMORY_BYTES_MIN as u64 {
        return Err(MemlockError::TooLow {
            memlock_bytes: limit,
            shards,
            needed_bytes: (IO_MEMORY_BYTES_MIN * IO_MEMORY_RINGS * shards) as u64,
        });
    }
    Ok((per_shard as usize).min(IO_MEMORY_BYTES_DEFAULT))
}

fn memlock_limit_bytes() -> Option<u64> {
    let mut rlim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut rlim) };
    if rc != 0 || rlim.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    Some(rlim.rlim_cur)
}

/// Reads CapEff from /proc/self/status; CAP_IPC_LOCK is capability 14.
fn has_cap_ipc_lock() -> bool {
    const CAP_IPC_LOCK: u32 = 14;
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_IPC_LOCK) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_memory_is_at_most_a_third_of_memlock_per_shard() {
        let eight_mib = 8 * 1024 * 1024;
        let per_shard = io_memory_per_shard(Some(eight_mib), false, 2).unwrap();
        assert!(per_shard as u64 * 3 * 2 <= eight_mib);
        assert!(per_shard >= IO_MEMORY_BYTES_MIN);
    }

    #[test]
    fn memlock_below_glommio_minimum_is_refused() {
        let err = io_memory_per_shard(Some(1024 * 1024), false, 2).unwrap_err();
        assert!(err.to_string().contains("ulimit -l"));
    }

    #[test]
    fn unlimited_or_capable_gets_the_default() {
        assert_eq!(
            io_memory_per_shard(None, false, 64).unwrap(),
            IO_MEMORY_BYTES_DEFAULT
        );
        assert_eq!(
            io_memory_per_shard(Some(1024), true, 64).unwrap(),
            IO_MEMORY_BYTES_DEFAULT
        );
    }
}
