//! AWS Signature Version 4, one small function per step: POST policies (browser forms),
//! presigned URLs (PUT, GET, multipart parts) and `Authorization` headers (the worker's own
//! calls to S3).
//!
//! For a POST policy the string to sign is the base64 policy itself, so unlike header or
//! query signing there is no canonical request: derive the key, HMAC the policy, hex it.
//! Each step is tested against the example in AWS's S3 API reference.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::{Date, UtcDateTime};

pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";
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
pub(crate) fn short_date(day: Date) -> String {
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
pub(crate) fn iso_date_time(when: UtcDateTime) -> String {
    let mut out = String::with_capacity(20);
    push_date(&mut out, when.date(), "-");
    out.push('T');
    push_time(&mut out, when, ":");
    out.push('Z');
    out
}

/// `YYYYMMDD/region/s3/aws4_request`.
pub(crate) fn credential_scope(day: Date, region: &str) -> String {
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
/// Its own small cell, so the per-isolate state around it stays read-only.
#[derive(Debug, Default)]
pub(crate) struct SigningKeyCache {
    current: RefCell<Option<Rc<SigningKey>>>,
}

impl SigningKeyCache {
    /// The key for `day` and `region`, derived only when the day or region changed.
    pub(crate) fn key_for(&self, secret: &Secret, day: Date, region: &str) -> Rc<SigningKey> {
        let mut current = self.current.borrow_mut();
        match current.as_ref() {
            Some(key) if key.day == day && key.region == region => Rc::clone(key),
            _ => Rc::clone(current.insert(Rc::new(SigningKey::derive(secret, day, region)))),
        }
    }

    /// The moment `now` (cut to whole seconds) with the key of its day.
    pub(crate) fn at(&self, secret: &Secret, region: &str, now: UtcDateTime) -> SigningTime {
        let now = now.truncate_to_second();
        let key = self.key_for(secret, now.date(), region);
        SigningTime { key, now }
    }
}

/// A signing moment and the key of its UTC day, together: the key's date, `x-amz-date` and
/// the credential scope all come from here, so they cannot disagree.
#[derive(Clone, Debug)]
pub struct SigningTime {
    key: Rc<SigningKey>,
    now: UtcDateTime,
}

impl SigningTime {
    /// `None` when `key` is not the key of `now`'s day. `now` is cut to whole seconds: no
    /// SigV4 date has finer resolution, so nothing may promise a moment in between. (Tests
    /// sign with a key of their own; the worker's come from [`SigningKeyCache::at`].)
    pub fn new(key: &SigningKey, now: UtcDateTime) -> Option<Self> {
        let now = now.truncate_to_second();
        (key.day == now.date()).then(|| Self {
            key: Rc::new(key.clone()),
            now,
        })
    }

    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    pub fn now(&self) -> UtcDateTime {
        self.now
    }

    /// `seconds` after the signing time (at most seven days: no calendar can overflow).
    pub fn after(&self, seconds: u64) -> UtcDateTime {
        let later = self.now.unix_timestamp().saturating_add_unsigned(seconds);
        UtcDateTime::from_unix_timestamp(later).unwrap_or(self.now)
    }

    /// `x-amz-date`.
    pub fn amz_date(&self) -> String {
        amz_date(self.now)
    }

    /// `x-amz-credential`: `{access key id}/{day}/{region}/s3/aws4_request`.
    pub fn credential(&self, access_key_id: &str) -> String {
        [access_key_id, "/", &self.key.scope].concat()
    }

    /// The credential scope, `{day}/{region}/s3/aws4_request`.
    pub fn scope(&self) -> &str {
        &self.key.scope
    }
}

// Query-string signing (presigned URLs): canonical request, string to sign, parameters.
// AWS S3 API Reference, "Authenticating Requests: Using Query Parameters".

/// The HTTP methods the worker signs or routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Put,
    Post,
    Delete,
}

impl Method {
    /// `POST` (a form) or `PUT` (a presigned URL), in any case: the two ways a file can go to
    /// a bucket in one request.
    pub fn parse_upload(raw: &str) -> Option<Self> {
        if raw.eq_ignore_ascii_case("POST") {
            Some(Self::Post)
        } else if raw.eq_ignore_ascii_case("PUT") {
            Some(Self::Put)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Put => "PUT",
            Self::Post => "POST",
            Self::Delete => "DELETE",
        }
    }
}

/// The payload hash of a presigned URL: the body is not known when it is signed.
pub(crate) const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// S3's URI encoding: `A-Z a-z 0-9 - _ . ~` stay, every other byte of the UTF-8 becomes
/// `%XX` (uppercase hex); `/` stays too when `keep_slash` (object key paths).
pub(crate) fn uri_encode(text: &str, keep_slash: bool) -> String {
    percent_encode(text, |byte| {
        byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && byte == b'/')
    })
}

