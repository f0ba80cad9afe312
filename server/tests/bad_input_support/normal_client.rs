//! A client that must keep producing and consuming correctly while others misbehave.

use crate::common::broker::Broker;
use crate::common::kafka::{self, error_code};
use crate::common::records;

pub const NORMAL_TOPIC: &str = "normal";

/// It connects afresh for every check, as real clients reconnect after
/// `connections.max.idle.ms` closes an idle connection.
pub struct NormalClient {
    next_offset: i64,
}

impl NormalClient {
    pub fn new(broker: &Broker) -> Self {
        let mut conn = broker.connect();
        kafka::create_topic(&mut conn, NORMAL_TOPIC, 1);
        NormalClient { next_offset: 0 }
    }

    /// Produces one record with acks=all and reads it back byte-exact, and a brand-new
    /// connection is served.
    pub fn assert_works(&mut self, broker: &mut Broker, after: &str) {
        broker.assert_alive();
        let mut conn = broker.connect();
        let record =
            records::numbered_record(NORMAL_TOPIC, self.next_offset as usize, records::now_ms());
        let response = kafka::produce(
            &mut conn,
            NORMAL_TOPIC,
            0,
            records::encode_batch(std::slice::from_ref(&record)),
            -1,
        );
        assert_eq!(
            response.error_code,
            error_code::NONE,
            "produce after {after}: {}",
            error_code::name(response.error_code)
        );
        assert_eq!(
            response.base_offset, self.next_offset,
            "offset after {after}"
        );
        let data = kafka::fetch(&mut conn, NORMAL_TOPIC, 0, self.next_offset, 1 << 20);
        assert_eq!(data.error_code, error_code::NONE, "fetch after {after}");
        let fetched = records::decode_records(&data.records.expect("records"));
        let last = fetched.last().expect("fetched the produced record");
        assert_eq!(
            last.value.as_ref(),
            Some(&record.value),
            "value after {after}"
        );
        self.next_offset += 1;
        let mut fresh = broker.connect();
        fresh
            .ping()
            .unwrap_or_else(|e| panic!("new connection after {after}: {e}"));
    }
}
