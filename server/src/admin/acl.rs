//! `sluice acl add|list|remove`: ACL bindings, like Kafka's `kafka-acls --add|--list|--remove`.
//!
//! - `add` sends one CreateAcls with a binding per (principal, operation): the pattern is
//!   the resource (`--topic`, `--group`, `--cluster`, `--transactional-id`; LITERAL, or
//!   PREFIXED with `--prefixed`), the entry ALLOW or DENY for `--principal` from `--host`.
//! - `list` sends DescribeAcls with a filter built from the same flags; what is not given
//!   matches anything (pattern type ANY unless `--prefixed` or `--pattern-type`).
//! - `remove` sends DeleteAcls with that filter and prints what the broker removed. It needs
//!   a resource or a principal: an empty filter would remove every ACL of the cluster.
//!
//! Bindings are checked here as the broker checks them (`AclBinding::validate`), so a typo
//! is refused before any request is sent.

use clap::{ArgGroup, Args, Subcommand};
use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::{
    CreateAclsRequest, CreateAclsResponse, DeleteAclsRequest, DeleteAclsResponse,
    DescribeAclsRequest, DescribeAclsResponse,
};
use kafka_protocol::protocol::StrBytes;
use sluice_security::acl::{
    AclBinding, AclBindingFilter, AclOperation, AclPermissionType, PatternType, ResourceType,
    CLUSTER_NAME,
};

use super::error::AdminError;
use super::pool::BrokerPool;
use super::render::table;
use super::{versions, ConnectArgs};

/// Bindings one `acl add` may create (principals × operations).
pub const BINDINGS_PER_ADD_MAX: usize = 1_000;

/// Manage ACLs over the Kafka protocol.
#[derive(Debug, Args)]
pub struct AclArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(subcommand)]
    pub command: AclCommand,
}

/// The resource an ACL protects: at most one of these.
#[derive(Debug, Clone, Default, Args)]
#[command(group(ArgGroup::new("resource").multiple(false)))]
pub struct ResourceArgs {
    /// A topic (`*`: every topic).
    #[arg(long, group = "resource")]
    pub topic: Option<String>,
    /// A consumer group (`*`: every group).
    #[arg(long, group = "resource")]
    pub group: Option<String>,
    /// The cluster (its only name is `kafka-cluster`).
    #[arg(long, group = "resource")]
    pub cluster: bool,
    /// A transactional id (`*`: every one).
    #[arg(long, group = "resource")]
    pub transactional_id: Option<String>,
    /// The name is a prefix (PREFIXED pattern) rather than a literal name.
    #[arg(long)]
    pub prefixed: bool,
}

#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("permission").multiple(false)))]
pub struct EntryFilterArgs {
    /// Only ALLOW bindings.
    #[arg(long, group = "permission")]
    pub allow: bool,
    /// Only DENY bindings.
    #[arg(long, group = "permission")]
    pub deny: bool,
    /// Only this principal (`User:alice`).
    #[arg(long)]
    pub principal: Option<String>,
    /// Only this host.
    #[arg(long)]
    pub host: Option<String>,
    /// Only this operation.
    #[arg(long)]
    pub operation: Option<String>,
    /// ANY, MATCH (every binding that applies to the named resource), LITERAL or PREFIXED
    /// [default: ANY; PREFIXED with --prefixed]
    #[arg(long, value_name = "TYPE", conflicts_with = "prefixed")]
    pub pattern_type: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AclCommand {
    /// Allow or deny operations on a resource to principals (CreateAcls).
    #[command(group(ArgGroup::new("permission").required(true).multiple(false)))]
    #[command(group(ArgGroup::new("resource_required").required(true).multiple(false)
        .args(["topic", "group", "cluster", "transactional_id"])))]
    Add {
        /// Allow the operations.
        #[arg(long, group = "permission")]
        allow: bool,
        /// Deny the operations (a DENY wins over any ALLOW).
        #[arg(long, group = "permission")]
        deny: bool,
        /// Who: `User:alice`, `User:*` for everyone (repeatable).
        #[arg(long, required = true)]
        principal: Vec<String>,
        /// From which host (an IP address) [default: any host]
        #[arg(long, default_value = "*")]
        host: String,
        /// READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS,
        /// ALTER_CONFIGS, IDEMPOTENT_WRITE or ALL (comma list).
        #[arg(long, required = true, value_delimiter = ',')]
        operation: Vec<String>,
        #[command(flatten)]
        resource: ResourceArgs,
    },
    /// The bindings that match the filter (DescribeAcls).
    List {
        #[command(flatten)]
        resource: ResourceArgs,
        #[command(flatten)]
        entry: EntryFilterArgs,
    },
    /// Remove the bindings that match the filter (DeleteAcls); prints them.
    Remove {
        #[command(flatten)]
        resource: ResourceArgs,
        #[command(flatten)]
        entry: EntryFilterArgs,
    },
}

