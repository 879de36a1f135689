//! The S3 POST policy document: an expiration and the conditions every form field must meet.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;
use time::UtcDateTime;

use crate::sigv4::iso_date_time;

/// One of the three condition forms S3 knows.
/// Borrows its strings from the form being signed: a policy lives only until it is encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition<'a> {
    /// The field must equal `value` exactly. Written `{"field": "value"}`, which S3 treats the
    /// same as `["eq", "$field", "value"]`; boto3 writes this form too.
    Exact { field: &'a str, value: &'a str },
    /// The field must start with `prefix` (an empty prefix allows any value).
    StartsWith { field: &'a str, prefix: &'a str },
    /// The uploaded file's size in bytes must be within `min..=max`.
    ContentLengthRange { min: u64, max: u64 },
}

impl<'a> Condition<'a> {
    pub fn exact(field: &'a str, value: &'a str) -> Self {
        Self::Exact { field, value }
    }

    pub fn starts_with(field: &'a str, prefix: &'a str) -> Self {
        Self::StartsWith { field, prefix }
    }

    /// The form field this condition constrains, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Exact { field, .. } | Self::StartsWith { field, .. } => Some(field),
            Self::ContentLengthRange { .. } => None,
        }
    }
}

impl Serialize for Condition<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Exact { field, value } => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry(field, value)?;
                map.end()
            }
            Self::StartsWith { field, prefix } => {
                let mut seq = serializer.serialize_seq(Some(3))?;
                seq.serialize_element("starts-with")?;
                seq.serialize_element(&format!("${field}"))?;
                seq.serialize_element(prefix)?;
                seq.end()
            }
            Self::ContentLengthRange { min, max } => {
                let mut seq = serializer.serialize_seq(Some(3))?;
                seq.serialize_element("content-length-range")?;
                seq.serialize_element(min)?;
                seq.serialize_element(max)?;
                seq.end()
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy<'a> {
    pub expiration: UtcDateTime,
    pub conditions: Vec<Condition<'a>>,
}

impl Serialize for Policy<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        // ISO 8601 in UTC to the second, as boto3 writes it (`2026-11-24T12:00:00Z`).
        map.serialize_entry("expiration", &iso_date_time(self.expiration))?;
        map.serialize_entry("conditions", &self.conditions)?;
        map.end()
    }
}

impl Policy<'_> {
    /// Compact JSON: the bytes that get base64-encoded and signed.
    pub fn to_json(&self) -> String {
        // Strings and integers always serialise; not `expect`, whose `Debug` of serde_json's
        // error would cost wasm bytes for a case that cannot happen.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The `policy` form field: standard base64 (with padding) of [`Policy::to_json`].
    pub fn to_base64(&self) -> String {
        encode_policy(&self.to_json())
    }
}

/// Standard, padded base64: the encoding S3 decodes the `policy` field with.
pub fn encode_policy(policy_json: &str) -> String {
    STANDARD.encode(policy_json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::utc_datetime;

    #[test]
    fn condition_forms_serialise_as_s3_expects() {
        let table = [
            (
                Condition::exact("bucket", "photos"),
                r#"{"bucket":"photos"}"#,
            ),
            (
                Condition::exact("x-amz-meta-uuid", "14365123651274"),
                r#"{"x-amz-meta-uuid":"14365123651274"}"#,
            ),
            (
                Condition::starts_with("key", "user/user1/"),
                r#"["starts-with","$key","user/user1/"]"#,
            ),
            (
                Condition::starts_with("x-amz-meta-tag", ""),
                r#"["starts-with","$x-amz-meta-tag",""]"#,
            ),
            (
                Condition::ContentLengthRange {
                    min: 1,
                    max: 10_485_760,
                },
                r#"["content-length-range",1,10485760]"#,
            ),
            (
                Condition::ContentLengthRange {
                    min: 5_368_709_120,
                    max: 5_368_709_120,
                },
                r#"["content-length-range",5368709120,5368709120]"#,
            ),
            (
                Condition::exact("Content-Type", "text/plain; charset=\"utf-8\""),
                r#"{"Content-Type":"text/plain; charset=\"utf-8\""}"#,
            ),
        ];
        for (condition, expected) in table {
            assert_eq!(serde_json::to_string(&condition).unwrap(), expected);
        }
    }

    #[test]
    fn condition_field_names_the_constrained_field() {
        assert_eq!(Condition::exact("key", "a").field(), Some("key"));
        assert_eq!(Condition::starts_with("key", "a").field(), Some("key"));
        assert_eq!(
            Condition::ContentLengthRange { min: 1, max: 2 }.field(),
            None
        );
    }

    #[test]
    fn policy_json_has_expiration_then_conditions() {
        let policy = Policy {
            expiration: utc_datetime!(2015-12-30 12:00),
            conditions: vec![
                Condition::exact("bucket", "sigv4examplebucket"),
                Condition::ContentLengthRange { min: 1, max: 10 },
            ],
        };
        assert_eq!(
            policy.to_json(),
            r#"{"expiration":"2015-12-30T12:00:00Z","conditions":[{"bucket":"sigv4examplebucket"},["content-length-range",1,10]]}"#
        );
    }

    #[test]
    fn base64_is_standard_and_padded_and_decodes_back() {
        let policy = Policy {
            expiration: utc_datetime!(2026-01-01 0:00),
            conditions: vec![Condition::exact("key", "a/b?c>d")],
        };
        let encoded = policy.to_base64();
        assert!(encoded.len().is_multiple_of(4), "padded to a multiple of 4");
        assert!(
            !encoded.contains('-') && !encoded.contains('_'),
            "standard alphabet"
        );
        let decoded = STANDARD.decode(&encoded).unwrap();
        assert_eq!(decoded, policy.to_json().as_bytes());
    }
}
