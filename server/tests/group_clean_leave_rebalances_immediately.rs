//! A consumer that closes cleanly sends LeaveGroup: the remaining member owns every partition
//! long before the (60 s) session timeout could have expired the leaver.

mod common;
mod group_support;

#[test]
fn confluent_kafka_clean_leave_rebalances_immediately() {
    let Some(python) = group_support::python() else {
        return;
    };
    let mut broker = group_support::start_broker(1);
    group_support::run_scenario(&mut broker, &python, "confluent", "clean-leave", "cl");
}

#[test]
fn kafka_python_clean_leave_rebalances_immediately() {
    let Some(python) = group_support::python() else {
        return;
    };
    let mut broker = group_support::start_broker(1);
    group_support::run_scenario(&mut broker, &python, "kafka-python", "clean-leave", "kl");
}
