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

/// The operations Kafka reports per resource type in `authorized_operations` fields
/// (`AclEntry.supportedOperations`).
fn supported_operations(resource_type: ResourceType) -> &'static [AclOperation] {
    use AclOperation::*;
    match resource_type {
        ResourceType::Topic => &[
            Read,
            Write,
            Create,
            Describe,
            Delete,
            Alter,
            DescribeConfigs,
            AlterConfigs,
        ],
        ResourceType::Group => &[Read, Describe, Delete, DescribeConfigs, AlterConfigs],
        ResourceType::Cluster => &[
            Create,
            ClusterAction,
            DescribeConfigs,
            AlterConfigs,
            IdempotentWrite,
            Alter,
            Describe,
        ],
        ResourceType::TransactionalId => &[Describe, Write],
        _ => &[],
    }
}

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

    /// Kafka's `authorizedOperations` (KIP-430): bit `1 << code` set for each operation of
    /// the type's supported ones (`AclEntry.supportedOperations`) the principal may perform on
    /// the named resource. Asked without counting or logging, as Kafka does.
    pub fn authorized_operations(&self, resource_type: ResourceType, name: &str) -> i32 {
        let bits = supported_operations(resource_type)
            .iter()
            .filter(|operation| self.can_see(**operation, resource_type, name))
            .fold(0u32, |bits, operation| bits | 1 << operation.code());
        i32::try_from(bits).expect("operation codes stay below 31")
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

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_security::acl::{
        AclBinding, AclPermissionType, Authorizer, AuthorizerConfig, PatternType,
    };

    fn authz_of(bindings: Vec<AclBinding>) -> Authz {
        let config = AuthorizerConfig {
            super_users: Vec::new(),
            allow_everyone_if_no_acl_found: false,
        };
        let authorizer = Authorizer::new(bindings, config).expect("valid ACLs");
        let principal = Rc::new(KafkaPrincipal::user("alice"));
        let host = IpAddr::from([127, 0, 0, 1]);
        Authz::new(principal, host, Acls::On(Rc::new(authorizer)), 3)
    }

    fn cluster_allow(operation: AclOperation) -> AclBinding {
        AclBinding {
            resource_type: ResourceType::Cluster,
            resource_name: CLUSTER_NAME.to_string(),
            pattern_type: PatternType::Literal,
            principal: "User:alice".to_string(),
            host: "*".to_string(),
            operation,
            permission: AclPermissionType::Allow,
        }
    }

    /// KIP-430's bit field: one bit per allowed operation code, implied ones included
    /// (ALTER_CONFIGS allows DESCRIBE_CONFIGS), nothing outside the type's supported set.
    #[test]
    fn authorized_operations_set_the_code_bit_of_each_allowed_operation() {
        let authz = authz_of(vec![
            cluster_allow(AclOperation::Describe),
            cluster_allow(AclOperation::AlterConfigs),
        ]);
        let expected = 1 << AclOperation::Describe.code()
            | 1 << AclOperation::DescribeConfigs.code()
            | 1 << AclOperation::AlterConfigs.code();
        let bits = authz.authorized_operations(ResourceType::Cluster, CLUSTER_NAME);
        assert_eq!(bits, expected);
        assert_eq!(authz.authorized_operations(ResourceType::Topic, "t"), 0);
        assert!(!authz.can_see(AclOperation::Read, ResourceType::Topic, "t"));
    }

    #[test]
    fn with_authorization_off_every_supported_operation_is_allowed() {
        let principal = Rc::new(KafkaPrincipal::user("alice"));
        let authz = Authz::new(principal, IpAddr::from([127, 0, 0, 1]), Acls::Off, 3);
        let bits = authz.authorized_operations(ResourceType::TransactionalId, "tx");
        let expected = 1 << AclOperation::Describe.code() | 1 << AclOperation::Write.code();
        assert_eq!(bits, expected);
        assert!(authz.is_off());
        assert!(authz.topic(AclOperation::Write, "t"));
    }
}
