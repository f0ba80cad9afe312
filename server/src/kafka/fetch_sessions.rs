//! Incremental fetch sessions (KIP-227) for followers: after a full fetch that opens a session,
//! a follower sends only the partitions whose fetch position changed, and the leader answers
//! only the partitions with news (records, an error, a diverging epoch, or a new high
//! watermark or log start). Idle partitions then cost neither request nor response bytes, and
//! the leader still counts every session partition's fetch as the follower's acknowledgement.
//!
//! Sessions live on the shard whose connection opened them (a follower's stream keeps one
//! connection); a follower that lands elsewhere gets FETCH_SESSION_ID_NOT_FOUND and starts a
//! new session with a full fetch. Consumers are answered without sessions (session id 0), as
//! the protocol allows.
//!
//! Lives on one shard.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};

use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::{FetchRequest, TopicName};
use kafka_protocol::protocol::StrBytes;

use crate::error_code::ResponseError;

/// Sessions one shard keeps (Kafka's `max.incremental.fetch.session.cache.slots` is per broker).
pub const FETCH_SESSIONS_PER_SHARD_MAX: usize = 1_000;
/// Partitions one session may hold.
pub const FETCH_SESSION_PARTITIONS_MAX: usize = 100_000;

/// (topic, partition)
pub type PartitionKey = (String, i32);

/// What the leader remembers of one session partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPartition {
    pub fetch_offset: i64,
    pub current_leader_epoch: i32,
    pub last_fetched_epoch: i32,
    pub log_start_offset: i64,
    pub max_bytes: i32,
    /// What the last response told the follower (-1: nothing yet).
    pub sent_high_watermark: i64,
    pub sent_log_start_offset: i64,
}

#[derive(Debug)]
struct Session {
    replica_id: i32,
    /// The follower stream's client id: a broker runs one stream per shard, and two of them
    /// may reach the same shard here (a connection the kernel placed, not steered).
    client_id: String,
    /// The epoch the next request must carry.
    next_epoch: i32,
    partitions: BTreeMap<PartitionKey, SessionPartition>,
    last_used_ms: u64,
}

/// How a request relates to sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionUse {
    /// No session (consumers, or a follower closing one): a full fetch answered in full.
    None,
    /// A session this request opened or continued: answer its partitions with news.
    Open { id: i32, full: bool },
    /// The session is unknown or the epoch is wrong: answer only this top-level error.
    Refused(i16),
}

pub struct FetchSessions {
    shard: usize,
    next_id: Cell<i32>,
    sessions: RefCell<HashMap<i32, Session>>,
}

impl FetchSessions {
    pub fn new(shard: usize) -> FetchSessions {
        assert!(shard < 256);
        FetchSessions {
            shard,
            next_id: Cell::new(1),
            sessions: RefCell::new(HashMap::new()),
        }
    }

    /// Applies a follower's request to the sessions and rewrites `body.topics` into the full
    /// list of partitions to serve (the session's, for an incremental request).
    pub fn begin(&self, body: &mut FetchRequest, client_id: &str, now_ms: u64) -> SessionUse {
        let replica_id = body.replica_id.0;
        if replica_id < 0 {
            return SessionUse::None;
        }
        let (id, epoch) = (body.session_id, body.session_epoch);
        if id != 0 && epoch == -1 {
            self.sessions.borrow_mut().remove(&id);
            return SessionUse::None;
        }
        if id == 0 {
            if epoch != 0 {
                return SessionUse::None;
            }
            return self.open(body, replica_id, client_id, now_ms);
        }
        let mut sessions = self.sessions.borrow_mut();
        let Some(session) = sessions.get_mut(&id) else {
            return SessionUse::Refused(ResponseError::FetchSessionIdNotFound.code());
        };
        if session.replica_id != replica_id
            || session.client_id != client_id
            || session.next_epoch != epoch
        {
            return SessionUse::Refused(ResponseError::InvalidFetchSessionEpoch.code());
        }
        for topic in &body.forgotten_topics_data {
            for partition in &topic.partitions {
                session
                    .partitions
                    .remove(&(topic.topic.0.to_string(), *partition));
            }
        }
        merge(&mut session.partitions, &body.topics);
        if session.partitions.len() > FETCH_SESSION_PARTITIONS_MAX {
            sessions.remove(&id);
            return SessionUse::Refused(ResponseError::FetchSessionIdNotFound.code());
        }
        session.next_epoch = next_epoch(epoch);
        session.last_used_ms = now_ms;
        body.topics = as_topics(&session.partitions);
        SessionUse::Open { id, full: false }
    }

