//! The cost of one `sluice_security::acl::Authorizer::authorize` call as the ACL count grows
//! (10, 1,000, 10,000 bindings; half LITERAL topic names, a quarter PREFIXED team prefixes,
//! a quarter on groups, spread over 100 users). Three questions per size: a LITERAL hit, a
//! PREFIXED hit, and a topic no ACL names (the default path). The index answers each from a
//! few hash lookups, so the figures should barely move with the count.
//!
//!   cargo bench -p sluice-benches --bench authorize -- --warm-up-time 1 --measurement-time 3

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use sluice_security::acl::{
    AclBinding, AclOperation, AclPermissionType, Authorizer, AuthorizerConfig, PatternType,
    ResourceType,
};
use sluice_security::KafkaPrincipal;

const ACL_COUNTS: [usize; 3] = [10, 1_000, 10_000];
const USERS: usize = 100;

fn bindings(count: usize) -> Vec<AclBinding> {
    (0..count)
        .map(|i| {
            let (resource_type, name, pattern_type) = match i % 4 {
                0 | 1 => (
                    ResourceType::Topic,
                    format!("topic-{i}"),
                    PatternType::Literal,
                ),
                2 => (
                    ResourceType::Topic,
                    format!("team-{i}-"),
                    PatternType::Prefixed,
                ),
                _ => (
                    ResourceType::Group,
                    format!("group-{i}"),
                    PatternType::Literal,
                ),
            };
            AclBinding {
                resource_type,
                resource_name: name,
                pattern_type,
                principal: format!("User:user-{}", i % USERS),
                host: "*".to_string(),
                operation: AclOperation::Read,
                permission: AclPermissionType::Allow,
            }
        })
        .collect()
}

fn authorize(c: &mut Criterion) {
    let host = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    let mut group = c.benchmark_group("authorize");
    for count in ACL_COUNTS {
        let authorizer =
            Authorizer::new(bindings(count), AuthorizerConfig::default()).expect("valid ACLs");
        // Binding 4 is LITERAL topic-4 for user-4; binding 6 is PREFIXED team-6- for user-6.
        let questions = [
            ("literal_hit", KafkaPrincipal::user("user-4"), "topic-4"),
            (
                "prefixed_hit",
                KafkaPrincipal::user("user-6"),
                "team-6-orders",
            ),
            ("no_acl", KafkaPrincipal::user("user-4"), "unnamed-topic"),
        ];
        for (label, principal, topic) in &questions {
            let expected = *label != "no_acl";
            let decision = authorizer.authorize(
                principal,
                host,
                AclOperation::Read,
                ResourceType::Topic,
                topic,
            );
            assert_eq!(decision.is_allowed(), expected, "{label} with {count} ACLs");
            group.bench_with_input(BenchmarkId::new(*label, count), &count, |b, _| {
                b.iter(|| {
                    authorizer
                        .authorize(
                            black_box(principal),
                            host,
                            AclOperation::Read,
                            ResourceType::Topic,
                            black_box(topic),
                        )
                        .is_allowed()
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, authorize);
criterion_main!(benches);
