//! Kernel sysctls under `/proc/sys`.

use std::path::PathBuf;

use crate::host::{refusal_reason, HostFs};
use crate::tunable::{Assessment, FileWrite, Tunable};

/// 16 MiB: lets one connection keep a large produce or fetch in flight on a fast link.
pub const SOCKET_BUFFER_BYTES_MAX: u64 = 16 * 1024 * 1024;

/// How the current value is compared with the recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    AtLeast(u64),
    AtMost(u64),
    /// A `min default max` triple (tcp_rmem/tcp_wmem) whose max must be at least this.
    TripleMaxAtLeast(u64),
}

#[derive(Debug, Clone)]
pub struct Sysctl {
    name: &'static str,
    why: &'static str,
    rule: Rule,
}

/// The sysctls Sluice recommends, each with why it matters.
pub fn recommended() -> Vec<Sysctl> {
    let s = |name, rule, why| Sysctl { name, why, rule };
    vec![
        s("fs.aio-max-nr", Rule::AtLeast(1_048_576),
          "system-wide cap on kernel AIO contexts; io_uring does not count, but fio and any libaio fallback per shard do"),
        s("vm.swappiness", Rule::AtMost(1),
          "a swapped-out page stalls a whole shard (one thread serves many partitions); keep memory resident"),
        s("vm.dirty_background_ratio", Rule::AtMost(5),
          "start background writeback of buffered writes early so it never bursts into the log disk's fdatasync latency"),
        s("vm.dirty_ratio", Rule::AtMost(10),
          "cap dirty page cache before writers block; Sluice writes O_DIRECT, so this only bounds other writers"),
        s("net.core.somaxconn", Rule::AtLeast(4096),
          "accept backlog per listener; each shard listens with SO_REUSEPORT and client reconnect storms overflow small queues"),
        s("net.core.rmem_max", Rule::AtLeast(SOCKET_BUFFER_BYTES_MAX),
          "ceiling for socket receive buffers; large produce requests arrive without the shard waiting on the window"),
        s("net.core.wmem_max", Rule::AtLeast(SOCKET_BUFFER_BYTES_MAX),
          "ceiling for socket send buffers; zero-copy fetch responses go out in one write instead of many wakeups"),
        s("net.ipv4.tcp_rmem", Rule::TripleMaxAtLeast(SOCKET_BUFFER_BYTES_MAX),
          "TCP receive autotuning range; its max bounds per-connection produce throughput on high-latency links"),
        s("net.ipv4.tcp_wmem", Rule::TripleMaxAtLeast(SOCKET_BUFFER_BYTES_MAX),
          "TCP send autotuning range; its max bounds per-connection fetch throughput on high-latency links"),
    ]
}

impl Sysctl {
    pub fn path(&self) -> PathBuf {
        PathBuf::from("/proc/sys").join(self.name.replace('.', "/"))
    }

    fn recommended_text(&self) -> String {
        match self.rule {
            Rule::AtLeast(v) => format!(">= {v}"),
            Rule::AtMost(v) => format!("<= {v}"),
            Rule::TripleMaxAtLeast(v) => format!("max >= {v}"),
        }
    }

    /// Compares `current` with the rule; returns (matches, value to write).
    fn judge(&self, current: &str) -> Result<(bool, String), String> {
        let numbers: Vec<u64> = current
            .split_whitespace()
            .map(|w| w.parse::<u64>())
            .collect::<Result<_, _>>()
            .map_err(|_| format!("unexpected value {current:?}"))?;
        match (self.rule, numbers.as_slice()) {
            (Rule::AtLeast(v), [n]) => Ok((*n >= v, v.to_string())),
            (Rule::AtMost(v), [n]) => Ok((*n <= v, v.to_string())),
            (Rule::TripleMaxAtLeast(v), [min, default, max]) => {
                Ok((*max >= v, format!("{min} {default} {v}")))
            }
            _ => Err(format!("unexpected value {current:?}")),
        }
    }
}

impl Tunable for Sysctl {
    fn name(&self) -> &str {
        self.name
    }

    fn why(&self) -> &'static str {
        self.why
    }

    fn assess(&self, host: &HostFs) -> Assessment {
        let path = self.path();
        let current = match host.read(&path) {
            Ok(text) => text.split_whitespace().collect::<Vec<_>>().join(" "),
            Err(e) => {
                return Assessment::not_tunable(self.recommended_text(), refusal_reason(&path, &e))
            }
        };
        match self.judge(&current) {
            Ok((matches, value)) => Assessment::compare(
                current,
                self.recommended_text(),
                matches,
                vec![FileWrite { path, value }],
            ),
            Err(reason) => Assessment::not_tunable(self.recommended_text(), reason),
        }
    }
}