/// Every byte of `text`'s UTF-8 that `keep` refuses becomes `%XX` (uppercase hex).
pub(crate) fn percent_encode(text: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    percent_encode_into(&mut out, text, keep);
    out
}

/// [`percent_encode`], appending to `out` (no allocation per escaped byte).
pub(crate) fn percent_encode_into(out: &mut String, text: &str, keep: impl Fn(u8) -> bool) {
    const UPPER_HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if keep(byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(UPPER_HEX[usize::from(byte >> 4)]));
            out.push(char::from(UPPER_HEX[usize::from(byte & 0x0f)]));
        }
    }
}

/// Name and value encoded, sorted by name (then value), joined with `&`.
pub(crate) fn canonical_query(params: &[(&str, &str)]) -> String {
    let mut encoded: Vec<(String, String)> = Vec::with_capacity(params.len());
    for (name, value) in params {
        insert_sorted(
            &mut encoded,
            (uri_encode(name, false), uri_encode(value, false)),
        );
    }
    let pairs: Vec<String> = encoded
        .into_iter()
        .map(|(name, value)| [name, value].join("="))
        .collect();
    pairs.join("&")
}

/// `(canonical headers, signed headers)`: names lowercased and sorted, values trimmed with
/// inner runs of spaces collapsed; each canonical line ends with a newline.
pub(crate) fn canonical_headers(headers: &[(&str, &str)]) -> (String, String) {
    let mut lines: Vec<(String, String)> = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        let value: Vec<&str> = value.split_whitespace().collect();
        insert_sorted(&mut lines, (name.to_ascii_lowercase(), value.join(" ")));
    }
    let canonical: String = lines
        .iter()
        .map(|(name, value)| [name.as_str(), ":", value, "\n"].concat())
        .collect();
    let signed: Vec<&str> = lines.iter().map(|(name, _)| name.as_str()).collect();
    (canonical, signed.join(";"))
}

/// Keeps `items` sorted. A request has a handful of parameters and headers: placing each
/// where it belongs costs a few hundred bytes of wasm less than linking a sort algorithm.
fn insert_sorted<T: Ord>(items: &mut Vec<T>, item: T) {
    let at = items.partition_point(|existing| *existing <= item);
    items.insert(at, item);
}

/// The canonical request: method, URI, query, headers, signed headers and payload hash.
pub(crate) fn canonical_request(
    method: Method,
    canonical_uri: &str,
    canonical_query: &str,
    canonical_headers: &str,
    signed_headers: &str,
    payload_hash: &str,
) -> String {
    [
        method.as_str(),
        canonical_uri,
        canonical_query,
        canonical_headers,
        signed_headers,
        payload_hash,
    ]
    .join("\n")
}

/// `AWS4-HMAC-SHA256`, the date, the scope and the hex SHA-256 of the canonical request.
pub(crate) fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    use sha2::Digest as _;
    let hash = hex::encode(Sha256::digest(canonical_request.as_bytes()));
    [ALGORITHM, amz_date, scope, &hash].join("\n")
}

