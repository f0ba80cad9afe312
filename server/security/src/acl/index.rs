//! The authorizer's lookup structure: for each resource type, the ACLs by exact resource
//! name, split into LITERAL and PREFIXED, plus the set of PREFIXED name lengths in use. A
//! check for resource `name` then looks at `literal[name]`, `literal["*"]` and
//! `prefixed[name[..len]]` for each length in use: a handful of hash lookups, never a scan of
//! all ACLs (Kafka's StandardAuthorizerData walks a reverse-sorted set to the same effect).

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use super::{
    AclBinding, AclOperation, AclPermissionType, PatternType, ResourceType, WILDCARD_RESOURCE,
};
use crate::principal::{KafkaPrincipal, WILDCARD_PRINCIPAL};

/// One ACL's entry, pre-parsed for matching; `binding` indexes the authorizer's bindings.
#[derive(Debug, Clone)]
pub(crate) struct IndexedAcl {
    pub binding: usize,
    principal: String,
    host: HostPattern,
    pub operation: AclOperation,
    pub permission: AclPermissionType,
}

/// An ACL's host: `*`, an address, or a string no client address can equal.
#[derive(Debug, Clone)]
enum HostPattern {
    Any,
    Address(IpAddr),
    Unmatchable,
}

impl IndexedAcl {
    pub fn new(binding_index: usize, binding: &AclBinding) -> IndexedAcl {
        let host = if binding.host == "*" {
            HostPattern::Any
        } else {
            match binding.host.parse::<IpAddr>() {
                Ok(address) => HostPattern::Address(address.to_canonical()),
                Err(_) => HostPattern::Unmatchable,
            }
        };
        IndexedAcl {
            binding: binding_index,
            principal: binding.principal.clone(),
            host,
            operation: binding.operation,
            permission: binding.permission,
        }
    }

    /// Kafka: the ACL's principal is the session's principal or `User:*`.
    pub fn principal_matches(&self, principal: &KafkaPrincipal) -> bool {
        self.principal == WILDCARD_PRINCIPAL || principal.is_written_as(&self.principal)
    }

    /// Kafka compares the ACL's host string with `InetAddress.getHostAddress()`; comparing
    /// parsed addresses accepts the same ACLs plus other spellings of the same address
    /// ("::1" for Java's "0:0:0:0:0:0:0:1"). `host` must be canonical (v4-mapped → v4, as
    /// Java's InetAddress does).
    pub fn host_matches(&self, host: IpAddr) -> bool {
        match self.host {
            HostPattern::Any => true,
            HostPattern::Address(address) => address == host,
            HostPattern::Unmatchable => false,
        }
    }
}

/// The ACLs of one resource type.
#[derive(Debug, Default)]
pub(crate) struct TypeIndex {
    pub literal: HashMap<String, Vec<IndexedAcl>>,
    pub prefixed: HashMap<String, Vec<IndexedAcl>>,
    /// The byte lengths of the PREFIXED names above, so a check tries only those prefixes.
    pub prefix_lengths: BTreeSet<usize>,
}

impl TypeIndex {
    /// Every section of ACLs that applies to a literal resource `name`: its own LITERAL
    /// ACLs, each PREFIXED ACL whose name is a prefix of it, and the LITERAL `*` ACLs.
    pub fn sections<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s [IndexedAcl]> {
        let own = self.literal.get(name);
        let wildcard = if name == WILDCARD_RESOURCE {
            None
        } else {
            self.literal.get(WILDCARD_RESOURCE)
        };
        let prefixes = self
            .prefix_lengths
            .range(..=name.len())
            .filter_map(move |&len| name.get(..len))
            .filter_map(move |prefix| self.prefixed.get(prefix));
        own.into_iter()
            .chain(prefixes)
            .chain(wildcard)
            .map(|acls| acls.as_slice())
    }

    /// Every ACL of the type, LITERAL then PREFIXED.
    pub fn all(&self) -> impl Iterator<Item = (PatternType, &str, &IndexedAcl)> {
        let literal = self.literal.iter().flat_map(|(name, acls)| {
            acls.iter()
                .map(move |acl| (PatternType::Literal, name, acl))
        });
        let prefixed = self.prefixed.iter().flat_map(|(name, acls)| {
            acls.iter()
                .map(move |acl| (PatternType::Prefixed, name, acl))
        });
        literal
            .chain(prefixed)
            .map(|(pattern_type, name, acl)| (pattern_type, name.as_str(), acl))
    }
}

/// All ACLs, by resource type (indexed by the type's wire code).
#[derive(Debug, Default)]
pub(crate) struct AclIndex {
    by_type: Vec<TypeIndex>,
}

impl AclIndex {
    /// Indexes `bindings`, which must all be valid (LITERAL or PREFIXED, a concrete type).
    pub fn new(bindings: &[AclBinding]) -> AclIndex {
        let mut by_type: Vec<TypeIndex> = Vec::new();
        by_type.resize_with(ResourceType::ALL_VALUES.len(), TypeIndex::default);
        for (binding_index, binding) in bindings.iter().enumerate() {
            let slot = type_slot(binding.resource_type);
            let Some(index) = by_type.get_mut(slot) else {
                unreachable!("type_slot is below ALL_VALUES.len()");
            };
            let acl = IndexedAcl::new(binding_index, binding);
            let name = binding.resource_name.clone();
            match binding.pattern_type {
                PatternType::Literal => index.literal.entry(name).or_default().push(acl),
                PatternType::Prefixed => {
                    index.prefix_lengths.insert(name.len());
                    index.prefixed.entry(name).or_default().push(acl);
                }
                other => unreachable!("validated bindings are never {other}"),
            }
        }
        AclIndex { by_type }
    }

    pub fn of_type(&self, resource_type: ResourceType) -> Option<&TypeIndex> {
        self.by_type.get(type_slot(resource_type))
    }
}

fn type_slot(resource_type: ResourceType) -> usize {
    let slot = resource_type.code() as usize;
    debug_assert!(slot < ResourceType::ALL_VALUES.len());
    slot
}
