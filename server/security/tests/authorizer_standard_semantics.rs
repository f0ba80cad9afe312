//! The authorizer against StandardAuthorizer's rules, one rule per test, then the indexed
//! lookup against a scan-everything reference on seeded random ACL sets.

use std::net::IpAddr;

use sluice_security::acl::{
    AclBinding, AclBindingFilter, AclOperation, AclPermissionType, Authorizer, AuthorizerConfig,
    Decision, PatternType, Reason, ResourceType,
};
use sluice_security::KafkaPrincipal;

use AclOperation::*;
use AclPermissionType::{Allow, Deny};
use PatternType::{Literal, Prefixed};
use ResourceType::{Group, Topic, TransactionalId};

fn acl(
    resource_type: ResourceType,
    name: &str,
    pattern_type: PatternType,
    principal: &str,
    host: &str,
    operation: AclOperation,
    permission: AclPermissionType,
) -> AclBinding {
    AclBinding {
        resource_type,
        resource_name: name.to_string(),
        pattern_type,
        principal: principal.to_string(),
        host: host.to_string(),
        operation,
        permission,
    }
}

fn topic(
    name: &str,
    pattern: PatternType,
    op: AclOperation,
    perm: AclPermissionType,
) -> AclBinding {
    acl(Topic, name, pattern, "User:alice", "*", op, perm)
}

fn authorizer(bindings: Vec<AclBinding>) -> Authorizer {
    Authorizer::new(bindings, AuthorizerConfig::default()).expect("valid ACLs")
}

fn alice() -> KafkaPrincipal {
    KafkaPrincipal::user("alice")
}

fn localhost() -> IpAddr {
    "127.0.0.1".parse().expect("ip")
}

fn allowed(a: &Authorizer, principal: &KafkaPrincipal, op: AclOperation, name: &str) -> bool {
    a.authorize(principal, localhost(), op, Topic, name)
        .is_allowed()
}

#[test]
fn super_users_are_allowed_despite_deny() {
    let config = AuthorizerConfig {
        super_users: vec!["User:admin".to_string()],
        allow_everyone_if_no_acl_found: false,
    };
    let deny_all = acl(Topic, "*", Literal, "User:*", "*", All, Deny);
    let a = Authorizer::new(vec![deny_all], config).expect("valid");
    let decision = a.authorize(
        &KafkaPrincipal::user("admin"),
        localhost(),
        Write,
        Topic,
        "t",
    );
    assert_eq!(decision, Decision::Allowed(Reason::SuperUser));
    assert!(!allowed(&a, &alice(), Write, "t"));
}

#[test]
fn deny_wins_over_allow() {
    let a = authorizer(vec![
        topic("orders", Literal, Read, Allow),
        topic("ord", Prefixed, Read, Deny),
    ]);
    assert!(!allowed(&a, &alice(), Read, "orders"));
    let a = authorizer(vec![
        topic("*", Literal, All, Allow),
        topic("orders", Literal, Write, Deny),
    ]);
    assert!(!allowed(&a, &alice(), Write, "orders"));
    assert!(allowed(&a, &alice(), Read, "orders"));
    assert!(allowed(&a, &alice(), Write, "payments"));
}

#[test]
fn wildcards_for_principal_host_and_resource() {
    let a = authorizer(vec![acl(Topic, "*", Literal, "User:*", "*", Read, Allow)]);
    assert!(allowed(&a, &KafkaPrincipal::user("bob"), Read, "anything"));
    assert!(!allowed(
        &a,
        &KafkaPrincipal::user("bob"),
        Write,
        "anything"
    ));
    // `User:*` covers every session, whatever its principal type (Kafka adds User:* to every
    // session's matching principals).
    let group_principal = KafkaPrincipal {
        principal_type: "Group".to_string(),
        name: "ops".to_string(),
    };
    assert!(allowed(&a, &group_principal, Read, "anything"));
    // A PREFIXED "*" is an ordinary prefix, not a wildcard.
    let a = authorizer(vec![topic("*", Prefixed, Read, Allow)]);
    assert!(!allowed(&a, &alice(), Read, "orders"));
    assert!(allowed(&a, &alice(), Read, "*stars"));
}