/// What a presigned URL is for.
#[derive(Clone, Copy, Debug)]
pub struct UrlTarget<'a> {
    pub method: Method,
    /// `https` or `http`.
    pub scheme: &'a str,
    /// The `Host` the client will send (with a port when it is not the default).
    pub host: &'a str,
    /// The path as it is, not encoded: `/{bucket}/{key}` or `/{key}`.
    pub path: &'a str,
    /// Headers the client must send exactly, besides `host` (such as `content-type`).
    pub headers: &'a [(&'a str, &'a str)],
    /// Seconds the URL is valid, 1 to 604,800.
    pub expires_in: u64,
}

/// A presigned URL: the query carries the algorithm, credential, date, lifetime, signed
/// headers, the session token when there is one, and the signature.
pub fn presign_url(target: &UrlTarget<'_>, credentials: &Credentials, at: SigningTime) -> String {
    signed_url(target, &[], credentials, at)
}

/// The S3 subresource parameters a presigned URL may carry. Each name starts with a lowercase
/// letter, so it sorts after every `X-Amz-*` parameter: the query is written in canonical
/// order without a name that could break it ever reaching the signer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subresource {
    /// CreateMultipartUpload's `uploads` (an empty value).
    Uploads,
    UploadId,
    PartNumber,
    /// A download's answer, fixed by the URL.
    ResponseContentType,
    ResponseContentDisposition,
}

impl Subresource {
    pub const fn name(self) -> &'static str {
        match self {
            Self::Uploads => "uploads",
            Self::UploadId => "uploadId",
            Self::PartNumber => "partNumber",
            Self::ResponseContentType => "response-content-type",
            Self::ResponseContentDisposition => "response-content-disposition",
        }
    }
}

/// A presigned URL for S3 subresources, such as UploadPart's `partNumber` and `uploadId`.
pub fn presign_subresource_url(
    target: &UrlTarget<'_>,
    subresource: &[(Subresource, &str)],
    credentials: &Credentials,
    at: SigningTime,
) -> String {
    let named: Vec<(&str, &str)> = subresource.iter().map(|(s, v)| (s.name(), *v)).collect();
    signed_url(target, &named, credentials, at)
}

fn signed_url(
    target: &UrlTarget<'_>,
    subresource: &[(&str, &str)],
    credentials: &Credentials,
    at: SigningTime,
) -> String {
    let mut headers = Vec::with_capacity(target.headers.len() + 1);
    headers.push(("host", target.host));
    headers.extend_from_slice(target.headers);
    let (canonical_headers, signed_headers) = canonical_headers(&headers);

    // The query's parameters, written in canonical order (sorted by name, `Security-Token`
    // before `SignedHeaders`, lowercase subresources last) rather than sorted at run time;
    // tests in object_url.rs check the order, with a session token, against `canonical_query`.
    let amz_date = at.amz_date();
    let mut query = String::with_capacity(512);
    for (name, value) in [
        ("X-Amz-Algorithm=", ALGORITHM),
        (
            "&X-Amz-Credential=",
            &at.credential(&credentials.access_key_id),
        ),
        ("&X-Amz-Date=", &amz_date),
        ("&X-Amz-Expires=", &target.expires_in.to_string()),
        (
            "&X-Amz-Security-Token=",
            credentials
                .session_token
                .as_ref()
                .map_or("", Secret::expose),
        ),
        ("&X-Amz-SignedHeaders=", &signed_headers),
    ] {
        if !value.is_empty() {
            query.push_str(name);
            query.push_str(&uri_encode(value, false));
        }
    }
    if !subresource.is_empty() {
        query.push('&');
        query.push_str(&canonical_query(subresource));
    }
    let uri = uri_encode(target.path, true);
    let request = canonical_request(
        target.method,
        &uri,
        &query,
        &canonical_headers,
        &signed_headers,
        UNSIGNED_PAYLOAD,
    );
    let signature = at
        .key()
        .sign(&string_to_sign(&amz_date, at.scope(), &request));
    [
        target.scheme,
        "://",
        target.host,
        &uri,
        "?",
        &query,
        "&X-Amz-Signature=",
        &signature,
    ]
    .concat()
}

