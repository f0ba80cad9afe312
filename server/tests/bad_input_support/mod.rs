//! Shared by the bad-input scenarios (`reliability_bad_input.rs`): a broker with small limits,
//! a well-behaved client that must keep working, and the checks of the rule every bad input
//! follows: a Kafka error response, or a closed connection plus a log line saying why.
#![allow(dead_code)]

pub mod frames;
pub mod normal_client;
pub mod observe;

use crate::common::broker::{Broker, BrokerOptions};
use crate::common::kafka;

use normal_client::NormalClient;

/// `socket.request.max.bytes` for these tests: small, so "just over the limit" is cheap.
pub const FRAME_BYTES_MAX: i32 = 1024 * 1024;
/// `connections.max.idle.ms` for these tests: bounds the slowloris case.
pub const IDLE_MS: u64 = 1_500;
/// The topic bad requests aim at.
pub const VICTIM_TOPIC: &str = "victim";
/// Generous bound on RSS growth over one scenario.
pub const RSS_GROWTH_BYTES_MAX: u64 = 256 * 1024 * 1024;

/// One scenario's broker, with the victim topic and a normal client that works at the start.
pub struct Scenario {
    pub broker: Broker,
    pub normal: NormalClient,
    rss_before_bytes: u64,
}

impl Scenario {
    pub fn start() -> Scenario {
        let broker = Broker::start(BrokerOptions::default().config(&format!(
            "\"socket.request.max.bytes\" = {FRAME_BYTES_MAX}\n\"connections.max.idle.ms\" = {IDLE_MS}\n"
        )));
        let mut normal = NormalClient::new(&broker);
        kafka::create_topic(&mut broker.connect(), VICTIM_TOPIC, 2);
        let mut broker = broker;
        normal.assert_works(&mut broker, "start");
        let rss_before_bytes = observe::rss_bytes(&broker);
        Scenario {
            broker,
            normal,
            rss_before_bytes,
        }
    }

    /// After the bad input: the broker is alive, the normal client still produces and
    /// consumes byte-exact, and the broker's memory stayed bounded.
    pub fn finish(mut self, after: &str) {
        self.normal.assert_works(&mut self.broker, after);
        let rss_after_bytes = observe::rss_bytes(&self.broker);
        eprintln!(
            "{after}: broker RSS before {:.1} MiB, after {:.1} MiB",
            self.rss_before_bytes as f64 / 1048576.0,
            rss_after_bytes as f64 / 1048576.0
        );
        if rss_after_bytes > self.rss_before_bytes + RSS_GROWTH_BYTES_MAX {
            self.broker.fail(&format!(
                "{after}: RSS grew from {} to {rss_after_bytes} bytes",
                self.rss_before_bytes
            ));
        }
    }
}