#[test]
fn prefixed_patterns_match_names_that_start_with_them() {
    let a = authorizer(vec![topic("orders-", Prefixed, Read, Allow)]);
    assert!(allowed(&a, &alice(), Read, "orders-eu"));
    assert!(allowed(&a, &alice(), Read, "orders-"));
    assert!(!allowed(&a, &alice(), Read, "orders"));
    assert!(!allowed(&a, &alice(), Read, "x-orders-eu"));
    // A literal ACL whose name is a prefix of the resource does not apply.
    let a = authorizer(vec![topic("orders", Literal, Read, Allow)]);
    assert!(!allowed(&a, &alice(), Read, "orders-eu"));
    // Multi-byte names: prefixes fall on character boundaries.
    let a = authorizer(vec![topic("é", Prefixed, Read, Allow)]);
    assert!(allowed(&a, &alice(), Read, "été"));
    assert!(!allowed(&a, &alice(), Read, "e"));
}

#[test]
fn implied_operations_apply_to_allows_only() {
    for op in [Read, Write, Delete, Alter] {
        let a = authorizer(vec![topic("t", Literal, op, Allow)]);
        assert!(
            allowed(&a, &alice(), Describe, "t"),
            "{op} implies DESCRIBE"
        );
        assert!(!allowed(&a, &alice(), DescribeConfigs, "t"));
    }
    let a = authorizer(vec![topic("t", Literal, AlterConfigs, Allow)]);
    assert!(allowed(&a, &alice(), DescribeConfigs, "t"));
    assert!(!allowed(&a, &alice(), Describe, "t"));
    let a = authorizer(vec![topic("t", Literal, Create, Allow)]);
    assert!(!allowed(&a, &alice(), Describe, "t"));
    let a = authorizer(vec![topic("t", Literal, All, Allow)]);
    for op in [
        Read,
        Write,
        Create,
        Delete,
        Alter,
        Describe,
        AlterConfigs,
        IdempotentWrite,
    ] {
        assert!(allowed(&a, &alice(), op, "t"), "ALL allows {op}");
    }
    // DENY READ does not deny DESCRIBE; DENY ALL denies everything.
    let a = authorizer(vec![
        topic("t", Literal, All, Allow),
        topic("t", Literal, Read, Deny),
    ]);
    assert!(!allowed(&a, &alice(), Read, "t"));
    assert!(allowed(&a, &alice(), Describe, "t"));
    let a = authorizer(vec![
        topic("t", Literal, Read, Allow),
        topic("t", Literal, All, Deny),
    ]);
    assert!(!allowed(&a, &alice(), Describe, "t"));
    assert!(!allowed(&a, &alice(), Read, "t"));
}

#[test]
fn no_acl_for_the_resource_follows_allow_everyone_if_no_acl_found() {
    let bindings = vec![topic("secret", Literal, Read, Allow)];
    for flag in [false, true] {
        let config = AuthorizerConfig {
            super_users: Vec::new(),
            allow_everyone_if_no_acl_found: flag,
        };
        let a = Authorizer::new(bindings.clone(), config).expect("valid");
        let bob = KafkaPrincipal::user("bob");
        // No ACL on "public" at all: the flag decides.
        assert_eq!(allowed(&a, &bob, Write, "public"), flag);
        assert_eq!(
            a.authorize(&bob, localhost(), Write, Topic, "public")
                .reason(),
            Reason::NoAclFound
        );
        // An ACL on "secret" exists (for alice, for READ): bob is denied whatever the flag.
        assert!(!allowed(&a, &bob, Write, "secret"));
        assert_eq!(
            a.authorize(&bob, localhost(), Write, Topic, "secret")
                .reason(),
            Reason::NoMatchingAllow
        );
        // Other resource types are untouched by topic ACLs.
        assert_eq!(
            a.authorize(&bob, localhost(), Read, Group, "secret")
                .is_allowed(),
            flag
        );
    }
}

