//! A broker started on a port another broker listens on refuses to start with "address in
//! use" and the holder's pid, as Kafka does, instead of joining the port's SO_REUSEPORT group
//! and silently taking part of the first broker's connections. The first broker (two shards,
//! so two sockets of its own on the port) keeps every connection: kcat, connecting afresh each
//! time, always finds its topic and reads back what it wrote.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::broker::{Broker, BrokerOptions};
use common::clients;
use common::process::run_with_timeout;

const TOPIC: &str = "held-by-the-first-broker";
const KCAT_TIMEOUT: Duration = Duration::from_secs(60);
/// Fresh kcat connections that must all reach the first broker.
const LISTINGS: usize = 12;
const MESSAGES: usize = 50;

#[test]
fn a_second_broker_on_a_taken_port_refuses_to_start() {
    let Some(kcat) = clients::kcat() else {
        return;
    };
    let first = Broker::start(BrokerOptions::default().cores(2));
    let mut conn = first.connect();
    common::kafka::create_topic(&mut conn, TOPIC, 1);
    let first_pid = first.pid().expect("the first broker runs");

    for host in [[127, 0, 0, 1], [0, 0, 0, 0]] {
        let mut second = Broker::spawn(BrokerOptions {
            port: Some(first.addr().port()),
            host: host.into(),
            ..BrokerOptions::default()
        });
        let refused = second
            .try_wait_started()
            .expect_err("the second broker must not start on a taken port");
        assert!(refused.contains("in use"), "{refused}");
        let log = second.log_text();
        assert!(
            log.contains(&format!("pid {first_pid} (sluice)")),
            "the refusal names the holder: {log}"
        );
    }

    for _ in 0..LISTINGS {
        let listing = kcat_run(&kcat, &["-L", "-b", &first.bootstrap()]);
        assert!(
            listing.contains(TOPIC),
            "a connection reached a broker without the topic: {listing}"
        );
    }
    let input: String = (0..MESSAGES).map(|i| format!("message-{i}\n")).collect();
    let work = tempfile::tempdir().expect("temp dir");
    let input_path = work.path().join("input");
    std::fs::write(&input_path, &input).expect("write kcat input");
    let produce = ["-P", "-b", &first.bootstrap(), "-t", TOPIC, "-p", "0"];
    kcat_run_with_input(&kcat, &produce, &input_path);
    let read = kcat_run(
        &kcat,
        &[
            "-C",
            "-b",
            &first.bootstrap(),
            "-t",
            TOPIC,
            "-o",
            "beginning",
            "-e",
            "-q",
        ],
    );
    assert_eq!(read, input, "the first broker keeps what it was sent");
}

fn kcat_run(kcat: &Path, args: &[&str]) -> String {
    let mut command = Command::new(kcat);
    command.args(args);
    let finished = run_with_timeout(&mut command, KCAT_TIMEOUT, "kcat");
    assert!(finished.status.success(), "kcat: {}", finished.transcript());
    finished.stdout
}

fn kcat_run_with_input(kcat: &Path, args: &[&str], input: &Path) {
    let mut command = Command::new(kcat);
    command.args(args).arg("-l").arg(input);
    let finished = run_with_timeout(&mut command, KCAT_TIMEOUT, "kcat produce");
    assert!(finished.status.success(), "kcat: {}", finished.transcript());
}
