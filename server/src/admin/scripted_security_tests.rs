//! `sluice user` and `sluice acl` against a scripted broker on loopback: the request each
//! command sends (decoded as the broker would), how it renders the answers, the broker's
//! errors by name and message, and `--command-config` authenticating the connection.

use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::alter_user_scram_credentials_response::AlterUserScramCredentialsResult;
use kafka_protocol::messages::create_acls_response::AclCreationResult;
use kafka_protocol::messages::delete_acls_response::{
    DeleteAclsFilterResult, DeleteAclsMatchingAcl,
};
use kafka_protocol::messages::describe_acls_response::{AclDescription, DescribeAclsResource};
use kafka_protocol::messages::describe_user_scram_credentials_response::{
    CredentialInfo, DescribeUserScramCredentialsResult,
};
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse, ApiKey, CreateAclsRequest,
    CreateAclsResponse, DeleteAclsRequest, DeleteAclsResponse, DescribeAclsRequest,
    DescribeAclsResponse, DescribeUserScramCredentialsRequest,
    DescribeUserScramCredentialsResponse, SaslAuthenticateRequest, SaslAuthenticateResponse,
    SaslHandshakeResponse,
};
use kafka_protocol::protocol::{Decodable, StrBytes};
use sluice_security::scram::{salted_password, ScramMechanism};

use super::acl::{self, AclCommand, EntryFilterArgs, ResourceArgs};
use super::pool::BrokerPool;
use super::scripted_broker_tests::{
    api_versions, encoded, s, scripted_broker_seeing, TEST_TIMEOUT,
};
use super::user::{self, UserCommand};
use super::ConnectArgs;

/// Every request the scripted broker received: (api, version, body).
type Seen = Arc<Mutex<Vec<(ApiKey, i16, Bytes)>>>;

const SECURITY_APIS: [(ApiKey, i16, i16); 7] = [
    (ApiKey::SaslHandshake, 1, 1),
    (ApiKey::SaslAuthenticate, 0, 2),
    (ApiKey::DescribeUserScramCredentials, 0, 0),
    (ApiKey::AlterUserScramCredentials, 0, 0),
    (ApiKey::CreateAcls, 1, 3),
    (ApiKey::DescribeAcls, 1, 3),
    (ApiKey::DeleteAcls, 1, 3),
];

/// Starts a broker answering ApiVersions itself and everything else with `answer`; runs
/// `command` against it; returns its output (or error text) and what the broker saw.
fn against_broker(
    answer: impl Fn(ApiKey, i16, &Bytes) -> BytesMut + Send + 'static,
    connect: Option<ConnectArgs>,
    command: impl FnOnce(&mut BrokerPool) -> Result<String, super::AdminError>,
) -> (Result<String, String>, Vec<(ApiKey, i16, Bytes)>) {
    let seen: Seen = Arc::default();
    let recorder = seen.clone();
    let (addr, broker) = scripted_broker_seeing(move |api, version, _port, body| {
        if api == ApiKey::ApiVersions {
            return api_versions(version, &SECURITY_APIS);
        }
        let response = answer(api, version, &body);
        recorder
            .lock()
            .unwrap_or_else(|e| panic!("seen: {e}"))
            .push((api, version, body));
        response
    });
    let security = match connect {
        Some(args) => args.security().unwrap_or_else(|e| panic!("security: {e}")),
        None => None,
    };
    let output = BrokerPool::connect_secured(&addr, TEST_TIMEOUT, security)
        .and_then(|mut pool| command(&mut pool))
        .map_err(|e| e.to_string());
    broker
        .join()
        .unwrap_or_else(|_| panic!("scripted broker panicked"));
    let seen = std::mem::take(&mut *seen.lock().unwrap_or_else(|e| panic!("seen: {e}")));
    (output, seen)
}

fn decode<M: Decodable>(body: &Bytes, version: i16) -> M {
    M::decode(&mut body.clone(), version).unwrap_or_else(|e| panic!("decode request: {e}"))
}

