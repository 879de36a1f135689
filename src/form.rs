//! Composing a signed S3 POST form: `url` plus `fields`, as boto3's `generate_presigned_post`.
//!
//! Every field the form carries (other than `policy` and `x-amz-signature`) comes with a
//! condition, and `bucket` and `key` are pinned exactly: S3 refuses a form that sends a field
//! its policy does not mention, so building both lists in one place keeps them in step.

use std::fmt;
use std::ops::RangeInclusive;

use time::UtcDateTime;

use crate::policy::{Condition, Policy};
use crate::sigv4::{self, Credentials, SigningTime};

/// Fields a form may carry besides the ones every signed form has. Each is pinned exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionalField {
    ContentType(String),
    ContentDisposition(String),
    CacheControl(String),
    /// `200`, `201` or `204`: the status S3 answers a successful upload with.
    SuccessActionStatus(u16),
    /// Canned ACL such as `private`.
    Acl(String),
    /// `AES256` or `aws:kms`.
    ServerSideEncryption(String),
    /// The file's SHA-256 (base64): S3 refuses other bytes with `BadDigest`.
    ChecksumSha256(String),
    /// `x-amz-checksum-algorithm: SHA256`, naming the checksum above.
    ChecksumAlgorithmSha256,
    /// `x-amz-meta-{name}`: user metadata stored with the object.
    Metadata {
        name: String,
        value: String,
    },
}

impl OptionalField {
    /// The form field name and value.
    pub fn to_field(&self) -> (String, String) {
        match self {
            Self::ContentType(v) => ("Content-Type".into(), v.clone()),
            Self::ContentDisposition(v) => ("Content-Disposition".into(), v.clone()),
            Self::CacheControl(v) => ("Cache-Control".into(), v.clone()),
            Self::SuccessActionStatus(status) => {
                ("success_action_status".into(), status.to_string())
            }
            Self::Acl(v) => ("acl".into(), v.clone()),
            Self::ServerSideEncryption(v) => ("x-amz-server-side-encryption".into(), v.clone()),
            Self::ChecksumSha256(v) => ("x-amz-checksum-sha256".into(), v.clone()),
            Self::ChecksumAlgorithmSha256 => ("x-amz-checksum-algorithm".into(), "SHA256".into()),
            Self::Metadata { name, value } => (format!("x-amz-meta-{name}"), value.clone()),
        }
    }
}

/// What one upload may be.
#[derive(Clone, Debug)]
pub struct UploadTarget<'a> {
    pub url: &'a str,
    pub bucket: &'a str,
    pub key: &'a str,
    /// Allowed file sizes in bytes, always enforced (S3 would otherwise accept up to 5 GiB).
    pub content_length: RangeInclusive<u64>,
    pub optional_fields: &'a [OptionalField],
}

/// A form ready for a browser: post `fields` in order, then the file as `file`, to `url`.
#[derive(Clone, PartialEq, Eq)]
pub struct PostForm {
    pub url: String,
    pub fields: Vec<(String, String)>,
    pub expires_at: UtcDateTime,
}

