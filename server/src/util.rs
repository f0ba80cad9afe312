//! Small async helpers the runtime does not provide.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Polls every future concurrently on the current task; returns their outputs in order.
pub async fn join_all<T, F: Future<Output = T>>(futures: Vec<F>) -> Vec<T> {
    let mut pending: Vec<Option<Pin<Box<F>>>> =
        futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut done: Vec<Option<T>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx: &mut Context<'_>| {
        let mut all_done = true;
        for (slot, out) in pending.iter_mut().zip(done.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => {
                        *out = Some(value);
                        *slot = None;
                    }
                    Poll::Pending => all_done = false,
                }
            }
        }
        if all_done {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    done.into_iter()
        .map(|out| out.unwrap_or_else(|| unreachable!("join_all finished with a pending future")))
        .collect()
}

/// Polls every future on the current task and resolves with the index of the first one to
/// finish; the others are dropped.
pub async fn first_of<F: Future<Output = ()> + Unpin>(mut futures: Vec<F>) -> usize {
    assert!(!futures.is_empty(), "first_of needs a future to wait for");
    std::future::poll_fn(|cx: &mut Context<'_>| {
        for (index, future) in futures.iter_mut().enumerate() {
            if Pin::new(future).poll(cx).is_ready() {
                return Poll::Ready(index);
            }
        }
        Poll::Pending
    })
    .await
}

/// Milliseconds since the Unix epoch (Kafka timestamps).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

thread_local! {
    /// True while untrusted bytes are being decoded under `catch_decoder_panic`.
    static DECODING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs a decoder over untrusted input; a panic inside it becomes None instead of a crash.
pub fn catch_decoder_panic<T>(decode: impl FnOnce() -> T) -> Option<T> {
    DECODING.with(|flag| flag.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode));
    DECODING.with(|flag| flag.set(false));
    result.ok()
}

/// Whether the current panic comes from a decoder run by `catch_decoder_panic`.
pub fn panicking_in_decoder() -> bool {
    DECODING.with(|flag| flag.get())
}
