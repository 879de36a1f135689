//! AWS Signature Version 4 for browser POST uploads, one small function per step.
//!
//! For a POST policy the string to sign is the base64 policy itself, so unlike header or
//! query signing there is no canonical request: derive the key, HMAC the policy, hex it.
//! Each step is tested against the example in AWS's S3 API reference.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::{format_description::FormatItem, macros::format_description, Date, OffsetDateTime};

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SERVICE: &str = "s3";
const TERMINATOR: &str = "aws4_request";

const SHORT_DATE: &[FormatItem<'static>] = format_description!("[year][month][day]");
const AMZ_DATE: &[FormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

/// A secret string: usable by the signer, invisible to `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The only way to read the value; grep for it to audit every use.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Credentials as AWS issues them; an STS session adds a token.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

/// `YYYYMMDD`, the date part of the credential scope.
pub fn short_date(when: OffsetDateTime) -> String {
    format_utc(when, SHORT_DATE)
}

/// `YYYYMMDDTHHMMSSZ`, the `x-amz-date` form field.
pub fn amz_date(when: OffsetDateTime) -> String {
    format_utc(when, AMZ_DATE)
}

fn format_utc(when: OffsetDateTime, format: &[FormatItem<'static>]) -> String {
    when.to_offset(time::UtcOffset::UTC)
        .format(format)
        .expect("a fixed numeric format cannot fail on a valid date")
}

/// `YYYYMMDD/region/s3/aws4_request`.
pub fn credential_scope(day: Date, region: &str) -> String {
    let day = day
        .format(SHORT_DATE)
        .expect("a fixed numeric format cannot fail on a valid date");
    format!("{day}/{region}/{SERVICE}/{TERMINATOR}")
}

/// `AKID/YYYYMMDD/region/s3/aws4_request`, the `x-amz-credential` form field.
pub fn credential(access_key_id: &str, day: Date, region: &str) -> String {
    format!("{access_key_id}/{}", credential_scope(day, region))
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// The derived key for one UTC day and region. It is valid for that whole day, so a caller
/// can keep it and sign every request of the day with one HMAC instead of five.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    day: Date,
    region: String,
    key: [u8; 32],
}

impl SigningKey {
    /// `HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), "s3"), "aws4_request")`.
    pub fn derive(secret: &Secret, day: Date, region: &str) -> Self {
        let date = day
            .format(SHORT_DATE)
            .expect("a fixed numeric format cannot fail on a valid date");
        let k_secret = format!("AWS4{}", secret.expose());
        let k_date = hmac_sha256(k_secret.as_bytes(), date.as_bytes());
        let k_region = hmac_sha256(&k_date, region.as_bytes());
        let k_service = hmac_sha256(&k_region, SERVICE.as_bytes());
        let key = hmac_sha256(&k_service, TERMINATOR.as_bytes());
        Self {
            day,
            region: region.to_owned(),
            key,
        }
    }

    pub fn day(&self) -> Date {
        self.day
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// Lowercase hex of the key: for comparing against published examples only.
    pub fn to_hex(&self) -> String {
        hex::encode(self.key)
    }

    /// Lowercase hex HMAC-SHA256 of `string_to_sign`: the `x-amz-signature` field.
    pub fn sign(&self, string_to_sign: &str) -> String {
        hex::encode(hmac_sha256(&self.key, string_to_sign.as_bytes()))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("day", &self.day)
            .field("region", &self.region)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// Keeps the last derived key and re-derives only when the UTC day (or region) changes.
#[derive(Debug, Default)]
pub struct SigningKeyCache {
    current: Option<SigningKey>,
}

impl SigningKeyCache {
    pub fn key_for(&mut self, secret: &Secret, day: Date, region: &str) -> &SigningKey {
        let stale = self
            .current
            .as_ref()
            .is_none_or(|key| key.day != day || key.region != region);
        if stale {
            self.current = Some(SigningKey::derive(secret, day, region));
        }
        self.current.as_ref().expect("filled just above")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    // AWS S3 API Reference, "Example: Browser-Based Upload using HTTP POST (Using AWS
    // Signature Version 4)"; the same values are in shared/vectors/aws-sigv4-post-example.json.
    const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    #[test]
    fn dates_are_formatted_as_aws_expects() {
        let when = datetime!(2015-12-29 0:00 UTC);
        assert_eq!(short_date(when), "20151229");
        assert_eq!(amz_date(when), "20151229T000000Z");
        assert_eq!(
            amz_date(datetime!(2026-01-02 03:04:05 UTC)),
            "20260102T030405Z"
        );
    }

    #[test]
    fn dates_in_other_offsets_are_converted_to_utc() {
        let late_evening_in_new_york = datetime!(2015-12-28 23:30 -5);
        assert_eq!(amz_date(late_evening_in_new_york), "20151229T043000Z");
        assert_eq!(short_date(late_evening_in_new_york), "20151229");
    }

    #[test]
    fn credential_matches_the_aws_example() {
        assert_eq!(
            credential("AKIAIOSFODNN7EXAMPLE", date!(2015 - 12 - 29), "us-east-1"),
            "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"
        );
    }

    #[test]
    fn signing_key_matches_the_aws_example() {
        let key = SigningKey::derive(
            &Secret::new(EXAMPLE_SECRET),
            date!(2015 - 12 - 29),
            "us-east-1",
        );
        assert_eq!(
            key.to_hex(),
            "cbcef1ebeaefc82cce6530b9f0a9ae598846065f5c5bae0674bd5ebc4ba52d28"
        );
    }

    #[test]
    fn debug_never_shows_secret_or_key() {
        let secret = Secret::new(EXAMPLE_SECRET);
        let key = SigningKey::derive(&secret, date!(2015 - 12 - 29), "us-east-1");
        let credentials = Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: secret.clone(),
            session_token: Some(Secret::new("session-token-value")),
        };
        let printed = format!("{secret:?} {key:?} {credentials:?} {credentials:#?}");
        assert!(!printed.contains(EXAMPLE_SECRET), "{printed}");
        assert!(!printed.contains(&key.to_hex()), "{printed}");
        assert!(!printed.contains("session-token-value"), "{printed}");
        assert!(
            printed.contains("AKIAIOSFODNN7EXAMPLE"),
            "the key id is not secret"
        );
    }

    #[test]
    fn cache_rederives_only_when_the_day_or_region_changes() {
        let secret = Secret::new(EXAMPLE_SECRET);
        let mut cache = SigningKeyCache::default();
        let first = cache
            .key_for(&secret, date!(2015 - 12 - 29), "us-east-1")
            .clone();
        let same_day = cache
            .key_for(&secret, date!(2015 - 12 - 29), "us-east-1")
            .clone();
        assert_eq!(first, same_day);
        let next_day = cache
            .key_for(&secret, date!(2015 - 12 - 30), "us-east-1")
            .clone();
        assert_ne!(first, next_day);
        assert_eq!(
            next_day,
            SigningKey::derive(&secret, date!(2015 - 12 - 30), "us-east-1")
        );
        let other_region = cache
            .key_for(&secret, date!(2015 - 12 - 30), "eu-west-1")
            .clone();
        assert_eq!(other_region.region(), "eu-west-1");
        assert_ne!(other_region, next_day);
    }
}
