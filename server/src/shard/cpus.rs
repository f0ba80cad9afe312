//! Which CPUs the shards are pinned to: the first `--cores` of the CPUs this process may run
//! on. Each shard pins its thread with sched_setaffinity, which would otherwise override a
//! `taskset` or cgroup cpuset the operator started the broker under: three brokers on one
//! host, each started with `taskset -c N`, would all pin their shard 0 to CPU 0.
//!
//! With `pin.shards = false` the shard threads are not pinned: they keep the process's
//! affinity and the kernel moves them between those CPUs. That is for a shared host, where
//! pinning would leave one CPU crowded while another idles: three one-shard brokers on two
//! cores, or a broker beside other work.

use std::fmt;

/// Where the shard threads run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardPlacement {
    /// Shard `i` runs on `cpus[i]` when pinned; one entry per shard either way.
    cpus: Vec<usize>,
    pinned: bool,
}

impl ShardPlacement {
    pub fn new(cpus: Vec<usize>, pinned: bool) -> ShardPlacement {
        assert!(!cpus.is_empty(), "a broker has at least one shard");
        ShardPlacement { cpus, pinned }
    }

    pub fn shards(&self) -> usize {
        self.cpus.len()
    }

    /// The CPU shard `shard` is pinned to; None when shards are not pinned.
    pub fn pinned_cpu(&self, shard: usize) -> Option<usize> {
        self.pinned.then(|| self.cpus[shard])
    }
}

impl fmt::Display for ShardPlacement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pinned {
            write!(f, "{} shard(s) on cpus {:?}", self.cpus.len(), self.cpus)
        } else {
            write!(
                f,
                "{} shard(s) not pinned (pin.shards = false; the kernel places them)",
                self.cpus.len()
            )
        }
    }
}

/// The CPUs for `cores` shards (all allowed CPUs when `None`): online CPUs that the process's
/// affinity mask allows, lowest first.
pub fn shard_cpus(cores: Option<usize>) -> Result<Vec<usize>, String> {
    let online: Vec<usize> = glommio::CpuSet::online()
        .map_err(|e| format!("cannot list online CPUs: {e}"))?
        .iter()
        .map(|location| location.cpu)
        .collect();
    let allowed = allowed_cpus().map_err(|e| format!("cannot read the CPU affinity: {e}"))?;
    choose(&online, &allowed, cores)
}

/// The pure choice, apart from the system calls so that it can be tested.
fn choose(online: &[usize], allowed: &[usize], cores: Option<usize>) -> Result<Vec<usize>, String> {
    let mut usable: Vec<usize> = online
        .iter()
        .copied()
        .filter(|cpu| allowed.contains(cpu))
        .collect();
    usable.sort_unstable();
    usable.dedup();
    if usable.is_empty() {
        return Err(format!(
            "no CPU is both online ({online:?}) and allowed by this process's affinity ({allowed:?})"
        ));
    }
    let wanted = cores.unwrap_or(usable.len());
    if wanted > usable.len() {
        return Err(format!(
            "--cores {wanted} but this process may run on only {} CPUs ({usable:?}: online and \
             allowed by its affinity, as set by taskset or a cgroup cpuset)",
            usable.len()
        ));
    }
    usable.truncate(wanted);
    Ok(usable)
}

/// The CPUs in the calling thread's affinity mask (inherited from whoever started the process).
fn allowed_cpus() -> std::io::Result<Vec<usize>> {
    // SAFETY: cpu_set_t is plain data; all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: the pointer and size describe `set`, which outlives the call.
    let status =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if status != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let bits = 8 * std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: CPU_ISSET only reads the set, and every index is below its size in bits.
    Ok((0..bits)
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_allowed_online_cpus_lowest_first() {
        assert_eq!(choose(&[0, 1, 2, 3], &[3, 1], None), Ok(vec![1, 3]));
        assert_eq!(
            choose(&[0, 1, 2, 3], &[0, 1, 2, 3], Some(2)),
            Ok(vec![0, 1])
        );
        assert_eq!(choose(&[0, 1, 2, 3], &[2, 3], Some(1)), Ok(vec![2]));
    }

    #[test]
    fn refuses_more_cores_than_the_affinity_allows() {
        let err = choose(&[0, 1], &[1], Some(2)).expect_err("one allowed CPU");
        assert!(err.contains("--cores 2") && err.contains("[1]"), "{err}");
    }

    #[test]
    fn unpinned_shards_have_no_cpu_and_say_so() {
        let pinned = ShardPlacement::new(vec![2, 3], true);
        assert_eq!(pinned.pinned_cpu(1), Some(3));
        assert_eq!(pinned.to_string(), "2 shard(s) on cpus [2, 3]");
        let floating = ShardPlacement::new(vec![0], false);
        assert_eq!(floating.shards(), 1);
        assert_eq!(floating.pinned_cpu(0), None);
        assert!(floating.to_string().starts_with("1 shard(s) not pinned"));
    }

    #[test]
    fn refuses_when_no_allowed_cpu_is_online() {
        assert!(choose(&[0, 1], &[5], None).is_err());
    }

    #[test]
    fn the_running_process_has_an_allowed_online_cpu() {
        let cpus = shard_cpus(None).expect("this test runs on some CPU");
        let allowed = allowed_cpus().expect("sched_getaffinity");
        assert!(
            cpus.iter().all(|cpu| allowed.contains(cpu)),
            "{cpus:?} {allowed:?}"
        );
    }
}
