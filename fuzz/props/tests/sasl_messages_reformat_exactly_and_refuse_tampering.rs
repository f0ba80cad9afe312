//! Stable-toolchain run of the `sasl_messages` fuzz target's properties
//! (`sluice_fuzz_props::sasl_props`): valid PLAIN and SCRAM messages and exchanges, their
//! seeded mutations, random bytes and the committed regression inputs
//! (`fuzz/regressions/sasl_messages/`). SLUICE_FUZZ_CASES scales the case count.

use sluice_fuzz_props::sasl_props::{self, PASSWORD, SERVER_NONCE, USER};
use sluice_fuzz_props::seeded;
use sluice_security::scram::{ScramClient, ScramCredential, ScramMechanism, ScramServer};

const CASES_DEFAULT: usize = 20_000;
/// base64 of the props' salt, "sluice-fuzz-salt".
const SALT_BASE64: &str = "c2x1aWNlLWZ1enotc2FsdA==";

fn cases() -> usize {
    seeded::cases_from_env().unwrap_or(CASES_DEFAULT)
}

fn with_mode(mode: u8, message: &[u8]) -> Vec<u8> {
    let mut input = vec![mode];
    input.extend_from_slice(message);
    input
}

/// Valid inputs for every mode, so mutations start from the accepting paths.
fn seeds() -> Vec<Vec<u8>> {
    let mut seeds = vec![
        with_mode(0, b"\0alice\0s3cret"),
        with_mode(0, b"alice\0alice\0s3cret"),
        with_mode(1, b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"),
        with_mode(1, b"n,a=a=2Cb,n=a=2Cb,r=abc,tokenauth=true,x=1=2"),
        with_mode(
            2,
            b"c=biws,r=abc,ext=1,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        ),
        with_mode(3, b"r=abc%def,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
        with_mode(3, b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
        with_mode(3, b"e=invalid-proof"),
        with_mode(5, &[0, 7, 1, 42, 43, 44]),
        with_mode(5, &[1, 200, 0, 9]),
        with_mode(
            6,
            include_bytes!("../../../server/security/tests/fixtures/alice.der"),
        ),
    ];
    // Whole honest exchanges for modes 4 (SHA-256) and 7 (SHA-512): client-first, 0xff,
    // client-final. The server-first the client answers is the one the props' server sends
    // (its salt, base64 below, is the props' SALT).
    for (mode, mechanism) in [(4u8, ScramMechanism::Sha256), (7, ScramMechanism::Sha512)] {
        let (mut client, first) = ScramClient::new(mechanism, USER, PASSWORD, "fuzznonce");
        let server_first = format!("r=fuzznonce{SERVER_NONCE},s={SALT_BASE64},i=4096");
        let last = client
            .server_first(server_first.as_bytes())
            .expect("client-final");
        let mut input = with_mode(mode, &first);
        input.push(0xff);
        input.extend_from_slice(&last);
        seeds.push(input);
    }
    seeds
}

#[test]
fn sasl_messages_survive_seeded_inputs() {
    let mut inputs = seeds();
    inputs.extend(
        seeded::corpus(&seeded::repo_root(), "sasl_messages")
            .into_iter()
            .map(|(_, data)| data),
    );
    let inputs = seeded::inputs(&inputs, cases(), 0x5a51_5c7a, 300);
    for input in &inputs {
        sasl_props::check(input);
    }
    eprintln!("{} inputs", inputs.len());
}

#[test]
fn the_honest_exchange_seeds_authenticate() {
    // If the props' salt or nonce changed, these seeds would stop reaching the success path.
    for (mode, mechanism) in [(4u8, ScramMechanism::Sha256), (7, ScramMechanism::Sha512)] {
        let seed = seeds()
            .into_iter()
            .find(|s| s.first() == Some(&mode))
            .expect("an exchange seed");
        let body = &seed[1..];
        let at = body.iter().position(|&b| b == 0xff).expect("separator");
        let credential =
            ScramCredential::derive(mechanism, PASSWORD, b"sluice-fuzz-salt", 4096).expect("ok");
        let mut server = ScramServer::new(mechanism);
        server
            .client_first(&body[..at], SERVER_NONCE, |_| Some(credential))
            .expect("server-first");
        let (_, user) = server.client_final(&body[at + 1..]).expect("authenticated");
        assert_eq!(user, USER);
        sasl_props::check(&seed);
    }
}
