//! One monotonic clock per process, exposed as microseconds, plus the wall-clock anchor
//! that end-to-end latency needs (record values carry wall-clock send times).

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

struct Anchor {
    instant: Instant,
    unix_us: u64,
}

static ANCHOR: OnceLock<Anchor> = OnceLock::new();

fn anchor() -> &'static Anchor {
    ANCHOR.get_or_init(|| Anchor {
        instant: Instant::now(),
        unix_us: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0),
    })
}

/// Microseconds since the process anchor (monotonic).
pub fn now_us() -> u64 {
    anchor().instant.elapsed().as_micros() as u64
}

/// Converts a monotonic `now_us` reading to Unix microseconds.
pub fn to_unix_us(mono_us: u64) -> u64 {
    anchor().unix_us + mono_us
}

/// Converts Unix microseconds (e.g. from a record value) to the monotonic scale.
/// Saturates at 0 for times before the anchor.
pub fn from_unix_us(unix_us: u64) -> u64 {
    unix_us.saturating_sub(anchor().unix_us)
}

/// Wall-clock Unix seconds, for run ids and report headers.
pub fn unix_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
