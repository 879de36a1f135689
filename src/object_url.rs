//! Presigned PUT and GET URLs for one object, and what they pin: the pieces issue 10's routes
//! (`"method": "PUT"` uploads, `GET /downloads/{key}`) are built from. Plain Rust, tested
//! natively; the routes are not wired into the worker yet.

use std::fmt;

use base64::{engine::general_purpose::STANDARD, Engine as _};

use crate::sigv4::{self, Credentials, Method, SigningTime, UrlTarget};

/// Where objects live, split out of the form's upload URL: `https://photos.s3.us-east-1.amazonaws.com/`
/// is host `photos.s3.us-east-1.amazonaws.com` and base path `/`; `http://127.0.0.1:9000/photos`
/// is host `127.0.0.1:9000` and base path `/photos/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectLocation {
    pub scheme: String,
    pub host: String,
    /// Ends with `/`; the key follows it.
    pub base_path: String,
}

impl ObjectLocation {
    /// `None` for a URL that is not `scheme://host[/path]`.
    pub fn from_upload_url(upload_url: &str) -> Option<Self> {
        let (scheme, rest) = crate::config::split_scheme(upload_url)?;
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if host.is_empty() {
            return None;
        }
        let base_path = match path.trim_end_matches('/') {
            "" => "/".to_owned(),
            path => [path, "/"].concat(),
        };
        Some(Self {
            scheme: scheme.to_owned(),
            host: host.to_owned(),
            base_path,
        })
    }

    /// The path of `key`, not encoded (the signer encodes it).
    pub fn path_of(&self, key: &str) -> String {
        [self.base_path.as_str(), key].concat()
    }
}

/// A presigned URL and the headers the client must send with it, exactly.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedUrl {
    pub method: Method,
    pub url: String,
    /// Each signed header besides `host`, as the client must send it.
    pub headers: Vec<(String, String)>,
}

/// The query (signature, and the STS token when there is one) stays out of `Debug` output,
/// and so out of any log.
impl fmt::Debug for SignedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedUrl")
            .field("method", &self.method)
            .field("url", &without_query(&self.url))
            .field("headers", &self.headers)
            .finish()
    }
}

/// `url` up to its query, marked as cut: for `Debug` output of presigned URLs.
pub fn without_query(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => [base, "?<redacted>"].concat(),
        None => url.to_owned(),
    }
}

/// What a presigned PUT pins (each a signed header, so the store refuses anything else).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PutPins<'a> {
    pub content_type: Option<&'a str>,
    /// The exact size: with it only that many bytes are accepted. Without it a PUT can bound
    /// nothing (unlike a POST policy's size range).
    pub content_length: Option<u64>,
    pub checksum_sha256: Option<&'a str>,
    pub content_disposition: Option<&'a str>,
}

/// A presigned PUT for `key`.
pub fn presigned_put(
    location: &ObjectLocation,
    key: &str,
    pins: &PutPins<'_>,
    expires_in: u64,
    credentials: &Credentials,
    at: SigningTime<'_>,
) -> SignedUrl {
    let length = pins.content_length.map(|n| n.to_string());
    let mut headers: Vec<(&str, &str)> = Vec::new();
    if let Some(disposition) = pins.content_disposition {
        headers.push(("content-disposition", disposition));
    }
    if let Some(length) = &length {
        headers.push(("content-length", length));
    }
    if let Some(content_type) = pins.content_type {
        headers.push(("content-type", content_type));
    }
    if let Some(checksum) = pins.checksum_sha256 {
        headers.push(("x-amz-checksum-sha256", checksum));
    }
    signed(
        Method::Put,
        location,
        key,
        &headers,
        expires_in,
        credentials,
        at,
    )
}

/// A presigned GET for `key`.
pub fn presigned_get(
    location: &ObjectLocation,
    key: &str,
    expires_in: u64,
    credentials: &Credentials,
    at: SigningTime<'_>,
) -> SignedUrl {
    signed(Method::Get, location, key, &[], expires_in, credentials, at)
}

