//! SCRAM server exchanges: RFC 7677's SCRAM-SHA-256 test vector byte for byte, a SHA-512
//! round trip with the crate's client, and every way an exchange must fail.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use sluice_security::scram::{
    ScramClient, ScramCredential, ScramError, ScramMechanism, ScramServer,
};

const RFC_CLIENT_FIRST: &[u8] = b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
const RFC_SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
const RFC_SERVER_FIRST: &[u8] =
    b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
const RFC_CLIENT_FINAL: &[u8] = b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
const RFC_SERVER_FINAL: &[u8] = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

fn rfc_credential() -> ScramCredential {
    let salt = BASE64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").expect("base64");
    ScramCredential::derive(ScramMechanism::Sha256, "pencil", &salt, 4096).expect("valid")
}

fn rfc_lookup(name: &str) -> Option<ScramCredential> {
    (name == "user").then(rfc_credential)
}

/// A server that has answered RFC 7677's client-first message.
fn rfc_server_after_first() -> ScramServer {
    let mut server = ScramServer::new(ScramMechanism::Sha256);
    let first = server
        .client_first(RFC_CLIENT_FIRST, RFC_SERVER_NONCE, rfc_lookup)
        .expect("client-first accepted");
    assert_eq!(first, RFC_SERVER_FIRST);
    server
}

#[test]
fn rfc7677_sha256_vector() {
    let mut server = rfc_server_after_first();
    let (server_final, user) = server
        .client_final(RFC_CLIENT_FINAL)
        .expect("proof accepted");
    assert_eq!(server_final, RFC_SERVER_FINAL);
    assert_eq!(user, "user");
    assert!(server.is_complete());
}

#[test]
fn sha512_round_trip_with_the_crate_client() {
    let mechanism = ScramMechanism::Sha512;
    let stored = ScramCredential::derive(mechanism, "hunter2", b"pepper", 8192).expect("valid");
    let (mut client, first) = ScramClient::new(mechanism, "alice,=x", "hunter2", "cnonce123");
    let mut server = ScramServer::new(mechanism);
    let server_first = server
        .client_first(&first, "snonce456", |name| {
            (name == "alice,=x").then(|| stored.clone())
        })
        .expect("server-first");
    let client_final = client.server_first(&server_first).expect("client-final");
    let (server_final, user) = server.client_final(&client_final).expect("authenticated");
    assert_eq!(user, "alice,=x");
    client
        .server_final(&server_final)
        .expect("server proved its key");
}

#[test]
fn wrong_password_fails() {
    let mechanism = ScramMechanism::Sha256;
    let (mut client, first) = ScramClient::new(mechanism, "user", "pencil2", "abc");
    let mut server = ScramServer::new(mechanism);
    let server_first = server
        .client_first(&first, "xyz", rfc_lookup)
        .expect("server-first");
    let client_final = client.server_first(&server_first).expect("client-final");
    assert_eq!(
        server.client_final(&client_final),
        Err(ScramError::InvalidProof)
    );
    assert!(!server.is_complete());
    // A failed exchange stays failed.
    assert!(matches!(
        server.client_final(&client_final),
        Err(ScramError::WrongState(_))
    ));
}

#[test]
fn client_final_replayed_into_another_exchange_fails() {
    // The RFC client-final, valid for server nonce RFC_SERVER_NONCE, sent to an exchange
    // whose server nonce differs.
    let mut server = ScramServer::new(ScramMechanism::Sha256);
    server
        .client_first(RFC_CLIENT_FIRST, "anotherNonce", rfc_lookup)
        .expect("server-first");
    assert_eq!(
        server.client_final(RFC_CLIENT_FINAL),
        Err(ScramError::NonceMismatch)
    );
    // A nonce that ends with the expected one passes the nonce check, as in Kafka (old
    // librdkafka repeats its client nonce in front), but a proof computed for another
    // message does not verify.
    let mut server = ScramServer::new(ScramMechanism::Sha256);
    server
        .client_first(RFC_CLIENT_FIRST, RFC_SERVER_NONCE, rfc_lookup)
        .expect("server-first");
    let padded = [&b"c=biws,r=X"[..], &RFC_CLIENT_FINAL[9..]].concat();
    assert_eq!(server.client_final(&padded), Err(ScramError::InvalidProof));
}

