//! A coordinator with every offsets partition loaded, a manual clock, and the caller's side
//! of the action protocol (replies collected, persists recorded and acknowledged).

use std::collections::HashMap;

use bytes::Bytes;
use kafka_protocol::ResponseError;

use crate::group::batch::{decode_batches, encode_batches, encode_marker, Loaded};

use crate::group::config::GroupConfig;
use crate::group::coordinator::{Action, GroupCoordinator, Reply, Ticket};
use crate::group::heartbeat::HeartbeatRequest;
use crate::group::join::{JoinOutcome, JoinRequest, JoinResult};
use crate::group::offsets::{CommitEntry, CommitPlan, CommitRequest, TxnProducer};
use crate::group::records::OffsetsRecord;
use crate::group::sync::{SyncOutcome, SyncRequest, SyncResult};
use crate::group::txn_offsets::{TxnCommitRequest, TxnEnd};

pub const SESSION_MS: i32 = 10_000;
pub const REBALANCE_MS: i32 = 30_000;
pub const INITIAL_DELAY_MS: u64 = 3_000;

pub struct Harness {
    pub coord: GroupCoordinator,
    pub now_ms: u64,
    pub replies: HashMap<Ticket, Reply>,
    /// Everything persisted, in order: (partition, record). One entry is one log offset of its
    /// partition; transaction markers take an entry too (an empty record, see `notes`).
    pub log: Vec<(i32, OffsetsRecord)>,
    /// What is special about a `log` entry, by index: a record of a transactional batch, or a
    /// transaction marker.
    pub notes: HashMap<usize, Note>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    Txn(TxnProducer),
    Marker { producer: TxnProducer, commit: bool },
}

pub fn producer(producer_id: i64) -> TxnProducer {
    TxnProducer {
        producer_id,
        producer_epoch: 0,
    }
}

