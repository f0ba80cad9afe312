//! What the tests observe of the broker process: its log, its memory, its open sockets.
//! Waits go through `common::wait::wait_until` (a condition and a deadline).

use std::time::Duration;

use crate::common::broker::Broker;
use crate::common::wait::wait_until;

/// How long a log line or a socket count may lag behind the event it follows.
pub const OBSERVE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the broker logs when it closes a connection for bad input.
pub const CLOSE_LOG_LINE: &str = "closing connection:";

/// Lines of the broker log that say a connection was closed for a reason containing
/// `fragment`.
pub fn close_lines(broker: &Broker, fragment: &str) -> usize {
    broker
        .log_text()
        .lines()
        .filter(|l| l.contains(CLOSE_LOG_LINE) && l.contains(fragment))
        .count()
}

/// Waits until the log has more than `before` close lines mentioning `fragment`; fails the
/// test (with the log) if none appears in time.
pub fn wait_for_close_line(broker: &Broker, fragment: &str, before: usize, case: &str) {
    let what = format!("{case}: a \"{CLOSE_LOG_LINE} ...{fragment}...\" log line for the close");
    wait_until(&what, OBSERVE_TIMEOUT, || {
        close_lines(broker, fragment) > before
    });
}

fn pid(broker: &Broker) -> u32 {
    broker.pid().expect("broker running")
}

pub fn rss_bytes(broker: &Broker) -> u64 {
    let pid = pid(broker);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status");
    kib * 1024
}

/// Sockets the broker process holds open (listeners and connections).
pub fn open_sockets(broker: &Broker) -> usize {
    let pid = pid(broker);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).expect("list /proc/PID/fd");
    fds.filter_map(Result::ok)
        .filter(|fd| {
            std::fs::read_link(fd.path())
                .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"))
        })
        .count()
}

/// Waits until the broker holds at most `sockets_max` sockets: it noticed that clients went
/// away and released their connections.
pub fn wait_for_sockets_at_most(broker: &Broker, sockets_max: usize, case: &str) {
    let what = format!("{case}: the broker to hold at most {sockets_max} sockets");
    wait_until(&what, OBSERVE_TIMEOUT, || {
        open_sockets(broker) <= sockets_max
    });
}
