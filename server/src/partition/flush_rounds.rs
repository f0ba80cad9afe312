//! The shard's flush rounds: group commit across every partition the shard owns.
//!
//! Whoever needs appended data durable (an acks=all produce, a long-polling fetch, the periodic
//! flush) joins the next round instead of flushing its own partitions. A round flushes every
//! log with unflushed data at its start concurrently (their writes, then fdatasyncs, all in
//! flight together through io_uring), and wakes every waiter when all are done. A round starts
//! at once when none is running (idle: no added latency) and right after the running one
//! otherwise (load: rounds back to back), so a waiter waits at most the rest of the running
//! round plus its own, and one round serves every request that arrived during the previous one.
//! Flushing partitions in step instead of each on its own schedule lets the filesystem commit
//! their metadata in one journal transaction and the block layer merge their cache flushes.
//!
//! [`RoundClock`] is the pure bookkeeping (which round a waiter needs, whether one must start);
//! [`FlushRounds`] drives it on the shard.

use std::cell::RefCell;
use std::future::Future;

use crate::shard::notify::Notify;

/// A waiter's ticket: the round that covers data appended before it was taken.
pub type Round = u64;

/// Which rounds started, finished and failed. Rounds are numbered from 1.
#[derive(Debug, Default)]
pub struct RoundClock {
    started: Round,
    finished: Round,
    running: bool,
    /// The highest round a waiter needs.
    wanted: Round,
    /// The last round that failed (0: none).
    failed_last: Round,
}

/// What a waiter must do after taking a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    pub round: Round,
    /// No round is running: the caller starts the driver.
    pub start_driver: bool,
}

impl RoundClock {
    /// A ticket for the first round that starts after now: only a round that starts after
    /// the caller's append covers it (one already running may have written before it).
    pub fn ticket(&mut self) -> Ticket {
        let round = self.started + 1;
        self.wanted = self.wanted.max(round);
        let start_driver = !self.running;
        self.running = true;
        Ticket {
            round,
            start_driver,
        }
    }

    /// The driver asks for the next round to run; `None` when nobody waits for one (the driver
    /// stops, and the next ticket starts it again).
    pub fn next_round(&mut self) -> Option<Round> {
        assert!(self.running, "a round was asked for with no driver");
        assert_eq!(
            self.started,
            self.finished,
            "round {} started before round {} finished",
            self.started + 1,
            self.started
        );
        if self.wanted <= self.finished {
            self.running = false;
            return None;
        }
        self.started += 1;
        Some(self.started)
    }

    /// The driver reports the end of `round`.
    pub fn finish(&mut self, round: Round, ok: bool) {
        assert_eq!(
            round, self.started,
            "finished round {round} is not the running one"
        );
        assert_eq!(
            round,
            self.finished + 1,
            "round {round} finished out of order"
        );
        self.finished = round;
        if !ok {
            self.failed_last = round;
        }
    }

    /// `None` while `round` has not finished; then whether it (or a later finished round, which
    /// covers the same data) failed.
    pub fn outcome(&self, round: Round) -> Option<Result<(), RoundFailed>> {
        if self.finished < round {
            return None;
        }
        Some(if self.failed_last >= round {
            Err(RoundFailed { round })
        } else {
            Ok(())
        })
    }
}

/// Some log of the round failed to flush (each failure is logged once, by the driver); callers
/// that need to know which check their partitions' flushed offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundFailed {
    pub round: Round,
}

impl std::fmt::Display for RoundFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "flush round {} failed for some log", self.round)
    }
}

/// The shard's rounds: tickets, the driver and the wake-up of waiters. Not `Send`.
#[derive(Default)]
pub struct FlushRounds {
    clock: RefCell<RoundClock>,
    finished: Notify,
}

impl FlushRounds {
    /// Waits for the first round that starts after this call. `flush_all` is one round's work
    /// (flush every dirty log); when no round is running, this call spawns the driver that runs
    /// rounds while anyone waits, so a waiter that goes away cannot cut a round short.
    pub async fn join<F, Fut>(self: &std::rc::Rc<Self>, flush_all: F) -> Result<(), RoundFailed>
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = bool> + 'static,
    {
        let ticket = self.clock.borrow_mut().ticket();
        if ticket.start_driver {
            let rounds = self.clone();
            glommio::spawn_local(async move { rounds.drive(flush_all).await }).detach();
        }
        loop {
            let generation = self.finished.generation();
            if let Some(outcome) = self.clock.borrow().outcome(ticket.round) {
                return outcome;
            }
            self.finished.changed_since(generation).await;
        }
    }