/// A request the worker itself sends to S3, signed in its `Authorization` header (AWS S3 API
/// Reference, "Authenticating Requests: Using the Authorization Header"): HEAD before a
/// download, and the multipart calls (CreateMultipartUpload, ListParts, Complete, Abort).
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeaderTarget<'a> {
    pub method: Method,
    /// The `Host` the request goes to (with a port when it is not the default).
    pub host: &'a str,
    /// The path as it is, not encoded.
    pub path: &'a str,
    /// Query parameters, not encoded (`uploads` has an empty value).
    pub query: &'a [(&'a str, &'a str)],
    /// Headers to sign besides `host`, `x-amz-date` and `x-amz-content-sha256`.
    pub headers: &'a [(&'a str, &'a str)],
    /// Hex SHA-256 of the body (`e3b0c4...` for none).
    pub payload_sha256: &'a str,
}

/// The headers to add to the request: `x-amz-date`, `x-amz-content-sha256`, the session token
/// when there is one, and `authorization`.
pub(crate) fn sign_headers(
    target: &HeaderTarget<'_>,
    credentials: &Credentials,
    at: SigningTime,
) -> Vec<(&'static str, String)> {
    let amz_date = at.amz_date();
    let mut added = vec![
        ("x-amz-content-sha256", target.payload_sha256.to_owned()),
        ("x-amz-date", amz_date.clone()),
    ];
    if let Some(token) = &credentials.session_token {
        added.push(("x-amz-security-token", token.expose().to_owned()));
    }
    let mut headers: Vec<(&str, &str)> = vec![("host", target.host)];
    headers.extend_from_slice(target.headers);
    headers.extend(added.iter().map(|(name, value)| (*name, value.as_str())));
    let (canonical_headers, signed_headers) = canonical_headers(&headers);
    let request = canonical_request(
        target.method,
        &uri_encode(target.path, true),
        &canonical_query(target.query),
        &canonical_headers,
        &signed_headers,
        target.payload_sha256,
    );
    let signature = at
        .key()
        .sign(&string_to_sign(&amz_date, at.scope(), &request));
    let authorization = [
        ALGORITHM,
        " Credential=",
        &at.credential(&credentials.access_key_id),
        ",SignedHeaders=",
        &signed_headers,
        ",Signature=",
        &signature,
    ]
    .concat();
    added.push(("authorization", authorization));
    added
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// AWS's documented example credentials, with an optional session token.
    pub(crate) fn example_credentials(session_token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            session_token: session_token.map(Secret::new),
        }
    }

    /// AWS's published header-signing examples (S3 API Reference, "Examples: Signature
    /// Calculations in AWS Signature Version 4"), each reproduced to the signature.
    #[test]
    fn header_signing_reproduces_the_aws_examples() {
        use time::macros::utc_datetime;
        let credentials = example_credentials(None);
        let now = utc_datetime!(2013-05-24 00:00);
        let key = SigningKey::derive(&credentials.secret_access_key, now.date(), "us-east-1");
        let at = SigningTime::new(&key, now).unwrap();
        const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let host = "examplebucket.s3.amazonaws.com";
        let cases: [(HeaderTarget, &str, &str); 3] = [
            (
                HeaderTarget {
                    method: Method::Get,
                    host,
                    path: "/test.txt",
                    query: &[],
                    headers: &[("Range", "bytes=0-9")],
                    payload_sha256: EMPTY,
                },
                "host;range;x-amz-content-sha256;x-amz-date",
                "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            ),
            (
                HeaderTarget {
                    method: Method::Get,
                    host,
                    path: "/",
                    query: &[("lifecycle", "")],
                    headers: &[],
                    payload_sha256: EMPTY,
                },
                "host;x-amz-content-sha256;x-amz-date",
                "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
            ),
            (
                HeaderTarget {
                    method: Method::Get,
                    host,
                    path: "/",
                    query: &[("max-keys", "2"), ("prefix", "J")],
                    headers: &[],
                    payload_sha256: EMPTY,
                },
                "host;x-amz-content-sha256;x-amz-date",
                "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
            ),
        ];
        for (target, signed, signature) in cases {
            let headers = sign_headers(&target, &credentials, at.clone());
            let authorization = &headers
                .iter()
                .find(|(n, _)| *n == "authorization")
                .unwrap()
                .1;
            assert_eq!(
                authorization,
                &format!("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders={signed},Signature={signature}"),
                "{:?}",
                target.query
            );
        }
    }
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

    /// AWS S3 API Reference, "Authenticating Requests: Using Query Parameters", its example:
    /// GET /test.txt on examplebucket, 2013-05-24, valid 86,400 seconds.
    #[test]
    fn presigned_url_matches_the_aws_example() {
        let credentials = example_credentials(None);
        let key = SigningKey::derive(
            &credentials.secret_access_key,
            date!(2013 - 05 - 24),
            "us-east-1",
        );
        let at = SigningTime::new(&key, utc_datetime!(2013-05-24 0:00)).unwrap();
        let query = canonical_query(&[
            ("X-Amz-Algorithm", ALGORITHM),
            (
                "X-Amz-Credential",
                "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request",
            ),
            ("X-Amz-Date", "20130524T000000Z"),
            ("X-Amz-Expires", "86400"),
            ("X-Amz-SignedHeaders", "host"),
        ]);
        assert_eq!(
            query,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        );
        let (headers, signed) = canonical_headers(&[("Host", "examplebucket.s3.amazonaws.com")]);
        let request = canonical_request(
            Method::Get,
            "/test.txt",
            &query,
            &headers,
            &signed,
            UNSIGNED_PAYLOAD,
        );
        assert_eq!(
            request,
            format!("GET\n/test.txt\n{query}\nhost:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD")
        );
        assert_eq!(
            string_to_sign("20130524T000000Z", at.scope(), &request),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04"
        );
        let url = presign_url(
            &UrlTarget {
                method: Method::Get,
                scheme: "https",
                host: "examplebucket.s3.amazonaws.com",
                path: "/test.txt",
                headers: &[],
                expires_in: 86_400,
            },
            &credentials,
            at,
        );
        assert_eq!(
            url,
            format!("https://examplebucket.s3.amazonaws.com/test.txt?{query}&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        );
    }

    #[test]
    fn uri_encoding_follows_s3s_rules() {
        assert_eq!(uri_encode("a b+c~d=e/f", true), "a%20b%2Bc~d%3De/f");
        assert_eq!(uri_encode("a b+c~d=e/f", false), "a%20b%2Bc~d%3De%2Ff");
        assert_eq!(uri_encode("Café", true), "Caf%C3%A9");
        assert_eq!(uri_encode("-_.~AZaz09", false), "-_.~AZaz09");
        let (canonical, signed) =
            canonical_headers(&[("Host", "h"), ("Content-Type", "  image/png ;  a=b ")]);
        assert_eq!(canonical, "content-type:image/png ; a=b\nhost:h\n");
        assert_eq!(signed, "content-type;host");
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
        let cache = SigningKeyCache::default();
        let late = cache.at(&secret, "us-east-1", utc_datetime!(2015-12-29 23:59:59.999));
        assert_eq!(late.amz_date(), "20151229T235959Z");
        assert_eq!(late.key().day(), date!(2015 - 12 - 29));
    }

    #[test]
    fn cache_rederives_only_when_the_day_or_region_changes() {
        let secret = Secret::new(EXAMPLE_SECRET);
        let cache = SigningKeyCache::default();
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
            Rc::new(SigningKey::derive(
                &secret,
                date!(2015 - 12 - 30),
                "us-east-1"
            ))
        );
        let other_region = cache
            .key_for(&secret, date!(2015 - 12 - 30), "eu-west-1")
            .clone();
        assert_eq!(other_region.region(), "eu-west-1");
        assert_ne!(other_region, next_day);
    }
}
