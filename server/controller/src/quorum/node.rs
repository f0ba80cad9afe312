//! [`Quorum`]: one voter of the metadata quorum, a thin layer over raft-rs's `RawNode` that
//! speaks Kafka node ids, validates what peers send, and splits each round of work into the
//! part that may go at once and the part that waits for the disk.
//!
//! OWNER: the controller shard of a voter (one glommio executor); the simulation drives many
//! synchronously. Not `Sync`: one caller at a time.

use std::collections::VecDeque;

use protobuf::Message as _;
use raft::eraftpb::{
    ConfState, Entry, EntryType, HardState as RaftHardState, Message, MessageType,
};
use raft::{Config, RawNode, SnapshotStatus, StateRole, Storage};

use super::config::{node_id, raft_id, QuorumConfig};
use super::disk::{DiskWrite, HardState, RaftDisk, SnapshotData};
use super::election_timer::ElectionTimer;
use super::error::{DiskError, QuorumError};
use super::limits::{
    APPENDS_IN_FLIGHT_MAX, APPEND_BYTES_MAX, MESSAGE_BYTES_MAX, PROPOSAL_BYTES_MAX,
    READIES_IN_FLIGHT_MAX, SNAPSHOT_BYTES_MAX,
};
use super::mirror::{log_entry, raft_entry, snapshot_data, LogMirror};
use super::output::{Applied, Committed, OutMessage, QuorumStatus, Ready, Recovered, Role};

/// What a handed-out [`Ready`] releases once its write is durable.
struct InFlight {
    number: u64,
    persisted_messages: Vec<Message>,
    snapshot: Option<SnapshotData>,
    committed: Vec<Entry>,
}

/// One voter of the metadata quorum. See the module doc.
///
/// The caller's loop: feed it `tick`, `step`, `propose`; take each `ready`, send its
/// `messages`, make its `write` durable, hand it back to `persisted`, and act on the
/// [`Applied`]. Calls may go on while writes are in flight (raft-rs's asynchronous ready).
pub struct Quorum {
    raw: RawNode<LogMirror>,
    node_id: i32,
    voters: Vec<i32>,
    timer: ElectionTimer,
    in_flight: VecDeque<InFlight>,
    /// Highest index handed to the caller to apply (committed entries or a snapshot).
    applied_index: u64,
}

impl Quorum {
    /// Opens the quorum on what `disk` holds; an empty disk starts a new quorum of
    /// `config.voters`. The caller replays the returned [`Recovered`] before anything else.
    pub fn open(
        config: QuorumConfig,
        disk: &mut impl RaftDisk,
    ) -> Result<(Quorum, Recovered), QuorumError> {
        config.validate()?;
        let state = disk.load()?;
        let snapshot_index = state.snapshot_index();
        let last_index = state.last_index();
        for (position, entry) in state.entries.iter().enumerate() {
            if entry.index != snapshot_index + 1 + position as u64 {
                return Err(inconsistent(format!("entry {} out of place", entry.index)));
            }
        }
        let last_term = match (state.entries.last(), &state.snapshot) {
            (Some(entry), _) => entry.term,
            (None, Some(snapshot)) => snapshot.term,
            (None, None) => 0,
        };
        let mut hard_state = state.hard_state;
        // A snapshot install stops before its hard state: the snapshot itself is committed.
        hard_state.commit_index = hard_state.commit_index.max(snapshot_index);
        if hard_state.commit_index > last_index {
            return Err(inconsistent(format!(
                "commit index {} beyond the last entry {last_index}",
                hard_state.commit_index
            )));
        }
        if hard_state.term < last_term {
            // An append stopped before its hard state: its entries carry the term the node had
            // moved to. Moving there again, with no vote, is what receiving them did.
            hard_state.term = last_term;
            hard_state.voted_for = None;
        }
        if let Some(vote) = hard_state.voted_for {
            if !config.voters.contains(&vote) {
                return Err(inconsistent(format!("voted for {vote}, not a voter")));
            }
        }

        let conf_state = ConfState {
            voters: config.voters.iter().map(|voter| raft_id(*voter)).collect(),
            ..ConfState::default()
        };
        let mut mirror = LogMirror::new(conf_state, raft_hard_state(&hard_state));
        if let Some(snapshot) = &state.snapshot {
            mirror.install_snapshot(snapshot);
        }
        let entries: Vec<Entry> = state.entries.iter().map(raft_entry).collect();
        mirror.append(&entries);

        let recovered = Recovered {
            snapshot: state.snapshot.clone(),
            committed: state
                .entries
                .iter()
                .take_while(|entry| entry.index <= hard_state.commit_index)
                .map(|entry| Committed {
                    index: entry.index,
                    term: entry.term,
                    data: entry.data.clone(),
                })
                .collect(),
        };
        let raw = RawNode::new(
            &raft_config(&config, hard_state.commit_index)?,
            mirror,
            &logger(),
        )
        .map_err(|error| QuorumError::Raft(error.to_string()))?;
        let seed = config.election_seed
            ^ raft_id(config.node_id).wrapping_mul(0x9e37_79b9)
            ^ hard_state.term.rotate_left(32);
        let mut quorum = Quorum {
            raw,
            node_id: config.node_id,
            voters: config.voters,
            timer: ElectionTimer::new(seed, config.election_ticks, 2 * config.election_ticks),
            in_flight: VecDeque::new(),
            applied_index: hard_state.commit_index,
        };
        quorum.after_raft_call();
        assert_eq!(quorum.raw.raft.raft_log.committed, hard_state.commit_index);
        Ok((quorum, recovered))
    }

