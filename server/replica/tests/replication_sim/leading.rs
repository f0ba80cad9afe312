//! The leader side of a simulated broker, the way the broker drives `LeaderState`:
//!
//! - Produce (acks=all): refused with NOT_ENOUGH_REPLICAS while the committed ISR is below
//!   min.insync; otherwise appended with the leader epoch stamped in, an fdatasync issued, and
//!   answered once `acks_all_state` says `Replicated` (or NOT_ENOUGH_REPLICAS_AFTER_APPEND).
//! - Follower fetch: refused at another leader epoch; `diverging_epoch` first (answered alone);
//!   otherwise `on_follower_fetch`, the high watermark advanced with the leader's own durable
//!   end, and batches from the fetch offset up to the log end sent with the high watermark.
//! - Consumer read: whole batches below the high watermark.
//! - ISR changes: `isr_change` proposed with AlterPartition, one at a time; the answer goes
//!   through `on_isr_answer` (a lost one is sent again, only an unchanged refusal clears it).

use sluice_replica::{diverging_epoch, AcksAllState, Assignment, EpochEnd, IsrAnswer, LeaderState};

use super::log::Batch;
use super::messages::{Endpoint, ErrorCode, FetchData, Message};
use super::node::{Effects, Node, Role, LAG_MAX_MS};

/// Batches in one fetch answer.
pub const FETCH_BATCHES_MAX: usize = 8;
/// Batches in one consumer read.
pub const READ_BATCHES_MAX: usize = 16;
/// Produces waiting for the ISR, at most (beyond it the leader answers REQUEST_TIMED_OUT).
pub const WAITING_MAX: usize = 64;
/// A produce waits this long for the ISR at most (`request.timeout.ms`).
pub const WAITING_MS_MAX: u64 = 400;
/// An AlterPartition with no answer after this long is sent again (the same proposal).
pub const ALTER_TIMEOUT_MS: u64 = 100;

struct Waiting {
    producer: Endpoint,
    request: u64,
    batch: Batch,
    appended_ms: u64,
}

struct Proposal {
    request: u64,
    sent_ms: u64,
    /// Answered: waiting for the metadata, not resending.
    answered: bool,
}

pub struct Leading {
    pub state: LeaderState,
    waiting: Vec<Waiting>,
    proposal: Option<Proposal>,
}

impl Leading {
    /// Answers every waiting produce with `error`.
    pub fn fail_waiting(self, error: ErrorCode, fx: &mut Effects) {
        for waiting in self.waiting {
            let answer = Message::ProduceAnswer {
                request: waiting.request,
                result: Err(error),
            };
            fx.send(waiting.producer, answer);
        }
    }
}

impl Node {
    /// The metadata names this node leader: a new epoch starts (the epoch cache records it at
    /// the log end), or the same epoch's assignment changed.
    pub fn lead(
        &mut self,
        now_ms: u64,
        assignment: Assignment,
        fx: &mut Effects,
    ) -> Result<(), String> {
        let min_insync = self.min_insync;
        if let Role::Leading(leading) = &mut self.role {
            if leading.state.leader_epoch() == assignment.leader_epoch {
                leading
                    .state
                    .update_assignment(assignment, min_insync, LAG_MAX_MS, now_ms);
                if !leading.state.has_pending_isr() {
                    leading.proposal = None;
                }
                self.answer_waiting(fx);
                self.advance_high_watermark(fx)?;
                return self.propose_isr_change(now_ms, fx);
            }
        }
        // Produces waiting from an earlier epoch of this node stay: their batches are below
        // the new epoch's start, and the new high watermark decides them the same way.
        let waiting = match std::mem::replace(&mut self.role, Role::Idle) {
            Role::Leading(leading) => {
                self.high_watermark = leading.state.high_watermark();
                leading.waiting
            }
            _ => Vec::new(),
        };
        let epoch_start = self.log.end();
        self.log
            .assign_epoch(assignment.leader_epoch, epoch_start)?;
        let high_watermark = self.high_watermark.min(epoch_start);
        fx.note(|| format!("node {} leads {assignment:?} from {epoch_start}", self.id));
        let state = LeaderState::new(
            self.id,
            assignment,
            min_insync,
            LAG_MAX_MS,
            high_watermark,
            epoch_start,
            now_ms,
        );
        self.role = Role::Leading(Box::new(Leading {
            state,
            waiting,
            proposal: None,
        }));
        if self.log.end() > self.log.durable_end() {
            fx.sync_issued = self.log.begin_sync();
        }
        self.answer_waiting(fx);
        Ok(())
    }

