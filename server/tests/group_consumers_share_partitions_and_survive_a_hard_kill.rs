//! Three consumers in one group on a 6-partition topic get 2 partitions each. One is killed
//! hard (no LeaveGroup): after the 6 s session timeout the other two own all 6, and every
//! message produced before and after is committed exactly once. For confluent-kafka and
//! kafka-python; the broker runs two shards so the coordinator and the data are spread.

mod common;
mod group_support;

#[test]
fn confluent_kafka_group_survives_a_hard_kill() {
    let Some(python) = group_support::python() else {
        return;
    };
    let mut broker = group_support::start_broker(2);
    group_support::run_scenario(&mut broker, &python, "confluent", "share-and-kill", "ck");
}

#[test]
fn kafka_python_group_survives_a_hard_kill() {
    let Some(python) = group_support::python() else {
        return;
    };
    let mut broker = group_support::start_broker(2);
    group_support::run_scenario(&mut broker, &python, "kafka-python", "share-and-kill", "kp");
}
