//! Times one request from dispatch to its response (`sluice_request_latency_seconds`), counting
//! it and its bytes into the shard's metrics; a deferred response is timed when it resolves.

use std::time::Instant;

use super::dispatch::{Outcome, RequestError};
use crate::metrics::hooks;

pub struct RequestMeter {
    api_key: i16,
    started: Instant,
}

impl RequestMeter {
    /// A frame of `frame_bytes` (size prefix excluded) arrived for `api_key`.
    pub fn start(api_key: i16, frame_bytes: usize) -> RequestMeter {
        hooks::request_received(frame_bytes);
        RequestMeter {
            api_key,
            started: Instant::now(),
        }
    }

    /// Records the handler's outcome and returns it unchanged.
    pub fn finish(self, result: Result<Outcome, RequestError>) -> Result<Outcome, RequestError> {
        hooks::request_dispatched(self.api_key);
        match result {
            Ok(Outcome::Deferred(deferred)) => Ok(Outcome::Deferred(Box::pin(async move {
                let result = deferred.await;
                self.record(result.is_ok());
                result
            }))),
            other => {
                self.record(other.is_ok());
                other
            }
        }
    }

    fn record(&self, ok: bool) {
        hooks::request_finished(self.api_key, ok, self.started.elapsed());
    }
}
