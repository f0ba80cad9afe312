//! The Raft quorum that agrees on the metadata log: a thin layer over raft-rs's `RawNode`,
//! with the durable log and hard state on a [`disk`].
//!
//! OWNER: helper H2.
