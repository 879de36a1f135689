//! Presigned PUT and GET URLs for one object, what they pin, and which keys may be signed at
//! all: the pieces `"method": "PUT"` uploads, downloads and multipart parts are built from.

use std::fmt;

use crate::key::IssuedKey;
use crate::media_type::{Disposition, MediaType};
use crate::origin::Origin;
use crate::sigv4::{self, Credentials, Method, SigningTime, Subresource, UrlTarget};

/// Where a bucket's objects live: scheme, host and the path keys follow. Virtual-hosted style
/// on AWS (`https://photos.s3.us-east-1.amazonaws.com/{key}`); path style
/// (`http://127.0.0.1:9000/photos/{key}`) when asked, for buckets with dots (their virtual host
/// would not match the `*.s3` TLS certificate), and for IP or `localhost` endpoints (no
/// subdomains there).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectLocation {
    pub scheme: &'static str,
    pub host: String,
    /// Ends with `/`; the key follows it.
    pub base_path: String,
}

impl ObjectLocation {
    pub fn new(bucket: &str, region: &str, endpoint: Option<&Origin>, path_style: bool) -> Self {
        let path_style = path_style || bucket.contains('.');
        let (scheme, host, path_style) = match endpoint {
            Some(origin) => (
                origin.scheme().as_str(),
                origin.authority().to_owned(),
                path_style || origin.is_ip_or_localhost(),
            ),
            None => (
                "https",
                ["s3.", region, ".amazonaws.com"].concat(),
                path_style,
            ),
        };
        if path_style {
            let base_path = ["/", bucket, "/"].concat();
            Self {
                scheme,
                host,
                base_path,
            }
        } else {
            let host = [bucket, ".", &host].concat();
            let base_path = "/".to_owned();
            Self {
                scheme,
                host,
                base_path,
            }
        }
    }

    /// The path of `key`, not encoded (the signer encodes it).
    pub fn path_of(&self, key: &str) -> String {
        [self.base_path.as_str(), key].concat()
    }

    /// Where a browser posts a form: the bucket's URL (`https://{bucket}.s3….com/` or
    /// `{endpoint}/{bucket}`, as boto3 writes them).
    pub fn form_url(&self) -> String {
        let path = match self.base_path.as_str() {
            "/" => "/",
            path => path.trim_end_matches('/'),
        };
        [self.scheme, "://", &self.host, path].concat()
    }

    /// The object's plain URL (no signature): what a completed upload reports as its location.
    pub fn object_url(&self, key: &str) -> String {
        [
            self.scheme,
            "://",
            &self.host,
            &sigv4::uri_encode(&self.path_of(key), true),
        ]
        .concat()
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
pub(crate) fn without_query(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => [base, "?<redacted>"].concat(),
        None => url.to_owned(),
    }
}

/// What a presigned PUT pins, each a signed header, so the store refuses anything else. The
/// type, the exact size, the disposition and the cache policy are always pinned: a PUT
/// without a signed `Content-Length` would take up to 5 GiB whatever `UPLOAD_MAX_BYTES` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PutPins<'a> {
    pub content_type: &'a str,
    pub content_length: u64,
    pub content_disposition: &'a str,
    pub cache_control: &'a str,
    pub checksum_sha256: Option<&'a str>,
    /// Sign `If-None-Match: *`: the store refuses the PUT if the key holds an object, so a
    /// URL cannot replace what it uploaded (after a scan passed it, say) while it lasts.
    pub create_only: bool,
}

/// A presigned PUT for `key`.
pub(crate) fn presigned_put(
    location: &ObjectLocation,
    key: &IssuedKey,
    pins: &PutPins<'_>,
    expires_in: u64,
    credentials: &Credentials,
    at: SigningTime,
) -> SignedUrl {
    let length = pins.content_length.to_string();
    // In canonical (sorted) order, as they are signed and listed to the client.
    let mut headers: Vec<(&str, &str)> = vec![
        ("cache-control", pins.cache_control),
        ("content-disposition", pins.content_disposition),
        ("content-length", &length),
        ("content-type", pins.content_type),
    ];
    if pins.create_only {
        headers.push(("if-none-match", "*"));
    }
    if let Some(checksum) = pins.checksum_sha256 {
        headers.push(("x-amz-checksum-sha256", checksum));
    }
    presign_object(
        Method::Put,
        location,
        key,
        &headers,
        &[],
        expires_in,
        credentials,
        at,
    )
}

