//! AWS Signature Version 4 for browser POST uploads, one small function per step.
//!
//! For a POST policy the string to sign is the base64 policy itself, so unlike header or
//! query signing there is no canonical request: derive the key, HMAC the policy, hex it.
//! Each step is tested against the example in AWS's S3 API reference.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::{Date, UtcDateTime};

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SERVICE: &str = "s3";
const TERMINATOR: &str = "aws4_request";

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

// The three layouts below are written from the `time` crate's date and time fields (the
// calendar stays its job): its format-description machinery costs about 30 KB of wasm, and
// these run on every request.

/// Appends `value` as exactly `width` decimal digits (zero-padded; SigV4 years are 4 digits).
fn push_digits(out: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        out.push(char::from(b'0' + (value / 10u32.pow(place) % 10) as u8));
    }
}

/// Appends `YYYY{sep}MM{sep}DD`.
fn push_date(out: &mut String, day: Date, separator: &str) {
    let (year, month, day) = day.to_calendar_date();
    push_digits(out, year.unsigned_abs(), 4);
    out.push_str(separator);
    push_digits(out, u8::from(month).into(), 2);
    out.push_str(separator);
    push_digits(out, day.into(), 2);
}

/// Appends `HH{sep}MM{sep}SS`.
fn push_time(out: &mut String, when: UtcDateTime, separator: &str) {
    let (hour, minute, second) = when.as_hms();
    push_digits(out, hour.into(), 2);
    out.push_str(separator);
    push_digits(out, minute.into(), 2);
    out.push_str(separator);
    push_digits(out, second.into(), 2);
}

/// `YYYYMMDD`, the date part of the credential scope.
pub fn short_date(day: Date) -> String {
    let mut out = String::with_capacity(8);
    push_date(&mut out, day, "");
    out
}

/// `YYYYMMDDTHHMMSSZ`, the `x-amz-date` form field and query parameter.
pub fn amz_date(when: UtcDateTime) -> String {
    let mut out = String::with_capacity(16);
    push_date(&mut out, when.date(), "");
    out.push('T');
    push_time(&mut out, when, "");
    out.push('Z');
    out
}

/// `YYYY-MM-DDTHH:MM:SSZ`: ISO 8601 in UTC to the second, as boto3 writes a policy's
/// expiration and as the API reports `expires_at`.
pub fn iso_date_time(when: UtcDateTime) -> String {
    let mut out = String::with_capacity(20);
    push_date(&mut out, when.date(), "-");
    out.push('T');
    push_time(&mut out, when, ":");
    out.push('Z');
    out
}

/// `YYYYMMDD/region/s3/aws4_request`.
pub fn credential_scope(day: Date, region: &str) -> String {
    [&short_date(day), "/", region, "/", SERVICE, "/", TERMINATOR].concat()
}