#[test]
fn hosts_match_exactly_or_by_wildcard() {
    let a = authorizer(vec![
        acl(Topic, "t", Literal, "User:alice", "10.0.0.1", Read, Allow),
        acl(
            Topic,
            "t6",
            Literal,
            "User:alice",
            "0:0:0:0:0:0:0:1",
            Read,
            Allow,
        ),
        acl(Topic, "t9", Literal, "User:alice", "not-an-ip", Read, Allow),
    ]);
    let at = |ip: &str, name: &str| {
        a.authorize(&alice(), ip.parse().expect("ip"), Read, Topic, name)
            .is_allowed()
    };
    assert!(at("10.0.0.1", "t"));
    assert!(!at("10.0.0.2", "t"));
    // Java's InetAddress turns a v4-mapped v6 address into the v4 one.
    assert!(at("::ffff:10.0.0.1", "t"));
    // Java prints ::1 as 0:0:0:0:0:0:0:1; either spelling in the ACL matches.
    assert!(at("::1", "t6"));
    assert!(!at("::2", "t6"));
    assert!(!at("10.0.0.1", "t9"));
}

#[test]
fn resource_types_are_separate() {
    let a = authorizer(vec![acl(
        TransactionalId,
        "tx-",
        Prefixed,
        "User:alice",
        "*",
        Write,
        Allow,
    )]);
    assert!(a
        .authorize(&alice(), localhost(), Write, TransactionalId, "tx-1")
        .is_allowed());
    assert!(!a
        .authorize(&alice(), localhost(), Write, Topic, "tx-1")
        .is_allowed());
}

#[test]
fn invalid_bindings_are_refused_and_duplicates_dropped() {
    let bad = topic("", Literal, Read, Allow);
    assert!(Authorizer::new(vec![bad], AuthorizerConfig::default()).is_err());
    let a = authorizer(vec![
        topic("t", Literal, Read, Allow),
        topic("t", Literal, Read, Allow),
    ]);
    assert_eq!(a.bindings().len(), 1);
}

#[test]
fn describe_uses_the_filter() {
    let a = authorizer(vec![
        topic("orders-", Prefixed, Read, Allow),
        topic("*", Literal, Describe, Allow),
        topic("payments", Literal, Read, Allow),
    ]);
    let filter = AclBindingFilter {
        resource_type: Topic,
        resource_name: Some("orders-eu".to_string()),
        pattern_type: PatternType::Match,
        ..AclBindingFilter::any()
    };
    assert_eq!(a.describe(&filter).count(), 2);
    assert_eq!(a.describe(&AclBindingFilter::any()).count(), 3);
}

fn by_type(a: &Authorizer, op: AclOperation) -> bool {
    a.authorize_by_resource_type(&alice(), localhost(), op, Topic)
        .is_allowed()
}

#[test]
fn by_resource_type_follows_kip_679() {
    // No topic ACLs at all: the "hardcode" probe answers with the default.
    let open = Authorizer::new(
        vec![],
        AuthorizerConfig {
            super_users: Vec::new(),
            allow_everyone_if_no_acl_found: true,
        },
    )
    .expect("valid");
    assert!(by_type(&open, Write));
    assert!(!by_type(&authorizer(vec![]), Write));
    // One allowed topic is enough.
    assert!(by_type(
        &authorizer(vec![topic("t", Literal, Write, Allow)]),
        Write
    ));
    // ALL counts, implied operations do not.
    assert!(by_type(
        &authorizer(vec![topic("t", Literal, All, Allow)]),
        Write
    ));
    assert!(!by_type(
        &authorizer(vec![topic("t", Literal, Write, Allow)]),
        Describe
    ));
    // A wildcard DENY denies, even beside a wildcard ALLOW.
    let a = authorizer(vec![
        topic("*", Literal, Write, Allow),
        topic("*", Literal, Write, Deny),
    ]);
    assert!(!by_type(&a, Write));
    // A literal ALLOW dominated by the same literal DENY, or by a PREFIXED DENY of a prefix.
    let a = authorizer(vec![
        topic("t", Literal, Write, Allow),
        topic("t", Literal, Write, Deny),
    ]);
    assert!(!by_type(&a, Write));
    let a = authorizer(vec![
        topic("team-a.t", Literal, Write, Allow),
        topic("team-a.", Prefixed, Write, Deny),
    ]);
    assert!(!by_type(&a, Write));
    // A PREFIXED ALLOW survives a literal DENY and a longer PREFIXED DENY...
    let a = authorizer(vec![
        topic("team-", Prefixed, Write, Allow),
        topic("team-", Literal, Write, Deny),
        topic("team-a", Prefixed, Write, Deny),
    ]);
    assert!(by_type(&a, Write));
    // ...but not a PREFIXED DENY of itself or shorter.
    let a = authorizer(vec![
        topic("team-", Prefixed, Write, Allow),
        topic("team", Prefixed, Write, Deny),
    ]);
    assert!(!by_type(&a, Write));
    // DENYs for other principals or hosts do not count.
    let a = authorizer(vec![
        topic("t", Literal, Write, Allow),
        acl(Topic, "*", Literal, "User:bob", "*", Write, Deny),
        acl(Topic, "*", Literal, "User:alice", "10.9.9.9", Write, Deny),
    ]);
    assert!(by_type(&a, Write));
    // Malformed questions are denied.
    assert!(matches!(
        a.authorize_by_resource_type(&alice(), localhost(), Any, Topic),
        Decision::Denied(Reason::InvalidArgument(_))
    ));
    assert!(!a
        .authorize_by_resource_type(&alice(), localhost(), Write, ResourceType::Any)
        .is_allowed());
}

