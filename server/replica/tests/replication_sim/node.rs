//! One simulated broker's replica of the partition, as the broker uses `sluice-replica`: the
//! log, the role the latest metadata gives it (leader, follower, or neither), its high
//! watermark as a follower. Inputs are messages and timers; outputs are collected in
//! [`Effects`] for the simulation to schedule. The leader side is in `leading.rs`, the
//! follower side in `following.rs`.
//!
//! What a crash keeps: the durable part of the log and its epoch cache. What it loses: the
//! undurable tail, the role and leader state, waiting produces, the follower's high watermark
//! (Kafka checkpoints it now and then; losing it is the worst case), the known metadata.

use sluice_replica::{Assignment, LeaderState};

use super::following::Following;
use super::leading::Leading;
use super::log::{Batch, ReplicaLog};
use super::messages::{Endpoint, ErrorCode, Message};

/// `replica.lag.time.max.ms`.
pub const LAG_MAX_MS: u64 = 200;
/// A node's periodic work (ISR proposals, timeouts) runs this often.
pub const TICK_MS: u64 = 20;
/// A broker heartbeats the controller this often.
pub const HEARTBEAT_MS: u64 = 50;

/// What handling one input asks of the simulation.
#[derive(Default)]
pub struct Effects {
    pub sends: Vec<(Endpoint, Message)>,
    /// An fdatasync was issued: the simulation schedules its completion.
    pub sync_issued: bool,
    /// The follower waits this long before fetching again (a long poll or a backoff).
    pub fetch_again_ms: Option<u64>,
    /// Batches this node appended, and whether as the leader, for the checker.
    pub appended: Vec<(Batch, bool)>,
    /// The log lost something (a truncation): the checker looks at everything committed.
    pub truncated: bool,
    /// The leader epoch of each acknowledgement sent, to count those a deposed leader sent.
    pub acknowledged_epochs: Vec<i32>,
    pub trace: bool,
    pub notes: Vec<String>,
}

impl Effects {
    pub fn new(trace: bool) -> Effects {
        Effects {
            trace,
            ..Effects::default()
        }
    }

    pub fn send(&mut self, to: Endpoint, message: Message) {
        self.sends.push((to, message));
    }

    /// A trace line, formatted only when a trace is kept.
    pub fn note(&mut self, line: impl FnOnce() -> String) {
        if self.trace {
            self.notes.push(line());
        }
    }
}

pub enum Role {
    /// No leader known (just restarted, or the partition has none).
    Idle,
    Leading(Box<Leading>),
    Following(Following),
}

pub struct Node {
    pub id: i32,
    /// Counts restarts; timers and heartbeats carry it, so a restart cancels them.
    pub incarnation: u64,
    pub up: bool,
    pub paused: bool,
    /// The controller answered a heartbeat of this incarnation: metadata may be acted on.
    pub registered: bool,
    pub log: ReplicaLog,
    /// The follower's high watermark (a leader's is in its `LeaderState`).
    pub high_watermark: i64,
    pub known: Option<Assignment>,
    pub role: Role,
    pub min_insync: usize,
    next_request: u64,
}

impl Node {
    pub fn new(id: i32, min_insync: usize) -> Node {
        Node {
            id,
            incarnation: 0,
            up: true,
            paused: false,
            registered: true,
            log: ReplicaLog::default(),
            high_watermark: 0,
            known: None,
            role: Role::Idle,
            min_insync,
            next_request: 0,
        }
    }

    pub fn request_id(&mut self) -> u64 {
        self.next_request += 1;
        self.next_request
    }

    pub fn leader_state(&self) -> Option<&LeaderState> {
        match &self.role {
            Role::Leading(leading) => Some(&leading.state),
            _ => None,
        }
    }

    /// The crash: see the module comment.
    pub fn crash(&mut self) -> Result<(), String> {
        self.up = false;
        self.paused = false;
        self.incarnation += 1;
        self.registered = false;
        self.log.crash()?;
        self.high_watermark = 0;
        self.known = None;
        self.role = Role::Idle;
        Ok(())
    }

    pub fn restart(&mut self) {
        assert!(!self.up);
        self.up = true;
    }

