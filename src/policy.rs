//! The S3 POST policy document: an expiration and the conditions every form field must meet.

use time::UtcDateTime;

use crate::json::{self, push_number};
use crate::sigv4::iso_date_time;

/// One of the three condition forms S3 knows.
/// Borrows its strings from the form being signed: a policy lives only until it is encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Condition<'a> {
    /// The field must equal `value` exactly. Written `{"field": "value"}`, which S3 treats the
    /// same as `["eq", "$field", "value"]`; boto3 writes this form too.
    Exact { field: &'a str, value: &'a str },
    /// The field must start with `prefix` (an empty prefix allows any value). The worker pins
    /// every field exactly; this form exists to write AWS's own example policy in the tests.
    #[cfg(test)]
    StartsWith { field: &'a str, prefix: &'a str },
    /// The uploaded file's size in bytes must be within `min..=max`.
    ContentLengthRange { min: u64, max: u64 },
}

impl<'a> Condition<'a> {
    pub(crate) fn exact(field: &'a str, value: &'a str) -> Self {
        Self::Exact { field, value }
    }

    #[cfg(test)]
    pub(crate) fn starts_with(field: &'a str, prefix: &'a str) -> Self {
        Self::StartsWith { field, prefix }
    }
}

impl Condition<'_> {
    /// `{"field":"value"}`, `["starts-with","$field","prefix"]` or
    /// `["content-length-range",min,max]`.
    pub(crate) fn to_json(&self) -> String {
        let mut out = String::new();
        match self {
            Self::Exact { field, value } => {
                return json::Object::new().text(field, value).finish();
            }
            #[cfg(test)]
            Self::StartsWith { field, prefix } => {
                out.push_str("[\"starts-with\",");
                json::push_string(&mut out, &["$", field].concat());
                out.push(',');
                json::push_string(&mut out, prefix);
            }
            Self::ContentLengthRange { min, max } => {
                out.push_str("[\"content-length-range\",");
                push_number(&mut out, *min);
                out.push(',');
                push_number(&mut out, *max);
            }
        }
        out.push(']');
        out
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Policy<'a> {
    pub expiration: UtcDateTime,
    pub conditions: Vec<Condition<'a>>,
}

impl Policy<'_> {
    /// Compact JSON: the bytes that get base64-encoded and signed.
    pub(crate) fn to_json(&self) -> String {
        // ISO 8601 in UTC to the second, as boto3 writes it (`2026-11-24T12:00:00Z`).
        let conditions = json::list(self.conditions.iter().map(Condition::to_json));
        json::Object::new()
            .text("expiration", &iso_date_time(self.expiration))
            .raw("conditions", &conditions)
            .finish()
    }

    /// The `policy` form field: standard base64 (with padding) of [`Policy::to_json`].
    pub(crate) fn to_base64(&self) -> String {
        encode_policy(&self.to_json())
    }
}

/// Standard, padded base64: the encoding S3 decodes the `policy` field with.
pub fn encode_policy(policy_json: &str) -> String {
    use base64::{engine::general_purpose::STANDARD, Engine as _};
    STANDARD.encode(policy_json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::{engine::general_purpose::STANDARD, Engine as _};
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
            assert_eq!(condition.to_json(), expected);
        }
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
