//! Static membership (group.instance.id) as in Kafka: a static member that restarts within its
//! session timeout gets its partitions back under a new member id, and the other member sees
//! no rebalance at all.

mod common;
mod group_support;

#[test]
fn confluent_kafka_static_member_restarts_without_rebalance() {
    let Some(python) = group_support::python() else {
        return;
    };
    let mut broker = group_support::start_broker(2);
    group_support::run_scenario(&mut broker, &python, "confluent", "static-restart", "cs");
}

#[test]
fn kafka_python_static_member_restarts_without_rebalance() {
    let Some(python) = group_support::python() else {
        return;
    };
    let mut broker = group_support::start_broker(2);
    group_support::run_scenario(&mut broker, &python, "kafka-python", "static-restart", "ks");
}
