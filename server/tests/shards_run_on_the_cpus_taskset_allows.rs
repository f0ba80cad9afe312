//! A broker started under `taskset` (or a cgroup cpuset) puts its shards on the CPUs it is
//! allowed, not on the machine's first CPUs: three brokers on one host, each given its own
//! cores, must not all pin their shard 0 to CPU 0. Asking for more shards than allowed CPUs
//! is refused at start with a message that says why. With `--pin-shards false` (a shared
//! host) the shard threads keep every CPU the process may use, and the kernel places them.

mod common;

use common::broker::{free_fixed_port, Broker, BrokerOptions};
use common::kafka;

/// The highest online CPU, when there are at least two (CPU 0 would prove nothing).
fn last_cpu() -> Option<usize> {
    let online = glommio::CpuSet::online().expect("the online CPUs");
    let last = online.iter().map(|location| location.cpu).max()?;
    (last > 0).then_some(last)
}

/// The CPUs the threads named `shard-*` of process `pid` may run on.
fn shard_thread_cpus(pid: u32) -> Vec<String> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("the broker's threads");
    let mut cpus = Vec::new();
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with("shard-") {
            continue;
        }
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        if let Some(line) = status.lines().find(|l| l.starts_with("Cpus_allowed_list:")) {
            cpus.push(line["Cpus_allowed_list:".len()..].trim().to_string());
        }
    }
    cpus
}

#[test]
fn a_shard_runs_on_the_cpu_taskset_gives_the_broker() {
    let Some(cpu) = last_cpu() else {
        eprintln!("one CPU: nothing to choose between");
        return;
    };
    let broker = Broker::start(BrokerOptions {
        command_prefix: vec!["taskset".into(), "-c".into(), cpu.to_string()],
        ..BrokerOptions::default().cores(1)
    });
    let pid = broker.pid().expect("running");
    // The shard's thread and its helper threads (glommio names them after the shard).
    let cpus = shard_thread_cpus(pid);
    assert!(!cpus.is_empty(), "no shard thread found");
    assert!(
        cpus.iter().all(|allowed| *allowed == cpu.to_string()),
        "{cpus:?}"
    );
    broker.wait_for_log(
        &format!("1 shard(s) on cpus [{cpu}]"),
        std::time::Duration::from_secs(10),
    );
    // And it serves: a topic is created and listed.
    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, "pinned", 2);
    let metadata = kafka::metadata(&mut conn, &["pinned"]);
    assert_eq!(metadata.topics[0].partitions.len(), 2);
}

#[test]
fn unpinned_shards_keep_every_cpu_taskset_gives_the_broker() {
    let Some(cpu) = last_cpu() else {
        eprintln!("one CPU: pinned and unpinned look the same");
        return;
    };
    let allowed = format!("0,{cpu}");
    let broker = Broker::start(BrokerOptions {
        command_prefix: vec!["taskset".into(), "-c".into(), allowed],
        extra_args: vec!["--pin-shards".into(), "false".into()],
        ..BrokerOptions::default().cores(1)
    });
    let pid = broker.pid().expect("running");
    let cpus = shard_thread_cpus(pid);
    assert!(!cpus.is_empty(), "no shard thread found");
    // /proc writes the pair as "0,N", or "0-1" when they are adjacent.
    let both = [format!("0,{cpu}"), format!("0-{cpu}")];
    assert!(
        cpus.iter().all(|allowed| both.contains(allowed)),
        "an unpinned shard keeps the process's CPUs: {cpus:?}"
    );
    broker.wait_for_log("1 shard(s) not pinned", std::time::Duration::from_secs(10));
    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, "floating", 2);
    let metadata = kafka::metadata(&mut conn, &["floating"]);
    assert_eq!(metadata.topics[0].partitions.len(), 2);
}

#[test]
fn more_cores_than_taskset_allows_is_refused_at_start() {
    if last_cpu().is_none() {
        eprintln!("one CPU: --cores 2 is refused for another reason");
        return;
    }
    let mut broker = Broker::spawn(BrokerOptions {
        command_prefix: vec!["taskset".into(), "-c".into(), "0".into()],
        port: Some(free_fixed_port()),
        ..BrokerOptions::default().cores(2)
    });
    let reason = broker
        .try_wait_started()
        .expect_err("two shards on one allowed CPU must not start");
    assert!(reason.contains("exited during startup"), "{reason}");
    let log = broker.log_text();
    assert!(
        log.contains("--cores 2 but this process may run on only 1 CPUs"),
        "the refusal names the cause: {log}"
    );
}
