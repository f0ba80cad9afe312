//! Hand encoding of the few protocol primitives the zero-copy Fetch response writes itself.

use bytes::{BufMut, BytesMut};

pub fn put_unsigned_varint(buf: &mut BytesMut, mut value: u32) {
    while value >= 0x80 {
        buf.put_u8((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    buf.put_u8(value as u8);
}

/// Array length: i32 for classic versions, unsigned varint of len+1 for flexible ones.
pub fn put_array_len(buf: &mut BytesMut, len: usize, flexible: bool) {
    assert!(len < i32::MAX as usize);
    if flexible {
        put_unsigned_varint(buf, len as u32 + 1);
    } else {
        buf.put_i32(len as i32);
    }
}

/// Echoes a string the client sent: a classic string came in with an i16 length, a compact one
/// with a varint, so the same encoding always fits.
pub fn put_string(buf: &mut BytesMut, value: &str, flexible: bool) {
    if flexible {
        put_unsigned_varint(buf, value.len().min(u32::MAX as usize - 1) as u32 + 1);
    } else {
        assert!(
            value.len() <= i16::MAX as usize,
            "classic strings have i16 lengths"
        );
        buf.put_i16(value.len() as i16);
    }
    buf.put_slice(value.as_bytes());
}

/// Length prefix of a (non-null) bytes field whose content is written separately.
pub fn put_bytes_len(buf: &mut BytesMut, len: usize, flexible: bool) {
    assert!(len < i32::MAX as usize);
    if flexible {
        put_unsigned_varint(buf, len as u32 + 1);
    } else {
        buf.put_i32(len as i32);
    }
}

/// An empty tagged-field section.
pub fn put_no_tagged_fields(buf: &mut BytesMut) {
    buf.put_u8(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_the_protocol_encoding() {
        let mut buf = BytesMut::new();
        put_unsigned_varint(&mut buf, 1);
        put_unsigned_varint(&mut buf, 300);
        assert_eq!(&buf[..], &[0x01, 0xac, 0x02]);
    }
}