    pub fn node_id(&self) -> i32 {
        self.node_id
    }

    /// Advances the logical clock by one tick (the server ticks every 100 ms).
    pub fn tick(&mut self) {
        self.raw.tick();
        self.after_raft_call();
    }

    /// Starts an election now, without waiting for the timeout (with pre-vote first).
    pub fn campaign(&mut self) -> Result<(), QuorumError> {
        let result = self.raw.campaign();
        self.after_raft_call();
        result.map_err(|error| QuorumError::Raft(error.to_string()))
    }

    /// Takes in a message that the connection from voter `from` carried. Refuses, without
    /// changing any state, what does not decode, what claims another sender or recipient, what
    /// comes from a non-voter, and the message types a voter never sends.
    pub fn step(&mut self, from: i32, bytes: &[u8]) -> Result<(), QuorumError> {
        if bytes.len() > MESSAGE_BYTES_MAX {
            let bytes = bytes.len();
            return Err(QuorumError::TooLarge {
                what: "message",
                bytes,
                bytes_max: MESSAGE_BYTES_MAX,
            });
        }
        if !self.voters.contains(&from) {
            return Err(QuorumError::NotVoter(from));
        }
        let message = Message::parse_from_bytes(bytes).map_err(|error| QuorumError::Malformed {
            from,
            reason: error.to_string(),
        })?;
        self.check_message(from, &message)?;
        let result = self.raw.step(message);
        self.after_raft_call();
        result.map_err(|error| QuorumError::Raft(error.to_string()))
    }

    fn check_message(&self, from: i32, message: &Message) -> Result<(), QuorumError> {
        if message.from != raft_id(from) {
            return Err(QuorumError::WrongSender {
                from,
                claimed: message.from,
            });
        }
        if message.to != raft_id(self.node_id) {
            return Err(QuorumError::WrongRecipient {
                from,
                to: message.to,
            });
        }
        let kind = message.get_msg_type();
        if !is_peer_message(kind) {
            return Err(QuorumError::UnexpectedMessage {
                from,
                kind: format!("{kind:?}"),
            });
        }
        let malformed = |reason: &str| QuorumError::Malformed {
            from,
            reason: reason.to_string(),
        };
        for entry in message.get_entries() {
            // Fixed voters: no configuration changes ever enter the log.
            if entry.get_entry_type() != EntryType::EntryNormal {
                return Err(malformed("configuration-change entry"));
            }
            if !entry.context.is_empty() {
                return Err(malformed("entry with a context"));
            }
        }
        if kind == MessageType::MsgSnapshot {
            let snapshot = message.get_snapshot();
            let mut voters = snapshot.get_metadata().get_conf_state().voters.clone();
            voters.sort_unstable();
            let mut ours: Vec<u64> = self.voters.iter().map(|voter| raft_id(*voter)).collect();
            ours.sort_unstable();
            if voters != ours {
                return Err(malformed("snapshot of another voter set"));
            }
            if snapshot.data.len() > SNAPSHOT_BYTES_MAX {
                return Err(malformed("snapshot larger than SNAPSHOT_BYTES_MAX"));
            }
        }
        Ok(())
    }

    /// Appends `data` to the log if this node leads. Returns the entry's (index, term): when
    /// [`Committed`] comes out at that index with that term, the proposal is decided; with
    /// another term, it was lost (a new leader overwrote it).
    pub fn propose(&mut self, data: Vec<u8>) -> Result<(u64, u64), QuorumError> {
        if data.len() > PROPOSAL_BYTES_MAX {
            let bytes = data.len();
            return Err(QuorumError::TooLarge {
                what: "proposal",
                bytes,
                bytes_max: PROPOSAL_BYTES_MAX,
            });
        }
        if self.raw.raft.state != StateRole::Leader {
            return Err(QuorumError::NotLeader {
                leader: node_id(self.raw.raft.leader_id),
            });
        }
        let last_index_before = self.raw.raft.raft_log.last_index();
        let result = self.raw.propose(Vec::new(), data);
        self.after_raft_call();
        result.map_err(|error| match error {
            raft::Error::ProposalDropped => QuorumError::ProposalDropped,
            error => QuorumError::Raft(error.to_string()),
        })?;
        let index = self.raw.raft.raft_log.last_index();
        assert_eq!(index, last_index_before + 1);
        Ok((index, self.raw.raft.term))
    }

