//! The partition's clients. Producers send acks=all batches (a fresh payload id each, 1 to 3
//! records, at most `PRODUCES_IN_FLIGHT_MAX` at a time) to whoever they believe leads; an
//! acknowledgement is recorded with its offsets even when it comes after the producer gave up
//! (a broker's promise holds either way). Consumers read from whoever they believe leads, from
//! their position, and now and then rewind to read again. On an error or a timeout a client
//! asks the metadata again (the simulation answers from the controller or from a broker's
//! possibly stale view).

use std::collections::BTreeMap;

use super::log::Batch;

/// Produces one producer has out at a time.
pub const PRODUCES_IN_FLIGHT_MAX: usize = 2;
/// A producer gives up on a produce after this long (`delivery.timeout.ms`).
pub const PRODUCE_TIMEOUT_MS: u64 = 500;
/// A consumer gives up on a read after this long.
pub const READ_TIMEOUT_MS: u64 = 200;

pub struct Produced {
    pub payload: u64,
    pub records: i64,
    pub sent_ms: u64,
}

pub struct Producer {
    pub believed_leader: i32,
    /// Every produce sent, by request id, so that a late answer is still understood.
    pub sent: BTreeMap<u64, Produced>,
    /// The requests still awaited.
    pub in_flight: Vec<u64>,
    next_request: u64,
}

impl Producer {
    pub fn new(believed_leader: i32) -> Producer {
        Producer {
            believed_leader,
            sent: BTreeMap::new(),
            in_flight: Vec::new(),
            next_request: 0,
        }
    }

    /// A new produce of `payload`, if there is room for one; its request id.
    pub fn produce(&mut self, now_ms: u64, payload: u64, records: i64) -> Option<u64> {
        if self.in_flight.len() >= PRODUCES_IN_FLIGHT_MAX {
            return None;
        }
        self.next_request += 1;
        let request = self.next_request;
        let produced = Produced {
            payload,
            records,
            sent_ms: now_ms,
        };
        self.sent.insert(request, produced);
        self.in_flight.push(request);
        Some(request)
    }

    /// Gives up on produces past the timeout; true when it did (the leader may have moved).
    pub fn expire(&mut self, now_ms: u64) -> bool {
        let before = self.in_flight.len();
        let sent = &self.sent;
        self.in_flight
            .retain(|request| now_ms - sent[request].sent_ms <= PRODUCE_TIMEOUT_MS);
        self.in_flight.len() < before
    }

    /// The answer to `request`: its produce, if it was this producer's.
    pub fn answered(&mut self, request: u64) -> Option<&Produced> {
        self.in_flight.retain(|&awaited| awaited != request);
        self.sent.get(&request)
    }
}

pub struct Consumer {
    pub believed_leader: i32,
    pub position: i64,
    /// The read awaited, and when it was sent.
    pub in_flight: Option<(u64, u64)>,
    next_request: u64,
}

impl Consumer {
    pub fn new(believed_leader: i32) -> Consumer {
        Consumer {
            believed_leader,
            position: 0,
            in_flight: None,
            next_request: 0,
        }
    }

    /// A new read from the position, unless one is out; its request id.
    pub fn read(&mut self, now_ms: u64) -> Option<u64> {
        if self.in_flight.is_some() {
            return None;
        }
        self.next_request += 1;
        self.in_flight = Some((self.next_request, now_ms));
        Some(self.next_request)
    }

    /// Gives up on a read past the timeout; true when it did.
    pub fn expire(&mut self, now_ms: u64) -> bool {
        let expired = self
            .in_flight
            .is_some_and(|(_, sent_ms)| now_ms - sent_ms > READ_TIMEOUT_MS);
        if expired {
            self.in_flight = None;
        }
        expired
    }

    /// True when `request` is the read awaited (it is no longer).
    pub fn answered(&mut self, request: u64) -> bool {
        let awaited = self
            .in_flight
            .is_some_and(|(awaited, _)| awaited == request);
        if awaited {
            self.in_flight = None;
        }
        awaited
    }

    /// Batches read: the position moves past them.
    pub fn advance(&mut self, batches: &[Batch]) {
        if let Some(last) = batches.last() {
            self.position = self.position.max(last.end());
        }
    }
}