/// The STS session token is a form field (S3 needs it, and it is useless without the secret),
/// but still kept out of `Debug` output and so out of any log.
impl fmt::Debug for PostForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<(&str, &str)> = self
            .fields
            .iter()
            .map(|(name, value)| match name.as_str() {
                "x-amz-security-token" => (name.as_str(), "<redacted>"),
                _ => (name.as_str(), value.as_str()),
            })
            .collect();
        f.debug_struct("PostForm")
            .field("url", &self.url)
            .field("fields", &fields)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl PostForm {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Builds and signs the form. `at` (the moment and its day's key) sets `x-amz-date` and the
/// credential scope; `expires_in` after it, the policy expires.
pub fn sign_post_form(
    target: &UploadTarget<'_>,
    credentials: &Credentials,
    at: SigningTime,
    expires_in: u64,
) -> PostForm {
    let mut fields: Vec<(String, String)> = Vec::with_capacity(target.optional_fields.len() + 7);
    fields.push(("key".into(), target.key.into()));
    fields.extend(target.optional_fields.iter().map(OptionalField::to_field));
    let optional_end = fields.len();
    fields.push(("x-amz-algorithm".into(), sigv4::ALGORITHM.into()));
    fields.push((
        "x-amz-credential".into(),
        at.credential(&credentials.access_key_id),
    ));
    fields.push(("x-amz-date".into(), at.amz_date()));
    if let Some(token) = &credentials.session_token {
        fields.push(("x-amz-security-token".into(), token.expose().into()));
    }

    // Every field the browser sends is pinned exactly (`key` as well, with the bucket and the
    // size range), borrowing the field strings rather than copying them.
    fn exact((name, value): &(String, String)) -> Condition<'_> {
        Condition::exact(name, value)
    }
    let mut conditions: Vec<Condition> = Vec::with_capacity(fields.len() + 2);
    conditions.extend(fields[1..optional_end].iter().map(exact));
    conditions.push(Condition::ContentLengthRange {
        min: *target.content_length.start(),
        max: *target.content_length.end(),
    });
    conditions.push(Condition::exact("bucket", target.bucket));
    conditions.push(Condition::exact("key", target.key));
    conditions.extend(fields[optional_end..].iter().map(exact));

    let expires_at = at.after(expires_in);
    let policy_base64 = Policy {
        expiration: expires_at,
        conditions,
    }
    .to_base64();
    let signature = at.key().sign(&policy_base64);
    fields.push(("policy".into(), policy_base64));
    fields.push(("x-amz-signature".into(), signature));

    PostForm {
        url: target.url.to_owned(),
        fields,
        expires_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4::SigningKey;
    use base64::{engine::general_purpose::STANDARD, Engine as _};
    use serde_json::{json, Value};
    use time::macros::utc_datetime;

    use crate::sigv4::tests::example_credentials as credentials;

    fn build(optional_fields: &[OptionalField], token: Option<&str>) -> PostForm {
        let now = utc_datetime!(2026-11-24 12:00);
        let creds = credentials(token);
        let key = SigningKey::derive(&creds.secret_access_key, now.date(), "us-east-1");
        let target = UploadTarget {
            url: "https://photos.s3.us-east-1.amazonaws.com/",
            bucket: "photos",
            key: "uploads/abc/cat.png",
            content_length: 1..=1024,
            optional_fields,
        };
        let at = SigningTime::new(&key, now).unwrap();
        sign_post_form(&target, &creds, at, 600)
    }

    fn decoded_policy(form: &PostForm) -> Value {
        let bytes = STANDARD.decode(form.field("policy").unwrap()).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    /// S3's rule, checked from the decoded policy alone: every field but `policy` and
    /// `x-amz-signature` has an exact or starts-with condition that its value meets.
    fn assert_policy_covers_every_field(form: &PostForm) {
        let policy = decoded_policy(form);
        let conditions = policy["conditions"].as_array().unwrap();
        for (name, value) in &form.fields {
            if name == "policy" || name == "x-amz-signature" {
                continue;
            }
            let covered = conditions.iter().any(|c| match c {
                Value::Object(map) => map.get(name) == Some(&json!(value)),
                Value::Array(items) => {
                    items[0] == "starts-with"
                        && items[1] == format!("${name}")
                        && value.starts_with(items[2].as_str().unwrap())
                }
                _ => false,
            });
            assert!(covered, "field {name} is not covered by the policy");
        }
    }

    #[test]
    fn every_optional_field_is_returned_and_pinned() {
        let table = [
            (
                OptionalField::ContentType("image/png".into()),
                "Content-Type",
                "image/png",
            ),
            (
                OptionalField::ContentDisposition("attachment; filename=\"cat.png\"".into()),
                "Content-Disposition",
                "attachment; filename=\"cat.png\"",
            ),
            (
                OptionalField::CacheControl("max-age=3600".into()),
                "Cache-Control",
                "max-age=3600",
            ),
            (
                OptionalField::SuccessActionStatus(201),
                "success_action_status",
                "201",
            ),
            (OptionalField::Acl("private".into()), "acl", "private"),
            (
                OptionalField::ServerSideEncryption("AES256".into()),
                "x-amz-server-side-encryption",
                "AES256",
            ),
            (
                OptionalField::Metadata {
                    name: "uploader".into(),
                    value: "u-42".into(),
                },
                "x-amz-meta-uploader",
                "u-42",
            ),
        ];
        for (optional, name, value) in table {
            let form = build(std::slice::from_ref(&optional), None);
            assert_eq!(form.field(name), Some(value), "{name}");
            assert!(
                decoded_policy(&form)["conditions"]
                    .as_array()
                    .unwrap()
                    .contains(&json!({ name: value })),
                "{name} pinned"
            );
            assert_policy_covers_every_field(&form);
        }
    }

    #[test]
    fn all_optional_fields_together_are_covered() {
        let all = [
            OptionalField::ContentType("image/png".into()),
            OptionalField::ContentDisposition("inline".into()),
            OptionalField::CacheControl("no-cache".into()),
            OptionalField::SuccessActionStatus(204),
            OptionalField::Acl("private".into()),
            OptionalField::ServerSideEncryption("AES256".into()),
            OptionalField::Metadata {
                name: "a".into(),
                value: "1".into(),
            },
            OptionalField::Metadata {
                name: "b".into(),
                value: "2".into(),
            },
        ];
        let form = build(&all, Some("FQoGZXIvYXdzEXAMPLETOKEN"));
        assert_eq!(form.fields.len(), 1 + all.len() + 4 + 2);
        assert_policy_covers_every_field(&form);
    }

    #[test]
    fn signed_fields_bucket_key_and_size_are_always_present() {
        let form = build(&[], None);
        let names: Vec<&str> = form.fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "key",
                "x-amz-algorithm",
                "x-amz-credential",
                "x-amz-date",
                "policy",
                "x-amz-signature"
            ]
        );
        assert_eq!(form.field("x-amz-algorithm"), Some("AWS4-HMAC-SHA256"));
        assert_eq!(
            form.field("x-amz-credential"),
            Some("AKIAIOSFODNN7EXAMPLE/20261124/us-east-1/s3/aws4_request")
        );
        assert_eq!(form.field("x-amz-date"), Some("20261124T120000Z"));
        let policy = decoded_policy(&form);
        assert_eq!(policy["expiration"], "2026-11-24T12:10:00Z");
        let conditions = policy["conditions"].as_array().unwrap();
        assert!(conditions.contains(&json!({"bucket": "photos"})));
        assert!(conditions.contains(&json!({"key": "uploads/abc/cat.png"})));
        assert!(conditions.contains(&json!(["content-length-range", 1, 1024])));
        assert_eq!(form.expires_at, utc_datetime!(2026-11-24 12:10));
        assert_policy_covers_every_field(&form);
    }

    #[test]
    fn session_token_is_sent_and_pinned() {
        let form = build(&[], Some("FQoGZXIvYXdzEXAMPLETOKEN"));
        assert_eq!(
            form.field("x-amz-security-token"),
            Some("FQoGZXIvYXdzEXAMPLETOKEN")
        );
        assert!(decoded_policy(&form)["conditions"]
            .as_array()
            .unwrap()
            .contains(&json!({"x-amz-security-token": "FQoGZXIvYXdzEXAMPLETOKEN"})));
        assert!(build(&[], None).field("x-amz-security-token").is_none());
    }

    #[test]
    fn debug_output_redacts_the_session_token() {
        let form = build(&[], Some("FQoGZXIvYXdzEXAMPLETOKEN"));
        let printed = format!("{form:?}");
        assert!(!printed.contains("FQoGZXIvYXdzEXAMPLETOKEN"), "{printed}");
        assert!(printed.contains("x-amz-security-token"));
    }

    #[test]
    fn signature_is_the_hmac_of_the_policy_field() {
        let form = build(&[], None);
        let creds = credentials(None);
        let key = SigningKey::derive(
            &creds.secret_access_key,
            utc_datetime!(2026-11-24 0:00).date(),
            "us-east-1",
        );
        assert_eq!(
            form.field("x-amz-signature").unwrap(),
            key.sign(form.field("policy").unwrap())
        );
    }
}
