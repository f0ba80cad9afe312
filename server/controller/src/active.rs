//! The active-controller gate: when the Raft leader may let the [`Controller`] decide, and
//! what became of each decision it proposed. Pure: statuses and applied offsets in, answers
//! out; the server's controller shard and the controller simulation drive the same code.
//!
//! [`Controller`]: crate::controller::Controller
//!
//! **Why a gate.** A new leader's log may end with entries of earlier terms that are not yet
//! committed (raft commits them only together with an entry of the leader's own term), so its
//! image can lack them. A decision on such an image can contradict them once they commit: a
//! topic created twice, a broker epoch handed out twice. So, on becoming leader of a term, the
//! gate records the log's last index (the leader's own first entry, raft's no-op, included),
//! and the controller decides nothing until the image has applied that index. By then the
//! image holds every entry the log will ever commit below the leader's own proposals.
//!
//! **One decision at a time.** Each decision is computed on the image, proposed, and awaited
//! until its index is applied: the next decision sees its effect. It is decided (committed)
//! when the entry applied at its index carries its term; with another term, a later leader
//! overwrote it. A caller that stops waiting (a request deadline) still leaves the gate busy
//! until the index is applied: a decision made meanwhile would not see the first one, which
//! may still commit.
//!
//! OWNER: the controller shard of a voter, next to its `Quorum`; not shared.
//!
//! The caller's loop:
//!
//! ```text
//! after every quorum call that may change the role (tick, step, ready, persisted):
//!     if let Some(outcome) = gate.observe(&quorum.status()) { answer(outcome) }
//! on a snapshot loaded into the image:   gate.snapshot_loaded(image.offset) -> answer
//! on each committed entry applied:       gate.applied(entry.index, entry.term) -> answer
//! to decide (a command or the periodic tick):
//!     match gate.may_decide(&quorum.status(), image.offset) {
//!         Gate::NotLeader { leader } => redirect,
//!         Gate::CatchingUp { .. } | Gate::Busy { .. } => wait for the image to change,
//!         Gate::Open { activate } => {
//!             if activate { controller.activate(&image, now_ms); gate.activated() }
//!             batch = controller.decide(&image, ...);     // no await from here ...
//!             (index, term) = quorum.propose(batch)?;     // ... to here
//!             gate.proposed(index, term);
//!         }
//!     }
//! ```

use crate::quorum::{QuorumStatus, Role};

/// This node's leadership of one term, as the gate saw it begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Leadership {
    term: u64,
    /// The log's last index when the leadership was observed: the image must have applied it
    /// before the controller decides.
    ready_offset: u64,
    /// `Controller::activate` ran for this leadership.
    activated: bool,
}

/// A decision proposed and not yet known decided or lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct InFlight {
    index: u64,
    term: u64,
}

/// Whether the controller may decide now ([`ActiveGate::may_decide`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Not the Raft leader: redirect to `leader` (if known).
    NotLeader { leader: Option<i32> },
    /// Leader, but the image has not applied `ready_offset` yet (`None`: this term's
    /// leadership has not been [`observe`](ActiveGate::observe)d yet). Wait for the image.
    CatchingUp { ready_offset: Option<u64> },
    /// A decision of this term, proposed at `index`, is not applied yet. Wait for the image.
    Busy { index: u64 },
    /// Decide now. `activate`: the first decision of this leadership; run
    /// `Controller::activate` on this image first, then [`ActiveGate::activated`].
    Open { activate: bool },
}

/// What became of a proposed decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalOutcome {
    /// The entry at `index` committed with the proposal's term: the decision took effect.
    Committed { index: u64 },
    /// Another entry took `index` (a later leader overwrote the proposal): nothing happened.
    Lost { index: u64 },
    /// A snapshot covered `index` before this node applied it: the decision may or may not
    /// have taken effect (the client retries and learns, as after a timeout).
    Unknown { index: u64 },
}

/// The gate of one voter. See the module doc.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActiveGate {
    leadership: Option<Leadership>,
    in_flight: Option<InFlight>,
}

impl ActiveGate {
    pub fn new() -> ActiveGate {
        ActiveGate::default()
    }

