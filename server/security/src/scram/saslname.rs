//! RFC 5802's `saslname`: a user name with `,` written `=2C` and `=` written `=3D`, so that
//! names can sit in the comma-separated SCRAM attributes.
//!
//! Kafka's grammar allows only the characters 0x01..=0x7F, and `=` only as `=2C` or `=3D`
//! (upper case). Non-ASCII names are therefore refused, as Kafka refuses them.

use super::ScramError;

/// Escapes `name` for a SCRAM message.
pub fn escape(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

/// Unescapes a saslname; refuses an empty name, a character outside 0x01..=0x7F, a raw
/// `,`, or a `=` not starting `=2C`/`=3D`.
pub fn unescape(saslname: &str) -> Result<String, ScramError> {
    if saslname.is_empty() {
        return Err(ScramError::Malformed("empty saslname"));
    }
    let mut out = String::with_capacity(saslname.len());
    let mut rest = saslname;
    while let Some(c) = rest.chars().next() {
        if c == '=' {
            if rest.starts_with("=2C") {
                out.push(',');
            } else if rest.starts_with("=3D") {
                out.push('=');
            } else {
                return Err(ScramError::Malformed("bad escape in saslname"));
            }
            rest = &rest[3..];
            continue;
        }
        if c == ',' || c == '\0' || !c.is_ascii() {
            return Err(ScramError::Malformed("bad character in saslname"));
        }
        out.push(c);
        rest = &rest[1..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        assert_eq!(escape("a,b=c"), "a=2Cb=3Dc");
        assert_eq!(unescape("a=2Cb=3Dc").expect("valid"), "a,b=c");
        assert_eq!(unescape(&escape("=,==,")).expect("valid"), "=,==,");
        for bad in ["", "a=2c", "a=", "a=2", "a=41", "a,b", "caf\u{e9}"] {
            assert!(unescape(bad).is_err(), "{bad:?} accepted");
        }
    }
}
