//! Security of client connections: SASL authentication
//! (`sasl`, over `credentials`: SCRAM credentials from the cluster metadata and PLAIN users),
//! and ACL authorization (`acl_cache`: the shard's StandardAuthorizer over the metadata's
//! ACLs). The Kafka layer drives them per connection (`kafka::session`, `kafka::authz`).

pub mod acl_cache;
pub mod credentials;
pub mod sasl;
