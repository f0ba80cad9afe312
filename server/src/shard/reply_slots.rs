//! Reply slots of cross-shard calls on the calling shard. A call takes a slot, its request
//! carries the slot's id, and the reply receiver fills the slot and wakes the caller. The table
//! is reused: a freed slot goes on a free list, so a steady stream of calls allocates nothing.
//!
//! A caller that gives up (its future dropped, e.g. a closed connection) leaves its slot
//! `Abandoned` until the reply arrives or the peer stops, so a late reply can never land in a
//! slot that a newer call already reuses. Lives on one shard (not `Send`).
//!
//! A pending reply holds the table by `Rc`, so a call can be sent in one task's turn and its
//! reply awaited later elsewhere (the produce path queues appends in order, then waits).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

pub type SlotId = u32;

enum Slot<T> {
    /// On the free list.
    Free,
    /// A call to `target` waits for its reply.
    Waiting {
        target: usize,
        waker: Option<Waker>,
    },
    Ready(T),
    /// The target stopped before answering.
    Down,
    /// The caller went away; the reply (if any) is dropped on arrival.
    Abandoned {
        target: usize,
    },
}

pub struct ReplySlots<T> {
    slots: RefCell<Vec<Slot<T>>>,
    free: RefCell<Vec<SlotId>>,
}

impl<T> Default for ReplySlots<T> {
    fn default() -> Self {
        ReplySlots {
            slots: RefCell::new(Vec::new()),
            free: RefCell::new(Vec::new()),
        }
    }
}

impl<T> ReplySlots<T> {
    /// Takes a slot for a call to `target`; await the result for the reply.
    pub fn acquire(self: &Rc<Self>, target: usize) -> PendingReply<T> {
        let mut slots = self.slots.borrow_mut();
        let waiting = Slot::Waiting {
            target,
            waker: None,
        };
        let slot = match self.free.borrow_mut().pop() {
            Some(slot) => {
                assert!(
                    matches!(slots[slot as usize], Slot::Free),
                    "slot {slot} on the free list is taken"
                );
                slots[slot as usize] = waiting;
                slot
            }
            None => {
                let slot = SlotId::try_from(slots.len())
                    .unwrap_or_else(|_| panic!("more than {} calls in flight", SlotId::MAX));
                slots.push(waiting);
                slot
            }
        };
        PendingReply {
            slots: self.clone(),
            slot,
            done: false,
        }
    }

    /// Delivers the reply for `slot`.
    pub fn fill(&self, slot: SlotId, value: T) {
        let mut slots = self.slots.borrow_mut();
        let entry = &mut slots[slot as usize];
        match std::mem::replace(entry, Slot::Free) {
            Slot::Waiting { waker, .. } => {
                *entry = Slot::Ready(value);
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            Slot::Abandoned { .. } => self.free.borrow_mut().push(slot),
            other => {
                *entry = other;
                panic!("a reply arrived for slot {slot}, which is not waiting");
            }
        }
    }

    /// `target` stopped: its unanswered calls fail, its abandoned slots are free again.
    pub fn fail_target(&self, target: usize) {
        let mut slots = self.slots.borrow_mut();
        for (index, entry) in slots.iter_mut().enumerate() {
            match entry {
                Slot::Waiting { target: t, waker } if *t == target => {
                    if let Some(waker) = waker.take() {
                        waker.wake();
                    }
                    *entry = Slot::Down;
                }
                Slot::Abandoned { target: t } if *t == target => {
                    *entry = Slot::Free;
                    self.free.borrow_mut().push(index as SlotId);
                }
                _ => {}
            }
        }
    }

    fn release(&self, slot: SlotId) {
        let mut slots = self.slots.borrow_mut();
        assert!(
            !matches!(slots[slot as usize], Slot::Free),
            "slot {slot} released twice"
        );
        slots[slot as usize] = Slot::Free;
        self.free.borrow_mut().push(slot);
    }

    #[cfg(test)]
    fn free_slots(&self) -> usize {
        self.free.borrow().len()
    }
}

/// A call's wait for its reply: `Some(reply)`, or `None` when the target stopped.
pub struct PendingReply<T> {
    slots: Rc<ReplySlots<T>>,
    slot: SlotId,
    done: bool,
}

impl<T> PendingReply<T> {
    pub fn slot(&self) -> SlotId {
        self.slot
    }
}

impl<T> Future for PendingReply<T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        assert!(!self.done, "reply polled after it completed");
        let outcome = {
            let mut slots = self.slots.slots.borrow_mut();
            let entry = &mut slots[self.slot as usize];
            match entry {
                Slot::Waiting { waker, .. } => {
                    // One waker per waiting call, replaced only if the task changed.
                    if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                        *waker = Some(cx.waker().clone());
                    }
                    return Poll::Pending;
                }
                Slot::Ready(_) => match std::mem::replace(entry, Slot::Down) {
                    Slot::Ready(value) => Some(value),
                    _ => unreachable!("slot changed under its borrow"),
                },
                Slot::Down => None,
                Slot::Free | Slot::Abandoned { .. } => {
                    panic!("slot {} polled in a state no call holds", self.slot)
                }
            }
        };
        self.done = true;
        self.slots.release(self.slot);
        Poll::Ready(outcome)
    }
}

impl<T> Drop for PendingReply<T> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let abandoned = {
            let mut slots = self.slots.slots.borrow_mut();
            let entry = &mut slots[self.slot as usize];
            match entry {
                Slot::Waiting { target, .. } => {
                    *entry = Slot::Abandoned { target: *target };
                    true
                }
                _ => false,
            }
        };
        if !abandoned {
            self.slots.release(self.slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::future;

    #[test]
    fn a_filled_slot_answers_and_is_reused() {
        let slots = Rc::new(ReplySlots::<u32>::default());
        let pending = slots.acquire(1);
        let id = pending.slot();
        slots.fill(id, 7);
        assert_eq!(future::block_on(pending), Some(7));
        assert_eq!(slots.free_slots(), 1);
        let again = slots.acquire(1);
        assert_eq!(again.slot(), id, "the freed slot is reused");
        slots.fill(id, 8);
        assert_eq!(future::block_on(again), Some(8));
    }

    #[test]
    fn a_stopped_target_fails_only_its_calls() {
        let slots = Rc::new(ReplySlots::<u32>::default());
        let to_one = slots.acquire(1);
        let to_two = slots.acquire(2);
        slots.fail_target(1);
        assert_eq!(future::block_on(to_one), None);
        slots.fill(to_two.slot(), 3);
        assert_eq!(future::block_on(to_two), Some(3));
        assert_eq!(slots.free_slots(), 2);
    }

    #[test]
    fn an_abandoned_slot_is_not_reused_before_its_reply_arrives() {
        let slots = Rc::new(ReplySlots::<u32>::default());
        let first = slots.acquire(1);
        let id = first.slot();
        drop(first);
        let second = slots.acquire(1);
        assert_ne!(second.slot(), id, "a late reply must not reach a new call");
        slots.fill(id, 1);
        assert_eq!(slots.free_slots(), 1);
        slots.fill(second.slot(), 2);
        assert_eq!(future::block_on(second), Some(2));
    }

    #[test]
    fn an_abandoned_slot_is_freed_when_its_target_stops() {
        let slots = Rc::new(ReplySlots::<u32>::default());
        drop(slots.acquire(3));
        assert_eq!(slots.free_slots(), 0);
        slots.fail_target(3);
        assert_eq!(slots.free_slots(), 1);
    }
}
