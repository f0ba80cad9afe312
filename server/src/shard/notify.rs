//! Wakes long-polling fetches when data is appended on this shard. One per shard: an append to
//! any partition bumps the generation and wakes every waiter, which re-checks its own partitions.
//! Lives on one shard (not Send).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

#[derive(Default)]
pub struct AppendNotify {
    generation: Cell<u64>,
    wakers: RefCell<Vec<Waker>>,
}

impl AppendNotify {
    pub fn generation(&self) -> u64 {
        self.generation.get()
    }

    /// Called after every successful append on this shard.
    pub fn notify(&self) {
        self.generation.set(self.generation.get().wrapping_add(1));
        let wakers = std::mem::take(&mut *self.wakers.borrow_mut());
        for waker in wakers {
            waker.wake();
        }
    }

    /// Resolves once the generation differs from `since`.
    pub fn changed_since(&self, since: u64) -> Changed<'_> {
        Changed {
            notify: self,
            since,
        }
    }
}

pub struct Changed<'a> {
    notify: &'a AppendNotify,
    since: u64,
}

impl Future for Changed<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.notify.generation.get() != self.since {
            return Poll::Ready(());
        }
        self.notify.wakers.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}
