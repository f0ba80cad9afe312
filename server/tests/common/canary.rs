//! A well-behaved client that must keep being served while another connection misbehaves.

use super::broker::Broker;
use super::kafka::{self, error_code};
use super::records;
use super::wire::KafkaConnection;

pub const CANARY_TOPIC: &str = "canary";

pub struct Canary {
    conn: KafkaConnection,
    produced: i64,
}

impl Canary {
    /// Connects (before the misbehaving client does) and creates the canary topic.
    pub fn new(broker: &Broker) -> Canary {
        let mut conn = broker.connect();
        kafka::create_topic(&mut conn, CANARY_TOPIC, 1);
        let mut canary = Canary { conn, produced: 0 };
        canary.assert_served(broker, "at start");
        canary
    }

    /// The canary's own connection answers Metadata and takes a produce at the next offset,
    /// a new connection is served too, and the broker process is alive.
    pub fn assert_served(&mut self, broker: &Broker, when: &str) {
        kafka::assert_serving(&mut self.conn, CANARY_TOPIC);
        let record = records::numbered_record("canary", self.produced as usize, records::now_ms());
        let response = kafka::produce(
            &mut self.conn,
            CANARY_TOPIC,
            0,
            records::encode_batch(&[record]),
            1,
        );
        assert_eq!(
            response.error_code,
            error_code::NONE,
            "canary produce {when}"
        );
        assert_eq!(response.base_offset, self.produced, "canary offset {when}");
        self.produced += 1;
        let mut fresh = broker.connect();
        kafka::assert_serving(&mut fresh, CANARY_TOPIC);
    }
}
