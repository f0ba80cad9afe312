//! confluent-kafka: a transactional producer commits, aborts, then commits again over three
//! partitions. A read_committed consumer sees exactly the committed records (each once, in
//! the order written per partition); a read_uncommitted one sees every data record, the
//! aborted ones too, and neither sees a transaction marker as a record.

mod common;

use common::broker::{Broker, BrokerOptions};
use common::clients;
use common::transactions::{numbered, records, run, values};

const TOPIC: &str = "orders";
const PARTITIONS: i32 = 3;
const RECORDS: usize = 30;

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn read_committed_sees_exactly_the_committed_records() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let broker = Broker::start(BrokerOptions::default());
    let mut conn = broker.connect();
    common::kafka::create_topic(&mut conn, TOPIC, PARTITIONS);
    let partitions = PARTITIONS.to_string();
    let answer = run(
        &python,
        &broker.bootstrap(),
        TOPIC,
        "commit_abort_commit",
        &[&partitions],
        |why| broker.fail(why),
    );
    let committed = values(&answer, "committed");
    let uncommitted = values(&answer, "uncommitted");
    let mut expected = numbered("first", RECORDS);
    expected.extend(numbered("second", RECORDS));
    assert_eq!(
        sorted(committed.clone()),
        sorted(expected.clone()),
        "read_committed"
    );
    let mut everything = expected;
    everything.extend(numbered("aborted", RECORDS));
    assert_eq!(sorted(uncommitted), sorted(everything), "read_uncommitted");
    // Per partition: offsets only grow, and the first transaction's records precede the
    // second's (the aborted ones and the markers sit between them, unseen).
    for partition in 0..i64::from(PARTITIONS) {
        let rows: Vec<(i64, String)> = records(&answer, "committed")
            .into_iter()
            .filter(|(p, _, _)| *p == partition)
            .map(|(_, offset, value)| (offset, value))
            .collect();
        assert!(
            rows.windows(2).all(|w| w[0].0 < w[1].0),
            "offsets grow: {rows:?}"
        );
        let first_second = rows.iter().position(|(_, v)| v.starts_with("second"));
        let first_second = first_second.expect("the second transaction wrote every partition");
        assert!(
            rows[..first_second]
                .iter()
                .all(|(_, v)| v.starts_with("first")),
            "{rows:?}"
        );
        assert!(
            rows[first_second..]
                .iter()
                .all(|(_, v)| v.starts_with("second")),
            "{rows:?}"
        );
        // At least one marker and the aborted records lie between the two transactions.
        let gap = rows[first_second].0 - rows[first_second - 1].0;
        assert!(
            gap >= 3,
            "partition {partition}: no room for the markers and aborted data: {rows:?}"
        );
    }
}