#[test]
fn channel_binding_must_repeat_the_gs2_header() {
    let mut server = rfc_server_after_first();
    // c=eSws is base64("y,,").
    let tampered = [&b"c=eSws"[..], &RFC_CLIENT_FINAL[6..]].concat();
    assert_eq!(
        server.client_final(&tampered),
        Err(ScramError::ChannelBindingMismatch)
    );
}

#[test]
fn a_flipped_proof_bit_fails() {
    let mut server = rfc_server_after_first();
    let mut tampered = RFC_CLIENT_FINAL.to_vec();
    let at = tampered.len() - 3;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        server.client_final(&tampered),
        Err(ScramError::InvalidProof)
    );
}

#[test]
fn first_round_refusals() {
    let first = |message: &[u8]| {
        ScramServer::new(ScramMechanism::Sha256).client_first(message, "s", rfc_lookup)
    };
    assert_eq!(first(b"n,,n=nobody,r=abc"), Err(ScramError::UnknownUser));
    assert_eq!(
        first(b"n,a=admin,n=user,r=abc"),
        Err(ScramError::AuthzidMismatch)
    );
    assert!(first(b"n,a=user,n=user,r=abc").is_ok());
    assert_eq!(
        first(b"n,,n=user,r=abc,tokenauth=TRUE"),
        Err(ScramError::TokenAuthUnsupported)
    );
    assert!(first(b"n,,n=user,r=abc,tokenauth=false").is_ok());
    assert_eq!(
        first(b"y,,n=user,r=abc"),
        Err(ScramError::ChannelBindingUnsupported)
    );
    assert!(matches!(
        first(b"n,,n=us=er,r=abc"),
        Err(ScramError::Malformed(_))
    ));
    assert!(matches!(first(b"garbage"), Err(ScramError::Malformed(_))));
    assert!(matches!(
        first(&vec![b'n'; 100_000]),
        Err(ScramError::TooLong { .. })
    ));
}

#[test]
fn weak_or_mismatched_stored_credentials_fail() {
    let mut weak = rfc_credential();
    weak.iterations = 1000;
    let mut server = ScramServer::new(ScramMechanism::Sha256);
    assert_eq!(
        server.client_first(RFC_CLIENT_FIRST, "s", |_| Some(weak)),
        Err(ScramError::TooFewIterations {
            iterations: 1000,
            minimum: 4096
        })
    );
    // A SHA-256 credential offered to a SHA-512 exchange.
    let mut server = ScramServer::new(ScramMechanism::Sha512);
    assert_eq!(
        server.client_first(RFC_CLIENT_FIRST, "s", rfc_lookup),
        Err(ScramError::BadStoredCredential)
    );
}

#[test]
fn bad_server_nonces_are_refused() {
    for suffix in ["", "has,comma", "sp ace", &"n".repeat(600)] {
        let mut server = ScramServer::new(ScramMechanism::Sha256);
        assert!(matches!(
            server.client_first(RFC_CLIENT_FIRST, suffix, rfc_lookup),
            Err(ScramError::BadServerNonce(_))
        ));
    }
}

#[test]
fn messages_in_the_wrong_state_fail() {
    let mut server = ScramServer::new(ScramMechanism::Sha256);
    assert!(matches!(
        server.client_final(RFC_CLIENT_FINAL),
        Err(ScramError::WrongState(_))
    ));
    let mut server = rfc_server_after_first();
    assert!(matches!(
        server.client_first(RFC_CLIENT_FIRST, RFC_SERVER_NONCE, rfc_lookup),
        Err(ScramError::WrongState(_))
    ));
    let mut server = rfc_server_after_first();
    server
        .client_final(RFC_CLIENT_FINAL)
        .expect("authenticated");
    assert!(matches!(
        server.client_final(RFC_CLIENT_FINAL),
        Err(ScramError::WrongState(_))
    ));
}

#[test]
fn mechanism_table_is_kafkas() {
    assert_eq!(ScramMechanism::Sha256.mechanism_name(), "SCRAM-SHA-256");
    assert_eq!(
        ScramMechanism::from_mechanism_name("SCRAM-SHA-512"),
        Some(ScramMechanism::Sha512)
    );
    assert_eq!(ScramMechanism::from_mechanism_name("scram-sha-512"), None);
    assert_eq!(ScramMechanism::Sha256.code(), 1);
    assert_eq!(ScramMechanism::from_code(2), Some(ScramMechanism::Sha512));
    assert_eq!(ScramMechanism::from_code(0), None);
    assert_eq!(ScramMechanism::Sha512.iterations_min(), 4096);
    assert_eq!(ScramMechanism::Sha512.iterations_max(), 16384);
}
