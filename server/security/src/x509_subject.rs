//! A certificate's subject distinguished name, printed as Java's
//! `X500Principal.getName()` (RFC 2253) prints it, since that string is what Kafka feeds to
//! `ssl.principal.mapping.rules` and what principals of TLS users look like
//! ("CN=alice,OU=Eng,O=Sluice,C=US").
//!
//! A minimal DER walker, not an X.509 library: Certificate → tbsCertificate → skip
//! [0] version, serialNumber, signature, issuer, validity → subject (a SEQUENCE of RDN SETs of
//! (OID, value) SEQUENCEs). It does not verify anything (rustls did). Bounded: input size,
//! RDN and attribute counts, definite lengths of at most 4 bytes, no recursion.
//!
//! Java's printing, kept: RDNs last to first, joined by `,`; attributes of one RDN in encoded
//! order joined by `+`; the keywords CN, C, L, ST, O, OU, STREET, DC, UID, every other
//! attribute as its dotted OID with `#` and the hex of its whole DER value (so an email
//! attribute prints as `1.2.840.113549.1.9.1=#16...`, as Java prints it); a value that is
//! not a string type also prints as hex; string values are read as UTF-8 (as Java does, for
//! every string type); `,` `=` `+` `<` `>` `#` `;` `"` `\` are escaped with `\`, NUL as
//! `\00`, and leading or trailing spaces (and CRs) with `\`.

use crate::limits::{CERT_DER_BYTES_MAX, DN_RDN_ATTRIBUTE_COUNT_MAX, DN_RDN_COUNT_MAX};

/// Java prints hex values in lower case.
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

const TAG_INTEGER: u8 = 0x02;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;
const TAG_SET: u8 = 0x31;
/// `[0] EXPLICIT` (the version) in tbsCertificate.
const TAG_CONTEXT_0: u8 = 0xa0;

/// DER string types Java's AVA prints as text: UTF8String, PrintableString, T61String,
/// IA5String, GeneralString, UniversalString, BMPString.
const STRING_TAGS: [u8; 7] = [0x0c, 0x13, 0x14, 0x16, 0x1b, 0x1c, 0x1e];

/// Java's RFC 2253 keywords by OID.
const KEYWORDS: [(&str, &str); 9] = [
    ("2.5.4.3", "CN"),
    ("2.5.4.6", "C"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.9", "STREET"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("0.9.2342.19200300.100.1.25", "DC"),
    ("0.9.2342.19200300.100.1.1", "UID"),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    #[error("certificate of {bytes} bytes exceeds {CERT_DER_BYTES_MAX}")]
    TooLong { bytes: usize },
    #[error("certificate DER is malformed: {0}")]
    Malformed(&'static str),
    #[error("subject has more than {DN_RDN_COUNT_MAX} RDNs or an RDN more than {DN_RDN_ATTRIBUTE_COUNT_MAX} attributes")]
    TooManyAttributes,
}

/// One DER element: its tag, its contents, and all its bytes.
struct Element<'a> {
    tag: u8,
    contents: &'a [u8],
    whole: &'a [u8],
}

/// The subject DN of DER certificate `der`, RFC 2253 as Java prints it.
pub fn subject_rfc2253(der: &[u8]) -> Result<String, SubjectError> {
    if der.len() > CERT_DER_BYTES_MAX {
        return Err(SubjectError::TooLong { bytes: der.len() });
    }
    let (certificate, _) = expect(der, TAG_SEQUENCE, "certificate")?;
    let (tbs, _) = expect(certificate.contents, TAG_SEQUENCE, "tbsCertificate")?;
    let mut rest = tbs.contents;
    let (first, after_first) = element(rest)?;
    if first.tag == TAG_CONTEXT_0 {
        rest = after_first;
    }
    let (_, rest) = expect(rest, TAG_INTEGER, "serialNumber")?;
    let (_, rest) = expect(rest, TAG_SEQUENCE, "signature")?;
    let (_, rest) = expect(rest, TAG_SEQUENCE, "issuer")?;
    let (_, rest) = expect(rest, TAG_SEQUENCE, "validity")?;
    let (subject, _) = expect(rest, TAG_SEQUENCE, "subject")?;
    name_rfc2253(subject.contents)
}

/// An X.501 Name's contents (the RDN SETs) as RFC 2253.
fn name_rfc2253(mut rdns: &[u8]) -> Result<String, SubjectError> {
    let mut printed: Vec<String> = Vec::new();
    while !rdns.is_empty() {
        if printed.len() == DN_RDN_COUNT_MAX {
            return Err(SubjectError::TooManyAttributes);
        }
        let (rdn, rest) = expect(rdns, TAG_SET, "RDN")?;
        rdns = rest;
        let mut attributes = rdn.contents;
        let mut rdn_text = String::new();
        let mut count = 0;
        while !attributes.is_empty() {
            count += 1;
            if count > DN_RDN_ATTRIBUTE_COUNT_MAX {
                return Err(SubjectError::TooManyAttributes);
            }
            let (attribute, rest) = expect(attributes, TAG_SEQUENCE, "attribute")?;
            attributes = rest;
            if count > 1 {
                rdn_text.push('+');
            }
            attribute_rfc2253(attribute.contents, &mut rdn_text)?;
        }
        if count == 0 {
            return Err(SubjectError::Malformed("empty RDN"));
        }
        printed.push(rdn_text);
    }
    printed.reverse();
    Ok(printed.join(","))
}

fn attribute_rfc2253(contents: &[u8], out: &mut String) -> Result<(), SubjectError> {
    let (oid, rest) = expect(contents, TAG_OID, "attribute type")?;
    let (value, rest) = element(rest)?;
    if !rest.is_empty() {
        return Err(SubjectError::Malformed("bytes after an attribute value"));
    }
    let oid = oid_dotted(oid.contents)?;
    let keyword = KEYWORDS
        .iter()
        .find(|(known, _)| *known == oid)
        .map(|(_, keyword)| *keyword);
    match keyword {
        Some(keyword) if STRING_TAGS.contains(&value.tag) => {
            out.push_str(keyword);
            out.push('=');
            escape_value(&String::from_utf8_lossy(value.contents), out);
        }
        _ => {
            out.push_str(keyword.unwrap_or(&oid));
            out.push_str("=#");
            for byte in value.whole {
                out.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
                out.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
            }
        }
    }
    Ok(())
}

/// Java's AVA escaping for RFC 2253.
fn escape_value(value: &str, out: &mut String) {
    let mut escaped: Vec<char> = Vec::with_capacity(value.len());
    for c in value.chars() {
        if ",=+<>#;\"\\".contains(c) {
            escaped.push('\\');
            escaped.push(c);
        } else if c == '\0' {
            escaped.extend(['\\', '0', '0']);
        } else {
            escaped.push(c);
        }
    }
    let is_space = |c: &char| *c == ' ' || *c == '\r';
    let lead = escaped.iter().take_while(|c| is_space(c)).count();
    let trail = escaped.iter().rev().take_while(|c| is_space(c)).count();
    let trail_from = escaped.len() - trail;
    for (i, c) in escaped.iter().enumerate() {
        if i < lead || i >= trail_from {
            out.push('\\');
        }
        out.push(*c);
    }
}

/// An OID's contents in dotted form; arcs above u64 are refused.
fn oid_dotted(contents: &[u8]) -> Result<String, SubjectError> {
    if contents.is_empty() || contents.last().is_some_and(|b| b & 0x80 != 0) {
        return Err(SubjectError::Malformed("OID"));
    }
    let mut arcs: Vec<u64> = Vec::new();
    let mut arc: u64 = 0;
    for &byte in contents {
        if arc > (u64::MAX >> 7) {
            return Err(SubjectError::Malformed("OID arc too large"));
        }
        arc = (arc << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            arcs.push(arc);
            arc = 0;
        }
    }
    let mut printed: Vec<String> = Vec::with_capacity(arcs.len() + 1);
    for (i, arc) in arcs.iter().enumerate() {
        if i == 0 {
            // The first encoded arc holds the first two: 40 * X + Y, X at most 2.
            let first = (arc / 40).min(2);
            printed.push(first.to_string());
            printed.push((arc - first * 40).to_string());
        } else {
            printed.push(arc.to_string());
        }
    }
    Ok(printed.join("."))
}

fn expect<'a>(
    input: &'a [u8],
    tag: u8,
    what: &'static str,
) -> Result<(Element<'a>, &'a [u8]), SubjectError> {
    let (found, rest) = element(input)?;
    if found.tag != tag {
        return Err(SubjectError::Malformed(what));
    }
    Ok((found, rest))
}