    /// After answering: what each served partition was told, and which partitions an
    /// incremental response includes (every one for a full response).
    pub fn finish(&self, id: i32, full: bool, served: &[ServedPartition]) -> Vec<bool> {
        let mut sessions = self.sessions.borrow_mut();
        let Some(session) = sessions.get_mut(&id) else {
            return vec![true; served.len()];
        };
        served
            .iter()
            .map(|served| {
                let Some(state) = session.partitions.get_mut(&served.key) else {
                    return true;
                };
                let news = full
                    || served.has_records_or_error
                    || served.high_watermark != state.sent_high_watermark
                    || served.log_start_offset != state.sent_log_start_offset;
                state.sent_high_watermark = served.high_watermark;
                state.sent_log_start_offset = served.log_start_offset;
                news
            })
            .collect()
    }

    fn open(
        &self,
        body: &mut FetchRequest,
        replica_id: i32,
        client_id: &str,
        now_ms: u64,
    ) -> SessionUse {
        let mut partitions = BTreeMap::new();
        merge(&mut partitions, &body.topics);
        if partitions.len() > FETCH_SESSION_PARTITIONS_MAX {
            return SessionUse::None;
        }
        let mut sessions = self.sessions.borrow_mut();
        // One session per follower stream: a stream opening a new one drops its old ones.
        sessions.retain(|_, s| s.replica_id != replica_id || s.client_id != client_id);
        if sessions.len() >= FETCH_SESSIONS_PER_SHARD_MAX {
            let oldest = sessions
                .iter()
                .min_by_key(|(_, s)| s.last_used_ms)
                .map(|(id, _)| *id);
            if let Some(oldest) = oldest {
                sessions.remove(&oldest);
            }
        }
        let id = self.new_id(&sessions);
        sessions.insert(
            id,
            Session {
                replica_id,
                client_id: client_id.to_string(),
                next_epoch: 1,
                partitions,
                last_used_ms: now_ms,
            },
        );
        SessionUse::Open { id, full: true }
    }

    /// Positive, unique on this shard, with the shard in the low byte so that two shards
    /// never hand out the same id.
    fn new_id(&self, sessions: &HashMap<i32, Session>) -> i32 {
        loop {
            let counter = self.next_id.get();
            self.next_id.set(if counter >= (i32::MAX >> 8) {
                1
            } else {
                counter + 1
            });
            let id = (counter << 8) | self.shard as i32;
            if !sessions.contains_key(&id) {
                return id;
            }
        }
    }
}

/// One partition as served, for [`FetchSessions::finish`].
pub struct ServedPartition {
    pub key: PartitionKey,
    pub has_records_or_error: bool,
    pub high_watermark: i64,
    pub log_start_offset: i64,
}

/// Kafka's session epochs wrap from i32::MAX to 1 (0 opens, -1 closes).
fn next_epoch(epoch: i32) -> i32 {
    if epoch == i32::MAX {
        1
    } else {
        epoch + 1
    }
}

fn merge(partitions: &mut BTreeMap<PartitionKey, SessionPartition>, topics: &[FetchTopic]) {
    for topic in topics {
        let name = topic.topic.0.to_string();
        for p in &topic.partitions {
            let key = (name.clone(), p.partition);
            let sent = partitions
                .get(&key)
                .map(|s| (s.sent_high_watermark, s.sent_log_start_offset))
                .unwrap_or((-1, -1));
            partitions.insert(
                key,
                SessionPartition {
                    fetch_offset: p.fetch_offset,
                    current_leader_epoch: p.current_leader_epoch,
                    last_fetched_epoch: p.last_fetched_epoch,
                    log_start_offset: p.log_start_offset,
                    max_bytes: p.partition_max_bytes,
                    sent_high_watermark: sent.0,
                    sent_log_start_offset: sent.1,
                },
            );
        }
    }
}

fn as_topics(partitions: &BTreeMap<PartitionKey, SessionPartition>) -> Vec<FetchTopic> {
    let mut topics: Vec<FetchTopic> = Vec::new();
    for ((name, index), p) in partitions {
        let partition = FetchPartition::default()
            .with_partition(*index)
            .with_current_leader_epoch(p.current_leader_epoch)
            .with_fetch_offset(p.fetch_offset)
            .with_last_fetched_epoch(p.last_fetched_epoch)
            .with_log_start_offset(p.log_start_offset)
            .with_partition_max_bytes(p.max_bytes);
        match topics.last_mut() {
            Some(topic) if topic.topic.0.as_str() == name => topic.partitions.push(partition),
            _ => topics.push(
                FetchTopic::default()
                    .with_topic(TopicName(StrBytes::from_string(name.clone())))
                    .with_partitions(vec![partition]),
            ),
        }
    }
    topics
}

#[cfg(test)]
#[path = "fetch_sessions_tests.rs"]
mod tests;
