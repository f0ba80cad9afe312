//! The four SCRAM messages (RFC 5802 §7) as Kafka's ScramMessages accepts them, parsed into
//! values and formatted back. Formatting a parsed client message gives back the same bytes
//! (the grammar has one spelling per value: saslname escapes are fixed, base64 is strict).
//!
//! Kafka's grammar, kept: all characters in 0x01..=0x7F; the gs2 header is `n,,` or
//! `n,a=<saslname>,` (`y` and `p=` channel binding flags do not match); nonces are printable
//! (0x21..=0x7E) without `,`; extensions are `,<letters>=<value>` after the nonce. Stricter
//! than Kafka: the reserved `m=` attribute is refused (RFC 5802: a server must fail it), and
//! every message is bounded by `SCRAM_MESSAGE_BYTES_MAX`.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use super::{saslname, ScramError};
use crate::limits::{
    SCRAM_EXTENSIONS_COUNT_MAX, SCRAM_MESSAGE_BYTES_MAX, SCRAM_NONCE_BYTES_MAX,
    SCRAM_USERNAME_BYTES_MAX,
};

/// A `key=value` SCRAM extension, in message order.
pub type Extension = (String, String);

/// `gs2-header client-first-message-bare`: `n,[a=<authzid>],n=<user>,r=<nonce>[,k=v]*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFirst {
    /// Unescaped; `None` when the header is `n,,`.
    pub authzid: Option<String>,
    /// Unescaped.
    pub username: String,
    pub nonce: String,
    pub extensions: Vec<Extension>,
}

/// `r=<client nonce><server nonce>,s=<base64 salt>,i=<iterations>[,k=v]*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFirst {
    pub nonce: String,
    pub salt: Vec<u8>,
    pub iterations: u32,
}

/// `c=<base64 gs2 header>,r=<nonce>[,k=v]*,p=<base64 proof>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFinal {
    pub channel_binding: Vec<u8>,
    pub nonce: String,
    pub extensions: Vec<Extension>,
    pub proof: Vec<u8>,
}

/// `v=<base64 server signature>` or `e=<error>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerFinal {
    Verifier(Vec<u8>),
    Error(String),
}

impl ClientFirst {
    pub fn parse(message: &[u8]) -> Result<ClientFirst, ScramError> {
        let text = ascii_message(message)?;
        let (authzid, bare) = split_gs2_header(text)?;
        if bare.starts_with("m=") {
            return Err(ScramError::MandatoryExtension);
        }
        let mut parts = bare.split(',');
        let name = attribute(parts.next(), "n=")?;
        let username = saslname::unescape(name)?;
        if username.len() > SCRAM_USERNAME_BYTES_MAX {
            return Err(ScramError::Malformed("user name too long"));
        }
        let nonce = nonce(attribute(parts.next(), "r=")?)?;
        Ok(ClientFirst {
            authzid,
            username,
            nonce: nonce.to_string(),
            extensions: extensions(parts)?,
        })
    }

    /// `n,,` or `n,a=<authzid>,`: what `c=` in the client-final message must carry.
    pub fn gs2_header(&self) -> String {
        match &self.authzid {
            Some(authzid) => format!("n,a={},", saslname::escape(authzid)),
            None => "n,,".to_string(),
        }
    }

    /// `n=<user>,r=<nonce>[,k=v]*`: the first part of the AuthMessage.
    pub fn bare(&self) -> String {
        let mut out = format!("n={},r={}", saslname::escape(&self.username), self.nonce);
        push_extensions(&mut out, &self.extensions);
        out
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        (self.gs2_header() + &self.bare()).into_bytes()
    }
}

impl ServerFirst {
    pub fn parse(message: &[u8]) -> Result<ServerFirst, ScramError> {
        let text = ascii_message(message)?;
        if text.starts_with("m=") {
            return Err(ScramError::MandatoryExtension);
        }
        let mut parts = text.split(',');
        let nonce = nonce(attribute(parts.next(), "r=")?)?.to_string();
        let salt = base64(attribute(parts.next(), "s=")?)?;
        let iterations = attribute(parts.next(), "i=")?;
        if iterations.is_empty() || !iterations.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ScramError::Malformed("iterations are not a number"));
        }
        // Java's Integer.parseInt: positive and at most i32::MAX.
        let iterations = iterations
            .parse::<u32>()
            .ok()
            .filter(|&i| i > 0 && i <= i32::MAX as u32)
            .ok_or(ScramError::Malformed("iterations out of range"))?;
        extensions(parts)?;
        Ok(ServerFirst {
            nonce,
            salt,
            iterations,
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        format!(
            "r={},s={},i={}",
            self.nonce,
            BASE64.encode(&self.salt),
            self.iterations
        )
        .into_bytes()
    }
}

