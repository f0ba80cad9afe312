//! confluent-kafka: a consume-transform-produce loop reads an input partition read_committed,
//! writes one output record per input record, and commits the consumed offsets in the same
//! transaction (`send_offsets_to_transaction`). Mid-stream the broker is killed with -9 and
//! restarted; the loop either carries on or dies and is restarted (a new instance of the same
//! transactional.id fences the old one and aborts what it left open). In the end, a
//! read_committed reader sees every input transformed exactly once, in input order.
//!
//! librdkafka 2.16 can block in `send_offsets_to_transaction` past its timeout after a single
//! broker's restart: the re-bootstrap decommissions the broker handle it still caches as the
//! group coordinator, and nothing wakes the coordinator request (librdkafka#5511, #5456; the
//! broker answered every request). The loop script ends such an instance with a watchdog, as
//! the call's own timeout should have, and the test restarts it like any failed instance.

mod common;

use std::process::ExitStatus;
use std::time::Duration;

use common::broker::{Broker, BrokerOptions};
use common::clients;
use common::kafka::{self, LATEST_TIMESTAMP};
use common::process::ChildGuard;
use common::transactions::{numbered, run, spawn, values};
use common::wait::wait_until;

const INPUT: &str = "ctp-in";
const OUTPUT: &str = "ctp-out";
const GROUP: &str = "ctp-group";
const TXN_ID: &str = "ctp-loop";
const INPUTS: usize = 600;
const CHUNK: usize = 50;
/// Output records before the kill: the loop is mid-stream.
const OUTPUT_BEFORE_KILL: i64 = 100;
const PROGRESS_TIMEOUT: Duration = Duration::from_secs(90);
const LOOP_TIMEOUT: Duration = Duration::from_secs(240);
const RESTARTS_MAX: usize = 20;

#[test]
fn each_input_is_transformed_exactly_once_across_a_broker_kill9() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let mut broker = Broker::start(BrokerOptions::default());
    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, INPUT, 1);
    kafka::create_topic(&mut conn, OUTPUT, 1);
    let inputs = numbered("in", INPUTS);
    for chunk in inputs.chunks(CHUNK) {
        let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
        kafka::produce_values(&mut conn, INPUT, 0, &chunk);
    }
    let total = INPUTS.to_string();
    let start_loop = |bootstrap: &str| -> ChildGuard {
        spawn(
            &python,
            bootstrap,
            INPUT,
            "ctp",
            &[OUTPUT, GROUP, TXN_ID, &total],
        )
    };
    let mut looping = start_loop(&broker.bootstrap());
    wait_until("the loop to be mid-stream", PROGRESS_TIMEOUT, || {
        kafka::list_offset(&mut conn, OUTPUT, 0, LATEST_TIMESTAMP).offset >= OUTPUT_BEFORE_KILL
    });
    broker.restart();
    let mut restarts = 0usize;
    let bootstrap = broker.bootstrap();
    let finished: ExitStatus = wait_until("the loop to consume every input", LOOP_TIMEOUT, || {
        let status = looping.try_status("the consume-transform-produce loop")?;
        if status.success() {
            return Some(status);
        }
        restarts += 1;
        assert!(
            restarts <= RESTARTS_MAX,
            "the loop failed {restarts} times: {status}"
        );
        looping = start_loop(&bootstrap);
        None
    });
    assert!(finished.success());
    eprintln!("the loop was restarted {restarts} times");
    let fail = |why: &str| broker.fail(why);
    let answer = run(
        &python,
        &bootstrap,
        OUTPUT,
        "read",
        &["1", "read_committed"],
        fail,
    );
    let expected: Vec<String> = inputs.iter().map(|v| format!("out-{v}")).collect();
    assert_eq!(
        values(&answer, "values"),
        expected,
        "each input once, in order"
    );
}