    /// The next round of work, if there is any and fewer than `READIES_IN_FLIGHT_MAX` are in
    /// flight. Send `messages` now; make `write` durable; then call [`Quorum::persisted`].
    pub fn ready(&mut self) -> Option<Ready> {
        if self.in_flight.len() >= READIES_IN_FLIGHT_MAX || !self.raw.has_ready() {
            return None;
        }
        let mut ready = self.raw.ready();
        let mut write = DiskWrite::default();
        let mut snapshot = None;
        if !ready.snapshot().is_empty() {
            let installed = snapshot_data(ready.snapshot());
            self.raw.mut_store().install_snapshot(&installed);
            write.snapshot = Some(installed.clone());
            snapshot = Some(installed);
        }
        let entries = ready.take_entries();
        if !entries.is_empty() {
            self.raw.mut_store().append(&entries);
            write.entries = entries.iter().map(log_entry).collect();
        }
        if let Some(hard_state) = ready.hs() {
            self.raw.mut_store().set_hard_state(hard_state.clone());
            write.hard_state = Some(HardState {
                term: hard_state.term,
                voted_for: node_id(hard_state.vote),
                commit_index: hard_state.commit,
            });
        }
        let raft_messages = ready.take_messages();
        let snapshots_to: Vec<u64> = raft_messages
            .iter()
            .filter(|message| message.get_msg_type() == MessageType::MsgSnapshot)
            .map(|message| message.to)
            .collect();
        let messages = encode_messages(raft_messages);
        let number = ready.number();
        self.in_flight.push_back(InFlight {
            number,
            persisted_messages: ready.take_persisted_messages(),
            snapshot,
            committed: ready.take_committed_entries(),
        });
        // raft-rs's asynchronous ready: its state moves on now, and `on_persist_ready` later
        // says the write landed. Until then it sends nothing that depends on the write.
        self.raw.advance_append_async(ready);
        for to in snapshots_to {
            // raft-rs pauses a follower's replication until the snapshot is reported sent. The
            // transport gives no receipt, so report it at once: if it was lost, the follower
            // rejects the next append and the leader sends the snapshot again.
            self.raw.report_snapshot(to, SnapshotStatus::Finish);
        }
        self.after_raft_call();
        Some(Ready {
            messages,
            write,
            number,
        })
    }

    /// Takes back a [`Ready`] whose write is durable. Readies come back in the order they
    /// went out (the disk applies them in that order).
    pub fn persisted(&mut self, ready: Ready) -> Applied {
        let Some(in_flight) = self.in_flight.pop_front() else {
            panic!("persisted ready {} but none is in flight", ready.number);
        };
        assert_eq!(
            in_flight.number, ready.number,
            "readies persisted out of order"
        );
        self.raw.on_persist_ready(ready.number);
        if let Some(snapshot) = &in_flight.snapshot {
            assert!(snapshot.index >= self.applied_index);
            self.applied_index = snapshot.index;
        }
        let mut committed = Vec::with_capacity(in_flight.committed.len());
        for entry in &in_flight.committed {
            assert_eq!(
                entry.index,
                self.applied_index + 1,
                "committed entries skip"
            );
            self.applied_index = entry.index;
            let entry = log_entry(entry);
            committed.push(Committed {
                index: entry.index,
                term: entry.term,
                data: entry.data,
            });
        }
        if self.applied_index > self.raw.raft.raft_log.applied {
            self.raw.advance_apply_to(self.applied_index);
        }
        self.after_raft_call();
        Applied {
            messages: encode_messages(in_flight.persisted_messages),
            snapshot: in_flight.snapshot,
            committed,
        }
    }

    /// Records the caller's state machine at `applied_index` as the snapshot, so that the log
    /// up to it goes away (the caller calls it every so many entries, e.g. 1,000). Returns the
    /// write that makes it durable: hand it to the disk in order with the readies' writes. An
    /// index at or below the current snapshot gives an empty write.
    pub fn compact(&mut self, applied_index: u64, data: Vec<u8>) -> Result<DiskWrite, QuorumError> {
        let refuse = |reason: String| {
            Err(QuorumError::Compact {
                index: applied_index,
                reason,
            })
        };
        if applied_index <= self.raw.store().snapshot_index() {
            return Ok(DiskWrite::default());
        }
        if applied_index > self.applied_index {
            return refuse(format!(
                "only {} was handed out to apply",
                self.applied_index
            ));
        }
        if data.len() > SNAPSHOT_BYTES_MAX {
            return refuse(format!(
                "{} bytes, more than {SNAPSHOT_BYTES_MAX}",
                data.len()
            ));
        }
        let term = match self.raw.store().term(applied_index) {
            Ok(term) => term,
            Err(error) => return refuse(error.to_string()),
        };
        let snapshot = SnapshotData {
            index: applied_index,
            term,
            data,
        };
        self.raw.mut_store().install_snapshot(&snapshot);
        Ok(DiskWrite {
            snapshot: Some(snapshot),
            ..DiskWrite::default()
        })
    }

