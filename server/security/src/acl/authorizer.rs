//! `Authorizer`: Kafka's StandardAuthorizer decisions over an immutable set of ACLs.
//!
//! Pure: built from a list of bindings and a config, it answers questions; a change of ACLs
//! builds a new one (the broker swaps it in). It never blocks and never allocates per check
//! beyond the returned borrow.

use std::collections::HashSet;
use std::net::IpAddr;

use super::binding::InvalidAcl;
use super::decision::{Decision, Reason};
use super::index::{AclIndex, IndexedAcl};
use super::{
    AclBinding, AclBindingFilter, AclOperation, AclPermissionType, PatternType, ResourceType,
    WILDCARD_RESOURCE,
};
use crate::limits::ACL_COUNT_MAX;
use crate::principal::KafkaPrincipal;

/// The resource name Kafka's `authorizeByResourceType` asks about first, so that super users
/// and `User:*`/`*` ALLOWs answer without a scan.
const BY_TYPE_PROBE_NAME: &str = "hardcode";

/// Kafka's authorizer settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizerConfig {
    /// `super.users`: principals in `Type:name` form allowed everything, whatever the ACLs.
    pub super_users: Vec<String>,
    /// `allow.everyone.if.no.acl.found`: the answer for a resource no ACL mentions.
    pub allow_everyone_if_no_acl_found: bool,
}

#[derive(Debug)]
pub struct Authorizer {
    config: AuthorizerConfig,
    /// Valid, sorted, without duplicates (Kafka keeps a set).
    bindings: Vec<AclBinding>,
    index: AclIndex,
}

impl Authorizer {
    /// Validates every binding (see [`AclBinding::validate`]), drops duplicates and indexes
    /// them. Refuses the whole set if one binding is invalid or there are more than
    /// `ACL_COUNT_MAX`.
    pub fn new(
        bindings: Vec<AclBinding>,
        config: AuthorizerConfig,
    ) -> Result<Authorizer, InvalidAcl> {
        if bindings.len() > ACL_COUNT_MAX {
            return Err(InvalidAcl::new(format!(
                "{} ACLs exceed the limit of {ACL_COUNT_MAX}",
                bindings.len()
            )));
        }
        for binding in &bindings {
            binding.validate()?;
        }
        let mut bindings = bindings;
        bindings.sort();
        bindings.dedup();
        let index = AclIndex::new(&bindings);
        Ok(Authorizer {
            config,
            bindings,
            index,
        })
    }

    pub fn config(&self) -> &AuthorizerConfig {
        &self.config
    }

    /// Every binding, sorted, without duplicates.
    pub fn bindings(&self) -> &[AclBinding] {
        &self.bindings
    }

