//! The tunables, one concept per file, and the list `check` and `apply` walk.

pub mod block_queue;
pub mod cpu_governor;
pub mod irq_affinity;
pub mod rlimit;
pub mod sysctl;
pub mod transparent_hugepages;

use crate::tunable::{Tunable, TuneContext};

/// Every tunable, in the order rows are printed.
pub fn all(context: &TuneContext) -> Vec<Box<dyn Tunable>> {
    let mut list: Vec<Box<dyn Tunable>> = Vec::new();
    for sysctl in sysctl::recommended() {
        list.push(Box::new(sysctl));
    }
    list.push(Box::new(block_queue::BlockScheduler::new(
        &context.data_dir,
    )));
    list.push(Box::new(block_queue::BlockNomerges::new(&context.data_dir)));
    list.push(Box::new(transparent_hugepages::TransparentHugepages));
    list.push(Box::new(cpu_governor::CpuGovernor));
    list.push(Box::new(irq_affinity::IrqAffinity::new(
        context.irq_cpus.clone(),
    )));
    list.push(Box::new(rlimit::ProcessLimit::memlock()));
    list.push(Box::new(rlimit::ProcessLimit::nofile()));
    list
}
