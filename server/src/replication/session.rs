//! The follower's half of an incremental fetch session (KIP-227): the first fetch (epoch 0)
//! opens it with every partition; later fetches name only the partitions whose position
//! changed, and list those no longer followed as forgotten. Any error or a broken connection
//! drops the session, and the next fetch is a full one.

use std::collections::HashMap;
use std::rc::Rc;

use kafka_protocol::messages::fetch_request::ForgottenTopic;
use kafka_protocol::messages::{FetchRequest, TopicName};
use kafka_protocol::protocol::StrBytes;

use crate::partition::follower::FetchPosition;
use crate::partition::Partition;

type Key = (String, i32);

#[derive(Debug, Default)]
pub struct FollowerSession {
    /// (session id, epoch of the next request) once the leader opened one.
    open: Option<(i32, i32)>,
    /// What the leader's session holds for each partition, as of the last request sent.
    sent: HashMap<Key, FetchPosition>,
    /// What the request in flight would make it (`answered` commits it).
    in_flight: HashMap<Key, FetchPosition>,
}

impl FollowerSession {
    /// Turns a full request for `round` into this session's next request.
    pub fn request(
        &mut self,
        mut full: FetchRequest,
        round: &[(Rc<Partition>, FetchPosition)],
    ) -> FetchRequest {
        self.in_flight = round
            .iter()
            .map(|(p, pos)| ((p.topic().to_string(), p.index()), *pos))
            .collect();
        let Some((id, epoch)) = self.open else {
            return full.with_session_id(0).with_session_epoch(0);
        };
        for topic in &mut full.topics {
            let name = topic.topic.0.to_string();
            topic.partitions.retain(|p| {
                self.sent.get(&(name.clone(), p.partition))
                    != self.in_flight.get(&(name.clone(), p.partition))
            });
        }
        full.topics.retain(|t| !t.partitions.is_empty());
        let mut forgotten: HashMap<String, Vec<i32>> = HashMap::new();
        for (topic, partition) in self.sent.keys() {
            if !self.in_flight.contains_key(&(topic.clone(), *partition)) {
                forgotten.entry(topic.clone()).or_default().push(*partition);
            }
        }
        full.forgotten_topics_data = forgotten
            .into_iter()
            .map(|(topic, partitions)| {
                ForgottenTopic::default()
                    .with_topic(TopicName(StrBytes::from_string(topic)))
                    .with_partitions(partitions)
            })
            .collect();
        full.with_session_id(id).with_session_epoch(epoch)
    }

    /// The leader answered without error, with `session_id` (0: it keeps no session).
    pub fn answered(&mut self, session_id: i32) {
        self.sent = std::mem::take(&mut self.in_flight);
        self.open = match (self.open, session_id) {
            (_, 0) => None,
            (Some((id, epoch)), _) if id == session_id => Some((id, next_epoch(epoch))),
            (_, id) => Some((id, 1)),
        };
        if self.open.is_none() {
            self.sent.clear();
        }
    }
}

/// Kafka's session epochs wrap from i32::MAX to 1.
fn next_epoch(epoch: i32) -> i32 {
    if epoch == i32::MAX {
        1
    } else {
        epoch + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_follow_the_leaders_session_and_reset_without_one() {
        let mut session = FollowerSession::default();
        session.answered(77);
        assert_eq!(session.open, Some((77, 1)));
        session.answered(77);
        assert_eq!(session.open, Some((77, 2)));
        session.answered(0);
        assert_eq!(session.open, None);
        assert!(session.sent.is_empty());
        assert_eq!(next_epoch(i32::MAX), 1);
    }
}