impl ClientFinal {
    pub fn parse(message: &[u8]) -> Result<ClientFinal, ScramError> {
        let text = ascii_message(message)?;
        let (without_proof, proof) = split_proof(text)?;
        let proof = base64(proof)?;
        let mut parts = without_proof.split(',');
        let channel_binding = base64(attribute(parts.next(), "c=")?)?;
        let nonce = nonce(attribute(parts.next(), "r=")?)?.to_string();
        Ok(ClientFinal {
            channel_binding,
            nonce,
            extensions: extensions(parts)?,
            proof,
        })
    }

    /// `c=...,r=...[,k=v]*`: the last part of the AuthMessage.
    pub fn without_proof(&self) -> String {
        let mut out = format!(
            "c={},r={}",
            BASE64.encode(&self.channel_binding),
            self.nonce
        );
        push_extensions(&mut out, &self.extensions);
        out
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        format!("{},p={}", self.without_proof(), BASE64.encode(&self.proof)).into_bytes()
    }
}

impl ServerFinal {
    pub fn parse(message: &[u8]) -> Result<ServerFinal, ScramError> {
        let text = ascii_message(message)?;
        if let Some(error) = text.strip_prefix("e=") {
            if error.is_empty() || error.contains([',', '=']) {
                return Err(ScramError::Malformed("bad server error value"));
            }
            return Ok(ServerFinal::Error(error.to_string()));
        }
        let mut parts = text.split(',');
        let verifier = base64(attribute(parts.next(), "v=")?)?;
        extensions(parts)?;
        Ok(ServerFinal::Verifier(verifier))
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            ServerFinal::Verifier(signature) => format!("v={}", BASE64.encode(signature)),
            ServerFinal::Error(error) => format!("e={error}"),
        }
        .into_bytes()
    }
}

/// Splits a client-first message into its authzid and its bare part.
pub(crate) fn split_gs2_header(text: &str) -> Result<(Option<String>, &str), ScramError> {
    let mut parts = text.splitn(3, ',');
    match parts.next() {
        Some("n") => {}
        Some(flag) if flag == "y" || flag.starts_with("p=") => {
            return Err(ScramError::ChannelBindingUnsupported);
        }
        _ => return Err(ScramError::Malformed("bad gs2 header")),
    }
    let authzid = match parts.next() {
        Some("") => None,
        Some(field) => match field.strip_prefix("a=") {
            Some(name) => Some(saslname::unescape(name)?),
            None => return Err(ScramError::Malformed("bad authzid")),
        },
        None => return Err(ScramError::Malformed("truncated gs2 header")),
    };
    let bare = parts
        .next()
        .ok_or(ScramError::Malformed("no client-first-message-bare"))?;
    Ok((authzid, bare))
}

/// Splits a client-final message at its last `,p=`: the proof is base64, which never holds
/// a comma, so the last one is the proof's.
pub(crate) fn split_proof(text: &str) -> Result<(&str, &str), ScramError> {
    let at = text.rfind(",p=").ok_or(ScramError::Malformed("no proof"))?;
    Ok((&text[..at], &text[at + 3..]))
}

/// The message as text, if it is within bounds and every byte is in 0x01..=0x7F.
fn ascii_message(message: &[u8]) -> Result<&str, ScramError> {
    if message.len() > SCRAM_MESSAGE_BYTES_MAX {
        return Err(ScramError::TooLong {
            bytes: message.len(),
        });
    }
    if !message.iter().all(|&b| (0x01..=0x7f).contains(&b)) {
        return Err(ScramError::Malformed("character outside 0x01..=0x7F"));
    }
    std::str::from_utf8(message).map_err(|_| ScramError::Malformed("not ASCII"))
}

fn attribute<'t>(part: Option<&'t str>, prefix: &'static str) -> Result<&'t str, ScramError> {
    part.and_then(|p| p.strip_prefix(prefix))
        .ok_or(ScramError::Malformed("missing or misplaced attribute"))
}

fn nonce(value: &str) -> Result<&str, ScramError> {
    if value.is_empty() || value.len() > SCRAM_NONCE_BYTES_MAX {
        return Err(ScramError::Malformed("nonce empty or too long"));
    }
    if !value
        .bytes()
        .all(|b| (0x21..=0x7e).contains(&b) && b != b',')
    {
        return Err(ScramError::Malformed("nonce not printable"));
    }
    Ok(value)
}

fn base64(value: &str) -> Result<Vec<u8>, ScramError> {
    BASE64
        .decode(value)
        .map_err(|_| ScramError::Malformed("bad base64"))
}

/// `key=value` parts: letters, `=`, then at least one character.
fn extensions<'t>(parts: impl Iterator<Item = &'t str>) -> Result<Vec<Extension>, ScramError> {
    let mut out = Vec::new();
    for part in parts {
        if out.len() == SCRAM_EXTENSIONS_COUNT_MAX {
            return Err(ScramError::Malformed("too many extensions"));
        }
        let (key, value) = part
            .split_once('=')
            .ok_or(ScramError::Malformed("extension without '='"))?;
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphabetic()) || value.is_empty() {
            return Err(ScramError::Malformed("bad extension"));
        }
        out.push((key.to_string(), value.to_string()));
    }
    Ok(out)
}