/// `AKID/YYYYMMDD/region/s3/aws4_request`, the `x-amz-credential` form field.
pub fn credential(access_key_id: &str, day: Date, region: &str) -> String {
    [access_key_id, "/", &credential_scope(day, region)].concat()
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// The derived key for one UTC day and region. It is valid for that whole day, so a caller
/// can keep it and sign every request of the day with one HMAC instead of five.
#[derive(Clone)]
pub struct SigningKey {
    day: Date,
    region: String,
    key: [u8; 32],
    /// `YYYYMMDD/region/s3/aws4_request`, the same all day.
    scope: String,
    /// HMAC state with the key already absorbed: cloning it saves the two compressions of
    /// keying HMAC on every signature.
    keyed: Hmac<Sha256>,
}

impl PartialEq for SigningKey {
    fn eq(&self, other: &Self) -> bool {
        (self.day, &self.region, self.key) == (other.day, &other.region, other.key)
    }
}

impl Eq for SigningKey {}

impl SigningKey {
    /// `HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), "s3"), "aws4_request")`.
    pub fn derive(secret: &Secret, day: Date, region: &str) -> Self {
        let date = short_date(day);
        let k_secret = format!("AWS4{}", secret.expose());
        let k_date = hmac_sha256(k_secret.as_bytes(), date.as_bytes());
        let k_region = hmac_sha256(&k_date, region.as_bytes());
        let k_service = hmac_sha256(&k_region, SERVICE.as_bytes());
        let key = hmac_sha256(&k_service, TERMINATOR.as_bytes());
        Self {
            day,
            region: region.to_owned(),
            key,
            scope: credential_scope(day, region),
            keyed: Hmac::new_from_slice(&key).expect("HMAC accepts keys of any length"),
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
        let mut mac = self.keyed.clone();
        mac.update(string_to_sign.as_bytes());
        hex::encode(mac.finalize().into_bytes())
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

/// Keeps the current day's key: deriving it costs four HMACs, and it is valid all UTC day.
#[derive(Debug, Default)]
pub struct SigningKeyCache {
    current: Option<SigningKey>,
}

impl SigningKeyCache {
    /// The key for `day` and `region`, derived only when the day or region changed.
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

    /// The moment `now` (cut to whole seconds) with the key of its day.
    pub fn at(&mut self, secret: &Secret, region: &str, now: UtcDateTime) -> SigningTime<'_> {
        let now = now.truncate_to_second();
        let key = self.key_for(secret, now.date(), region);
        SigningTime { key, now }
    }
}

/// A signing moment and the key of its UTC day, together: the key's date, `x-amz-date` and
/// the credential scope all come from here, so they cannot disagree.
#[derive(Clone, Copy, Debug)]
pub struct SigningTime<'a> {
    key: &'a SigningKey,
    now: UtcDateTime,
}

impl<'a> SigningTime<'a> {
    /// `None` when `key` is not the key of `now`'s day. `now` is cut to whole seconds: no
    /// SigV4 date has finer resolution, so nothing may promise a moment in between.
    pub fn new(key: &'a SigningKey, now: UtcDateTime) -> Option<Self> {
        let now = now.truncate_to_second();
        (key.day == now.date()).then_some(Self { key, now })
    }

    pub fn key(&self) -> &'a SigningKey {
        self.key
    }

    pub fn now(&self) -> UtcDateTime {
        self.now
    }

    /// `x-amz-date`.
    pub fn amz_date(&self) -> String {
        amz_date(self.now)
    }

    /// `x-amz-credential`: `{access key id}/{day}/{region}/s3/aws4_request`.
    pub fn credential(&self, access_key_id: &str) -> String {
        [access_key_id, "/", &self.key.scope].concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, utc_datetime};

    // AWS S3 API Reference, "Example: Browser-Based Upload using HTTP POST (Using AWS
    // Signature Version 4)"; the same values are in shared/vectors/aws-sigv4-post-example.json.
    const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    #[test]
    fn dates_are_formatted_as_aws_expects() {
        let when = utc_datetime!(2015-12-29 0:00);
        assert_eq!(short_date(when.date()), "20151229");
        assert_eq!(amz_date(when), "20151229T000000Z");
        assert_eq!(iso_date_time(when), "2015-12-29T00:00:00Z");
        let padded = utc_datetime!(0987-01-02 03:04:05);
        assert_eq!(amz_date(padded), "09870102T030405Z");
        assert_eq!(iso_date_time(padded), "0987-01-02T03:04:05Z");
        let last = utc_datetime!(9999-12-31 23:59:59.999);
        assert_eq!(amz_date(last), "99991231T235959Z");
    }

    /// The hand-written layouts must agree with the `time` crate's own formatter on every
    /// day of several years, leap days included. (Its formatter is a host-only dev feature.)
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn dates_match_the_time_crates_formatter() {
        use time::format_description::well_known::Rfc3339;
        let mut when = utc_datetime!(1999-12-25 23:59:58);
        while when < utc_datetime!(2033-01-03 0:00) {
            let rfc3339 = when.format(&Rfc3339).unwrap();
            assert_eq!(iso_date_time(when), rfc3339);
            let compact: String = rfc3339.chars().filter(|c| *c != '-' && *c != ':').collect();
            assert_eq!(amz_date(when), compact);
            when += time::Duration::seconds(86_400 + 3_661);
        }
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
    fn signing_time_ties_the_key_to_its_day() {
        let secret = Secret::new(EXAMPLE_SECRET);
        let key = SigningKey::derive(&secret, date!(2015 - 12 - 29), "us-east-1");
        let noon = utc_datetime!(2015-12-29 12:00:00.75);
        let at = SigningTime::new(&key, noon).unwrap();
        assert_eq!(at.amz_date(), "20151229T120000Z");
        assert_eq!(at.now(), utc_datetime!(2015-12-29 12:00));
        assert_eq!(
            at.credential("AKID"),
            "AKID/20151229/us-east-1/s3/aws4_request"
        );
        assert!(SigningTime::new(&key, utc_datetime!(2015-12-30 0:00)).is_none());
        let mut cache = SigningKeyCache::default();
        let late = cache.at(&secret, "us-east-1", utc_datetime!(2015-12-29 23:59:59.999));
        assert_eq!(late.amz_date(), "20151229T235959Z");
        assert_eq!(late.key().day(), date!(2015 - 12 - 29));
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
