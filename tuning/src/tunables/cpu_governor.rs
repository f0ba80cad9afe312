//! CPU frequency governor: `performance` on every online CPU.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::cpu_set::CpuSet;
use crate::host::{refusal_reason, HostFs};
use crate::tunable::{Assessment, FileWrite, Tunable};

pub const CPU_ONLINE_PATH: &str = "/sys/devices/system/cpu/online";

/// The online CPUs of the host.
pub fn online_cpus(host: &HostFs) -> Result<CpuSet, String> {
    let path = Path::new(CPU_ONLINE_PATH);
    let text = host.read(path).map_err(|e| refusal_reason(path, &e))?;
    CpuSet::parse_list(&text).map_err(|e| e.to_string())
}

#[derive(Debug)]
pub struct CpuGovernor;

fn governor_path(cpu: usize) -> PathBuf {
    PathBuf::from(format!(
        "/sys/devices/system/cpu/cpu{cpu}/cpufreq/scaling_governor"
    ))
}

impl Tunable for CpuGovernor {
    fn name(&self) -> &str {
        "cpu.governor"
    }

    fn why(&self) -> &'static str {
        "a busy-polling shard looks idle between bursts; power-saving governors downclock it and add wake-up latency"
    }

    fn assess(&self, host: &HostFs) -> Assessment {
        let recommended = "performance";
        let cpus = match online_cpus(host) {
            Ok(cpus) => cpus,
            Err(reason) => return Assessment::not_tunable(recommended, reason),
        };
        let mut by_governor: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut writes = Vec::new();
        for cpu in cpus.iter() {
            let path = governor_path(cpu);
            let governor = match host.read(&path) {
                Ok(g) => g,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                    return Assessment::not_tunable(
                        recommended,
                        format!("cpu{cpu} has no cpufreq driver (the hypervisor or firmware sets the frequency)"),
                    )
                }
                Err(e) => return Assessment::not_tunable(recommended, refusal_reason(&path, &e)),
            };
            if governor != recommended {
                let available = path.with_file_name("scaling_available_governors");
                let offered = host.read(&available).unwrap_or_default();
                if !offered.split_whitespace().any(|g| g == recommended) {
                    return Assessment::not_tunable(
                        recommended,
                        format!("cpu{cpu} driver offers only {offered:?}"),
                    );
                }
                writes.push(FileWrite {
                    path,
                    value: recommended.to_string(),
                });
            }
            by_governor.entry(governor).or_default().push(cpu);
        }
        let current = by_governor
            .iter()
            .map(|(g, cpus)| format!("{g} on cpu {}", CpuSet::from_cpus(cpus.iter().copied())))
            .collect::<Vec<_>>()
            .join("; ");
        let matches = writes.is_empty();
        Assessment::compare(current, recommended, matches, writes)
    }
}
