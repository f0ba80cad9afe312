//! SASL/PLAIN and SCRAM messages, and a peer certificate's subject, from arbitrary client
//! bytes (`sluice_security`). Byte 0 picks the mode, the rest is the input:
//!
//! - 0: `PlainMessage::parse`; 1: SCRAM client-first; 2: SCRAM client-final; 3: SCRAM
//!   server-first and server-final (the client side's parsers). Property: no panic; a message
//!   that parses formats back to exactly its bytes (0-2) or to bytes that parse equal (3).
//! - 4 (SCRAM-SHA-256) and 7 (SCRAM-SHA-512): a whole `ScramServer` exchange, the input
//!   split at its first 0xff into the two client messages. Property: no panic; success only for a known user whose final nonce is
//!   exactly client nonce + server nonce.
//! - 5: an honest exchange (the crate's `ScramClient`, made once per mechanism) whose
//!   client-final is changed at one or two input-chosen bytes. Property: the unchanged one is
//!   accepted; any change is refused.
//! - 6: `x509_subject::subject_rfc2253` on the bytes. Property: no panic.

use std::sync::OnceLock;

use sluice_security::sasl::plain::PlainMessage;
use sluice_security::scram::{
    ClientFinal, ClientFirst, ScramClient, ScramCredential, ScramMechanism, ScramServer,
    ServerFinal, ServerFirst,
};
use sluice_security::x509_subject::subject_rfc2253;

pub const MODES: u8 = 8;
/// The user modes 4 and 5 authenticate as, and its password.
pub const USER: &str = "user";
pub const PASSWORD: &str = "pencil";
pub const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
const SALT: &[u8] = b"sluice-fuzz-salt";
const ITERATIONS: u32 = 4096;

/// The stored credential of `USER` (derived once: PBKDF2 is the slow part).
fn credential(mechanism: ScramMechanism) -> ScramCredential {
    static CREDENTIALS: OnceLock<[ScramCredential; 2]> = OnceLock::new();
    let credentials = CREDENTIALS.get_or_init(|| {
        ScramMechanism::ALL_VALUES.map(|m| {
            ScramCredential::derive(m, PASSWORD, SALT, ITERATIONS).expect("valid credential")
        })
    });
    credentials[mechanism as usize].clone()
}

fn lookup(mechanism: ScramMechanism) -> impl FnOnce(&str) -> Option<ScramCredential> {
    move |name| (name == USER).then(|| credential(mechanism))
}

pub fn check(data: &[u8]) {
    let Some((&mode, input)) = data.split_first() else {
        return;
    };
    match mode % MODES {
        0 => plain_reformats_exactly(input),
        1 => client_first_reformats_exactly(input),
        2 => client_final_reformats_exactly(input),
        3 => server_messages_reparse_equal(input),
        4 => exchange_accepts_only_the_right_nonce(input, ScramMechanism::Sha256),
        5 => changed_client_final_is_refused(input),
        6 => {
            let _ = subject_rfc2253(input);
        }
        _ => exchange_accepts_only_the_right_nonce(input, ScramMechanism::Sha512),
    }
}

fn plain_reformats_exactly(input: &[u8]) {
    if let Ok(message) = PlainMessage::parse(input) {
        assert_eq!(message.to_bytes(), input, "PLAIN re-format differs");
    }
}

fn client_first_reformats_exactly(input: &[u8]) {
    if let Ok(message) = ClientFirst::parse(input) {
        assert_eq!(message.to_bytes(), input, "client-first re-format differs");
        assert_eq!(ClientFirst::parse(&message.to_bytes()), Ok(message));
    }
}

fn client_final_reformats_exactly(input: &[u8]) {
    if let Ok(message) = ClientFinal::parse(input) {
        assert_eq!(message.to_bytes(), input, "client-final re-format differs");
        assert_eq!(ClientFinal::parse(&message.to_bytes()), Ok(message));
    }
}

fn server_messages_reparse_equal(input: &[u8]) {
    if let Ok(message) = ServerFirst::parse(input) {
        assert_eq!(ServerFirst::parse(&message.to_bytes()), Ok(message));
    }
    if let Ok(message) = ServerFinal::parse(input) {
        assert_eq!(ServerFinal::parse(&message.to_bytes()), Ok(message));
    }
}

fn mechanism_of(input: &[u8]) -> ScramMechanism {
    match input.first() {
        Some(b) if b % 2 == 1 => ScramMechanism::Sha512,
        _ => ScramMechanism::Sha256,
    }
}

fn exchange_accepts_only_the_right_nonce(input: &[u8], mechanism: ScramMechanism) {
    let (first, last) = match input.iter().position(|&b| b == 0xff) {
        Some(at) => (&input[..at], &input[at + 1..]),
        None => (input, &[][..]),
    };
    let mut server = ScramServer::new(mechanism);
    if server
        .client_first(first, SERVER_NONCE, lookup(mechanism))
        .is_err()
    {
        assert!(
            server.client_final(last).is_err(),
            "final after a failed first"
        );
        return;
    }
    let client_first = ClientFirst::parse(first).expect("the server accepted it");
    assert_eq!(client_first.username, USER);
    if let Ok((_, user)) = server.client_final(last) {
        assert_eq!(user, USER);
        let client_final = ClientFinal::parse(last).expect("the server accepted it");
        assert_eq!(client_final.nonce, client_first.nonce + SERVER_NONCE);
        assert!(server.is_complete());
    }
}

/// One honest exchange per mechanism (client-first, client-final), made once: the client
/// runs PBKDF2, too slow to repeat per input.
fn honest_exchange(mechanism: ScramMechanism) -> &'static (Vec<u8>, Vec<u8>) {
    static EXCHANGES: OnceLock<[(Vec<u8>, Vec<u8>); 2]> = OnceLock::new();
    let exchanges = EXCHANGES.get_or_init(|| {
        ScramMechanism::ALL_VALUES.map(|m| {
            let (mut client, first) = ScramClient::new(m, USER, PASSWORD, "honest-nonce");
            let mut server = ScramServer::new(m);
            let server_first = server
                .client_first(&first, SERVER_NONCE, lookup(m))
                .expect("honest client-first accepted");
            let last = client
                .server_first(&server_first)
                .expect("honest server-first accepted");
            let (server_final, _) = server.client_final(&last).expect("honest final accepted");
            client
                .server_final(&server_final)
                .expect("server signature verifies");
            (first, last)
        })
    });
    &exchanges[mechanism as usize]
}

fn changed_client_final_is_refused(input: &[u8]) {
    let mechanism = mechanism_of(input);
    let (first, last) = honest_exchange(mechanism);
    let mut server = ScramServer::new(mechanism);
    server
        .client_first(first, SERVER_NONCE, lookup(mechanism))
        .expect("honest client-first accepted");
    let mut changed = last.clone();
    let at = usize::from(input.get(1).copied().unwrap_or(0)) % changed.len();
    let flip = input.get(2).copied().unwrap_or(0);
    changed[at] ^= flip;
    // A second change, so multi-byte edits are tried too.
    if let (Some(&at2), Some(&flip2)) = (input.get(3), input.get(4)) {
        let at2 = usize::from(at2) % changed.len();
        changed[at2] ^= flip2;
    }
    let result = server.client_final(&changed);
    if changed == *last {
        let (_, user) = result.expect("the honest client-final is accepted");
        assert_eq!(user, USER);
    } else {
        assert!(result.is_err(), "a changed client-final was accepted");
    }
}
