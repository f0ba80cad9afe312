//! The shard's authorizer: Kafka's StandardAuthorizer semantics (`sluice_security`) over the
//! ACLs of the metadata, rebuilt when they change (the image shares its ACL table by `Arc`,
//! which is new only when an ACL record was applied), so every connection sees a new ACL with
//! its next request.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use sluice_security::acl::{
    AclBinding, AclOperation, AclPermissionType, Authorizer, AuthorizerConfig, PatternType,
    ResourceType,
};

use crate::metadata::MetadataService;
use sluice_controller::image::AclTable;

pub struct AclCache {
    metadata: Rc<MetadataService>,
    /// None: `authorizer.class.name` is empty, and every request is allowed.
    config: Option<AuthorizerConfig>,
    /// The ACL table the current answer was built from (shared with the metadata image).
    current: RefCell<Option<(Arc<AclTable>, Acls)>>,
}

/// What a request is checked against.
#[derive(Clone)]
pub enum Acls {
    /// Authorization is off: everything is allowed.
    Off,
    On(Rc<Authorizer>),
    /// The ACLs could not be applied: only super users are allowed (fail closed).
    Broken(Rc<Vec<String>>),
}

impl AclCache {
    pub fn new(metadata: Rc<MetadataService>) -> AclCache {
        let security = &metadata.config().security;
        let config = security.authorizer_enabled.then(|| AuthorizerConfig {
            super_users: security.super_users.clone(),
            allow_everyone_if_no_acl_found: security.allow_everyone_if_no_acl_found,
        });
        AclCache {
            metadata,
            config,
            current: RefCell::new(None),
        }
    }

    /// The ACLs as the metadata holds them now.
    pub fn acls(&self) -> Acls {
        let Some(config) = self.config.as_ref() else {
            return Acls::Off;
        };
        let (table, _) = self.metadata.acl_entries();
        let mut current = self.current.borrow_mut();
        if let Some((built_from, acls)) = current.as_ref() {
            if Arc::ptr_eq(built_from, &table) {
                return acls.clone();
            }
        }
        let acls = match build(&table, config) {
            Ok(authorizer) => Acls::On(Rc::new(authorizer)),
            Err(err) => {
                tracing::error!("cannot apply the ACLs ({err}); only super users are allowed");
                Acls::Broken(Rc::new(config.super_users.clone()))
            }
        };
        *current = Some((table, acls.clone()));
        acls
    }
}

/// ACL records the authorizer cannot take (a code this build does not know) are left out and
/// logged: leaving out an ALLOW only narrows access, and a DENY left out makes the whole set
/// refused (fail closed).
fn build(table: &AclTable, config: &AuthorizerConfig) -> Result<Authorizer, String> {
    let mut bindings = Vec::with_capacity(table.len());
    for (_, entry) in table.iter() {
        let binding = binding_of(entry);
        match binding.validate() {
            Ok(()) => bindings.push(binding),
            Err(_) if entry.permission_type == AclPermissionType::Allow.code() => {
                tracing::warn!(?entry, "ACL record the authorizer cannot apply; skipped")
            }
            Err(_) => return Err(format!("a DENY ACL it cannot apply: {entry:?}")),
        }
    }
    Authorizer::new(bindings, config.clone()).map_err(|err| err.to_string())
}

/// The binding of an ACL record; codes this build does not know become UNKNOWN, which
/// `AclBinding::validate` refuses.
pub fn binding_of(entry: &sluice_controller::records::AclEntry) -> AclBinding {
    AclBinding {
        resource_type: ResourceType::from_code(entry.resource_type),
        resource_name: entry.resource_name.clone(),
        pattern_type: PatternType::from_code(entry.pattern_type),
        principal: entry.principal.clone(),
        host: entry.host.clone(),
        operation: AclOperation::from_code(entry.operation),
        permission: AclPermissionType::from_code(entry.permission_type),
    }
}