fn user_create(mechanism: Option<&str>) -> UserCommand {
    UserCommand::Create {
        name: "alice".into(),
        password: Some("alice-secret".into()),
        password_file: None,
        mechanism: mechanism.map(str::to_string),
        iterations: user::ITERATIONS_DEFAULT,
    }
}

fn altered(code: i16, message: Option<&'static str>) -> AlterUserScramCredentialsResponse {
    AlterUserScramCredentialsResponse::default().with_results(vec![
        AlterUserScramCredentialsResult::default()
            .with_user(s("alice"))
            .with_error_code(code)
            .with_error_message(message.map(s)),
    ])
}

#[test]
fn user_create_sends_salted_passwords_for_both_mechanisms() {
    let prepared = user_create(None)
        .prepare()
        .unwrap_or_else(|e| panic!("{e}"));
    let (output, seen) = against_broker(
        |_, version, _| encoded(&altered(0, None), version),
        None,
        |pool| user::execute(pool, &prepared),
    );
    assert_eq!(
        output.as_deref(),
        Ok(
            "user alice: SCRAM-SHA-256 credential set (8192 iterations)\n\
            user alice: SCRAM-SHA-512 credential set (8192 iterations)\n"
        )
    );
    let [(ApiKey::AlterUserScramCredentials, version, body)] = seen.as_slice() else {
        panic!("sent {seen:?}");
    };
    let request: AlterUserScramCredentialsRequest = decode(body, *version);
    assert!(request.deletions.is_empty());
    assert_eq!(request.upsertions.len(), 2);
    for (upsertion, mechanism) in request.upsertions.iter().zip(ScramMechanism::ALL_VALUES) {
        assert_eq!(upsertion.name.as_str(), "alice");
        assert_eq!(upsertion.mechanism, mechanism.code());
        assert_eq!(upsertion.iterations, 8192);
        assert_eq!(upsertion.salt.len(), user::SALT_BYTES);
        let expected = salted_password(mechanism, b"alice-secret", &upsertion.salt, 8192)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(upsertion.salted_password.as_ref(), expected.as_slice());
    }
    assert_ne!(
        request.upsertions[0].salt, request.upsertions[1].salt,
        "a fresh salt per credential"
    );
}

#[test]
fn user_create_refused_by_the_broker_names_the_error() {
    let prepared = user_create(Some("SCRAM-SHA-512"))
        .prepare()
        .unwrap_or_else(|e| panic!("{e}"));
    let (output, seen) = against_broker(
        |_, version, _| encoded(&altered(93, Some("Too few iterations")), version),
        None,
        |pool| user::execute(pool, &prepared),
    );
    assert_eq!(
        output,
        Err("create user alice: UNACCEPTABLE_CREDENTIAL (93): Too few iterations".into())
    );
    let request: AlterUserScramCredentialsRequest = decode(&seen[0].2, seen[0].1);
    assert_eq!(request.upsertions.len(), 1);
    assert_eq!(request.upsertions[0].mechanism, 2);
}

fn described_users() -> DescribeUserScramCredentialsResponse {
    let info = |mechanism: ScramMechanism, iterations| {
        CredentialInfo::default()
            .with_mechanism(mechanism.code())
            .with_iterations(iterations)
    };
    DescribeUserScramCredentialsResponse::default().with_results(vec![
        DescribeUserScramCredentialsResult::default()
            .with_user(s("bob"))
            .with_credential_infos(vec![info(ScramMechanism::Sha512, 4096)]),
        DescribeUserScramCredentialsResult::default()
            .with_user(s("alice"))
            .with_credential_infos(vec![
                info(ScramMechanism::Sha512, 8192),
                info(ScramMechanism::Sha256, 8192),
            ]),
    ])
}

