//! The Kafka wire protocol: the accept loop, framing, request dispatch, one handler per API,
//! and the connection loop that pipelines requests and writes responses in request order.
//!
//! Layer: the top of the broker. Handlers call the subsystems (`partition`, `metadata`,
//! `group`) through the [`Services`](services::Services) the dispatcher passes them; nothing
//! below imports this module.

pub mod acl_wire;
pub mod authz;
pub mod cluster_view;
pub mod connection;
pub mod dispatch;
pub mod fetch_sessions;
pub mod frame;
pub mod handlers;
pub mod leader_check;
pub mod listener;
pub mod request_meter;
pub mod response;
pub mod sendfile;
pub mod services;
pub mod session;
pub mod txn_codes;
pub mod txn_verifier;
pub mod wire;