/// What a download answers with, whatever the object carries: `response-content-type` and
/// `response-content-disposition` are signed into its URL and S3 serves them instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ResponseOverrides {
    pub content_type: String,
    pub content_disposition: String,
}

/// A presigned GET for `key`, with the answer's type and disposition fixed.
pub(crate) fn presigned_get(
    location: &ObjectLocation,
    key: &IssuedKey,
    overrides: &ResponseOverrides,
    expires_in: u64,
    credentials: &Credentials,
    at: SigningTime,
) -> SignedUrl {
    let query = [
        (
            Subresource::ResponseContentDisposition,
            overrides.content_disposition.as_str(),
        ),
        (
            Subresource::ResponseContentType,
            overrides.content_type.as_str(),
        ),
    ];
    presign_object(
        Method::Get,
        location,
        key,
        &[],
        &query,
        expires_in,
        credentials,
        at,
    )
}

/// A presigned request for `key`: `headers` (besides `host`) must be sent exactly, and
/// `subresource` parameters (`uploads`, `uploadId`, `partNumber`, `response-*`: names in
/// lowercase, so they sort after every `X-Amz-*`) ride in the signed query.
#[allow(clippy::too_many_arguments)]
pub(crate) fn presign_object(
    method: Method,
    location: &ObjectLocation,
    key: &IssuedKey,
    headers: &[(&str, &str)],
    subresource: &[(Subresource, &str)],
    expires_in: u64,
    credentials: &Credentials,
    at: SigningTime,
) -> SignedUrl {
    let path = location.path_of(key.as_str());
    let target = UrlTarget {
        method,
        scheme: location.scheme,
        host: &location.host,
        path: &path,
        headers,
        expires_in,
    };
    SignedUrl {
        method,
        url: sigv4::presign_subresource_url(&target, subresource, credentials, at),
        headers: headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
    }
}