/// A command checked and turned into what goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepared {
    Add(Vec<AclBinding>),
    List(AclBindingFilter),
    Remove(AclBindingFilter),
}

fn parse_named<T>(what: &str, text: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, String> {
    parse(text.trim()).ok_or_else(|| format!("--{what} {text}: unknown"))
}

impl ResourceArgs {
    /// (type, name) of the named resource, if any.
    fn resource(&self) -> Option<(ResourceType, String)> {
        if self.cluster {
            return Some((ResourceType::Cluster, CLUSTER_NAME.to_string()));
        }
        let named = [
            (ResourceType::Topic, &self.topic),
            (ResourceType::Group, &self.group),
            (ResourceType::TransactionalId, &self.transactional_id),
        ];
        named
            .into_iter()
            .find_map(|(kind, name)| name.clone().map(|n| (kind, n)))
    }

    fn pattern_type(&self) -> PatternType {
        if self.prefixed {
            PatternType::Prefixed
        } else {
            PatternType::Literal
        }
    }
}

impl AclCommand {
    pub fn prepare(&self) -> Result<Prepared, String> {
        match self {
            AclCommand::Add {
                allow,
                deny,
                principal,
                host,
                operation,
                resource,
            } => {
                assert!(
                    allow ^ deny,
                    "clap requires exactly one of --allow and --deny"
                );
                let permission = if *allow {
                    AclPermissionType::Allow
                } else {
                    AclPermissionType::Deny
                };
                let (resource_type, resource_name) = resource
                    .resource()
                    .ok_or("a resource: --topic, --group, --cluster or --transactional-id")?;
                let operations = operation
                    .iter()
                    .map(|o| parse_named("operation", o, AclOperation::parse))
                    .collect::<Result<Vec<_>, _>>()?;
                if principal.len() * operations.len() > BINDINGS_PER_ADD_MAX {
                    return Err(format!("more than {BINDINGS_PER_ADD_MAX} bindings at once"));
                }
                let mut bindings = Vec::new();
                for principal in principal {
                    for operation in &operations {
                        let binding = AclBinding {
                            resource_type,
                            resource_name: resource_name.clone(),
                            pattern_type: resource.pattern_type(),
                            principal: principal.clone(),
                            host: host.clone(),
                            operation: *operation,
                            permission,
                        };
                        binding.validate().map_err(|e| e.message)?;
                        bindings.push(binding);
                    }
                }
                Ok(Prepared::Add(bindings))
            }
            AclCommand::List { resource, entry } => Ok(Prepared::List(filter(resource, entry)?)),
            AclCommand::Remove { resource, entry } => {
                let filter = filter(resource, entry)?;
                if filter.resource_name.is_none() && filter.principal.is_none() {
                    return Err("acl remove needs a resource (--topic, --group, --cluster, \
                                --transactional-id) or --principal: refusing to remove every ACL"
                        .into());
                }
                Ok(Prepared::Remove(filter))
            }
        }
    }
}

fn filter(resource: &ResourceArgs, entry: &EntryFilterArgs) -> Result<AclBindingFilter, String> {
    let mut filter = AclBindingFilter::any();
    if let Some((resource_type, name)) = resource.resource() {
        filter.resource_type = resource_type;
        filter.resource_name = Some(name);
    }
    filter.pattern_type = match (&entry.pattern_type, resource.prefixed) {
        (Some(text), _) => {
            parse_named("pattern-type", text, PatternType::parse).and_then(|p| match p {
                PatternType::Unknown => Err(format!("--pattern-type {text}: unknown")),
                known => Ok(known),
            })?
        }
        (None, true) => PatternType::Prefixed,
        (None, false) => PatternType::Any,
    };
    filter.principal = entry.principal.clone();
    filter.host = entry.host.clone();
    if let Some(operation) = &entry.operation {
        filter.operation = parse_named("operation", operation, AclOperation::parse)?;
    }
    filter.permission = match (entry.allow, entry.deny) {
        (true, _) => AclPermissionType::Allow,
        (_, true) => AclPermissionType::Deny,
        _ => AclPermissionType::Any,
    };
    filter.validate().map_err(|e| e.message)?;
    Ok(filter)
}

pub fn execute(pool: &mut BrokerPool, command: &Prepared) -> Result<String, AdminError> {
    match command {
        Prepared::Add(bindings) => add(pool, bindings),
        Prepared::List(filter) => list(pool, filter),
        Prepared::Remove(filter) => remove(pool, filter),
    }
}

fn text(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

const HEADER: [&str; 7] = [
    "PRINCIPAL",
    "HOST",
    "OPERATION",
    "PERMISSION",
    "RESOURCE",
    "NAME",
    "PATTERN",
];

fn row(binding: &AclBinding) -> Vec<String> {
    vec![
        binding.principal.clone(),
        binding.host.clone(),
        binding.operation.to_string(),
        binding.permission.to_string(),
        binding.resource_type.to_string(),
        binding.resource_name.clone(),
        binding.pattern_type.to_string(),
    ]
}

fn add(pool: &mut BrokerPool, bindings: &[AclBinding]) -> Result<String, AdminError> {
    let creations = bindings
        .iter()
        .map(|b| {
            AclCreation::default()
                .with_resource_type(b.resource_type.code())
                .with_resource_name(text(&b.resource_name))
                .with_resource_pattern_type(b.pattern_type.code())
                .with_principal(text(&b.principal))
                .with_host(text(&b.host))
                .with_operation(b.operation.code())
                .with_permission_type(b.permission.code())
        })
        .collect();
    let request = CreateAclsRequest::default().with_creations(creations);
    let response: CreateAclsResponse = pool.bootstrap().call(versions::CREATE_ACLS, |_| request)?;
    if response.results.len() != bindings.len() {
        return Err(AdminError::Usage(format!(
            "CreateAcls: {} results for {} bindings",
            response.results.len(),
            bindings.len()
        )));
    }
    for (binding, result) in bindings.iter().zip(&response.results) {
        AdminError::check(result.error_code, result.error_message.as_deref(), || {
            format!(
                "add ACL {} {} {} on {} {}",
                binding.permission,
                binding.principal,
                binding.operation,
                binding.resource_type,
                binding.resource_name
            )
        })?;
    }
    let rows: Vec<_> = bindings.iter().map(row).collect();
    Ok(format!(
        "added {} ACL binding(s)\n{}",
        bindings.len(),
        table(&HEADER, &rows)
    ))
}

fn list(pool: &mut BrokerPool, filter: &AclBindingFilter) -> Result<String, AdminError> {
    let request = DescribeAclsRequest::default()
        .with_resource_type_filter(filter.resource_type.code())
        .with_resource_name_filter(filter.resource_name.as_deref().map(text))
        .with_pattern_type_filter(filter.pattern_type.code())
        .with_principal_filter(filter.principal.as_deref().map(text))
        .with_host_filter(filter.host.as_deref().map(text))
        .with_operation(filter.operation.code())
        .with_permission_type(filter.permission.code());
    let response: DescribeAclsResponse = pool
        .bootstrap()
        .call(versions::DESCRIBE_ACLS, |_| request)?;
    AdminError::check(
        response.error_code,
        response.error_message.as_deref(),
        || "list ACLs".into(),
    )?;
    let mut bindings = Vec::new();
    for resource in &response.resources {
        for acl in &resource.acls {
            bindings.push(AclBinding {
                resource_type: ResourceType::from_code(resource.resource_type),
                resource_name: resource.resource_name.to_string(),
                pattern_type: PatternType::from_code(resource.pattern_type),
                principal: acl.principal.to_string(),
                host: acl.host.to_string(),
                operation: AclOperation::from_code(acl.operation),
                permission: AclPermissionType::from_code(acl.permission_type),
            });
        }
    }
    if bindings.is_empty() {
        return Ok("no ACL bindings match\n".to_string());
    }
    // Grouped by resource (type, name, pattern), then by entry.
    bindings.sort();
    let rows: Vec<_> = bindings.iter().map(row).collect();
    Ok(table(&HEADER, &rows))
}

fn remove(pool: &mut BrokerPool, filter: &AclBindingFilter) -> Result<String, AdminError> {
    let wire_filter = DeleteAclsFilter::default()
        .with_resource_type_filter(filter.resource_type.code())
        .with_resource_name_filter(filter.resource_name.as_deref().map(text))
        .with_pattern_type_filter(filter.pattern_type.code())
        .with_principal_filter(filter.principal.as_deref().map(text))
        .with_host_filter(filter.host.as_deref().map(text))
        .with_operation(filter.operation.code())
        .with_permission_type(filter.permission.code());
    let request = DeleteAclsRequest::default().with_filters(vec![wire_filter]);
    let response: DeleteAclsResponse = pool.bootstrap().call(versions::DELETE_ACLS, |_| request)?;
    let [result] = response.filter_results.as_slice() else {
        return Err(AdminError::Usage(format!(
            "DeleteAcls: {} filter results for 1 filter",
            response.filter_results.len()
        )));
    };
    AdminError::check(result.error_code, result.error_message.as_deref(), || {
        "remove ACLs".into()
    })?;
    let mut removed = Vec::new();
    for acl in &result.matching_acls {
        let binding = AclBinding {
            resource_type: ResourceType::from_code(acl.resource_type),
            resource_name: acl.resource_name.to_string(),
            pattern_type: PatternType::from_code(acl.pattern_type),
            principal: acl.principal.to_string(),
            host: acl.host.to_string(),
            operation: AclOperation::from_code(acl.operation),
            permission: AclPermissionType::from_code(acl.permission_type),
        };
        AdminError::check(acl.error_code, acl.error_message.as_deref(), || {
            format!("remove ACL {}", binding)
        })?;
        removed.push(binding);
    }
    if removed.is_empty() {
        return Ok("no ACL bindings matched: nothing removed\n".to_string());
    }
    removed.sort();
    let rows: Vec<_> = removed.iter().map(row).collect();
    Ok(format!(
        "removed {} ACL binding(s)\n{}",
        removed.len(),
        table(&HEADER, &rows)
    ))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: AclCommand,
    }

    fn prepared(args: &[&str]) -> Result<Prepared, String> {
        let argv = std::iter::once("acl").chain(args.iter().copied());
        let cli = Cli::try_parse_from(argv).map_err(|e| e.kind().to_string())?;
        cli.command.prepare()
    }

    fn binding(operation: AclOperation, permission: AclPermissionType) -> AclBinding {
        AclBinding {
            resource_type: ResourceType::Cluster,
            resource_name: CLUSTER_NAME.to_string(),
            pattern_type: PatternType::Literal,
            principal: "User:ops".to_string(),
            host: "10.0.0.1".to_string(),
            operation,
            permission,
        }
    }

    #[test]
    fn add_parses_kafkas_names() {
        let add = prepared(&[
            "add",
            "--deny",
            "--principal",
            "User:ops",
            "--host",
            "10.0.0.1",
            "--operation",
            "alter,DESCRIBE_CONFIGS",
            "--cluster",
        ]);
        assert_eq!(
            add,
            Ok(Prepared::Add(vec![
                binding(AclOperation::Alter, AclPermissionType::Deny),
                binding(AclOperation::DescribeConfigs, AclPermissionType::Deny),
            ]))
        );
    }

    #[test]
    fn add_refuses_incomplete_or_contradictory_bindings() {
        let base = ["add", "--principal", "User:a", "--operation", "READ"];
        let with = |extra: &[&str]| {
            let mut args = base.to_vec();
            args.extend_from_slice(extra);
            prepared(&args)
        };
        assert!(
            with(&["--topic", "t"]).is_err(),
            "neither --allow nor --deny"
        );
        assert!(with(&["--allow", "--deny", "--topic", "t"]).is_err());
        assert!(with(&["--allow"]).is_err(), "no resource");
        assert!(with(&["--allow", "--topic", "t", "--group", "g"]).is_err());
        let bad_operation = prepared(&[
            "add",
            "--allow",
            "--principal",
            "User:a",
            "--operation",
            "READS",
            "--topic",
            "t",
        ]);
        assert_eq!(bad_operation, Err("--operation READS: unknown".to_string()));
        let bad_principal = prepared(&[
            "add",
            "--allow",
            "--principal",
            "alice",
            "--operation",
            "READ",
            "--topic",
            "t",
        ]);
        assert!(
            bad_principal
                .as_ref()
                .is_err_and(|e| e.starts_with("Invalid principal")),
            "{bad_principal:?}"
        );
        let any = prepared(&[
            "add",
            "--allow",
            "--principal",
            "User:a",
            "--operation",
            "ANY",
            "--topic",
            "t",
        ]);
        assert_eq!(any, Err("Invalid operation ANY".to_string()));
    }

    #[test]
    fn list_defaults_to_any_and_remove_needs_a_target() {
        assert_eq!(
            prepared(&["list"]),
            Ok(Prepared::List(AclBindingFilter::any()))
        );
        let prefixed = prepared(&["list", "--group", "app-", "--prefixed", "--deny"]);
        let Ok(Prepared::List(filter)) = prefixed else {
            panic!("{prefixed:?}");
        };
        assert_eq!(filter.resource_type, ResourceType::Group);
        assert_eq!(filter.pattern_type, PatternType::Prefixed);
        assert_eq!(filter.permission, AclPermissionType::Deny);
        assert!(prepared(&["remove"]).is_err_and(|e| e.contains("refusing to remove every ACL")));
        assert!(prepared(&["remove", "--operation", "READ"]).is_err());
        assert!(prepared(&["remove", "--topic", "t"]).is_ok());
        assert!(prepared(&["list", "--prefixed", "--pattern-type", "literal"]).is_err());
    }
}
