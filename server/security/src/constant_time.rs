//! Equality of secrets without an early exit, so the time a comparison takes does not tell
//! how many leading bytes matched. (ring's own helper is deprecated for outside use.)

use std::hint::black_box;

/// `a == b`, in time that depends only on the lengths. Lengths are not secret here (digest
/// sizes, or a password whose length the attacker chose).
pub fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut difference = 0u8;
    for (x, y) in a.iter().zip(b) {
        difference |= black_box(x ^ y);
    }
    black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn equality() {
        assert!(super::eq(b"", b""));
        assert!(super::eq(b"abc", b"abc"));
        assert!(!super::eq(b"abc", b"abd"));
        assert!(!super::eq(b"abc", b"ab"));
    }
}
