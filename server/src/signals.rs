//! SIGTERM / SIGINT: the main thread blocks both before any shard thread starts (threads inherit
//! the mask), then waits for one with sigwait. Shards poll [`shutdown_requested`] and drain.
//! A second signal during the drain exits at once. SIGHUP is waited for the same way and
//! bumps [`reload_generation`]: shards re-read their TLS certificates when it changes.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

static SHUTDOWN: AtomicBool = AtomicBool::new(false);
static RELOAD_GENERATION: AtomicU64 = AtomicU64::new(0);

/// How many SIGHUPs arrived: a shard that saw a smaller number reloads its certificates.
pub fn reload_generation() -> u64 {
    RELOAD_GENERATION.load(Ordering::Acquire)
}

pub fn request_reload() {
    RELOAD_GENERATION.fetch_add(1, Ordering::AcqRel);
}

pub fn shutdown_requested() -> bool {
    SHUTDOWN.load(Ordering::Acquire)
}

pub fn request_shutdown() {
    SHUTDOWN.store(true, Ordering::Release);
}

fn stop_signals() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise the set we own.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGHUP);
        set
    }
}

/// Blocks SIGTERM, SIGINT and SIGHUP on the calling thread (and every thread it spawns afterwards).
pub fn block_stop_signals() -> std::io::Result<()> {
    let set = stop_signals();
    // SAFETY: set is initialised; old mask is not needed.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(std::io::Error::from_raw_os_error(rc));
    }
    Ok(())
}

/// Waits for SIGTERM or SIGINT (SIGHUP is counted as a reload request and waited past);
/// returns the signal number.
pub fn wait_for_stop_signal() -> std::io::Result<i32> {
    let set = stop_signals();
    let mut signal: libc::c_int = 0;
    loop {
        // SAFETY: set is initialised and blocked on this thread; signal is ours to write.
        let rc = unsafe { libc::sigwait(&set, &mut signal) };
        if rc != 0 {
            return Err(std::io::Error::from_raw_os_error(rc));
        }
        if signal != libc::SIGHUP {
            return Ok(signal);
        }
        tracing::info!("SIGHUP: reloading TLS certificates on the next connection of each shard");
        request_reload();
    }
}
