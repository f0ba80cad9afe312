//! IRQ affinity: NIC and disk interrupts go to CPUs that run no shard.

use std::path::{Path, PathBuf};

use crate::cpu_set::CpuSet;
use crate::host::{refusal_reason, HostFs};
use crate::tunable::{Assessment, FileWrite, Tunable};
use crate::tunables::cpu_governor::online_cpus;

const INTERRUPTS_PATH: &str = "/proc/interrupts";

/// Below this many CPUs every core runs a shard by default, so there is no core to spare.
pub const CPUS_MIN_FOR_IRQ_CORE: usize = 4;

/// Driver name prefixes of common NICs and storage controllers.
const NIC_PREFIXES: &[&str] = &[
    "mlx4", "mlx5", "ixgbe", "i40e", "ice", "bnxt", "ena", "gve", "igb",
];
const DISK_PREFIXES: &[&str] = &["nvme", "ahci", "megasas", "mpt2sas", "mpt3sas", "ata_piix"];

#[derive(Debug)]
pub struct IrqAffinity {
    irq_cpus: Option<CpuSet>,
}

impl IrqAffinity {
    pub fn new(irq_cpus: Option<CpuSet>) -> Self {
        Self { irq_cpus }
    }
}

/// An interrupt line that serves a NIC or a disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceIrq {
    pub number: u32,
    pub name: String,
}

/// (irq number, action name) of every numbered line of `/proc/interrupts`.
pub fn parse_interrupts(text: &str) -> Vec<(u32, String)> {
    text.lines()
        .filter_map(|line| {
            let (number, rest) = line.trim_start().split_once(':')?;
            let number: u32 = number.parse().ok()?;
            let name = rest.split_whitespace().last()?.trim_end_matches(',');
            Some((number, name.to_string()))
        })
        .collect()
}

/// Virtio device ids (virtio spec 5): 1 network, 2 block, 8 SCSI.
fn is_virtio_device_irq(host: &HostFs, name: &str) -> bool {
    let Some((device, queue)) = name.split_once('-') else {
        return false;
    };
    if !device.starts_with("virtio") || queue == "config" {
        return false;
    }
    let id_path = PathBuf::from("/sys/bus/virtio/devices")
        .join(device)
        .join("device");
    matches!(
        host.read(&id_path).as_deref(),
        Ok("0x0001") | Ok("0x0002") | Ok("0x0008")
    )
}

fn is_device_irq(host: &HostFs, name: &str, interfaces: &[String]) -> bool {
    is_virtio_device_irq(host, name)
        || NIC_PREFIXES
            .iter()
            .chain(DISK_PREFIXES)
            .any(|p| name.starts_with(p))
        || interfaces
            .iter()
            .any(|iface| name.starts_with(iface.as_str()))
}

/// NIC and disk IRQs listed in `/proc/interrupts`.
pub fn device_irqs(host: &HostFs) -> Result<Vec<DeviceIrq>, String> {
    let path = Path::new(INTERRUPTS_PATH);
    let text = host.read(path).map_err(|e| refusal_reason(path, &e))?;
    let interfaces: Vec<String> = host
        .list_dir(Path::new("/sys/class/net"))
        .unwrap_or_default()
        .into_iter()
        .filter(|i| i != "lo")
        .collect();
    Ok(parse_interrupts(&text)
        .into_iter()
        .filter(|(_, name)| is_device_irq(host, name, &interfaces))
        .map(|(number, name)| DeviceIrq { number, name })
        .collect())
}

/// Bound on `/proc` entries scanned, so a huge process table cannot stall `check`.
const PROCESSES_SCANNED_MAX: usize = 100_000;

/// irqbalance rewrites IRQ affinities every few seconds, undoing `apply`.
pub fn irqbalance_running(host: &HostFs) -> bool {
    let pids = host.list_dir(Path::new("/proc")).unwrap_or_default();
    pids.iter()
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
        .take(PROCESSES_SCANNED_MAX)
        .any(|pid| {
            let comm = PathBuf::from("/proc").join(pid).join("comm");
            host.read(&comm).is_ok_and(|name| name == "irqbalance")
        })
}

impl IrqAffinity {
    fn choose_irq_cpus(&self, online: &CpuSet) -> Result<CpuSet, String> {
        if let Some(cpus) = &self.irq_cpus {
            if !cpus.is_subset(online) || cpus.is_empty() {
                return Err(format!(
                    "--irq-cpus {cpus} is not a set of online CPUs ({online})"
                ));
            }
            return Ok(cpus.clone());
        }
        match online.first() {
            Some(first) if online.len() >= CPUS_MIN_FOR_IRQ_CORE => Ok(CpuSet::from_cpus([first])),
            _ => Err(format!(
                "only {} CPUs online, all running shards; reserve some with --irq-cpus",
                online.len()
            )),
        }
    }
}

impl Tunable for IrqAffinity {
    fn name(&self) -> &str {
        "irq.affinity"
    }

    fn why(&self) -> &'static str {
        "an interrupt on a shard core preempts that shard's reactor; keep NIC and disk IRQs on spare cores"
    }

    fn assess(&self, host: &HostFs) -> Assessment {
        let online = match online_cpus(host) {
            Ok(cpus) => cpus,
            Err(reason) => return Assessment::not_tunable("device IRQs on spare cores", reason),
        };
        let irq_cpus = match self.choose_irq_cpus(&online) {
            Ok(cpus) => cpus,
            Err(reason) => return Assessment::not_tunable("device IRQs on spare cores", reason),
        };
        let recommended = format!("device IRQs on cpu {irq_cpus}");
        let irqs = match device_irqs(host) {
            Ok(irqs) if irqs.is_empty() => {
                return Assessment::not_tunable(
                    recommended,
                    "no NIC or disk IRQs in /proc/interrupts",
                )
            }
            Ok(irqs) => irqs,
            Err(reason) => return Assessment::not_tunable(recommended, reason),
        };
        let mut misplaced = Vec::new();
        let mut writes = Vec::new();
        for irq in &irqs {
            let path = PathBuf::from(format!("/proc/irq/{}/smp_affinity", irq.number));
            let text = match host.read(&path) {
                Ok(text) => text,
                Err(e) => return Assessment::not_tunable(recommended, refusal_reason(&path, &e)),
            };
            let affinity = match CpuSet::parse_mask(&text) {
                Ok(set) => set,
                Err(e) => return Assessment::not_tunable(recommended, e.to_string()),
            };
            if !affinity.is_subset(&irq_cpus) {
                misplaced.push(irq.number.to_string());
                writes.push(FileWrite {
                    path,
                    value: irq_cpus.to_mask(),
                });
            }
        }
        let current = if misplaced.is_empty() {
            format!("{} device IRQs on cpu {irq_cpus}", irqs.len())
        } else {
            format!(
                "{} of {} device IRQs on shard cores ({})",
                misplaced.len(),
                irqs.len(),
                misplaced.join(",")
            )
        };
        let current = if irqbalance_running(host) {
            format!("{current}; irqbalance is running and will move them back")
        } else {
            current
        };
        let matches = writes.is_empty();
        Assessment::compare(current, recommended, matches, writes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_interrupt_lines() {
        let text = "           CPU0       CPU1\n \
                    36:          0      12204 PCI-MSIX-0000:00:02.0   1-edge      virtio1-req.0\n \
                    NMI:          0          0   Non-maskable interrupts\n";
        assert_eq!(
            parse_interrupts(text),
            vec![(36, "virtio1-req.0".to_string())]
        );
    }
}