pub fn config() -> GroupConfig {
    GroupConfig {
        initial_rebalance_delay_ms: INITIAL_DELAY_MS,
        ..GroupConfig::default()
    }
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with_config(config())
    }

    pub fn with_config(config: GroupConfig) -> Harness {
        let partitions = config.offsets_partitions;
        let mut coord = GroupCoordinator::new(config, 42);
        let now_ms = 1_000_000;
        for p in 0..partitions {
            coord.begin_load(p);
            coord.finish_load(p, now_ms);
        }
        Harness {
            coord,
            now_ms,
            replies: HashMap::new(),
            log: Vec::new(),
            notes: HashMap::new(),
        }
    }

    pub fn pump(&mut self) {
        for action in self.coord.take_actions() {
            match action {
                Action::Reply { ticket, reply } => {
                    assert!(
                        self.replies.insert(ticket, reply).is_none(),
                        "ticket answered twice"
                    );
                }
                Action::Persist {
                    partition,
                    records,
                    replies,
                } => {
                    self.log.extend(records.into_iter().map(|r| (partition, r)));
                    for (ticket, reply) in replies {
                        assert!(self.replies.insert(ticket, reply).is_none());
                    }
                }
            }
        }
    }

    /// Moves the clock forward, firing every timer at its own deadline.
    pub fn advance(&mut self, ms: u64) {
        let target_ms = self.now_ms + ms;
        while let Some(deadline_ms) = self.coord.next_deadline_ms() {
            if deadline_ms > target_ms {
                break;
            }
            self.now_ms = self.now_ms.max(deadline_ms);
            self.coord.tick(self.now_ms);
            self.pump();
        }
        self.now_ms = target_ms;
    }

    pub fn join(&mut self, req: JoinRequest) -> JoinOutcome {
        let out = self.coord.join(req, self.now_ms);
        self.pump();
        out
    }

    /// JoinGroup v4+ for a brand-new dynamic member: MEMBER_ID_REQUIRED, then the real join.
    pub fn join_new(&mut self, group: &str, protocols: &[&str]) -> (String, Ticket) {
        let first = self.join(join_req(group, "", protocols));
        let JoinOutcome::Done(r) = first else {
            panic!("expected MEMBER_ID_REQUIRED")
        };
        assert_eq!(r.error, Some(ResponseError::MemberIdRequired));
        assert!(!r.member_id.is_empty());
        let second = self.join(join_req(group, &r.member_id, protocols));
        let JoinOutcome::Parked(t) = second else {
            panic!("expected a parked join: {second:?}")
        };
        (r.member_id, t)
    }

    pub fn join_result(&mut self, ticket: Ticket) -> JoinResult {
        match self.replies.remove(&ticket) {
            Some(Reply::Join(r)) => r,
            other => panic!("no join reply for {ticket:?}: {other:?}"),
        }
    }

    pub fn sync_result(&mut self, ticket: Ticket) -> SyncResult {
        match self.replies.remove(&ticket) {
            Some(Reply::Sync(r)) => r,
            other => panic!("no sync reply for {ticket:?}: {other:?}"),
        }
    }

    pub fn has_reply(&self, ticket: Ticket) -> bool {
        self.replies.contains_key(&ticket)
    }

    pub fn sync(&mut self, req: SyncRequest) -> SyncOutcome {
        let out = self.coord.sync(req, self.now_ms);
        self.pump();
        out
    }

    pub fn heartbeat(
        &mut self,
        group: &str,
        member: &str,
        generation: i32,
    ) -> Option<ResponseError> {
        let req = HeartbeatRequest {
            group_id: group.into(),
            generation_id: generation,
            member_id: member.into(),
            group_instance_id: None,
        };
        let out = self.coord.heartbeat(req, self.now_ms);
        self.pump();
        out
    }

    /// The offset the next entry of `partition` gets.
    pub fn next_offset(&self, partition: i32) -> i64 {
        self.log.iter().filter(|(p, _)| *p == partition).count() as i64
    }

    /// Appends a plan's records (as the persist worker does) and applies it.
    fn persist_plan(&mut self, mut plan: CommitPlan) -> CommitPlan {
        let partition = plan.partition;
        let first = self.next_offset(partition);
        for record in plan.records.iter().cloned() {
            if let Some(producer) = plan.producer {
                self.notes.insert(self.log.len(), Note::Txn(producer));
            }
            self.log.push((partition, record));
        }
        if !plan.records.is_empty() {
            self.coord.finish_commit(&mut plan, Some(first));
        }
        self.pump();
        plan
    }

    /// Commits and acknowledges the persist, as the runtime does after a flush.
    pub fn commit(
        &mut self,
        group: &str,
        member: &str,
        generation: i32,
        offsets: &[(&str, i32, i64)],
    ) -> CommitPlan {
        let req = commit_req(group, member, generation, offsets);
        let plan = self.coord.prepare_commit(&req, self.now_ms);
        self.persist_plan(plan)
    }

    /// A TxnOffsetCommit of `producer_id`, persisted in its transactional batch.
    pub fn txn_commit(
        &mut self,
        group: &str,
        member: &str,
        generation: i32,
        producer_id: i64,
        offsets: &[(&str, i32, i64)],
    ) -> CommitPlan {
        let req = TxnCommitRequest {
            transactional_id: format!("tx-{producer_id}"),
            producer: producer(producer_id),
            commit: commit_req(group, member, generation, offsets),
        };
        let plan = self.coord.prepare_txn_commit(&req, self.now_ms);
        self.persist_plan(plan)
    }

    /// Writes `producer_id`'s marker into `partition`, then reports it, as WriteTxnMarkers does.
    pub fn end_txn(&mut self, partition: i32, producer_id: i64, commit: bool) -> TxnEnd {
        let producer = producer(producer_id);
        self.notes
            .insert(self.log.len(), Note::Marker { producer, commit });
        let marker = OffsetsRecord {
            key: Bytes::new(),
            value: None,
        };
        self.log.push((partition, marker));
        let end = self.coord.complete_txn(partition, producer_id, commit);
        self.pump();
        end.expect("the partition is served here")
    }

    /// `partition`'s log as RecordBatch v2 bytes: consecutive records of one kind share a batch.
    pub fn partition_batches(&self, partition: i32) -> Vec<Bytes> {
        let mut batches = Vec::new();
        let mut run: Vec<OffsetsRecord> = Vec::new();
        let mut run_producer: Option<TxnProducer> = None;
        let entries = self
            .log
            .iter()
            .enumerate()
            .filter(|(_, (p, _))| *p == partition);
        for (index, (_, record)) in entries {
            let note = self.notes.get(&index).copied();
            let producer = match note {
                Some(Note::Txn(producer)) => Some(producer),
                _ => None,
            };
            let is_marker = matches!(note, Some(Note::Marker { .. }));
            if !run.is_empty() && (is_marker || producer != run_producer) {
                batches.extend(encode_batches(&run, 0, run_producer).expect("encode"));
                run.clear();
            }
            if let Some(Note::Marker { producer, commit }) = note {
                batches.push(encode_marker(producer, commit, 0).expect("marker"));
                continue;
            }
            run_producer = producer;
            run.push(record.clone());
        }
        if !run.is_empty() {
            batches.extend(encode_batches(&run, 0, run_producer).expect("encode"));
        }
        batches
    }

    /// A new coordinator that replays every partition's log through real RecordBatch bytes,
    /// each record at its offset (batches re-based as the log would).
    pub fn reload(&self, now_ms: u64) -> GroupCoordinator {
        let mut coord = GroupCoordinator::new(config(), 7);
        for p in 0..config().offsets_partitions {
            coord.begin_load(p);
            let mut offset = 0i64;
            for batch in self.partition_batches(p) {
                for loaded in decode_batches(batch).expect("decode") {
                    match loaded {
                        Loaded::Marker {
                            producer_id,
                            commit,
                            ..
                        } => coord.load_marker(p, producer_id, commit),
                        Loaded::Record(mut record) => {
                            record.offset = offset;
                            coord.load_record(p, record, now_ms).expect("valid record");
                        }
                    }
                    offset += 1;
                }
            }
            assert_eq!(offset, self.next_offset(p));
            coord.finish_load(p, now_ms);
        }
        coord
    }

    /// Runs a whole rebalance for already-parked joins: completes the join phase (advancing
    /// past the delay if needed), then the leader syncs `assign` and everyone gets theirs.
    pub fn finish_rebalance(&mut self, group: &str, tickets: &[(String, Ticket)]) -> i32 {
        // Each arrival during the initial delay re-arms it once more (Kafka's rule).
        for _ in 0..=tickets.len() {
            if tickets.iter().all(|(_, t)| self.has_reply(*t)) {
                break;
            }
            self.advance(INITIAL_DELAY_MS);
        }
        let results: Vec<JoinResult> = tickets.iter().map(|(_, t)| self.join_result(*t)).collect();
        for r in &results {
            assert_eq!(r.error, None, "{r:?}");
        }
        let generation = results[0].generation_id;
        let leader = results[0].leader.clone();
        let mut sync_tickets = Vec::new();
        // Followers first: they park until the leader's assignment arrives.
        let mut ordered: Vec<&JoinResult> =
            results.iter().filter(|r| r.member_id != leader).collect();
        ordered.extend(results.iter().filter(|r| r.member_id == leader));
        for r in ordered {
            let assignments = if r.member_id == leader {
                results
                    .iter()
                    .map(|m| {
                        (
                            m.member_id.clone(),
                            Bytes::from(format!("to-{}", m.member_id)),
                        )
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let req = SyncRequest {
                group_id: group.into(),
                generation_id: generation,
                member_id: r.member_id.clone(),
                group_instance_id: None,
                protocol_type: Some("consumer".into()),
                protocol_name: r.protocol_name.clone(),
                assignments,
            };
            match self.sync(req) {
                SyncOutcome::Parked(t) => sync_tickets.push((r.member_id.clone(), t)),
                SyncOutcome::Done(s) => {
                    panic!("sync answered at once during CompletingRebalance: {s:?}")
                }
            }
        }
        for (member, t) in sync_tickets {
            let s = self.sync_result(t);
            assert_eq!(s.error, None);
            assert_eq!(s.assignment, Bytes::from(format!("to-{member}")));
        }
        generation
    }
}

pub fn commit_req(
    group: &str,
    member: &str,
    generation: i32,
    offsets: &[(&str, i32, i64)],
) -> CommitRequest {
    CommitRequest {
        group_id: group.into(),
        generation_id: generation,
        member_id: member.into(),
        group_instance_id: None,
        entries: offsets
            .iter()
            .map(|(t, p, o)| CommitEntry {
                topic: t.to_string(),
                partition: *p,
                offset: *o,
                leader_epoch: -1,
                metadata: Some(format!("meta-{o}")),
            })
            .collect(),
    }
}

pub fn join_req(group: &str, member: &str, protocols: &[&str]) -> JoinRequest {
    JoinRequest {
        group_id: group.into(),
        member_id: member.into(),
        group_instance_id: None,
        client_id: "client".into(),
        client_host: "/127.0.0.1".into(),
        session_timeout_ms: SESSION_MS,
        rebalance_timeout_ms: REBALANCE_MS,
        protocol_type: "consumer".into(),
        protocols: protocols
            .iter()
            .map(|p| (p.to_string(), Bytes::from(format!("meta-{p}"))))
            .collect(),
        require_known_member_id: true,
        supports_skip_assignment: false,
    }
}