/// The first DER element of `input` and what follows it. Single-byte tags, definite lengths
/// of at most four bytes, within the input.
fn element(input: &[u8]) -> Result<(Element<'_>, &[u8]), SubjectError> {
    let [tag, first_length, after_header @ ..] = input else {
        return Err(SubjectError::Malformed("truncated element"));
    };
    if tag & 0x1f == 0x1f {
        return Err(SubjectError::Malformed("multi-byte tag"));
    }
    let (length, body) = if first_length & 0x80 == 0 {
        (usize::from(*first_length), after_header)
    } else {
        let length_bytes = usize::from(first_length & 0x7f);
        if length_bytes == 0 || length_bytes > 4 || length_bytes > after_header.len() {
            return Err(SubjectError::Malformed("length"));
        }
        let (length_field, body) = after_header.split_at(length_bytes);
        let length = length_field
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (length, body)
    };
    if length > body.len() {
        return Err(SubjectError::Malformed("length beyond the input"));
    }
    let header_len = input.len() - body.len();
    let (contents, rest) = body.split_at(length);
    let element = Element {
        tag: *tag,
        contents,
        whole: &input[..header_len + length],
    };
    Ok((element, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_as_java() {
        let escaped = |v: &str| {
            let mut out = String::new();
            escape_value(v, &mut out);
            out
        };
        assert_eq!(escaped("alice"), "alice");
        assert_eq!(escaped("a,b+c=d"), "a\\,b\\+c\\=d");
        assert_eq!(escaped("#x#"), "\\#x\\#");
        assert_eq!(escaped(" a b "), "\\ a b\\ ");
        assert_eq!(escaped("  "), "\\ \\ ");
        assert_eq!(escaped("<\">;\\"), "\\<\\\"\\>\\;\\\\");
        assert_eq!(escaped("a\0"), "a\\00");
    }

    #[test]
    fn oids() {
        assert_eq!(oid_dotted(&[0x55, 0x04, 0x03]).expect("oid"), "2.5.4.3");
        assert_eq!(
            oid_dotted(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01]).expect("oid"),
            "1.2.840.113549.1.9.1"
        );
        assert!(oid_dotted(&[0x86]).is_err());
        assert!(oid_dotted(&[]).is_err());
        assert!(oid_dotted(&[0xff; 20]).is_err());
    }

    #[test]
    fn garbage_is_refused_without_panic() {
        for input in [
            &b""[..],
            &[0x30],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x30, 0x02, 0x30, 0x00],
            &[0x1f, 0x00],
        ] {
            assert!(subject_rfc2253(input).is_err(), "{input:?}");
        }
    }
}