/// `inline; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded original>` (or
/// `attachment; …`), per RFC 6266 with RFC 5987's extended value: browsers that read
/// `filename*` show the person's own name; older ones show the fallback, where every
/// character outside printable ASCII, and `"` and `\`, becomes `_`.
pub(crate) fn content_disposition(kind: Disposition, original_name: &str) -> String {
    let mut out = String::with_capacity(original_name.len() * 4 + 44);
    out.push_str(kind.as_str());
    out.push_str("; filename=\"");
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

/// The answer a download gets for an object that carries `stored_type` and
/// `stored_disposition` (as a HEAD reported them): shown inline only when `inline` says its
/// type may be, saved otherwise. The file name comes from the stored disposition when it is
/// the one this worker wrote, else from the key.
pub(crate) fn download_overrides(
    key: &IssuedKey,
    stored_type: Option<&str>,
    stored_disposition: Option<&str>,
    inline: impl Fn(&MediaType) -> bool,
) -> ResponseOverrides {
    let media_type = stored_type
        .and_then(MediaType::parse)
        .unwrap_or_else(MediaType::octet_stream);
    let kind = if inline(&media_type) {
        Disposition::Inline
    } else {
        Disposition::Attachment
    };
    let ours = stored_disposition.and_then(|stored| {
        let (_, names) = stored.split_once(';')?;
        let printable = names.bytes().all(|b| (0x20..0x7f).contains(&b));
        (printable && names.starts_with(" filename=\"")).then_some(names)
    });
    let content_disposition = match ours {
        Some(names) => [kind.as_str(), ";", names].concat(),
        None => content_disposition(kind, key.name()),
    };
    ResponseOverrides {
        content_type: media_type.as_str().to_owned(),
        content_disposition,
    }
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
pub(crate) fn parse_checksum_sha256(value: &str) -> Result<&str, InvalidChecksum> {
    use base64::{engine::general_purpose::STANDARD, Engine as _};
    let decoded = STANDARD.decode(value).map_err(|_| InvalidChecksum)?;
    if value.len() == 44 && decoded.len() == 32 {
        Ok(value)
    } else {
        Err(InvalidChecksum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4::tests::example_credentials;
    use crate::sigv4::SigningKey;
    use base64::{engine::general_purpose::STANDARD, Engine as _};
    use time::macros::utc_datetime;

    fn origin(raw: &str) -> Origin {
        Origin::parse(raw).unwrap()
    }

    fn issued(key: &str) -> IssuedKey {
        IssuedKey::check(key, "uploads/", None).unwrap()
    }

    const KEY: &str = "uploads/0b7e0c2a-0000-4000-8000-000000000000/a-b.txt";

    #[test]
    fn locations_follow_addressing_rules() {
        let table = [
            (
                "photos",
                None,
                false,
                "https://photos.s3.us-east-1.amazonaws.com/",
                "/k",
            ),
            (
                "photos",
                None,
                true,
                "https://s3.us-east-1.amazonaws.com/photos",
                "/photos/k",
            ),
            (
                "my.photos",
                None,
                false,
                "https://s3.us-east-1.amazonaws.com/my.photos",
                "/my.photos/k",
            ),
            (
                "photos",
                Some("http://127.0.0.1:9000"),
                false,
                "http://127.0.0.1:9000/photos",
                "/photos/k",
            ),
            (
                "photos",
                Some("http://localhost:9000"),
                false,
                "http://localhost:9000/photos",
                "/photos/k",
            ),
            (
                "photos",
                Some("https://minio.example.com"),
                true,
                "https://minio.example.com/photos",
                "/photos/k",
            ),
            (
                "photos",
                Some("https://minio.example.com"),
                false,
                "https://photos.minio.example.com/",
                "/k",
            ),
            (
                "my.photos",
                Some("https://minio.example.com"),
                false,
                "https://minio.example.com/my.photos",
                "/my.photos/k",
            ),
        ];
        for (bucket, endpoint, force, form_url, path) in table {
            let endpoint = endpoint.map(origin);
            let location = ObjectLocation::new(bucket, "us-east-1", endpoint.as_ref(), force);
            assert_eq!(
                location.form_url(),
                form_url,
                "{bucket} {endpoint:?} {force}"
            );
            assert_eq!(location.path_of("k"), path, "{bucket} {endpoint:?} {force}");
        }
        let local = ObjectLocation::new(
            "photos",
            "us-east-1",
            Some(&origin("http://127.0.0.1:9000")),
            false,
        );
        assert_eq!(
            (local.scheme, local.host.as_str()),
            ("http", "127.0.0.1:9000")
        );
        assert_eq!(
            local.object_url("a b/c.txt"),
            "http://127.0.0.1:9000/photos/a%20b/c.txt"
        );
    }

    #[test]
    fn content_disposition_keeps_the_original_name() {
        assert_eq!(
            content_disposition(Disposition::Inline, "Café résumé © 2026 — 履歴書.pdf"),
            "inline; filename=\"Caf_ r_sum_ _ 2026 _ ___.pdf\"; filename*=UTF-8''Caf%C3%A9%20r%C3%A9sum%C3%A9%20%C2%A9%202026%20%E2%80%94%20%E5%B1%A5%E6%AD%B4%E6%9B%B8.pdf"
        );
        assert_eq!(
            content_disposition(Disposition::Attachment, "a\"b\\c\r\n.txt"),
            "attachment; filename=\"a_b_c__.txt\"; filename*=UTF-8''a%22b%5Cc%0D%0A.txt"
        );
    }

    #[test]
    fn downloads_show_only_safe_types_inline_whatever_the_object_carries() {
        let key = issued("uploads/0b7e0c2a-0000-4000-8000-000000000000/page.html");
        let ours = content_disposition(Disposition::Inline, "Page (1).html");
        let safe = |t: &MediaType| t.is_inline_safe();
        // A stored HTML type with an inline disposition: saved, under the stored name.
        let o = download_overrides(&key, Some("text/html"), Some(&ours), safe);
        assert_eq!(o.content_type, "text/html");
        assert!(o
            .content_disposition
            .starts_with("attachment; filename=\"Page (1).html\"; filename*="));
        // A safe type stays inline, with its stored name.
        let o = download_overrides(&key, Some("image/png"), Some(&ours), safe);
        assert!(o
            .content_disposition
            .starts_with("inline; filename=\"Page (1).html\""));
        // No type, a garbage type, or a disposition this worker did not write: octet-stream,
        // saved, named after the key.
        for (stored_type, stored_disposition) in [
            (None, None),
            (Some("text/html\r\nX: y"), Some("inline")),
            (Some("nonsense"), Some("inline; filename=\"\u{e9}.txt\"")),
            // Stored before quoted parameters were refused: a browser would read text/html.
            (Some("image/png; a=\"\",text/html,\"\""), Some("inline")),
        ] {
            let o = download_overrides(&key, stored_type, stored_disposition, safe);
            assert_eq!(o.content_type, "application/octet-stream");
            assert_eq!(
                o.content_disposition,
                "attachment; filename=\"page.html\"; filename*=UTF-8''page.html"
            );
        }
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
            // Not canonical: the last character's unused bits set (`…0=` → `…1=`).
            &format!("{}1=", &digest[..42]),
        ] {
            assert_eq!(parse_checksum_sha256(bad), Err(InvalidChecksum), "{bad:?}");
        }
        assert_eq!(
            InvalidChecksum.to_string(),
            "checksum_sha256 must be a SHA-256 digest in standard base64: 44 characters"
        );
    }

    fn overrides() -> ResponseOverrides {
        ResponseOverrides {
            content_type: "text/plain".into(),
            content_disposition: content_disposition(Disposition::Inline, "a b.txt"),
        }
    }

    #[test]
    fn debug_output_never_shows_the_signature_or_token() {
        let credentials = example_credentials(Some("FQoGZXIvYXdzEXAMPLETOKEN"));
        let now = utc_datetime!(2026-11-24 12:00);
        let key = SigningKey::derive(&credentials.secret_access_key, now.date(), "us-east-1");
        let at = SigningTime::new(&key, now).unwrap();
        let location = ObjectLocation::new("b", "us-east-1", None, false);
        let get = presigned_get(
            &location,
            &issued(KEY),
            &overrides(),
            60,
            &credentials,
            at.clone(),
        );
        assert!(get
            .url
            .contains("X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLETOKEN&"));
        let printed = format!("{get:?}");
        assert!(!printed.contains("FQoGZXIvYXdzEXAMPLETOKEN") && !printed.contains("Signature"));
        assert!(
            printed.contains(&format!(
                "https://b.s3.us-east-1.amazonaws.com/{KEY}?<redacted>"
            )),
            "{printed}"
        );
        // With a token the parameters are still in canonical order: the query as sent is the
        // query as signed.
        let (_, query) = get.url.split_once('?').unwrap();
        let (signed_part, _) = query.split_once("&X-Amz-Signature=").unwrap();
        // The same parameters in another order, sorted by `canonical_query`.
        let o = overrides();
        let params = [
            ("response-content-type", o.content_type.as_str()),
            ("X-Amz-SignedHeaders", "host"),
            ("X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLETOKEN"),
            (
                "response-content-disposition",
                o.content_disposition.as_str(),
            ),
            ("X-Amz-Expires", "60"),
            ("X-Amz-Date", "20261124T120000Z"),
            (
                "X-Amz-Credential",
                "AKIAIOSFODNN7EXAMPLE/20261124/us-east-1/s3/aws4_request",
            ),
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ];
        assert_eq!(sigv4::canonical_query(&params), signed_part);
        // Every subresource sorts after the X-Amz-* parameters (its name starts lowercase), so
        // the query written without sorting is canonical; the order given does not matter.
        let target = sigv4::UrlTarget {
            method: Method::Get,
            scheme: "https",
            host: "b.s3.amazonaws.com",
            path: "/k",
            headers: &[],
            expires_in: 60,
        };
        use sigv4::Subresource as S;
        let all = [
            S::Uploads,
            S::UploadId,
            S::PartNumber,
            S::ResponseContentType,
            S::ResponseContentDisposition,
        ];
        for subresource in all {
            assert!(subresource
                .name()
                .starts_with(|c: char| c.is_ascii_lowercase()));
        }
        let sign = |query: &[(S, &str)]| {
            sigv4::presign_subresource_url(&target, query, &credentials, at.clone())
        };
        let signed = sign(&[(S::UploadId, "a"), (S::PartNumber, "2")]);
        assert!(
            signed.contains("&partNumber=2&uploadId=a&X-Amz-Signature="),
            "{signed}"
        );
        assert_eq!(signed, sign(&[(S::PartNumber, "2"), (S::UploadId, "a")]));
    }

    #[test]
    fn a_put_signs_every_pinned_header() {
        let credentials = example_credentials(None);
        let now = utc_datetime!(2026-11-24 12:00);
        let key = SigningKey::derive(&credentials.secret_access_key, now.date(), "us-east-1");
        let at = SigningTime::new(&key, now).unwrap();
        let location = ObjectLocation::new(
            "photos",
            "us-east-1",
            Some(&origin("http://127.0.0.1:9000")),
            false,
        );
        let checksum = STANDARD.encode([1u8; 32]);
        let disposition = content_disposition(Disposition::Inline, "a b.txt");
        let pins = PutPins {
            content_type: "text/plain",
            content_length: 12,
            content_disposition: &disposition,
            cache_control: "private, max-age=3600",
            checksum_sha256: Some(&checksum),
            create_only: false,
        };
        let put = presigned_put(
            &location,
            &issued(KEY),
            &pins,
            600,
            &credentials,
            at.clone(),
        );
        assert!(put
            .url
            .starts_with(&format!("http://127.0.0.1:9000/photos/{KEY}?")));
        assert!(put.url.contains(
            "X-Amz-SignedHeaders=cache-control%3Bcontent-disposition%3Bcontent-length%3Bcontent-type%3Bhost%3Bx-amz-checksum-sha256"
        ));
        let names: Vec<&str> = put.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "cache-control",
                "content-disposition",
                "content-length",
                "content-type",
                "x-amz-checksum-sha256"
            ]
        );
        let get = presigned_get(&location, &issued(KEY), &overrides(), 60, &credentials, at);
        assert_eq!(get.method, Method::Get);
        assert!(get
            .url
            .contains("X-Amz-Expires=60&X-Amz-SignedHeaders=host&response-content-disposition=inline%3B%20filename%3D%22a%20b.txt%22"));
        assert!(get
            .url
            .contains("&response-content-type=text%2Fplain&X-Amz-Signature="));
        assert!(get.headers.is_empty());
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::fuzz_cases()))]

        /// The original name of any file becomes an ASCII-only header value, and a download's
        /// disposition is inline only for a type the rule calls safe.
        #[test]
        fn dispositions_are_ascii_and_inline_only_when_safe(
            name in any::<String>(),
            stored_type in any::<String>(),
        ) {
            for kind in [Disposition::Inline, Disposition::Attachment] {
                let disposition = content_disposition(kind, &crate::key::display_name(&name));
                prop_assert!(disposition.bytes().all(|b| (0x20..0x7f).contains(&b)), "{}", disposition);
            }
            let key = IssuedKey::issue("uploads/", None, "x.bin", [5; 16]).unwrap();
            let o = download_overrides(&key, Some(&stored_type), None, |t| t.is_inline_safe());
            let served = MediaType::parse(&o.content_type).unwrap();
            prop_assert_eq!(o.content_disposition.starts_with("inline;"), served.is_inline_safe());
        }
    }
}
