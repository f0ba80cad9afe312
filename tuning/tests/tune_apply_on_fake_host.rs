//! `tune apply` against fake `/proc` + `/sys` trees: it changes what differs, plans without
//! touching anything under `--dry-run`, and reports what the host refuses without stopping.

mod common;

use std::time::Duration;

use common::{with_timeout, FakeHost};
use sluice_tuning::apply::{apply, check, Outcome};
use sluice_tuning::cpu_set::CpuSet;
use sluice_tuning::{tunables, HostFs, Status, TuneContext};

const TEST_TIMEOUT: Duration = Duration::from_secs(30);
const NVME_DISK: &str = "/sys/devices/pci0000:00/0000:00:04.0/nvme/nvme0/nvme0n1";

/// A 4-CPU bare-metal-like host with everything untuned; the data dir on an NVMe partition.
fn untuned_host() -> FakeHost {
    let host = FakeHost::new();
    host.file("/proc/sys/fs/aio-max-nr", "65536")
        .file("/proc/sys/vm/swappiness", "60")
        .file("/proc/sys/vm/dirty_background_ratio", "10")
        .file("/proc/sys/vm/dirty_ratio", "20")
        .file("/proc/sys/net/core/somaxconn", "128")
        .file("/proc/sys/net/core/rmem_max", "212992")
        .file("/proc/sys/net/core/wmem_max", "212992")
        .file("/proc/sys/net/ipv4/tcp_rmem", "4096\t131072\t6291456")
        .file("/proc/sys/net/ipv4/tcp_wmem", "4096\t16384\t4194304")
        .file(
            "/proc/self/mountinfo",
            "27 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw\n\
             40 27 259:1 / /var/lib/sluice rw,noatime shared:2 - xfs /dev/nvme0n1p1 rw",
        )
        .link("/sys/dev/block/259:1", "../../devices/pci0000:00/0000:00:04.0/nvme/nvme0/nvme0n1/nvme0n1p1")
        .file(&format!("{NVME_DISK}/nvme0n1p1/partition"), "1")
        .file(&format!("{NVME_DISK}/queue/scheduler"), "[mq-deadline] kyber none")
        .file(&format!("{NVME_DISK}/queue/nomerges"), "0")
        .file("/sys/kernel/mm/transparent_hugepage/enabled", "[always] madvise never")
        .file("/sys/devices/system/cpu/online", "0-3")
        .file(
            "/proc/interrupts",
            "            CPU0       CPU1       CPU2       CPU3\n \
             1:          9          0          0          0   IO-APIC   1-edge      i8042\n \
             40:       100        200        300        400   PCI-MSI 1-edge      nvme0q1\n \
             41:       100        200        300        400   PCI-MSI 2-edge      eth0-TxRx-0\n \
             43:         0          0          0          9   PCI-MSIX 1-edge      virtio2-input.0\n \
             44:         0          0          0          9   PCI-MSIX 0-edge      virtio2-config\n\
             NMI:          0          0          0          0   Non-maskable interrupts",
        )
        .dir("/sys/class/net/eth0")
        .dir("/sys/class/net/lo")
        .file("/sys/bus/virtio/devices/virtio2/device", "0x0001")
        .file(
            "/proc/self/limits",
            "Limit                     Soft Limit           Hard Limit           Units\n\
             Max open files            1024                 4096                 files\n\
             Max locked memory         8388608              8388608              bytes",
        );
    for cpu in 0..4 {
        let dir = format!("/sys/devices/system/cpu/cpu{cpu}/cpufreq");
        host.file(&format!("{dir}/scaling_governor"), "powersave")
            .file(
                &format!("{dir}/scaling_available_governors"),
                "performance powersave",
            );
    }
    for irq in [1, 40, 41, 43, 44] {
        host.file(&format!("/proc/irq/{irq}/smp_affinity"), "f");
    }
    host
}

fn context() -> TuneContext {
    TuneContext {
        data_dir: "/var/lib/sluice/".into(),
        irq_cpus: None,
    }
}

fn outcome_of<'a>(rows: &'a [sluice_tuning::apply::ApplyRow], name: &str) -> &'a Outcome {
    let row = rows.iter().find(|r| r.name == name);
    &row.unwrap_or_else(|| panic!("no row {name}")).outcome
}