/// Kafka's rules written as a scan over every binding, to check the index against.
fn reference(
    bindings: &[AclBinding],
    allow_everyone: bool,
    principal: &KafkaPrincipal,
    host: &str,
    op: AclOperation,
    name: &str,
) -> bool {
    let applicable: Vec<&AclBinding> = bindings
        .iter()
        .filter(|b| b.resource_type == Topic)
        .filter(|b| match b.pattern_type {
            Literal => b.resource_name == name || b.resource_name == "*",
            _ => name.starts_with(b.resource_name.as_str()),
        })
        .collect();
    if applicable.is_empty() {
        return allow_everyone;
    }
    let matching = |b: &&&AclBinding| {
        (b.principal == "User:*" || b.principal == principal.to_string())
            && (b.host == "*" || b.host == host)
    };
    let denied = applicable
        .iter()
        .filter(matching)
        .any(|b| b.permission == Deny && (b.operation == All || b.operation == op));
    let allowed = applicable
        .iter()
        .filter(matching)
        .any(|b| b.permission == Allow && b.operation.allow_implies(op));
    !denied && allowed
}

#[test]
fn index_agrees_with_a_full_scan_on_random_acls() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |bound: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % bound as u64) as usize
    };
    let names = ["a", "ab", "abc", "b", "ba", "*", "abd", "c"];
    let principals = ["User:alice", "User:bob", "User:*"];
    let hosts = ["*", "10.0.0.1", "10.0.0.2"];
    let ops = [
        Read,
        Write,
        Describe,
        All,
        Alter,
        AlterConfigs,
        DescribeConfigs,
    ];
    for round in 0..300 {
        let bindings: Vec<AclBinding> = (0..next(12))
            .map(|_| {
                acl(
                    Topic,
                    names[next(names.len())],
                    [Literal, Prefixed][next(2)],
                    principals[next(principals.len())],
                    hosts[next(hosts.len())],
                    ops[next(ops.len())],
                    [Allow, Deny][next(2)],
                )
            })
            .collect();
        let allow_everyone = round % 2 == 0;
        let config = AuthorizerConfig {
            super_users: Vec::new(),
            allow_everyone_if_no_acl_found: allow_everyone,
        };
        let a = Authorizer::new(bindings.clone(), config).expect("valid");
        for name in ["a", "ab", "abc", "abcd", "b", "bad", "c", "*", "z"] {
            for who in ["alice", "bob"] {
                for host in ["10.0.0.1", "10.0.0.2"] {
                    for op in [Read, Write, Describe, DescribeConfigs, Create] {
                        let principal = KafkaPrincipal::user(who);
                        let ip: IpAddr = host.parse().expect("ip");
                        let got = a.authorize(&principal, ip, op, Topic, name).is_allowed();
                        let want = reference(&bindings, allow_everyone, &principal, host, op, name);
                        assert_eq!(got, want, "{bindings:#?} {who} {host} {op} {name}");
                    }
                }
            }
        }
    }
}