    /// The quorum's status after a call that may have changed the role. Becoming leader of a
    /// new term records the log's last index (its no-op included) as the offset the image
    /// must reach. Returns the outcome of a decision of an earlier term that the new
    /// leadership shows lost: its index is beyond the new leader's log, which a leader never
    /// truncates, so no entry of its term will ever be there.
    pub fn observe(&mut self, status: &QuorumStatus) -> Option<ProposalOutcome> {
        if status.role != Role::Leader {
            self.leadership = None;
            return None;
        }
        if self.leadership.is_some_and(|l| l.term == status.term) {
            return None;
        }
        assert!(status.last_index >= 1, "a leader's log holds its no-op");
        self.leadership = Some(Leadership {
            term: status.term,
            ready_offset: status.last_index,
            activated: false,
        });
        let in_flight = self.in_flight?;
        assert!(
            in_flight.term < status.term,
            "a proposal of a term not led yet"
        );
        if in_flight.index > status.last_index {
            self.in_flight = None;
            return Some(ProposalOutcome::Lost {
                index: in_flight.index,
            });
        }
        None
    }

    /// May the controller decide now, on an image at `image_offset`? A status of another term
    /// than the one last observed answers `CatchingUp { ready_offset: None }` (call
    /// [`observe`](Self::observe) first), so that a leadership lost and regained between
    /// observations never opens the gate on the old term's offset.
    pub fn may_decide(&self, status: &QuorumStatus, image_offset: u64) -> Gate {
        if status.role != Role::Leader {
            return Gate::NotLeader {
                leader: status.leader,
            };
        }
        let leadership = match self.leadership {
            Some(leadership) if leadership.term == status.term => leadership,
            _ => return Gate::CatchingUp { ready_offset: None },
        };
        if image_offset < leadership.ready_offset {
            return Gate::CatchingUp {
                ready_offset: Some(leadership.ready_offset),
            };
        }
        if let Some(in_flight) = self.in_flight {
            // An earlier term's proposal at or below the ready offset was applied on the way
            // here; one above it was resolved as lost by `observe`.
            assert_eq!(
                in_flight.term, leadership.term,
                "stale proposal past catch-up"
            );
            return Gate::Busy {
                index: in_flight.index,
            };
        }
        Gate::Open {
            activate: !leadership.activated,
        }
    }

    /// The caller ran `Controller::activate` on the caught-up image of this leadership.
    pub fn activated(&mut self) {
        let leadership = self
            .leadership
            .as_mut()
            .expect("activated without a leadership");
        leadership.activated = true;
    }

    /// A decision was proposed at (`index`, `term`), as `Quorum::propose` returned them, right
    /// after [`may_decide`](Self::may_decide) answered `Open` (no await in between).
    pub fn proposed(&mut self, index: u64, term: u64) {
        let leadership = self.leadership.expect("proposed without a leadership");
        assert!(leadership.activated, "proposed before activation");
        assert_eq!(term, leadership.term, "proposed in another term");
        assert!(
            index > leadership.ready_offset,
            "proposed at or below the no-op"
        );
        assert!(self.in_flight.is_none(), "two decisions in flight");
        self.in_flight = Some(InFlight { index, term });
    }

    /// The committed entry (`index`, `term`) was applied to the image. Returns the outcome of
    /// the decision proposed at `index`, if any.
    pub fn applied(&mut self, index: u64, term: u64) -> Option<ProposalOutcome> {
        let in_flight = self.in_flight?;
        if in_flight.index > index {
            return None;
        }
        assert_eq!(in_flight.index, index, "an applied index was skipped");
        self.in_flight = None;
        Some(if in_flight.term == term {
            ProposalOutcome::Committed { index }
        } else {
            ProposalOutcome::Lost { index }
        })
    }

    /// A snapshot through `offset` replaced the image. A decision at or below it is
    /// [`Unknown`](ProposalOutcome::Unknown): the entry itself was never seen.
    pub fn snapshot_loaded(&mut self, offset: u64) -> Option<ProposalOutcome> {
        let in_flight = self.in_flight?;
        if in_flight.index > offset {
            return None;
        }
        self.in_flight = None;
        Some(ProposalOutcome::Unknown {
            index: in_flight.index,
        })
    }