#[test]
fn user_list_shows_every_credential_sorted() {
    let prepared = UserCommand::List { names: Vec::new() }
        .prepare()
        .unwrap_or_else(|e| panic!("{e}"));
    let (output, seen) = against_broker(
        |_, version, _| encoded(&described_users(), version),
        None,
        |pool| user::execute(pool, &prepared),
    );
    assert_eq!(
        output.as_deref(),
        Ok("USER   MECHANISM      ITERATIONS\n\
            alice  SCRAM-SHA-256  8192\n\
            alice  SCRAM-SHA-512  8192\n\
            bob    SCRAM-SHA-512  4096\n")
    );
    let request: DescribeUserScramCredentialsRequest = decode(&seen[0].2, seen[0].1);
    assert_eq!(request.users, None, "all users");
}

#[test]
fn user_delete_removes_the_mechanisms_the_user_has() {
    let prepared = UserCommand::Delete {
        name: "bob".into(),
        mechanism: None,
    }
    .prepare()
    .unwrap_or_else(|e| panic!("{e}"));
    let (output, seen) = against_broker(
        |api, version, _| match api {
            ApiKey::DescribeUserScramCredentials => {
                let mut bob_only = described_users();
                bob_only.results.truncate(1);
                encoded(&bob_only, version)
            }
            _ => encoded(&altered(0, None), version),
        },
        None,
        |pool| user::execute(pool, &prepared),
    );
    assert_eq!(
        output.as_deref(),
        Ok("user bob: SCRAM-SHA-512 credential deleted\n")
    );
    let describe: DescribeUserScramCredentialsRequest = decode(&seen[0].2, seen[0].1);
    let names: Vec<_> = describe
        .users
        .unwrap_or_default()
        .iter()
        .map(|u| u.name.to_string())
        .collect();
    assert_eq!(names, ["bob"]);
    let alter: AlterUserScramCredentialsRequest = decode(&seen[1].2, seen[1].1);
    assert!(alter.upsertions.is_empty());
    assert_eq!(alter.deletions.len(), 1);
    assert_eq!(alter.deletions[0].name.as_str(), "bob");
    assert_eq!(alter.deletions[0].mechanism, ScramMechanism::Sha512.code());
}

fn acl_add(operations: &[&str]) -> AclCommand {
    AclCommand::Add {
        allow: true,
        deny: false,
        principal: vec!["User:alice".into(), "User:bob".into()],
        host: "*".into(),
        operation: operations.iter().map(|o| o.to_string()).collect(),
        resource: ResourceArgs {
            topic: Some("orders-".into()),
            prefixed: true,
            ..ResourceArgs::default()
        },
    }
}

#[test]
fn acl_add_creates_a_binding_per_principal_and_operation() {
    let prepared = acl_add(&["READ", "describe"])
        .prepare()
        .unwrap_or_else(|e| panic!("{e}"));
    let (output, seen) = against_broker(
        |_, version, body| {
            let request: CreateAclsRequest = decode(body, version);
            let results = request
                .creations
                .iter()
                .map(|_| AclCreationResult::default())
                .collect();
            encoded(
                &CreateAclsResponse::default().with_results(results),
                version,
            )
        },
        None,
        |pool| acl::execute(pool, &prepared),
    );
    let output = output.unwrap_or_else(|e| panic!("{e}"));
    assert!(output.starts_with("added 4 ACL binding(s)\n"), "{output}");
    assert!(
        output.contains("User:bob    *     DESCRIBE   ALLOW       TOPIC     orders-  PREFIXED"),
        "{output}"
    );
    let request: CreateAclsRequest = decode(&seen[0].2, seen[0].1);
    let sent: Vec<_> = request
        .creations
        .iter()
        .map(|c| (c.principal.to_string(), c.operation))
        .collect();
    assert_eq!(
        sent,
        [
            ("User:alice".to_string(), 3),
            ("User:alice".to_string(), 8),
            ("User:bob".to_string(), 3),
            ("User:bob".to_string(), 8)
        ]
    );
    let first = &request.creations[0];
    assert_eq!((first.resource_type, first.resource_pattern_type), (2, 4));
    assert_eq!(first.resource_name.as_str(), "orders-");
    assert_eq!((first.host.as_str(), first.permission_type), ("*", 3));
}