fn signed(
    method: Method,
    location: &ObjectLocation,
    key: &str,
    headers: &[(&str, &str)],
    expires_in: u64,
    credentials: &Credentials,
    at: SigningTime<'_>,
) -> SignedUrl {
    let path = location.path_of(key);
    let target = UrlTarget {
        method,
        scheme: &location.scheme,
        host: &location.host,
        path: &path,
        headers,
        expires_in,
    };
    SignedUrl {
        method,
        url: sigv4::presign_url(&target, credentials, at),
        headers: headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
    }
}

/// `inline; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded original>`
/// (RFC 6266 with RFC 5987's extended value): browsers that read `filename*` show the
/// person's own name; older ones show the fallback, where every character outside printable
/// ASCII, and `"` and `\`, becomes `_`.
pub fn content_disposition(original_name: &str) -> String {
    let mut out = String::with_capacity(original_name.len() * 4 + 40);
    out.push_str("inline; filename=\"");
    out.extend(original_name.chars().map(|c| match c {
        ' '..='~' if c != '"' && c != '\\' => c,
        _ => '_',
    }));
    out.push_str("\"; filename*=UTF-8''");
    // RFC 5987 attr-char: ALPHA / DIGIT / "!#$&+-.^_`|~"; everything else is %XX.
    sigv4::percent_encode_into(&mut out, original_name, |byte| {
        byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte)
    });
    out
}

/// Why a `checksum_sha256` is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidChecksum;

impl fmt::Display for InvalidChecksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("checksum_sha256 must be a SHA-256 digest in standard base64: 44 characters")
    }
}

/// A file's SHA-256 as S3's `x-amz-checksum-sha256` carries it: standard padded base64 of the
/// 32-byte digest, exactly 44 characters.
pub fn parse_checksum_sha256(value: &str) -> Result<&str, InvalidChecksum> {
    let decoded = STANDARD.decode(value).map_err(|_| InvalidChecksum)?;
    if value.len() == 44 && decoded.len() == 32 {
        Ok(value)
    } else {
        Err(InvalidChecksum)
    }
}

/// Why a key may not be handed out for download.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRefusal {
    /// Empty, `..` or empty segments, control characters, or longer than S3 allows.
    Malformed,
    /// Not under `UPLOAD_PREFIX` (and the caller's own segment, with auth).
    OutsidePrefix,
}

/// Longest S3 object key, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// Checks that `key` is one this worker could have issued: well formed, and shaped as
/// `{prefix}[{segment}/]{uuid v4}/{name}`, the only shape `key::object_key` makes. So a key the
/// worker never issued (`uploads/report.pdf`, or anything at all with an empty prefix) is
/// refused even when it lies under the prefix.
pub fn check_download_key(
    key: &str,
    prefix: &str,
    segment: Option<&str>,
) -> Result<(), KeyRefusal> {
    let malformed = key.is_empty()
        || key.len() > MAX_KEY_BYTES
        || key.starts_with('/')
        || key.chars().any(char::is_control)
        || key
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..");
    if malformed {
        return Err(KeyRefusal::Malformed);
    }
    let mut rest = key.strip_prefix(prefix).ok_or(KeyRefusal::OutsidePrefix)?;
    if let Some(segment) = segment {
        rest = rest
            .strip_prefix(segment)
            .and_then(|after| after.strip_prefix('/'))
            .ok_or(KeyRefusal::OutsidePrefix)?;
    }
    let issued = rest
        .split_once('/')
        .is_some_and(|(id, name)| !name.contains('/') && is_hyphenated_v4(id));
    if issued {
        Ok(())
    } else {
        Err(KeyRefusal::OutsidePrefix)
    }
}