    pub fn on_produce(
        &mut self,
        now_ms: u64,
        producer: Endpoint,
        request: u64,
        payload: u64,
        records: i64,
        fx: &mut Effects,
    ) -> Result<(), String> {
        let refusal = match &self.role {
            Role::Leading(leading) if !leading.state.has_enough_replicas() => {
                Some(ErrorCode::NotEnoughReplicas)
            }
            Role::Leading(leading) if leading.waiting.len() >= WAITING_MAX => {
                Some(ErrorCode::RequestTimedOut)
            }
            Role::Leading(_) => None,
            _ => Some(ErrorCode::NotLeaderOrFollower),
        };
        if let Some(error) = refusal {
            let answer = Message::ProduceAnswer {
                request,
                result: Err(error),
            };
            fx.send(producer, answer);
            return Ok(());
        }
        let Role::Leading(leading) = &mut self.role else {
            unreachable!("checked above");
        };
        let offset_base = self.log.end();
        let batch = Batch {
            offset_base,
            offset_last: offset_base + records - 1,
            epoch: leading.state.leader_epoch(),
            payload,
        };
        self.log.append(batch)?;
        fx.appended.push((batch, true));
        leading.waiting.push(Waiting {
            producer,
            request,
            batch,
            appended_ms: now_ms,
        });
        fx.sync_issued |= self.log.begin_sync();
        Ok(())
    }

    pub fn on_fetch(
        &mut self,
        now_ms: u64,
        follower: i32,
        request: u64,
        leader_epoch: i32,
        (fetch_offset, last_fetched_epoch): (i64, i32),
        fx: &mut Effects,
    ) -> Result<(), String> {
        let checked = self.record_fetch(
            now_ms,
            follower,
            leader_epoch,
            fetch_offset,
            last_fetched_epoch,
        );
        let result = match checked {
            Err(error) => Err(error),
            Ok(Some(diverging)) => Ok(FetchData::Diverging(diverging)),
            Ok(None) => {
                self.advance_high_watermark(fx)?;
                let log_end = self.log.end();
                let high_watermark = self.leader_state().expect("leading").high_watermark();
                Ok(FetchData::Batches {
                    batches: self.log.read(fetch_offset, log_end, FETCH_BATCHES_MAX),
                    high_watermark,
                })
            }
        };
        let recorded = matches!(result, Ok(FetchData::Batches { .. }));
        let answer = Message::FetchAnswer { request, result };
        fx.send(Endpoint::Node(follower), answer);
        if recorded {
            // Kafka considers expanding the ISR on every follower fetch.
            self.propose_isr_change(now_ms, fx)?;
        }
        Ok(())
    }

    /// The leader's checks of a follower's fetch: its epoch, then the divergence (answered
    /// alone, `Ok(Some)`); otherwise the fetch is recorded (`Ok(None)`).
    fn record_fetch(
        &mut self,
        now_ms: u64,
        follower: i32,
        leader_epoch: i32,
        fetch_offset: i64,
        last_fetched_epoch: i32,
    ) -> Result<Option<EpochEnd>, ErrorCode> {
        let Role::Leading(leading) = &mut self.role else {
            return Err(ErrorCode::NotLeaderOrFollower);
        };
        let epoch = leading.state.leader_epoch();
        if leader_epoch < epoch {
            return Err(ErrorCode::FencedLeaderEpoch);
        }
        if leader_epoch > epoch {
            return Err(ErrorCode::UnknownLeaderEpoch);
        }
        let log_end = self.log.end();
        let epochs = self.log.epochs();
        let diverging = diverging_epoch(epochs, log_end, last_fetched_epoch, fetch_offset);
        if diverging.is_some() {
            return Ok(diverging);
        }
        assert!(
            fetch_offset <= log_end,
            "no divergence, yet past the leader's end"
        );
        leading
            .state
            .on_follower_fetch(follower, fetch_offset, log_end, now_ms)
            .map_err(|_| ErrorCode::NotLeaderOrFollower)?;
        Ok(None)
    }

    pub fn on_read(&mut self, consumer: Endpoint, request: u64, offset: i64, fx: &mut Effects) {
        let result = match self.leader_state() {
            Some(state) => Ok(self
                .log
                .read(offset, state.high_watermark(), READ_BATCHES_MAX)),
            None => Err(ErrorCode::NotLeaderOrFollower),
        };
        fx.send(consumer, Message::ReadAnswer { request, result });
    }

