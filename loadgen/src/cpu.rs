//! This process's CPU time, to show whether the client itself could be the bottleneck.

use serde::Serialize;

/// User + system CPU seconds used by this process so far.
pub fn process_cpu_s() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a full rusage into the pointer on success.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return 0.0;
    }
    // SAFETY: initialised by the successful call above (and zeroed before it).
    let usage = unsafe { usage.assume_init() };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct ClientCpu {
    /// CPU seconds loadgen used during the cell (all threads, warm-up included).
    pub cpu_s: f64,
    pub wall_s: f64,
    /// cpu_s / wall_s: 1.0 means one core fully busy.
    pub cores_busy: f64,
}

impl ClientCpu {
    pub fn between(cpu_start_s: f64, wall_start: std::time::Instant) -> ClientCpu {
        let cpu_s = process_cpu_s() - cpu_start_s;
        let wall_s = wall_start.elapsed().as_secs_f64();
        ClientCpu {
            cpu_s,
            wall_s,
            cores_busy: cpu_s / wall_s.max(1e-9),
        }
    }
}
