//! Broker sessions: the controller's volatile memory of each broker's heartbeats. Lost when
//! the controller moves; the new active controller starts every session afresh
//! ([`Controller::activate`](super::Controller::activate)), as Kafka's does.

use std::collections::BTreeMap;

/// One registration's session (a new broker epoch starts a new session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BrokerSession {
    pub(super) broker_epoch: i64,
    pub(super) last_contact_ms: u64,
    /// The metadata offset the broker must reach before it is unfenced; `None` until its
    /// first heartbeat of this session (see `heartbeat.rs` for the rule).
    pub(super) catch_up_offset: Option<u64>,
    /// This controller has heard from the registration itself (a registration or a
    /// heartbeat), not only inherited it at activation. Only a registration heard from can
    /// refuse a new incarnation as a duplicate: after a controller restart or failover, a
    /// broker restarted meanwhile must not wait out a session nobody saw alive.
    pub(super) heard: bool,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Sessions {
    by_broker: BTreeMap<i32, BrokerSession>,
}

impl Sessions {
    pub(super) fn clear(&mut self) {
        self.by_broker.clear();
    }

    /// Starts a fresh session for `broker_epoch`, replacing any earlier one of the broker;
    /// `heard`: from the broker itself (see [`BrokerSession::heard`]).
    pub(super) fn start(&mut self, broker_id: i32, broker_epoch: i64, now_ms: u64, heard: bool) {
        let session = BrokerSession {
            broker_epoch,
            last_contact_ms: now_ms,
            catch_up_offset: None,
            heard,
        };
        self.by_broker.insert(broker_id, session);
    }

    /// Records contact from the registration `broker_epoch`; starts its session if there is
    /// none (or only an older registration's).
    pub(super) fn touch(
        &mut self,
        broker_id: i32,
        broker_epoch: i64,
        now_ms: u64,
    ) -> &mut BrokerSession {
        let session = self.by_broker.entry(broker_id).or_insert(BrokerSession {
            broker_epoch,
            last_contact_ms: now_ms,
            catch_up_offset: None,
            heard: true,
        });
        if session.broker_epoch != broker_epoch {
            *session = BrokerSession {
                broker_epoch,
                last_contact_ms: now_ms,
                catch_up_offset: None,
                heard: true,
            };
        }
        session.heard = true;
        // A clock that steps back must not make a session look older than it is.
        session.last_contact_ms = session.last_contact_ms.max(now_ms);
        session
    }

    /// The registration `broker_epoch` was heard from within `session_timeout_ms`. Kafka's
    /// rule: alive while `last contact + timeout >= now`.
    pub(super) fn is_alive(
        &self,
        broker_id: i32,
        broker_epoch: i64,
        now_ms: u64,
        session_timeout_ms: u64,
    ) -> bool {
        self.by_broker.get(&broker_id).is_some_and(|session| {
            session.broker_epoch == broker_epoch
                && now_ms.saturating_sub(session.last_contact_ms) <= session_timeout_ms
        })
    }

    /// Alive ([`Sessions::is_alive`]) and heard from by this controller.
    pub(super) fn is_heard_alive(
        &self,
        broker_id: i32,
        broker_epoch: i64,
        now_ms: u64,
        session_timeout_ms: u64,
    ) -> bool {
        self.is_alive(broker_id, broker_epoch, now_ms, session_timeout_ms)
            && self.by_broker.get(&broker_id).is_some_and(|s| s.heard)
    }

    pub(super) fn get_mut(&mut self, broker_id: i32) -> Option<&mut BrokerSession> {
        self.by_broker.get_mut(&broker_id)
    }

    pub(super) fn contains(&self, broker_id: i32, broker_epoch: i64) -> bool {
        self.by_broker
            .get(&broker_id)
            .is_some_and(|session| session.broker_epoch == broker_epoch)
    }
}