    pub fn on_alter_partition_answer(
        &mut self,
        now_ms: u64,
        request: u64,
        result: Result<Assignment, ErrorCode>,
        fx: &mut Effects,
    ) -> Result<(), String> {
        let Role::Leading(leading) = &mut self.role else {
            return Ok(());
        };
        let Some(proposal) = leading.proposal.as_mut().filter(|p| p.request == request) else {
            return Ok(());
        };
        // Until the metadata shows a new partition epoch the proposal stays pending, unless
        // the controller says nothing changed.
        let answer = match &result {
            Ok(_) => IsrAnswer::Committed,
            Err(ErrorCode::IneligibleReplica) => IsrAnswer::RefusedUnchanged,
            Err(_) => IsrAnswer::RefusedStale,
        };
        let resend = leading.state.on_isr_answer(answer);
        assert_eq!(resend, None, "only a lost answer is sent again");
        proposal.answered = true;
        if !leading.state.has_pending_isr() {
            leading.proposal = None;
        }
        fx.note(|| format!("node {}: AlterPartition answered: {result:?}", self.id));
        match result {
            // The answer carries the new assignment, as the metadata will.
            Ok(assignment) => self.on_metadata(now_ms, assignment, fx),
            Err(_) => Ok(()),
        }
    }

    /// The high watermark moves with the leader's own durable end; waiting produces hear.
    pub fn advance_high_watermark(&mut self, fx: &mut Effects) -> Result<(), String> {
        let durable_end = self.log.durable_end();
        let Role::Leading(leading) = &mut self.role else {
            return Ok(());
        };
        if let Some(high_watermark) = leading.state.advance_high_watermark(durable_end) {
            let isr = leading.state.maximal_isr();
            fx.note(|| {
                format!(
                    "node {}: high watermark {high_watermark}, maximal ISR {isr:?}",
                    self.id
                )
            });
            self.answer_waiting(fx);
        }
        Ok(())
    }

    /// Answers the waiting produces `acks_all_state` has decided.
    fn answer_waiting(&mut self, fx: &mut Effects) {
        let Role::Leading(leading) = &mut self.role else {
            return;
        };
        let state = &leading.state;
        leading.waiting.retain(|waiting| {
            let result = match state.acks_all_state(waiting.batch.offset_last) {
                AcksAllState::Waiting => return true,
                AcksAllState::Replicated => {
                    fx.acknowledged_epochs.push(state.leader_epoch());
                    Ok((waiting.batch.offset_base, waiting.batch.offset_last))
                }
                AcksAllState::NotEnoughReplicasAfterAppend => {
                    Err(ErrorCode::NotEnoughReplicasAfterAppend)
                }
            };
            let answer = Message::ProduceAnswer {
                request: waiting.request,
                result,
            };
            fx.send(waiting.producer, answer);
            false
        });
    }

    pub fn leader_tick(&mut self, now_ms: u64, fx: &mut Effects) -> Result<(), String> {
        let Role::Leading(leading) = &mut self.role else {
            return Ok(());
        };
        leading.waiting.retain(|waiting| {
            if now_ms - waiting.appended_ms <= WAITING_MS_MAX {
                return true;
            }
            let answer = Message::ProduceAnswer {
                request: waiting.request,
                result: Err(ErrorCode::RequestTimedOut),
            };
            fx.send(waiting.producer, answer);
            false
        });
        let timed_out = leading.proposal.as_ref().is_some_and(|proposal| {
            !proposal.answered && now_ms - proposal.sent_ms > ALTER_TIMEOUT_MS
        });
        // No answer: the same proposal again (it may have been committed).
        let resend = timed_out
            .then(|| leading.state.on_isr_answer(IsrAnswer::Lost))
            .flatten();
        if let Some(isr) = resend {
            self.send_proposal(now_ms, isr, fx);
        }
        self.advance_high_watermark(fx)?;
        self.propose_isr_change(now_ms, fx)
    }

    /// Sends the ISR change `isr_change` asks for, if any and none is pending.
    fn propose_isr_change(&mut self, now_ms: u64, fx: &mut Effects) -> Result<(), String> {
        let Role::Leading(leading) = &mut self.role else {
            return Ok(());
        };
        let Some(isr) = leading.state.isr_change(now_ms) else {
            return Ok(());
        };
        leading.state.set_pending_isr(isr.clone());
        self.send_proposal(now_ms, isr, fx);
        Ok(())
    }

    fn send_proposal(&mut self, now_ms: u64, isr: Vec<i32>, fx: &mut Effects) {
        let request = self.request_id();
        let Role::Leading(leading) = &mut self.role else {
            unreachable!("called while leading");
        };
        let assignment = leading.state.assignment();
        let message = Message::AlterPartition {
            request,
            leader_epoch: assignment.leader_epoch,
            partition_epoch: assignment.partition_epoch,
            isr,
        };
        leading.proposal = Some(Proposal {
            request,
            sent_ms: now_ms,
            answered: false,
        });
        fx.note(|| format!("node {} proposes {message:?}", self.id));
        fx.send(Endpoint::Controller, message);
    }
}
