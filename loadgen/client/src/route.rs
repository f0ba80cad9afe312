//! Where each partition of one topic is led, and how to reach the leaders.

use std::collections::HashMap;

use kafka_protocol::messages::TopicName;
use kafka_protocol::protocol::StrBytes;

#[derive(Debug, Clone, Default)]
pub struct TopicRoute {
    pub topic: String,
    /// Leader node id per partition index (`None` while leaderless).
    pub leaders: Vec<Option<i32>>,
    /// node id → "host:port".
    pub brokers: HashMap<i32, String>,
}

impl TopicRoute {
    pub fn partition_count(&self) -> u32 {
        self.leaders.len() as u32
    }

    pub fn leader_addr(&self, partition: u32) -> Option<(i32, &str)> {
        let node = (*self.leaders.get(partition as usize)?)?;
        self.brokers.get(&node).map(|a| (node, a.as_str()))
    }

    pub fn all_led(&self) -> bool {
        !self.leaders.is_empty() && self.leaders.iter().all(|l| l.is_some())
    }
}

pub fn topic_name(name: &str) -> TopicName {
    TopicName(StrBytes::from_string(name.to_string()))
}
