//! Replication, the follower side and the ISR: Kafka's model (followers pull; the in-sync
//! replica set decides the high watermark; ISR changes go through the controller).
//!
//! - `fetcher.rs`: per shard, one stream per leader broker, carrying every partition this
//!   shard follows from that broker (`owner_shard()` is the same on every broker, so a
//!   partition's follower and leader run on the same shard number).
//! - `stream.rs`: one stream's loop: fetch (Kafka Fetch v12 with this broker's id as
//!   ReplicaId, LastFetchedEpoch and CurrentLeaderEpoch), truncate on DivergingEpoch, append,
//!   fdatasync, and only then fetch again: the fetch offset is the follower's durable end.
//! - `parking.rs`: a stream's partitions that their leader refused for leadership or epoch,
//!   waiting (ever longer) to be asked for again.
//! - `connection.rs`: the Kafka client connection a stream uses (and the transaction
//!   coordinator's peers); `inter_broker_client.rs`: its TLS and SASL login.
//! - `isr.rs`: the leader side's ISR proposals (AlterPartition through the controller).
//!
//! Layer: above `metadata` (it asks the controller for ISR changes), below `kafka`.
//! Must never: append anything but its leader's batches to a follower, or count data a
//! follower has not fdatasynced.

pub mod connection;
pub mod fetcher;
pub mod inter_broker_client;
pub mod isr;
mod parking;
pub mod session;
pub mod stream;

pub use fetcher::ReplicaFetcher;
