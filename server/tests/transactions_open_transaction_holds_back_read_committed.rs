//! confluent-kafka: while a transaction is open on a partition, read_committed consumers of
//! that partition stop at its first offset (the last stable offset), even for records other
//! producers wrote after it; read_uncommitted consumers read everything. Once it commits,
//! read_committed consumers see both.

mod common;

use common::broker::{Broker, BrokerOptions};
use common::clients;
use common::transactions::{numbered, run, values};

const TOPIC: &str = "ledger";

#[test]
fn an_open_transaction_holds_back_read_committed_consumers() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let broker = Broker::start(BrokerOptions::default());
    let mut conn = broker.connect();
    common::kafka::create_topic(&mut conn, TOPIC, 1);
    let answer = run(
        &python,
        &broker.bootstrap(),
        TOPIC,
        "open_blocks",
        &[],
        |why| broker.fail(why),
    );
    let transactional = numbered("txn", 5);
    let plain = numbered("plain", 5);
    let mut both = transactional.clone();
    both.extend(plain.clone());
    assert_eq!(
        values(&answer, "before"),
        Vec::<String>::new(),
        "held back while open"
    );
    assert_eq!(
        values(&answer, "uncommitted"),
        both,
        "read_uncommitted sees everything"
    );
    assert_eq!(
        values(&answer, "after"),
        both,
        "read_committed after the commit"
    );
}