    pub fn on_message(
        &mut self,
        now_ms: u64,
        from: Endpoint,
        message: Message,
        fx: &mut Effects,
    ) -> Result<(), String> {
        let from_node = match from {
            Endpoint::Node(node) => node,
            _ => -1,
        };
        match message {
            Message::Metadata(assignment) if self.registered => {
                self.on_metadata(now_ms, assignment, fx)
            }
            Message::Metadata(_) => Ok(()),
            Message::HeartbeatAnswer {
                incarnation,
                assignment,
            } if incarnation == self.incarnation => {
                self.registered = true;
                self.on_metadata(now_ms, assignment, fx)
            }
            Message::HeartbeatAnswer { .. } => Ok(()),
            Message::AlterPartitionAnswer { request, result } => {
                self.on_alter_partition_answer(now_ms, request, result, fx)
            }
            Message::Fetch {
                request,
                leader_epoch,
                fetch_offset,
                last_fetched_epoch,
            } => {
                let fetch = (fetch_offset, last_fetched_epoch);
                self.on_fetch(now_ms, from_node, request, leader_epoch, fetch, fx)
            }
            Message::FetchAnswer { request, result } => {
                self.on_fetch_answer(now_ms, request, result, fx)
            }
            Message::Produce {
                request,
                payload,
                records,
            } => self.on_produce(now_ms, from, request, payload, records, fx),
            Message::Read { request, offset } => {
                self.on_read(from, request, offset, fx);
                Ok(())
            }
            other => Err(format!("node {} got {other:?}", self.id)),
        }
    }

    /// The metadata moved on (stale and repeated assignments are ignored: the metadata
    /// channel and AlterPartition answers race): take the role it gives.
    pub fn on_metadata(
        &mut self,
        now_ms: u64,
        assignment: Assignment,
        fx: &mut Effects,
    ) -> Result<(), String> {
        if let Some(known) = &self.known {
            let newer = (assignment.leader_epoch, assignment.partition_epoch)
                > (known.leader_epoch, known.partition_epoch);
            if !newer {
                return Ok(());
            }
        }
        self.known = Some(assignment.clone());
        if assignment.leader == self.id {
            return self.lead(now_ms, assignment, fx);
        }
        if let Role::Following(following) = &self.role {
            let same = following.leader == assignment.leader
                && following.leader_epoch == assignment.leader_epoch;
            if same {
                return Ok(()); // Only the ISR changed: the fetch in flight stays valid.
            }
        }
        self.step_down(fx);
        if assignment.leader >= 0 {
            self.role = Role::Following(Following::new(assignment.leader, assignment.leader_epoch));
            fx.note(|| format!("node {} follows {assignment:?}", self.id));
            self.fetch_if_ready(now_ms, fx);
        } else {
            self.role = Role::Idle;
        }
        Ok(())
    }

    /// Leaves the leader role: waiting produces are answered NOT_LEADER_OR_FOLLOWER, and the
    /// leader's high watermark stays as the follower's.
    fn step_down(&mut self, fx: &mut Effects) {
        let Role::Leading(leading) = std::mem::replace(&mut self.role, Role::Idle) else {
            return;
        };
        self.high_watermark = leading.state.high_watermark().min(self.log.end());
        leading.fail_waiting(ErrorCode::NotLeaderOrFollower, fx);
    }

    /// The fdatasync issued earlier completed.
    pub fn on_sync_done(&mut self, now_ms: u64, fx: &mut Effects) -> Result<(), String> {
        self.log.complete_sync();
        if self.log.end() > self.log.durable_end() && matches!(self.role, Role::Leading(_)) {
            fx.sync_issued = self.log.begin_sync();
        }
        match &self.role {
            Role::Leading(_) => self.advance_high_watermark(fx),
            Role::Following(_) => self.on_follower_synced(now_ms, fx),
            Role::Idle => Ok(()),
        }
    }

    /// Periodic work: the leader proposes ISR changes and gives up on old produces, the
    /// follower retries a fetch that got no answer.
    pub fn on_tick(&mut self, now_ms: u64, fx: &mut Effects) -> Result<(), String> {
        match &self.role {
            Role::Leading(_) => self.leader_tick(now_ms, fx),
            Role::Following(_) => {
                self.follower_tick(now_ms, fx);
                Ok(())
            }
            Role::Idle => Ok(()),
        }
    }
}
