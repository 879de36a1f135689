//! Base64 (RFC 4648) through the `base64` crate, one function per use: standard with padding
//! for policies and checksums, URL-safe without padding for tokens. Decoding is strict (the
//! crate refuses non-canonical padding and trailing bits), so one value has one spelling.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;

/// Standard alphabet, padded with `=`.
pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Standard alphabet, padded: exactly as [`encode`] writes it, or `None`.
pub fn decode_standard(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}

/// URL-safe alphabet, no padding (JWS segments), or `None`.
pub fn decode_url_safe(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(decode_standard(encoded).unwrap(), plain.as_bytes());
        }
        assert_eq!(decode_url_safe("-_8").unwrap(), [0xfb, 0xff]);
        for bad in ["Zg", "Zg=", "Zh==", "Z===", "Zm9v=", "Zm 9v", "Zm9*"] {
            assert_eq!(decode_standard(bad), None, "{bad}");
        }
        for bad in ["Zg==", "a+b", "a/b", "Zh", "Z"] {
            assert_eq!(decode_url_safe(bad), None, "{bad}");
        }
    }
}