    /// DescribeAcls: the bindings `filter` selects (validate the filter first).
    pub fn describe<'s>(
        &'s self,
        filter: &'s AclBindingFilter,
    ) -> impl Iterator<Item = &'s AclBinding> + 's {
        self.bindings.iter().filter(move |b| filter.matches(b))
    }

    /// Whether `principal`, connecting from `host`, may perform `operation` on the resource
    /// `resource_type`:`resource_name` (a literal name, as in every Kafka request).
    ///
    /// StandardAuthorizer's rules: a super user is allowed. Otherwise the ACLs that apply are
    /// those on the resource's LITERAL name, on LITERAL `*`, and PREFIXED ones whose name is
    /// a prefix of the resource name. Among them, one whose principal is the principal or
    /// `User:*`, whose host is the host or `*`, and whose operation covers the requested one
    /// decides: any DENY wins, then any ALLOW. An ALLOW covers its operation, ALL, and the
    /// implied ones (see [`AclOperation::allow_implies`]); a DENY covers its operation and
    /// ALL. With no applicable ACL at all (for any principal or operation) the answer is
    /// `allow_everyone_if_no_acl_found`; otherwise it is DENIED.
    pub fn authorize(
        &self,
        principal: &KafkaPrincipal,
        host: IpAddr,
        operation: AclOperation,
        resource_type: ResourceType,
        resource_name: &str,
    ) -> Decision<'_> {
        if self.is_super_user(principal) {
            return Decision::Allowed(Reason::SuperUser);
        }
        let host = host.to_canonical();
        let mut any_acl = false;
        let mut allow: Option<&IndexedAcl> = None;
        if let Some(index) = self.index.of_type(resource_type) {
            for section in index.sections(resource_name) {
                any_acl |= !section.is_empty();
                for acl in section {
                    match acl_result(acl, principal, host, operation) {
                        Some(AclPermissionType::Deny) => {
                            return Decision::Denied(Reason::MatchingAcl(self.binding_of(acl)));
                        }
                        Some(_) => allow = Some(acl),
                        None => {}
                    }
                }
            }
        }
        match allow {
            Some(acl) => Decision::Allowed(Reason::MatchingAcl(self.binding_of(acl))),
            None if !any_acl && self.config.allow_everyone_if_no_acl_found => {
                Decision::Allowed(Reason::NoAclFound)
            }
            None if !any_acl => Decision::Denied(Reason::NoAclFound),
            None => Decision::Denied(Reason::NoMatchingAllow),
        }
    }

    /// KIP-679's `authorizeByResourceType` (Kafka's default `Authorizer` method, which
    /// StandardAuthorizer keeps): may `principal` perform `operation` on at least one
    /// resource of `resource_type`? The broker asks it for IDEMPOTENT_WRITE in
    /// InitProducerId when the cluster-level check fails: a producer allowed to WRITE some
    /// topic may be idempotent.
    ///
    /// First the ordinary check on a resource named "hardcode" (super users, `*` ALLOWs and
    /// an ACL-free type answer there). Then, among the type's ACLs whose principal, host and
    /// operation (exactly, or ALL; no implied operations) match: a DENY on LITERAL `*` denies;
    /// an ALLOW on LITERAL `*` allows; otherwise it is allowed if some ALLOW's name is not
    /// dominated by a DENY: for a LITERAL ALLOW, a LITERAL DENY of the same name or a
    /// PREFIXED DENY of one of its prefixes; for a PREFIXED ALLOW, a PREFIXED DENY of one of
    /// its prefixes (itself included).
    pub fn authorize_by_resource_type(
        &self,
        principal: &KafkaPrincipal,
        host: IpAddr,
        operation: AclOperation,
        resource_type: ResourceType,
    ) -> Decision<'_> {
        if matches!(operation, AclOperation::Any | AclOperation::Unknown) {
            return Decision::Denied(Reason::InvalidArgument("operation must be concrete"));
        }
        if matches!(resource_type, ResourceType::Any | ResourceType::Unknown) {
            return Decision::Denied(Reason::InvalidArgument("resource type must be concrete"));
        }
        let probe = self.authorize(
            principal,
            host,
            operation,
            resource_type,
            BY_TYPE_PROBE_NAME,
        );
        if probe.is_allowed() {
            return probe;
        }
        let Some(index) = self.index.of_type(resource_type) else {
            return Decision::Denied(Reason::NoMatchingAllow);
        };
        let host = host.to_canonical();
        let mut deny_literal: HashSet<&str> = HashSet::new();
        let mut deny_prefixed: HashSet<&str> = HashSet::new();
        let mut allows: Vec<(PatternType, &str, &IndexedAcl)> = Vec::new();
        let mut wildcard_allow: Option<&IndexedAcl> = None;
        for (pattern_type, name, acl) in index.all() {
            let applies = acl.host_matches(host)
                && acl.principal_matches(principal)
                && (acl.operation == operation || acl.operation == AclOperation::All);
            if !applies {
                continue;
            }
            let wildcard = pattern_type == PatternType::Literal && name == WILDCARD_RESOURCE;
            match (acl.permission, wildcard) {
                (AclPermissionType::Deny, true) => {
                    return Decision::Denied(Reason::MatchingAcl(self.binding_of(acl)));
                }
                (AclPermissionType::Deny, false) if pattern_type == PatternType::Literal => {
                    deny_literal.insert(name);
                }
                (AclPermissionType::Deny, false) => {
                    deny_prefixed.insert(name);
                }
                (_, true) => wildcard_allow = Some(acl),
                (_, false) => allows.push((pattern_type, name, acl)),
            }
        }
        if let Some(acl) = wildcard_allow {
            return Decision::Allowed(Reason::MatchingAcl(self.binding_of(acl)));
        }
        for (pattern_type, name, acl) in allows {
            if pattern_type == PatternType::Literal && deny_literal.contains(name) {
                continue;
            }
            let dominated = name
                .char_indices()
                .map(|(at, c)| &name[..at + c.len_utf8()])
                .any(|prefix| deny_prefixed.contains(prefix));
            if !dominated {
                return Decision::Allowed(Reason::MatchingAcl(self.binding_of(acl)));
            }
        }
        Decision::Denied(Reason::NoMatchingAllow)
    }

    fn is_super_user(&self, principal: &KafkaPrincipal) -> bool {
        self.config
            .super_users
            .iter()
            .any(|user| principal.is_written_as(user))
    }

    fn binding_of(&self, acl: &IndexedAcl) -> &AclBinding {
        let binding = &self.bindings[acl.binding];
        debug_assert_eq!(binding.permission, acl.permission);
        binding
    }
}

/// StandardAuthorizer's `findResult`: the ACL's permission if it applies to this principal,
/// host and operation, else `None`.
fn acl_result(
    acl: &IndexedAcl,
    principal: &KafkaPrincipal,
    host: IpAddr,
    operation: AclOperation,
) -> Option<AclPermissionType> {
    if !acl.principal_matches(principal) || !acl.host_matches(host) {
        return None;
    }
    let covers = if acl.permission == AclPermissionType::Allow {
        acl.operation.allow_implies(operation)
    } else {
        acl.operation == AclOperation::All || acl.operation == operation
    };
    covers.then_some(acl.permission)
}
