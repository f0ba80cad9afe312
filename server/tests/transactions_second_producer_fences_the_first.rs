//! confluent-kafka: a second producer with the same transactional.id fences the first (its
//! InitProducerId bumps the epoch and aborts the first's open transaction). The first's commit
//! then fails with a fatal fencing error, and read_committed consumers never see its records.

mod common;

use common::broker::{Broker, BrokerOptions};
use common::clients;
use common::transactions::{numbered, run, values};

const TOPIC: &str = "payments";

#[test]
fn a_second_producer_with_the_same_id_fences_the_first() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let broker = Broker::start(BrokerOptions::default());
    let mut conn = broker.connect();
    common::kafka::create_topic(&mut conn, TOPIC, 1);
    let answer = run(&python, &broker.bootstrap(), TOPIC, "fencing", &[], |why| {
        broker.fail(why)
    });
    let fenced = &answer["fenced"];
    assert!(!fenced.is_null(), "the zombie's commit succeeded: {answer}");
    assert_eq!(fenced["fatal"], serde_json::Value::Bool(true), "{answer}");
    let name = fenced["name"].as_str().unwrap_or_default();
    assert!(
        name.contains("FENCED") || name.contains("EPOCH"),
        "fencing error, not {name}"
    );
    assert_eq!(values(&answer, "committed"), numbered("successor", 5));
}
