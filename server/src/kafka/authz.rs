//! The authorization of one request: the connection's principal and host against the
//! shard's ACLs. Handlers ask Kafka's questions (which operation on which resource, as
//! KafkaApis does) and answer a refusal with Kafka's error code.

use std::net::IpAddr;
use std::rc::Rc;

use sluice_security::acl::{AclOperation, ResourceType};
use sluice_security::KafkaPrincipal;

use crate::security::acl_cache::Acls;

/// The name of the one cluster resource (Kafka's `Resource.CLUSTER_NAME`).
pub const CLUSTER_NAME: &str = "kafka-cluster";

pub struct Authz {
    pub principal: Rc<KafkaPrincipal>,
    pub host: IpAddr,
    acls: Acls,
    api_key: i16,
}

impl Authz {
    pub fn new(principal: Rc<KafkaPrincipal>, host: IpAddr, acls: Acls, api_key: i16) -> Authz {
        Authz {
            principal,
            host,
            acls,
            api_key,
        }
    }

    /// Whether every check passes without looking (authorization off).
    pub fn is_off(&self) -> bool {
        matches!(self.acls, Acls::Off)
    }

    /// May the principal perform `operation` on the named resource? A refusal is counted
    /// and logged at debug level (a refused client retries; one line each would flood).
    pub fn allows(&self, operation: AclOperation, resource_type: ResourceType, name: &str) -> bool {
        let allowed = match &self.acls {
            Acls::Off => return true,
            Acls::On(authorizer) => authorizer
                .authorize(&self.principal, self.host, operation, resource_type, name)
                .is_allowed(),
            Acls::Broken(super_users) => self.is_super_user(super_users),
        };
        if !allowed {
            self.denied(operation, resource_type, name);
        }
        allowed
    }

    pub fn topic(&self, operation: AclOperation, topic: &str) -> bool {
        self.allows(operation, ResourceType::Topic, topic)
    }

    pub fn group(&self, operation: AclOperation, group: &str) -> bool {
        self.allows(operation, ResourceType::Group, group)
    }

    pub fn cluster(&self, operation: AclOperation) -> bool {
        self.allows(operation, ResourceType::Cluster, CLUSTER_NAME)
    }

    pub fn transactional_id(&self, operation: AclOperation, id: &str) -> bool {
        self.allows(operation, ResourceType::TransactionalId, id)
    }

    /// Whether the principal may perform `operation` on some resource of the type (KIP-679's
    /// `authorizeByResourceType`): InitProducerId's fallback for idempotent producers.
    pub fn any_of_type(&self, operation: AclOperation, resource_type: ResourceType) -> bool {
        let allowed = match &self.acls {
            Acls::Off => return true,
            Acls::On(authorizer) => authorizer
                .authorize_by_resource_type(&self.principal, self.host, operation, resource_type)
                .is_allowed(),
            Acls::Broken(super_users) => self.is_super_user(super_users),
        };
        if !allowed {
            self.denied(operation, resource_type, "*");
        }
        allowed
    }

    /// Like [`Authz::allows`] but neither counted nor logged: for filtering what a listing
    /// shows (Metadata of all topics, ListGroups), where leaving things out is no refusal.
    pub fn can_see(
        &self,
        operation: AclOperation,
        resource_type: ResourceType,
        name: &str,
    ) -> bool {
        match &self.acls {
            Acls::Off => true,
            Acls::On(authorizer) => authorizer
                .authorize(&self.principal, self.host, operation, resource_type, name)
                .is_allowed(),
            Acls::Broken(super_users) => self.is_super_user(super_users),
        }
    }

    fn is_super_user(&self, super_users: &[String]) -> bool {
        super_users.iter().any(|u| self.principal.is_written_as(u))
    }

    fn denied(&self, operation: AclOperation, resource_type: ResourceType, name: &str) {
        crate::metrics::hooks::authorization_denied(self.api_key);
        tracing::debug!(
            principal = %self.principal,
            host = %self.host,
            ?operation,
            ?resource_type,
            resource = name,
            api_key = self.api_key,
            "authorization denied"
        );
    }
}