fn push_extensions(out: &mut String, extensions: &[Extension]) {
    for (key, value) in extensions {
        out.push(',');
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_first_forms() {
        let m = ClientFirst::parse(b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL").expect("parses");
        assert_eq!(m.authzid, None);
        assert_eq!(m.username, "user");
        assert_eq!(m.nonce, "fyko+d2lbbFgONRv9qkxdawL");
        let m =
            ClientFirst::parse(b"n,a=a=3Db,n=a=3Db,r=abc,tokenauth=true,x=y=z").expect("parses");
        assert_eq!(m.authzid.as_deref(), Some("a=b"));
        assert_eq!(m.username, "a=b");
        assert_eq!(m.gs2_header(), "n,a=a=3Db,");
        assert_eq!(
            m.extensions,
            vec![
                ("tokenauth".to_string(), "true".to_string()),
                ("x".to_string(), "y=z".to_string())
            ]
        );
        assert_eq!(
            m.to_bytes(),
            b"n,a=a=3Db,n=a=3Db,r=abc,tokenauth=true,x=y=z"
        );
    }

    #[test]
    fn client_first_refusals() {
        let refused = |m: &[u8]| ClientFirst::parse(m).expect_err("refused");
        assert_eq!(
            refused(b"y,,n=u,r=a"),
            ScramError::ChannelBindingUnsupported
        );
        assert_eq!(
            refused(b"p=tls-unique,,n=u,r=a"),
            ScramError::ChannelBindingUnsupported
        );
        assert_eq!(refused(b"n,,m=ext,n=u,r=a"), ScramError::MandatoryExtension);
        for bad in [
            &b""[..],
            b"n,,",
            b"n,,n=u",
            b"n,,n=u,r=",
            b"n,,r=a,n=u",
            b"n,,n=,r=a",
            b"n,,n=a=2c,r=a",
            b"n,,n=a=,r=a",
            b"n,,n=u,r=a,1=2",
            b"n,,n=u,r=a,k=",
            b"n,,n=u,r=a,k",
            b"n,x,n=u,r=a",
            b"n,a=,n=u,r=a",
            b"n,,n=\xc3\xa9,r=a",
            b"n,,n=u,r=a\x7f",
            b"n,,n=u\0,r=a",
        ] {
            assert!(matches!(refused(bad), ScramError::Malformed(_)), "{bad:?}");
        }
        let long = [&b"n,,n=u,r="[..], &vec![b'a'; SCRAM_MESSAGE_BYTES_MAX]].concat();
        assert!(matches!(refused(&long), ScramError::TooLong { .. }));
        let many = format!(
            "n,,n=u,r=a{}",
            ",k=v".repeat(SCRAM_EXTENSIONS_COUNT_MAX + 1)
        );
        assert!(matches!(refused(many.as_bytes()), ScramError::Malformed(_)));
    }

    #[test]
    fn client_final_forms() {
        let text = b"c=biws,r=abc,ext=1,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        let m = ClientFinal::parse(text).expect("parses");
        assert_eq!(m.channel_binding, b"n,,");
        assert_eq!(m.nonce, "abc");
        assert_eq!(m.proof.len(), 32);
        assert_eq!(m.to_bytes(), text);
        assert_eq!(m.without_proof(), "c=biws,r=abc,ext=1");
        for bad in [
            &b"c=biws,r=abc"[..],
            b"c=biws,r=abc,p=%%%",
            b"c=biw,r=abc,p=",
            b"r=abc,c=biws,p=",
            b"c=biws,p=",
            b"c=biws,r=abc,p=AAB=",
        ] {
            assert!(ClientFinal::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn server_messages_round_trip() {
        let first = ServerFirst {
            nonce: "abc%def".to_string(),
            salt: b"salt".to_vec(),
            iterations: 4096,
        };
        assert_eq!(ServerFirst::parse(&first.to_bytes()), Ok(first));
        assert!(ServerFirst::parse(b"r=a,s=c2FsdA==,i=0").is_err());
        assert!(ServerFirst::parse(b"r=a,s=c2FsdA==,i=-1").is_err());
        assert!(ServerFirst::parse(b"r=a,s=c2FsdA==,i=99999999999").is_err());
        let verifier = ServerFinal::Verifier(vec![1, 2, 3]);
        assert_eq!(ServerFinal::parse(&verifier.to_bytes()), Ok(verifier));
        let error = ServerFinal::Error("invalid-proof".to_string());
        assert_eq!(ServerFinal::parse(&error.to_bytes()), Ok(error));
        assert!(ServerFinal::parse(b"e=").is_err());
        assert!(ServerFinal::parse(b"x=1").is_err());
    }
}
