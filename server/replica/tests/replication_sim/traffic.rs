//! The clients' side of the simulation: producers and consumers ticking, their answers
//! recorded with the checker, and where they look for the leader.

use super::log::Batch;
use super::messages::{Endpoint, Message};
use super::{Event, Simulation, REPLICAS};

/// A producer tries a new produce every 5 ms to this long.
pub const PRODUCE_INTERVAL_MS_MAX: u64 = 30;
/// A consumer reads every 5 ms to this long.
pub const READ_INTERVAL_MS_MAX: u64 = 40;
/// A consumer rewinds to a random earlier offset this often (per mille of reads).
pub const REWIND_PER_MILLE: u64 = 40;

impl Simulation {
    /// Producing goes on through the chaos, and after the heal until one produce made after
    /// it is acknowledged.
    fn producing(&self) -> bool {
        self.chaos || !self.progress_after_heal
    }

    pub(super) fn producer_tick(&mut self, producer: usize) -> Result<(), String> {
        if !self.producing() {
            return Ok(());
        }
        let interval_ms = self.random.range(5, PRODUCE_INTERVAL_MS_MAX);
        self.scheduler
            .after(interval_ms, Event::ProducerTick(producer));
        let now_ms = self.scheduler.now_ms();
        if self.producers[producer].expire(now_ms) {
            self.producers[producer].believed_leader = self.leader_hint();
        }
        let payload = self.payload_next;
        let records = self.random.range(1, 4) as i64;
        let Some(request) = self.producers[producer].produce(now_ms, payload, records) else {
            return Ok(());
        };
        self.payload_next += 1;
        let to = Endpoint::Node(self.producers[producer].believed_leader);
        let message = Message::Produce {
            request,
            payload,
            records,
        };
        self.send(Endpoint::Producer(producer), to, message);
        Ok(())
    }

    pub(super) fn producer_receives(
        &mut self,
        producer: usize,
        message: Message,
    ) -> Result<(), String> {
        let Message::ProduceAnswer { request, result } = message else {
            return Err(format!("producer {producer} got {message:?}"));
        };
        let Some(produced) = self.producers[producer].answered(request) else {
            return Ok(());
        };
        let (payload, records) = (produced.payload, produced.records);
        match result {
            Ok((offset_base, offset_last)) => {
                self.summary.acknowledged += 1;
                self.note(|| {
                    format!("producer {producer}: {payload} acknowledged at {offset_base}")
                });
                let Some(batch) = self.checker.batch_written(payload) else {
                    return Err(format!("acknowledged payload {payload} was never written"));
                };
                let acknowledged = Batch {
                    offset_base,
                    offset_last,
                    ..batch
                };
                if offset_last - offset_base + 1 != records {
                    return Err(format!(
                        "acknowledged {acknowledged:?} for {records} records"
                    ));
                }
                self.checker.committed(acknowledged, "acknowledged")?;
                let min_insync = self.config.min_insync;
                self.checker
                    .acknowledged(acknowledged, &self.nodes, min_insync)?;
                if self
                    .healed
                    .is_some_and(|(_, first_after)| payload >= first_after)
                {
                    self.progress_after_heal = true;
                }
            }
            Err(error) => {
                self.summary.produce_errors += 1;
                self.note(|| format!("producer {producer}: {payload} refused: {error:?}"));
                self.producers[producer].believed_leader = self.leader_hint();
            }
        }
        Ok(())
    }

    pub(super) fn consumer_tick(&mut self, consumer: usize) -> Result<(), String> {
        if self.healed.is_some() && !self.producing() {
            return Ok(());
        }
        let interval_ms = self.random.range(5, READ_INTERVAL_MS_MAX);
        self.scheduler
            .after(interval_ms, Event::ConsumerTick(consumer));
        let now_ms = self.scheduler.now_ms();
        if self.consumers[consumer].expire(now_ms) {
            self.consumers[consumer].believed_leader = self.leader_hint();
        }
        if self.random.chance(REWIND_PER_MILLE) {
            let position = self.consumers[consumer].position;
            self.consumers[consumer].position = self.random.range(0, position as u64 + 1) as i64;
        }
        let Some(request) = self.consumers[consumer].read(now_ms) else {
            return Ok(());
        };
        let to = Endpoint::Node(self.consumers[consumer].believed_leader);
        let offset = self.consumers[consumer].position;
        self.send(
            Endpoint::Consumer(consumer),
            to,
            Message::Read { request, offset },
        );
        Ok(())
    }

    pub(super) fn consumer_receives(
        &mut self,
        consumer: usize,
        message: Message,
    ) -> Result<(), String> {
        let Message::ReadAnswer { request, result } = message else {
            return Err(format!("consumer {consumer} got {message:?}"));
        };
        if !self.consumers[consumer].answered(request) {
            return Ok(());
        }
        match result {
            Ok(batches) => {
                self.summary.batches_read += batches.len() as u64;
                for batch in &batches {
                    self.checker.committed(*batch, "read")?;
                }
                self.consumers[consumer].advance(&batches);
            }
            Err(_) => self.consumers[consumer].believed_leader = self.leader_hint(),
        }
        Ok(())
    }

    /// Where a client looks for the leader: usually the controller's answer, sometimes a
    /// broker's view (stale, perhaps), or a guess.
    fn leader_hint(&mut self) -> i32 {
        let roll = self.random.range(0, 10);
        let controller_leader = self.controller.partition().leader;
        if roll < 6 && controller_leader >= 0 {
            return controller_leader;
        }
        let asked = self.random.range(1, REPLICAS as u64 + 1) as i32;
        let known = self
            .node(asked)
            .known
            .as_ref()
            .map_or(-1, |known| known.leader);
        if roll < 9 && known >= 0 {
            return known;
        }
        self.random.range(1, REPLICAS as u64 + 1) as i32
    }
}
