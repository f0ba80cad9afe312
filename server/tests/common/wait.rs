//! The one way the scenarios wait for something to happen: poll a condition until it holds,
//! with a deadline. A test that sleeps and hopes fails only on slow machines; a test that
//! waits for the observable condition fails only when the condition never comes.

use std::thread;
use std::time::{Duration, Instant};

/// First pause between polls; doubles up to [`POLL_INTERVAL_MAX`] so quick conditions are
/// seen quickly and slow ones do not busy the machine.
const POLL_INTERVAL_FIRST: Duration = Duration::from_millis(5);
const POLL_INTERVAL_MAX: Duration = Duration::from_millis(100);

/// What a condition reports: `bool` (holds or not) or `Option<T>` (the value once it holds).
pub trait Reached {
    type Value;
    fn reached(self) -> Option<Self::Value>;
}

impl Reached for bool {
    type Value = ();
    fn reached(self) -> Option<()> {
        self.then_some(())
    }
}

impl<T> Reached for Option<T> {
    type Value = T;
    fn reached(self) -> Option<T> {
        self
    }
}

/// Polls `condition` until it holds and returns its value; panics with `what` and the time
/// waited once `deadline` has passed (the condition is checked once more at the deadline).
pub fn wait_until<R: Reached>(
    what: &str,
    deadline: Duration,
    mut condition: impl FnMut() -> R,
) -> R::Value {
    let started = Instant::now();
    let mut pause = POLL_INTERVAL_FIRST;
    loop {
        if let Some(value) = condition().reached() {
            return value;
        }
        let elapsed = started.elapsed();
        if elapsed >= deadline {
            panic!("timed out waiting for {what}: not reached after {elapsed:?}");
        }
        thread::sleep(pause.min(deadline - elapsed));
        pause = (pause * 2).min(POLL_INTERVAL_MAX);
    }
}