    async fn drive<F, Fut>(&self, flush_all: F)
    where
        F: Fn() -> Fut,
        Fut: Future<Output = bool>,
    {
        loop {
            let Some(round) = self.clock.borrow_mut().next_round() else {
                return;
            };
            let ok = flush_all().await;
            self.clock.borrow_mut().finish(round, ok);
            self.finished.notify();
        }
    }

    /// Rounds run so far on this shard (rounds are numbered from 1, one after another).
    pub fn rounds_run(&self) -> u64 {
        self.clock.borrow().finished
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn an_idle_clock_starts_a_round_at_once() {
        let mut clock = RoundClock::default();
        let ticket = clock.ticket();
        assert_eq!(
            ticket,
            Ticket {
                round: 1,
                start_driver: true
            }
        );
        assert_eq!(clock.next_round(), Some(1));
        assert_eq!(clock.outcome(1), None);
        clock.finish(1, true);
        assert_eq!(clock.outcome(1), Some(Ok(())));
        assert_eq!(clock.next_round(), None, "nobody waits: the driver stops");
    }

    #[test]
    fn waiters_during_a_round_share_the_next_one() {
        let mut clock = RoundClock::default();
        clock.ticket();
        assert_eq!(clock.next_round(), Some(1));
        // Three arrive while round 1 runs: none may ride on it (it may have written before
        // their appends), all share round 2, and none starts a second driver.
        for _ in 0..3 {
            assert_eq!(
                clock.ticket(),
                Ticket {
                    round: 2,
                    start_driver: false
                }
            );
        }
        clock.finish(1, true);
        assert_eq!(clock.outcome(2), None);
        assert_eq!(
            clock.next_round(),
            Some(2),
            "rounds run back to back under load"
        );
        clock.finish(2, true);
        assert_eq!(clock.outcome(2), Some(Ok(())));
        assert_eq!(clock.next_round(), None);
        assert_eq!(clock.ticket().round, 3);
    }

    #[test]
    fn a_failed_round_fails_its_waiters_and_not_later_ones() {
        let mut clock = RoundClock::default();
        clock.ticket();
        clock.next_round();
        clock.ticket();
        clock.finish(1, false);
        assert_eq!(clock.outcome(1), Some(Err(RoundFailed { round: 1 })));
        clock.next_round();
        clock.finish(2, true);
        assert_eq!(clock.outcome(2), Some(Ok(())));
    }

    #[test]
    fn a_waiter_whose_round_passed_sees_a_later_failure() {
        // A waiter for round 1 that looks only after round 2 failed: round 2 wrote the same
        // logs again, so its failure may concern the waiter's data too; answering an error is
        // the safe side (the client retries; idempotence dedupes).
        let mut clock = RoundClock::default();
        clock.ticket();
        clock.next_round();
        clock.ticket();
        clock.finish(1, true);
        clock.next_round();
        clock.finish(2, false);
        assert_eq!(clock.outcome(1), Some(Err(RoundFailed { round: 1 })));
    }

    #[test]
    #[should_panic(expected = "is not the running one")]
    fn only_the_running_round_finishes() {
        let mut clock = RoundClock::default();
        clock.ticket();
        clock.next_round();
        clock.finish(1, true);
        clock.ticket();
        clock.next_round();
        clock.finish(3, true);
    }

    #[test]
    fn the_driver_runs_rounds_until_nobody_waits() {
        use std::rc::Rc;
        crate::partition::test_support::run("flush-rounds-test", || async move {
            let rounds = Rc::new(FlushRounds::default());
            let flushes = Rc::new(Cell::new(0u32));
            let flush_all = {
                let flushes = flushes.clone();
                move || {
                    let flushes = flushes.clone();
                    async move {
                        glommio::timer::sleep(std::time::Duration::from_millis(1)).await;
                        flushes.set(flushes.get() + 1);
                        true
                    }
                }
            };
            let waiters: Vec<_> = (0..8)
                .map(|_| {
                    let rounds = rounds.clone();
                    let flush_all = flush_all.clone();
                    glommio::spawn_local(async move { rounds.join(flush_all).await })
                })
                .collect();
            for waiter in waiters {
                assert_eq!(waiter.await, Ok(()));
            }
            // All eight took their tickets before the first round ran: one round each
            // would be eight; group commit is one (two if the first started early).
            assert!(flushes.get() <= 2, "{} rounds for 8 waiters", flushes.get());
            assert_eq!(rounds.rounds_run(), u64::from(flushes.get()));
            rounds.join(flush_all).await.expect("an idle round");
            assert_eq!(rounds.rounds_run(), u64::from(flushes.get()));
        });
    }
}