#[test]
fn dry_run_plans_every_change_and_writes_nothing() {
    with_timeout(TEST_TIMEOUT, || {
        let fake = untuned_host();
        let host = HostFs::with_root(fake.root());
        let rows = apply(&tunables::all(&context()), &host, true);
        let planned = rows
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Planned { .. }))
            .count();
        assert_eq!(
            planned, 14,
            "all but the two rlimits have a plan: {rows:#?}"
        );
        match outcome_of(&rows, "irq.affinity") {
            Outcome::Planned { writes, .. } => {
                let paths: Vec<String> = writes
                    .iter()
                    .map(|w| w.path.display().to_string())
                    .collect();
                assert_eq!(
                    paths,
                    [
                        "/proc/irq/40/smp_affinity",
                        "/proc/irq/41/smp_affinity",
                        "/proc/irq/43/smp_affinity"
                    ]
                );
                assert!(
                    writes.iter().all(|w| w.value == "1"),
                    "IRQs go to cpu 0: {writes:?}"
                );
            }
            other => panic!("irq.affinity: {other:?}"),
        }
        assert_eq!(fake.read("/proc/sys/vm/swappiness"), "60");
        assert_eq!(
            fake.read(&format!("{NVME_DISK}/queue/scheduler")),
            "[mq-deadline] kyber none"
        );
        assert_eq!(fake.read("/proc/irq/40/smp_affinity"), "f");
    });
}

