//! A generation counter with wakers: `notify` bumps the generation and wakes every waiter,
//! which then re-checks its own condition. The partition subsystem wakes long-polling fetches
//! with it when data becomes readable; the shard wakes every connection with it when it stops.
//! Lives on one shard (not Send).
//!
//! A waiter holds one slot for as long as it waits, however often it is polled: a future that
//! pushed a fresh waker on every poll would pile up clones of one task's waker (a connection
//! polls its stop future once per request), and glommio's per-task reference count overflows
//! at 32,767 and aborts the shard. A dropped waiter gives its slot back, so churn leaks nothing.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

#[derive(Default)]
pub struct Notify {
    generation: Cell<u64>,
    /// Waiters of the current generation; `None` is a free slot (listed in `free`).
    slots: RefCell<Vec<Option<Waker>>>,
    free: RefCell<Vec<usize>>,
}

impl Notify {
    pub fn generation(&self) -> u64 {
        self.generation.get()
    }

    /// Wakes every waiter; each re-checks its own condition.
    pub fn notify(&self) {
        self.generation.set(self.generation.get().wrapping_add(1));
        let slots = std::mem::take(&mut *self.slots.borrow_mut());
        self.free.borrow_mut().clear();
        for waker in slots.into_iter().flatten() {
            waker.wake();
        }
    }

    /// Resolves once the generation differs from `since`.
    pub fn changed_since(&self, since: u64) -> Changed<'_> {
        Changed {
            notify: self,
            since,
            slot: None,
        }
    }

    /// Waiters registered now.
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.slots.borrow().iter().filter(|s| s.is_some()).count()
    }

    fn register(&self, waker: &Waker) -> usize {
        let mut slots = self.slots.borrow_mut();
        match self.free.borrow_mut().pop() {
            Some(index) => {
                assert!(slots[index].is_none(), "free slot {index} is taken");
                slots[index] = Some(waker.clone());
                index
            }
            None => {
                slots.push(Some(waker.clone()));
                slots.len() - 1
            }
        }
    }
}

pub struct Changed<'a> {
    notify: &'a Notify,
    since: u64,
    /// Our slot, valid while the generation is still `since` (notify clears every slot).
    slot: Option<usize>,
}

impl Future for Changed<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.notify.generation.get() != self.since {
            self.slot = None;
            return Poll::Ready(());
        }
        match self.slot {
            Some(index) => {
                let mut slots = self.notify.slots.borrow_mut();
                let waker = slots[index]
                    .as_mut()
                    .unwrap_or_else(|| panic!("waiter slot {index} was freed while waiting"));
                if !waker.will_wake(cx.waker()) {
                    waker.clone_from(cx.waker());
                }
            }
            None => {
                let index = self.notify.register(cx.waker());
                self.slot = Some(index);
            }
        }
        Poll::Pending
    }
}

impl Drop for Changed<'_> {
    fn drop(&mut self) {
        let Some(index) = self.slot.take() else {
            return;
        };
        if self.notify.generation.get() != self.since {
            return;
        }
        self.notify.slots.borrow_mut()[index] = None;
        self.notify.free.borrow_mut().push(index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn repeated_polls_keep_one_slot_and_one_wake() {
        let notify = Notify::default();
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        let mut changed = Box::pin(notify.changed_since(notify.generation()));
        for _ in 0..100_000 {
            assert!(changed.as_mut().poll(&mut cx).is_pending());
        }
        assert_eq!(notify.waiting(), 1);
        notify.notify();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert!(changed.as_mut().poll(&mut cx).is_ready());
    }

    #[test]
    fn dropped_waiters_give_their_slots_back() {
        let notify = Notify::default();
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        for _ in 0..1_000 {
            let mut changed = Box::pin(notify.changed_since(notify.generation()));
            assert!(changed.as_mut().poll(&mut cx).is_pending());
        }
        assert_eq!(notify.waiting(), 0);
        assert!(notify.slots.borrow().len() <= 1);
    }
}
