//! Commit offsets (with metadata), SIGKILL the broker, restart it: the same group resumes at
//! exactly the committed offsets, metadata kept. New groups follow auto.offset.reset: earliest
//! reads everything, latest only what is produced after it joined.

mod common;
mod group_support;

fn resumes_after_kill9(client: &str, prefix: &str) {
    let Some(python) = group_support::python() else {
        return;
    };
    let mut broker = group_support::start_broker(2);
    group_support::run_scenario(&mut broker, &python, client, "restart-commit", prefix);
    broker.kill9();
    broker.restart();
    group_support::run_scenario(&mut broker, &python, client, "restart-resume", prefix);
}

#[test]
fn confluent_kafka_resumes_at_committed_offsets_after_kill9() {
    resumes_after_kill9("confluent", "cr");
}

#[test]
fn kafka_python_resumes_at_committed_offsets_after_kill9() {
    resumes_after_kill9("kafka-python", "kr");
}