    pub fn status(&self) -> QuorumStatus {
        let raft = &self.raw.raft;
        QuorumStatus {
            leader: node_id(raft.leader_id),
            term: raft.term,
            role: match raft.state {
                StateRole::Leader => Role::Leader,
                StateRole::Follower => Role::Follower,
                StateRole::Candidate => Role::Candidate,
                StateRole::PreCandidate => Role::PreCandidate,
            },
            commit_index: raft.raft_log.committed,
            last_index: raft.raft_log.last_index(),
        }
    }

    /// On the leader: each voter's replication progress, the highest index known to match the
    /// leader's log (Kafka's DescribeQuorum "log end offset"); empty elsewhere.
    pub fn progress(&self) -> Vec<(i32, u64)> {
        let raft = &self.raw.raft;
        if raft.state != StateRole::Leader {
            return Vec::new();
        }
        let mut progress: Vec<(i32, u64)> = raft
            .prs()
            .iter()
            .filter_map(|(id, progress)| node_id(*id).map(|node| (node, progress.matched)))
            .collect();
        progress.sort_unstable();
        progress
    }

    /// Readies handed out and not yet persisted.
    pub fn readies_in_flight(&self) -> usize {
        self.in_flight.len()
    }

    fn after_raft_call(&mut self) {
        self.timer.after_raft_call(&mut self.raw.raft);
    }
}

/// The messages voters exchange. Proposals are never forwarded (followers answer NotLeader),
/// and read-index, leadership transfer and local messages are not used.
fn is_peer_message(kind: MessageType) -> bool {
    matches!(
        kind,
        MessageType::MsgAppend
            | MessageType::MsgAppendResponse
            | MessageType::MsgRequestVote
            | MessageType::MsgRequestVoteResponse
            | MessageType::MsgRequestPreVote
            | MessageType::MsgRequestPreVoteResponse
            | MessageType::MsgSnapshot
            | MessageType::MsgHeartbeat
            | MessageType::MsgHeartbeatResponse
    )
}

fn encode_messages(messages: Vec<Message>) -> Vec<OutMessage> {
    let mut encoded = Vec::with_capacity(messages.len());
    for message in messages {
        let Some(to) = node_id(message.to) else {
            panic!("raft-rs addressed a message to raft id {}", message.to);
        };
        match message.write_to_bytes() {
            Ok(bytes) => encoded.push(OutMessage { to, bytes }),
            // Raft tolerates a lost message; the peer is retried on the next heartbeat.
            Err(error) => tracing::error!(to, %error, "cannot encode a raft message; dropped"),
        }
    }
    encoded
}

fn raft_config(config: &QuorumConfig, applied_index: u64) -> Result<Config, QuorumError> {
    let raft_config = Config {
        id: raft_id(config.node_id),
        election_tick: config.election_ticks,
        heartbeat_tick: config.heartbeat_ticks,
        min_election_tick: config.election_ticks,
        max_election_tick: 2 * config.election_ticks,
        applied: applied_index,
        max_size_per_msg: APPEND_BYTES_MAX,
        max_inflight_msgs: APPENDS_IN_FLIGHT_MAX,
        // A leader cut off from a majority steps down after an election timeout.
        check_quorum: true,
        // A node back from a partition asks before raising the term, so it cannot depose a
        // healthy leader.
        pre_vote: true,
        ..Config::default()
    };
    raft_config
        .validate()
        .map_err(|error| QuorumError::InvalidConfig(error.to_string()))?;
    Ok(raft_config)
}

fn raft_hard_state(hard_state: &HardState) -> RaftHardState {
    RaftHardState {
        term: hard_state.term,
        vote: hard_state.voted_for.map_or(0, raft_id),
        commit: hard_state.commit_index,
        ..RaftHardState::default()
    }
}

/// raft-rs logs through slog; the quorum reports through its results and `status` instead.
fn logger() -> slog::Logger {
    slog::Logger::root(slog::Discard, slog::o!())
}

fn inconsistent(reason: String) -> QuorumError {
    QuorumError::Disk(DiskError::Inconsistent(reason))
}
