//! `ScramClient`: the client side of one exchange, for tests, fuzzing and Sluice's own tools.
//! Pure like the server: the caller supplies the client nonce.

use super::credential::salted_password;
use super::{ClientFinal, ClientFirst, ScramError, ScramMechanism, ServerFinal, ServerFirst};
use crate::constant_time;

#[derive(Debug)]
pub struct ScramClient {
    mechanism: ScramMechanism,
    password: String,
    client_first: ClientFirst,
    /// Set by `server_first`: the ServerKey-derived signature the server must prove.
    expected_server_signature: Option<Vec<u8>>,
}

impl ScramClient {
    /// Starts an exchange; returns the client and its client-first message.
    pub fn new(
        mechanism: ScramMechanism,
        username: &str,
        password: &str,
        client_nonce: &str,
    ) -> (ScramClient, Vec<u8>) {
        let client_first = ClientFirst {
            authzid: None,
            username: username.to_string(),
            nonce: client_nonce.to_string(),
            extensions: Vec::new(),
        };
        let message = client_first.to_bytes();
        let client = ScramClient {
            mechanism,
            password: password.to_string(),
            client_first,
            expected_server_signature: None,
        };
        (client, message)
    }

    /// Answers the server-first message with the client-final message (Kafka's client
    /// checks: the nonce extends ours, the iterations meet the minimum).
    pub fn server_first(&mut self, message: &[u8]) -> Result<Vec<u8>, ScramError> {
        let server_first = ServerFirst::parse(message)?;
        let own_nonce = &self.client_first.nonce;
        if server_first.nonce.len() <= own_nonce.len() || !server_first.nonce.starts_with(own_nonce)
        {
            return Err(ScramError::NonceMismatch);
        }
        let minimum = self.mechanism.iterations_min();
        if server_first.iterations < minimum {
            return Err(ScramError::TooFewIterations {
                iterations: server_first.iterations,
                minimum,
            });
        }
        let mechanism = self.mechanism;
        let salted = salted_password(
            mechanism,
            self.password.as_bytes(),
            &server_first.salt,
            server_first.iterations,
        )
        .map_err(|_| ScramError::Malformed("iterations"))?;
        let mut client_final = ClientFinal {
            channel_binding: self.client_first.gs2_header().into_bytes(),
            nonce: server_first.nonce.clone(),
            extensions: Vec::new(),
            proof: Vec::new(),
        };
        let auth_message = format!(
            "{},{},{}",
            self.client_first.bare(),
            String::from_utf8_lossy(message),
            client_final.without_proof()
        );
        let client_key = mechanism.hmac(&salted, b"Client Key");
        let stored_key = mechanism.hash(&client_key);
        let client_signature = mechanism.hmac(&stored_key, auth_message.as_bytes());
        client_final.proof = client_key
            .iter()
            .zip(&client_signature)
            .map(|(k, s)| k ^ s)
            .collect();
        let server_key = mechanism.hmac(&salted, b"Server Key");
        self.expected_server_signature = Some(mechanism.hmac(&server_key, auth_message.as_bytes()));
        Ok(client_final.to_bytes())
    }

    /// Checks the server-final message: the server knew our ServerKey.
    pub fn server_final(&self, message: &[u8]) -> Result<(), ScramError> {
        let expected = self
            .expected_server_signature
            .as_ref()
            .ok_or(ScramError::WrongState("awaiting server-first"))?;
        match ServerFinal::parse(message)? {
            ServerFinal::Error(error) => Err(ScramError::ServerError(error)),
            ServerFinal::Verifier(signature) if constant_time::eq(&signature, expected) => Ok(()),
            ServerFinal::Verifier(_) => Err(ScramError::InvalidServerSignature),
        }
    }
}
