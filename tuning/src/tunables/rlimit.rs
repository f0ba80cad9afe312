//! Per-process resource limits the broker needs. `tune` reads its own limits (under systemd's
//! `ExecStartPre` these are the unit's limits); it cannot raise another process's limits,
//! so the fix is the unit file (`LimitMEMLOCK=`, `LimitNOFILE=`).

use std::path::Path;

use crate::host::{refusal_reason, HostFs};
use crate::tunable::{Assessment, Status, Tunable};

const LIMITS_PATH: &str = "/proc/self/limits";

/// One connection and several segment files per partition per shard: a million is cheap.
pub const NOFILE_RECOMMENDED: u64 = 1_048_576;

#[derive(Debug)]
pub struct ProcessLimit {
    name: &'static str,
    /// The row label in `/proc/self/limits`.
    label: &'static str,
    /// `None` means unlimited.
    minimum: Option<u64>,
    why: &'static str,
    manual_fix: &'static str,
}

impl ProcessLimit {
    pub fn memlock() -> Self {
        Self {
            name: "rlimit.memlock",
            label: "Max locked memory",
            minimum: None,
            why: "io_uring registers (pins) each shard's DMA buffers; glommio needs memlock >= 3x io_memory",
            manual_fix: "LimitMEMLOCK=infinity in sluice.service (or `ulimit -l unlimited`)",
        }
    }

    pub fn nofile() -> Self {
        Self {
            name: "rlimit.nofile",
            label: "Max open files",
            minimum: Some(NOFILE_RECOMMENDED),
            why: "every client connection and every open segment/index file is a descriptor",
            manual_fix: "LimitNOFILE=1048576 in sluice.service (or `ulimit -n 1048576`)",
        }
    }

    fn recommended_text(&self) -> String {
        match self.minimum {
            None => "unlimited".to_string(),
            Some(v) => format!(">= {v}"),
        }
    }
}

/// The soft limit from a `/proc/<pid>/limits` text: `None` = unlimited.
pub fn parse_soft_limit(text: &str, label: &str) -> Option<Option<u64>> {
    let line = text.lines().find(|l| l.starts_with(label))?;
    let soft = line[label.len()..].split_whitespace().next()?;
    if soft == "unlimited" {
        return Some(None);
    }
    soft.parse().ok().map(Some)
}

impl Tunable for ProcessLimit {
    fn name(&self) -> &str {
        self.name
    }

    fn why(&self) -> &'static str {
        self.why
    }

    fn assess(&self, host: &HostFs) -> Assessment {
        let path = Path::new(LIMITS_PATH);
        let text = match host.read(path) {
            Ok(text) => text,
            Err(e) => {
                return Assessment::not_tunable(self.recommended_text(), refusal_reason(path, &e))
            }
        };
        let Some(soft) = parse_soft_limit(&text, self.label) else {
            return Assessment::not_tunable(
                self.recommended_text(),
                format!("no {:?} row", self.label),
            );
        };
        let matches = match (soft, self.minimum) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(v), Some(min)) => v >= min,
        };
        let current = soft.map_or("unlimited".to_string(), |v| v.to_string());
        let mut assessment =
            Assessment::compare(current, self.recommended_text(), matches, Vec::new());
        if assessment.status == Status::Differs {
            assessment.manual_fix = Some(self.manual_fix.to_string());
        }
        assessment
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_soft_column() {
        let text = "Limit                     Soft Limit           Hard Limit           Units\n\
                    Max open files            20000                40000                files\n\
                    Max locked memory         unlimited            unlimited            bytes\n";
        assert_eq!(parse_soft_limit(text, "Max open files"), Some(Some(20000)));
        assert_eq!(parse_soft_limit(text, "Max locked memory"), Some(None));
        assert_eq!(parse_soft_limit(text, "Max nothing"), None);
    }
}