/// `xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx` in lowercase hex: how `key::object_key` writes
/// the random part of every key. A shape check, not a parser (the `uuid` crate's parser costs
/// 0.9 KiB of gzip wasm); a test holds it equal to the crate's own reading.
fn is_hyphenated_v4(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            14 => c == b'4',
            19 => matches!(c, b'8' | b'9' | b'a' | b'b'),
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4::tests::example_credentials;
    use crate::sigv4::SigningKey;
    use time::macros::utc_datetime;

    #[test]
    fn locations_split_virtual_and_path_style_urls() {
        let virtual_host =
            ObjectLocation::from_upload_url("https://photos.s3.us-east-1.amazonaws.com/").unwrap();
        assert_eq!(virtual_host.host, "photos.s3.us-east-1.amazonaws.com");
        assert_eq!(virtual_host.path_of("uploads/a b.txt"), "/uploads/a b.txt");
        let path_style = ObjectLocation::from_upload_url("http://127.0.0.1:9000/photos").unwrap();
        assert_eq!(
            (path_style.scheme.as_str(), path_style.host.as_str()),
            ("http", "127.0.0.1:9000")
        );
        assert_eq!(path_style.path_of("k"), "/photos/k");
        assert_eq!(ObjectLocation::from_upload_url("nonsense"), None);
    }

    #[test]
    fn content_disposition_keeps_the_original_name() {
        assert_eq!(
            content_disposition("Café résumé © 2026 — 履歴書.pdf"),
            "inline; filename=\"Caf_ r_sum_ _ 2026 _ ___.pdf\"; filename*=UTF-8''Caf%C3%A9%20r%C3%A9sum%C3%A9%20%C2%A9%202026%20%E2%80%94%20%E5%B1%A5%E6%AD%B4%E6%9B%B8.pdf"
        );
        assert_eq!(
            content_disposition("a\"b\\c\r\n.txt"),
            "inline; filename=\"a_b_c__.txt\"; filename*=UTF-8''a%22b%5Cc%0D%0A.txt"
        );
    }

    #[test]
    fn checksums_are_44_base64_characters_of_32_bytes() {
        let digest = STANDARD.encode([7u8; 32]);
        assert_eq!(parse_checksum_sha256(&digest), Ok(digest.as_str()));
        for bad in [
            "",
            "abc",
            &STANDARD.encode([7u8; 31]),
            &STANDARD.encode([7u8; 33]),
            &digest.replace('=', ""),
            &format!("{digest} "),
            &digest.replace('B', "-"),
        ] {
            assert_eq!(parse_checksum_sha256(bad), Err(InvalidChecksum), "{bad:?}");
        }
    }

    /// What `uuid` itself reads as a v4 UUID written lowercase and hyphenated.
    fn crate_says_hyphenated_v4(id: &str) -> bool {
        uuid::Uuid::try_parse(id).is_ok_and(|uuid| {
            uuid.get_version_num() == 4
                && uuid.get_variant() == uuid::Variant::RFC4122
                && uuid
                    .hyphenated()
                    .encode_lower(&mut uuid::Uuid::encode_buffer())
                    == id
        })
    }

    #[test]
    fn the_uuid_shape_check_agrees_with_the_uuid_crate() {
        for seed in 0u8..=255 {
            let key = crate::key::object_key("", "a.txt", [seed; 16]).unwrap();
            let id = key.split('/').next().unwrap();
            assert!(is_hyphenated_v4(id) && crate_says_hyphenated_v4(id), "{id}");
            // Every single-character change is judged alike by both.
            for i in 0..id.len() {
                for c in ['0', '4', '8', 'a', 'b', 'f', 'g', 'A', '-', '{'] {
                    let mut changed = id.to_owned();
                    changed.replace_range(i..=i, &c.to_string());
                    assert_eq!(
                        is_hyphenated_v4(&changed),
                        crate_says_hyphenated_v4(&changed),
                        "{changed}"
                    );
                }
            }
        }
        for other in [
            "",
            "0b7e0c2a000040008000000000000000",
            "urn:uuid:0b7e0c2a-0000-4000-8000-000000000000",
        ] {
            assert!(!is_hyphenated_v4(other) && !crate_says_hyphenated_v4(other));
        }
    }

    #[test]
    fn download_keys_stay_inside_the_prefix_and_segment() {
        let ok = "uploads/alice/0b7e0c2a-0000-4000-8000-000000000000/cat.png";
        assert_eq!(check_download_key(ok, "uploads/alice/", None), Ok(()));
        assert_eq!(check_download_key(ok, "uploads/", Some("alice")), Ok(()));
        let unsegmented = "uploads/0b7e0c2a-0000-4000-8000-000000000000/cat.png";
        assert_eq!(check_download_key(unsegmented, "uploads/", None), Ok(()));
        assert_eq!(
            check_download_key(unsegmented, "", None),
            Err(KeyRefusal::OutsidePrefix)
        );
        let table = [
            // Under the prefix, but not a shape the worker issues.
            ("uploads/report.pdf", None, KeyRefusal::OutsidePrefix),
            (ok, None, KeyRefusal::OutsidePrefix),
            (
                "uploads/0b7e0c2a-0000-4000-8000-000000000000/a/b.png",
                None,
                KeyRefusal::OutsidePrefix,
            ),
            (
                "uploads/0B7E0C2A-0000-4000-8000-000000000000/cat.png",
                None,
                KeyRefusal::OutsidePrefix,
            ),
            (
                "uploads/0b7e0c2a-0000-1000-8000-000000000000/cat.png",
                None,
                KeyRefusal::OutsidePrefix,
            ),
            (
                "uploads/0b7e0c2a000040008000000000000000/cat.png",
                None,
                KeyRefusal::OutsidePrefix,
            ),
            ("other/cat.png", None, KeyRefusal::OutsidePrefix),
            (ok, Some("bob"), KeyRefusal::OutsidePrefix),
            (
                "uploads/alice2/x/cat.png",
                Some("alice"),
                KeyRefusal::OutsidePrefix,
            ),
            ("uploads/../secrets", None, KeyRefusal::Malformed),
            ("uploads//cat.png", None, KeyRefusal::Malformed),
            ("uploads/a\u{0}b", None, KeyRefusal::Malformed),
            ("/uploads/cat.png", None, KeyRefusal::Malformed),
            ("", None, KeyRefusal::Malformed),
        ];
        for (key, segment, refusal) in table {
            assert_eq!(
                check_download_key(key, "uploads/", segment),
                Err(refusal),
                "{key}"
            );
        }
        assert_eq!(
            check_download_key(&format!("uploads/{}", "a".repeat(1100)), "uploads/", None),
            Err(KeyRefusal::Malformed)
        );
    }

    #[test]
    fn debug_output_never_shows_the_signature_or_token() {
        let credentials = example_credentials(Some("FQoGZXIvYXdzEXAMPLETOKEN"));
        let now = utc_datetime!(2026-11-24 12:00);
        let key = SigningKey::derive(&credentials.secret_access_key, now.date(), "us-east-1");
        let at = SigningTime::new(&key, now).unwrap();
        let location = ObjectLocation::from_upload_url("https://b.s3.amazonaws.com/").unwrap();
        let get = presigned_get(&location, "k", 60, &credentials, at);
        assert!(get
            .url
            .contains("X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLETOKEN&"));
        let printed = format!("{get:?}");
        assert!(!printed.contains("FQoGZXIvYXdzEXAMPLETOKEN") && !printed.contains("Signature"));
        assert!(
            printed.contains("https://b.s3.amazonaws.com/k?<redacted>"),
            "{printed}"
        );
        // With a token the parameters are still in canonical order: the query as sent is the
        // query as signed.
        let (_, query) = get.url.split_once('?').unwrap();
        let (signed_part, _) = query.split_once("&X-Amz-Signature=").unwrap();
        // The same parameters in another order, sorted by `canonical_query`.
        let params = [
            ("X-Amz-SignedHeaders", "host"),
            ("X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLETOKEN"),
            ("X-Amz-Expires", "60"),
            ("X-Amz-Date", "20261124T120000Z"),
            (
                "X-Amz-Credential",
                "AKIAIOSFODNN7EXAMPLE/20261124/us-east-1/s3/aws4_request",
            ),
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ];
        assert_eq!(sigv4::canonical_query(&params), signed_part);
        // A subresource that would sort before the X-Amz-* parameters is refused, not signed
        // out of order.
        let target = sigv4::UrlTarget {
            method: Method::Get,
            scheme: "https",
            host: "b.s3.amazonaws.com",
            path: "/k",
            headers: &[],
            expires_in: 60,
        };
        let signed =
            sigv4::presign_subresource_url(&target, &[("uploadId", "a")], &credentials, at);
        assert!(signed.unwrap().contains("&uploadId=a&X-Amz-Signature="));
        for name in ["UploadId", "", "A"] {
            assert_eq!(
                sigv4::presign_subresource_url(&target, &[(name, "a")], &credentials, at),
                None
            );
        }
    }

    #[test]
    fn a_put_signs_every_pinned_header() {
        let credentials = example_credentials(None);
        let now = utc_datetime!(2026-11-24 12:00);
        let key = SigningKey::derive(&credentials.secret_access_key, now.date(), "us-east-1");
        let at = SigningTime::new(&key, now).unwrap();
        let location = ObjectLocation::from_upload_url("http://127.0.0.1:9000/photos").unwrap();
        let checksum = STANDARD.encode([1u8; 32]);
        let disposition = content_disposition("a b.txt");
        let put = presigned_put(
            &location,
            "uploads/x/a-b.txt",
            &PutPins {
                content_type: Some("text/plain"),
                content_length: Some(12),
                checksum_sha256: Some(&checksum),
                content_disposition: Some(&disposition),
            },
            600,
            &credentials,
            at,
        );
        assert!(put
            .url
            .starts_with("http://127.0.0.1:9000/photos/uploads/x/a-b.txt?"));
        assert!(put.url.contains(
            "X-Amz-SignedHeaders=content-disposition%3Bcontent-length%3Bcontent-type%3Bhost%3Bx-amz-checksum-sha256"
        ));
        let names: Vec<&str> = put.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "content-disposition",
                "content-length",
                "content-type",
                "x-amz-checksum-sha256"
            ]
        );
        let get = presigned_get(&location, "uploads/x/a-b.txt", 60, &credentials, at);
        assert_eq!(get.method, Method::Get);
        assert!(get
            .url
            .contains("X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature="));
        assert!(get.headers.is_empty());
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::fuzz_cases()))]

        /// Every key the worker issues can be downloaded; anything it accepts is shaped as
        /// an issued key (so never escapes the prefix), and the original name of any file
        /// becomes an ASCII-only header value.
        #[test]
        fn issued_keys_and_only_issued_shapes_are_downloadable(
            name in any::<String>(),
            random in any::<[u8; 16]>(),
            probe in any::<String>(),
        ) {
            if let Ok(key) = crate::key::object_key("uploads/", &name, random) {
                prop_assert_eq!(check_download_key(&key, "uploads/", None), Ok(()));
            }
            // A probe under an issued-looking prefix, so acceptance is actually exercised.
            let issued_id = crate::key::object_key("", "x", random).unwrap();
            let probe = format!("uploads/{}{probe}", issued_id.trim_end_matches('x'));
            if check_download_key(&probe, "uploads/", None).is_ok() {
                let rest = probe.strip_prefix("uploads/").unwrap();
                let (id, last) = rest.split_once('/').unwrap();
                prop_assert!(is_hyphenated_v4(id) && !last.is_empty() && !last.contains('/'));
                prop_assert!(last != ".." && last != "." && !last.chars().any(char::is_control));
            }
            let disposition = content_disposition(&crate::key::display_name(&name));
            prop_assert!(disposition.bytes().all(|b| (0x20..0x7f).contains(&b)), "{}", disposition);
        }
    }
}
