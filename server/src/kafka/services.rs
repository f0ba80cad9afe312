//! `Services`: what the Kafka layer of one shard calls into, one service per subsystem. It is
//! the connection's context, not a locator handlers reach into: the dispatcher
//! (`handlers::handle`) passes each handler exactly the services it uses.

use std::rc::Rc;
use std::sync::Arc;

use crate::config::BrokerConfig;
use crate::group::service::GroupService;
use crate::metadata::MetadataService;
use crate::partition::PartitionService;
use crate::producer_ids::ProducerIdService;
use crate::shard::context::ShardContext;

pub struct Services {
    pub ctx: Rc<ShardContext>,
    pub config: Arc<BrokerConfig>,
    /// Who may authenticate (SCRAM credentials, PLAIN users).
    pub credentials: Rc<crate::security::credentials::Credentials>,
    /// The shard's authorizer over the metadata's ACLs.
    pub acls: Rc<crate::security::acl_cache::AclCache>,
    pub partitions: Rc<PartitionService>,
    pub metadata: Rc<MetadataService>,
    pub groups: Rc<GroupService>,
    pub producer_ids: Rc<ProducerIdService>,
    pub txn: Rc<crate::txn::TxnService>,
    /// Followers' incremental fetch sessions opened on this shard.
    pub fetch_sessions: Rc<crate::kafka::fetch_sessions::FetchSessions>,
    /// KIP-890 verification of transactional produces with the transaction coordinator;
    /// `None` until the coordinator is wired (such produces are then refused, retriable).
    pub txn_verifier: Option<crate::kafka::txn_verifier::TxnVerifier>,
}