#[test]
fn apply_changes_what_differs_and_check_then_reports_ok() {
    with_timeout(TEST_TIMEOUT, || {
        let fake = untuned_host();
        let host = HostFs::with_root(fake.root());
        let list = tunables::all(&context());
        let rows = apply(&list, &host, false);
        let changed = rows
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Changed { .. }))
            .count();
        assert_eq!(changed, 14, "{rows:#?}");
        assert_eq!(
            outcome_of(&rows, "block.scheduler"),
            &Outcome::Changed {
                from: "nvme0n1=mq-deadline".into(),
                to: "nvme0n1=none".into()
            }
        );
        assert_eq!(
            fake.read("/proc/sys/net/ipv4/tcp_wmem"),
            "4096 16384 16777216"
        );
        assert_eq!(fake.read(&format!("{NVME_DISK}/queue/nomerges")), "2");
        assert_eq!(
            fake.read("/sys/devices/system/cpu/cpu3/cpufreq/scaling_governor"),
            "performance"
        );
        assert_eq!(
            fake.read("/proc/irq/1/smp_affinity"),
            "f",
            "non-device IRQs stay where they are"
        );
        assert_eq!(
            fake.read("/proc/irq/44/smp_affinity"),
            "f",
            "virtio config IRQs stay"
        );
        for name in ["rlimit.memlock", "rlimit.nofile"] {
            match outcome_of(&rows, name) {
                Outcome::NotTunable { reason, .. } => {
                    assert!(reason.contains("sluice.service"), "{reason}")
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        for row in check(&list, &host) {
            let expected = if row.name.starts_with("rlimit.") {
                Status::Differs
            } else {
                Status::Ok
            };
            assert_eq!(
                row.assessment.status, expected,
                "{}: {:?}",
                row.name, row.assessment
            );
        }
    });
}

#[test]
fn refused_and_missing_settings_are_not_tunable_and_do_not_stop_the_others() {
    with_timeout(TEST_TIMEOUT, || {
        let fake = untuned_host();
        // A read-only procfs file: writing it fails with EACCES even for root.
        std::fs::remove_file(fake.path("/proc/sys/fs/aio-max-nr"))
            .unwrap_or_else(|e| panic!("{e}"));
        fake.link("/proc/sys/fs/aio-max-nr", "/proc/sys/fs/aio-nr");
        std::fs::remove_file(fake.path("/proc/sys/vm/swappiness"))
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::remove_dir_all(fake.path("/sys/devices/system/cpu/cpu2/cpufreq"))
            .unwrap_or_else(|e| panic!("{e}"));
        let host = HostFs::with_root(fake.root());
        let rows = apply(&tunables::all(&context()), &host, false);
        let reason_of = |name| match outcome_of(&rows, name) {
            Outcome::NotTunable { reason, .. } => reason.clone(),
            other => panic!("{name} should be not tunable: {other:?}"),
        };
        assert!(
            reason_of("fs.aio-max-nr").contains("permission denied"),
            "{}",
            reason_of("fs.aio-max-nr")
        );
        assert!(
            reason_of("vm.swappiness").contains("not present"),
            "{}",
            reason_of("vm.swappiness")
        );
        assert!(
            reason_of("cpu.governor").contains("no cpufreq driver"),
            "{}",
            reason_of("cpu.governor")
        );
        assert!(matches!(
            outcome_of(&rows, "vm.dirty_ratio"),
            Outcome::Changed { .. }
        ));
        assert!(matches!(
            outcome_of(&rows, "block.scheduler"),
            Outcome::Changed { .. }
        ));
        assert!(matches!(
            outcome_of(&rows, "irq.affinity"),
            Outcome::Changed { .. }
        ));
    });
}

#[test]
fn data_dir_on_overlay_has_no_block_device_to_tune() {
    with_timeout(TEST_TIMEOUT, || {
        let fake = untuned_host();
        fake.file(
            "/proc/self/mountinfo",
            "500 1 0:52 / / rw - overlay overlay rw,lowerdir=/x",
        );
        let rows = check(&tunables::all(&context()), &HostFs::with_root(fake.root()));
        for name in ["block.scheduler", "block.nomerges"] {
            let row = rows
                .iter()
                .find(|r| r.name == name)
                .unwrap_or_else(|| panic!("no {name}"));
            match &row.assessment.status {
                Status::NotTunable(reason) => assert!(reason.contains("overlay"), "{reason}"),
                other => panic!("{name}: {other:?}"),
            }
        }
    });
}

#[test]
fn device_mapper_volume_tunes_every_disk_beneath_it() {
    with_timeout(TEST_TIMEOUT, || {
        let fake = untuned_host();
        fake.file(
            "/proc/self/mountinfo",
            "27 1 253:0 / / rw - ext4 /dev/mapper/vg-root rw",
        )
        .link("/sys/dev/block/253:0", "../../devices/virtual/block/dm-0")
        .dir("/sys/devices/virtual/block/dm-0/slaves/sda2")
        .dir("/sys/devices/virtual/block/dm-0/slaves/vdb")
        .link(
            "/sys/class/block/sda2",
            "../../devices/pci0000:00/ata1/block/sda/sda2",
        )
        .file("/sys/devices/pci0000:00/ata1/block/sda/sda2/partition", "2")
        .file(
            "/sys/devices/pci0000:00/ata1/block/sda/queue/scheduler",
            "[bfq] none",
        )
        .link(
            "/sys/class/block/vdb",
            "../../devices/pci0000:00/virtio3/block/vdb",
        )
        .file(
            "/sys/devices/pci0000:00/virtio3/block/vdb/queue/scheduler",
            "[none] mq-deadline",
        );
        let host = HostFs::with_root(fake.root());
        let list = tunables::all(&context());
        let rows = check(&list, &host);
        let scheduler = rows
            .iter()
            .find(|r| r.name == "block.scheduler")
            .unwrap_or_else(|| panic!("row"));
        assert_eq!(scheduler.assessment.current, "sda=bfq,vdb=none");
        assert_eq!(
            scheduler.assessment.writes.len(),
            1,
            "only sda needs a change"
        );
        apply(&list, &host, false);
        assert_eq!(
            fake.read("/sys/devices/pci0000:00/ata1/block/sda/queue/scheduler"),
            "none"
        );
    });
}

#[test]
fn small_hosts_keep_irqs_unless_cpus_are_reserved() {
    with_timeout(TEST_TIMEOUT, || {
        let fake = untuned_host();
        fake.file("/sys/devices/system/cpu/online", "0-1");
        let host = HostFs::with_root(fake.root());
        let irq_row = |irq_cpus| {
            let context = TuneContext {
                data_dir: "/var/lib/sluice".into(),
                irq_cpus,
            };
            let rows = check(&tunables::all(&context), &host);
            rows.into_iter()
                .find(|r| r.name == "irq.affinity")
                .unwrap_or_else(|| panic!("row"))
        };
        assert!(matches!(
            irq_row(None).assessment.status,
            Status::NotTunable(_)
        ));
        let reserved = irq_row(Some(CpuSet::from_cpus([1])));
        assert_eq!(reserved.assessment.status, Status::Differs);
        assert!(reserved.assessment.writes.iter().all(|w| w.value == "2"));
    });
}

#[test]
fn irqbalance_is_named_because_it_undoes_irq_affinity() {
    with_timeout(TEST_TIMEOUT, || {
        let fake = untuned_host();
        fake.file("/proc/4242/comm", "irqbalance")
            .file("/proc/17/comm", "sshd");
        let rows = check(&tunables::all(&context()), &HostFs::with_root(fake.root()));
        let irq = rows
            .iter()
            .find(|r| r.name == "irq.affinity")
            .unwrap_or_else(|| panic!("row"));
        assert!(
            irq.assessment.current.contains("irqbalance is running"),
            "{:?}",
            irq.assessment
        );
    });
}
