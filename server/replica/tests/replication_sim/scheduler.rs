//! The simulated clock and its queue of future events: time in milliseconds, ties broken by
//! the order events were scheduled in (so two messages on one link keep their order).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

struct Entry<E> {
    time_ms: u64,
    sequence: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.time_ms, self.sequence) == (other.time_ms, other.sequence)
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.time_ms, self.sequence).cmp(&(other.time_ms, other.sequence))
    }
}

pub struct Scheduler<E> {
    now_ms: u64,
    sequence: u64,
    queue: BinaryHeap<Reverse<Entry<E>>>,
}

impl<E> Scheduler<E> {
    pub fn new() -> Scheduler<E> {
        Scheduler {
            now_ms: 0,
            sequence: 0,
            queue: BinaryHeap::new(),
        }
    }

    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Schedules `event` at an absolute time, which cannot be in the past.
    pub fn at(&mut self, time_ms: u64, event: E) {
        assert!(time_ms >= self.now_ms, "an event in the past");
        self.sequence += 1;
        self.queue.push(Reverse(Entry {
            time_ms,
            sequence: self.sequence,
            event,
        }));
    }

    pub fn after(&mut self, delay_ms: u64, event: E) {
        self.at(self.now_ms + delay_ms, event);
    }

    /// The next event; the clock moves to its time.
    pub fn pop(&mut self) -> Option<E> {
        let Reverse(entry) = self.queue.pop()?;
        assert!(entry.time_ms >= self.now_ms);
        self.now_ms = entry.time_ms;
        Some(entry.event)
    }
}