    /// The index of the decision in flight, if any.
    pub fn in_flight_index(&self) -> Option<u64> {
        self.in_flight.map(|in_flight| in_flight.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(role: Role, term: u64, last_index: u64) -> QuorumStatus {
        QuorumStatus {
            leader: (role == Role::Leader).then_some(1),
            term,
            role,
            commit_index: 0,
            last_index,
        }
    }

    #[test]
    fn a_new_leader_decides_only_once_its_image_holds_its_log() {
        let mut gate = ActiveGate::new();
        let leading = status(Role::Leader, 3, 7);
        assert_eq!(
            gate.may_decide(&leading, 7),
            Gate::CatchingUp { ready_offset: None }
        );
        assert_eq!(gate.observe(&leading), None);
        let at_six = gate.may_decide(&leading, 6);
        assert_eq!(
            at_six,
            Gate::CatchingUp {
                ready_offset: Some(7)
            }
        );
        assert_eq!(gate.may_decide(&leading, 7), Gate::Open { activate: true });
        gate.activated();
        assert_eq!(gate.may_decide(&leading, 7), Gate::Open { activate: false });
        let follower = status(Role::Follower, 4, 9);
        assert_eq!(
            gate.may_decide(&follower, 9),
            Gate::NotLeader { leader: None }
        );
    }

    #[test]
    fn one_decision_at_a_time_and_its_term_decides_its_outcome() {
        let mut gate = ActiveGate::new();
        let leading = status(Role::Leader, 2, 5);
        gate.observe(&leading);
        gate.activated();
        gate.proposed(6, 2);
        assert_eq!(gate.may_decide(&leading, 5), Gate::Busy { index: 6 });
        assert_eq!(gate.applied(5, 2), None);
        assert_eq!(
            gate.applied(6, 2),
            Some(ProposalOutcome::Committed { index: 6 })
        );
        assert_eq!(gate.may_decide(&leading, 6), Gate::Open { activate: false });
        gate.proposed(7, 2);
        // Deposed; a later leader's entry takes index 7.
        gate.observe(&status(Role::Follower, 3, 7));
        assert_eq!(gate.applied(7, 3), Some(ProposalOutcome::Lost { index: 7 }));
    }

    #[test]
    fn leadership_regained_unobserved_does_not_reuse_the_old_offset() {
        let mut gate = ActiveGate::new();
        gate.observe(&status(Role::Leader, 2, 5));
        gate.activated();
        // Lost and regained in term 4 without an observation in between: the log grew.
        let regained = status(Role::Leader, 4, 9);
        assert_eq!(
            gate.may_decide(&regained, 5),
            Gate::CatchingUp { ready_offset: None }
        );
        gate.observe(&regained);
        assert_eq!(gate.may_decide(&regained, 9), Gate::Open { activate: true });
    }

    #[test]
    fn a_proposal_beyond_a_new_leaders_log_is_lost_and_a_snapshot_leaves_it_unknown() {
        let mut gate = ActiveGate::new();
        gate.observe(&status(Role::Leader, 2, 5));
        gate.activated();
        gate.proposed(6, 2);
        gate.observe(&status(Role::Follower, 3, 5));
        let outcome = gate.observe(&status(Role::Leader, 5, 5));
        assert_eq!(outcome, Some(ProposalOutcome::Lost { index: 6 }));
        assert_eq!(gate.in_flight_index(), None);
        gate.activated();
        gate.proposed(6, 5);
        gate.observe(&status(Role::Follower, 6, 6));
        let unknown = gate.snapshot_loaded(8);
        assert_eq!(unknown, Some(ProposalOutcome::Unknown { index: 6 }));
    }

    #[test]
    fn a_proposal_of_an_earlier_term_still_in_the_log_resolves_on_catch_up() {
        let mut gate = ActiveGate::new();
        gate.observe(&status(Role::Leader, 2, 5));
        gate.activated();
        gate.proposed(6, 2);
        gate.observe(&status(Role::Follower, 3, 6));
        let leading = status(Role::Leader, 4, 7);
        assert_eq!(gate.observe(&leading), None);
        assert_eq!(
            gate.may_decide(&leading, 6),
            Gate::CatchingUp {
                ready_offset: Some(7)
            }
        );
        let outcome = gate.applied(6, 2);
        assert_eq!(outcome, Some(ProposalOutcome::Committed { index: 6 }));
        assert_eq!(gate.applied(7, 4), None);
        assert_eq!(gate.may_decide(&leading, 7), Gate::Open { activate: true });
    }
}