#[test]
fn acl_add_refused_by_the_broker_names_the_error() {
    let prepared = acl_add(&["WRITE"])
        .prepare()
        .unwrap_or_else(|e| panic!("{e}"));
    let (output, _) = against_broker(
        |_, version, _| {
            let refused = AclCreationResult::default()
                .with_error_code(31)
                .with_error_message(Some(s("Cluster authorization failed.")));
            let results = vec![AclCreationResult::default(), refused];
            encoded(
                &CreateAclsResponse::default().with_results(results),
                version,
            )
        },
        None,
        |pool| acl::execute(pool, &prepared),
    );
    assert_eq!(
        output,
        Err(
            "add ACL ALLOW User:bob WRITE on TOPIC orders-: CLUSTER_AUTHORIZATION_FAILED \
             (31): Cluster authorization failed."
                .into()
        )
    );
}

fn entry(principal: Option<&str>) -> EntryFilterArgs {
    EntryFilterArgs {
        allow: false,
        deny: false,
        principal: principal.map(str::to_string),
        host: None,
        operation: None,
        pattern_type: None,
    }
}

#[test]
fn acl_list_sends_the_filter_and_renders_bindings() {
    let resource = ResourceArgs {
        topic: Some("orders".into()),
        ..ResourceArgs::default()
    };
    let mut filter = entry(None);
    filter.pattern_type = Some("match".into());
    let prepared = AclCommand::List {
        resource,
        entry: filter,
    }
    .prepare()
    .unwrap_or_else(|e| panic!("{e}"));
    let described = DescribeAclsResponse::default().with_resources(vec![
        DescribeAclsResource::default()
            .with_resource_type(2)
            .with_resource_name(s("orders"))
            .with_pattern_type(3)
            .with_acls(vec![AclDescription::default()
                .with_principal(s("User:alice"))
                .with_host(s("*"))
                .with_operation(3)
                .with_permission_type(3)]),
        DescribeAclsResource::default()
            .with_resource_type(2)
            .with_resource_name(s("ord"))
            .with_pattern_type(4)
            .with_acls(vec![AclDescription::default()
                .with_principal(s("User:mallory"))
                .with_host(s("10.0.0.9"))
                .with_operation(4)
                .with_permission_type(2)]),
    ]);
    let (output, seen) = against_broker(
        move |_, version, _| encoded(&described, version),
        None,
        |pool| acl::execute(pool, &prepared),
    );
    assert_eq!(
        output.as_deref(),
        Ok(
            "PRINCIPAL     HOST      OPERATION  PERMISSION  RESOURCE  NAME    PATTERN\n\
             User:mallory  10.0.0.9  WRITE      DENY        TOPIC     ord     PREFIXED\n\
             User:alice    *         READ       ALLOW       TOPIC     orders  LITERAL\n"
        )
    );
    let request: DescribeAclsRequest = decode(&seen[0].2, seen[0].1);
    assert_eq!(request.resource_type_filter, 2);
    assert_eq!(
        request
            .resource_name_filter
            .as_deref()
            .map(|n| n.to_string()),
        Some("orders".to_string())
    );
    assert_eq!(request.pattern_type_filter, 2, "MATCH");
    assert_eq!(request.principal_filter, None);
    assert_eq!((request.operation, request.permission_type), (1, 1), "ANY");
}

