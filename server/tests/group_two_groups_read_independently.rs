//! Two groups subscribed to the same topic each read every message exactly once,
//! independently of each other.

mod common;
mod group_support;

#[test]
fn confluent_kafka_two_groups_read_independently() {
    let Some(python) = group_support::python() else {
        return;
    };
    let mut broker = group_support::start_broker(2);
    group_support::run_scenario(&mut broker, &python, "confluent", "two-groups", "c2");
}

#[test]
fn kafka_python_two_groups_read_independently() {
    let Some(python) = group_support::python() else {
        return;
    };
    let mut broker = group_support::start_broker(2);
    group_support::run_scenario(&mut broker, &python, "kafka-python", "two-groups", "k2");
}