#[test]
fn acl_remove_prints_what_the_broker_removed() {
    let prepared = AclCommand::Remove {
        resource: ResourceArgs::default(),
        entry: entry(Some("User:bob")),
    }
    .prepare()
    .unwrap_or_else(|e| panic!("{e}"));
    let removed =
        DeleteAclsResponse::default().with_filter_results(vec![DeleteAclsFilterResult::default()
            .with_matching_acls(vec![DeleteAclsMatchingAcl::default()
                .with_resource_type(3)
                .with_resource_name(s("billing"))
                .with_pattern_type(3)
                .with_principal(s("User:bob"))
                .with_host(s("*"))
                .with_operation(3)
                .with_permission_type(3)])]);
    let (output, seen) = against_broker(
        move |_, version, _| encoded(&removed, version),
        None,
        |pool| acl::execute(pool, &prepared),
    );
    assert_eq!(
        output.as_deref(),
        Ok("removed 1 ACL binding(s)\n\
            PRINCIPAL  HOST  OPERATION  PERMISSION  RESOURCE  NAME     PATTERN\n\
            User:bob   *     READ       ALLOW       GROUP     billing  LITERAL\n")
    );
    let request: DeleteAclsRequest = decode(&seen[0].2, seen[0].1);
    let [filter] = request.filters.as_slice() else {
        panic!("filters {:?}", request.filters);
    };
    assert_eq!(
        filter.principal_filter.as_deref().map(|p| p.to_string()),
        Some("User:bob".to_string())
    );
    assert_eq!(filter.resource_type_filter, 1, "ANY resource type");
    assert_eq!(filter.resource_name_filter, None);
    assert_eq!(filter.pattern_type_filter, 1, "ANY pattern");
}

#[test]
fn command_config_authenticates_the_connection_with_sasl() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let config = dir.path().join("admin.properties");
    std::fs::write(
        &config,
        "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n\
         sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \
         username=\"admin\" password=\"admin-pw\";\n",
    )
    .unwrap_or_else(|e| panic!("write: {e}"));
    let connect = ConnectArgs {
        bootstrap: String::new(),
        timeout_ms: 10_000,
        command_config: Some(config),
    };
    let prepared = UserCommand::List { names: Vec::new() }
        .prepare()
        .unwrap_or_else(|e| panic!("{e}"));
    let (output, seen) = against_broker(
        |api, version, _| match api {
            ApiKey::SaslHandshake => {
                let response = SaslHandshakeResponse::default()
                    .with_mechanisms(vec![StrBytes::from_static_str("PLAIN")]);
                encoded(&response, version)
            }
            ApiKey::SaslAuthenticate => encoded(&SaslAuthenticateResponse::default(), version),
            _ => encoded(&DescribeUserScramCredentialsResponse::default(), version),
        },
        Some(connect),
        |pool| user::execute(pool, &prepared),
    );
    assert_eq!(output.as_deref(), Ok("no SCRAM users\n"));
    let apis: Vec<ApiKey> = seen.iter().map(|(api, _, _)| *api).collect();
    assert_eq!(
        apis,
        [
            ApiKey::SaslHandshake,
            ApiKey::SaslAuthenticate,
            ApiKey::DescribeUserScramCredentials
        ]
    );
    let token: SaslAuthenticateRequest = decode(&seen[1].2, seen[1].1);
    assert_eq!(token.auth_bytes.as_ref(), b"\0admin\0admin-pw");
}

#[test]
fn a_refused_login_is_the_commands_error() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let config = dir.path().join("admin.properties");
    std::fs::write(
        &config,
        "security.protocol=SASL_PLAINTEXT\nsasl.username=admin\nsasl.password=wrong\n",
    )
    .unwrap_or_else(|e| panic!("write: {e}"));
    let connect = ConnectArgs {
        bootstrap: String::new(),
        timeout_ms: 10_000,
        command_config: Some(config),
    };
    let (output, _) = against_broker(
        |api, version, _| match api {
            ApiKey::SaslHandshake => encoded(&SaslHandshakeResponse::default(), version),
            _ => {
                let refused = SaslAuthenticateResponse::default()
                    .with_error_code(58)
                    .with_error_message(Some(s(
                        "Authentication failed: Invalid username or password",
                    )));
                encoded(&refused, version)
            }
        },
        Some(connect),
        |_| Ok(String::new()),
    );
    let error = output.expect_err("refused");
    assert!(
        error.ends_with(
            "failed: SASL_AUTHENTICATION_FAILED (58): Authentication failed: Invalid username \
             or password"
        ),
        "{error}"
    );
}
