//! The S3 calls the worker makes itself (HeadObject for downloads; Create, ListParts,
//! Complete and Abort for multipart uploads), signed in their `Authorization` header, and the
//! XML documents they exchange. Plain Rust: the shell sends each [`S3Request`] and hands the
//! answer back to be read here. This file holds what every action shares (the signer, the
//! error answer, the XML reader); each action is a file of its own, named as AWS names it.
//!
//! The documents are read and written by hand rather than with an XML crate: the worker only
//! needs a few fields of a few answers and writes one fixed shape, and every byte of an XML
//! parser would be paid in the wasm at every cold start.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::error::{ApiError, ErrorCode};
use crate::key::IssuedKey;
use crate::object_url::ObjectLocation;
use crate::sigv4::{self, Credentials, HeaderTarget, Method, SigningTime};
use crate::text::find;

// One file per S3 action, each with its request, the answers it reads and its tests.
mod abort_multipart_upload;
pub(crate) mod complete_multipart_upload;
pub(crate) mod create_multipart_upload;
mod delete_object;
pub(crate) mod head_object;
pub(crate) mod list_parts;

/// S3 numbers parts from 1 to 10,000.
pub(crate) const MAX_PART_NUMBER: u16 = 10_000;
/// Longest upload ID accepted back from a client. S3's are far shorter; the bound only keeps
/// an opaque token from becoming an unbounded one.
pub(crate) const MAX_UPLOAD_ID_BYTES: usize = 1024;
/// Most parts one CompleteMultipartUpload may list.
pub(crate) const MAX_PARTS: usize = MAX_PART_NUMBER as usize;
/// SHA-256 of nothing: the payload hash of a request without a body.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A part number as a client sends it (`"7"`): 1 to 10,000, digits only, no leading zero.
pub(crate) fn parse_part_number(raw: &str) -> Option<u16> {
    // Digits only (`parse` would take a `+`); a number past 65,535 fails `parse` itself.
    if raw.starts_with('0') || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse::<u16>()
        .ok()
        .filter(|n| (1..=MAX_PART_NUMBER).contains(n))
}

/// S3's opaque token for one multipart upload. The worker passes it back untouched, so it
/// only checks that it could be one: 1 to [`MAX_UPLOAD_ID_BYTES`] bytes of visible ASCII (no
/// spaces or controls, which could not have come from S3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadId(String);

impl UploadId {
    pub fn parse(id: &str) -> Option<Self> {
        is_upload_id(id).then(|| Self(id.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub(crate) fn is_upload_id(id: &str) -> bool {
    (1..=MAX_UPLOAD_ID_BYTES).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// A request the worker sends to S3, signed. `Debug` hides the signature and STS token.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Request {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl fmt::Debug for S3Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| *name).collect();
        f.debug_struct("S3Request")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &names)
            .finish_non_exhaustive()
    }
}

/// Everything a signed call needs besides what it asks.
pub struct Signer<'a> {
    pub location: &'a ObjectLocation,
    pub credentials: &'a Credentials,
    pub at: SigningTime,
}

impl Signer<'_> {
    /// `method` on `key` with `query` (names in any case; sorted and encoded here), `headers`
    /// to sign besides the ones SigV4 adds, and `body`.
    pub fn request(
        &self,
        method: Method,
        key: &IssuedKey,
        query: &[(&str, &str)],
        headers: &[(&'static str, &str)],
        body: String,
    ) -> S3Request {
        let path = self.location.path_of(key.as_str());
        let payload_sha256 = if body.is_empty() {
            EMPTY_SHA256.to_owned()
        } else {
            hex::encode(Sha256::digest(body.as_bytes()))
        };
        let target = HeaderTarget {
            method,
            host: &self.location.host,
            path: &path,
            query,
            headers,
            payload_sha256: &payload_sha256,
        };
        let added = sigv4::sign_headers(&target, self.credentials, self.at.clone());
        let mut url = [
            self.location.scheme,
            "://",
            &self.location.host,
            &sigv4::uri_encode(&path, true),
        ]
        .concat();
        if !query.is_empty() {
            url.push('?');
            url.push_str(&sigv4::canonical_query(query));
        }
        let mut all: Vec<(&'static str, String)> = headers
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned()))
            .collect();
        all.extend(added);
        S3Request {
            method,
            url,
            headers: all,
            body,
        }
    }
}

/// What an S3 error answer says, by its `<Code>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum S3Error {
    /// The upload ID is unknown: completed, aborted, expired or never there.
    NoSuchUpload,
    NoSuchKey,
    /// The worker's credentials may not do this (a setup problem, not the caller's).
    AccessDenied,
    /// A part other than the last is below S3's 5 MiB minimum.
    EntityTooSmall,
    /// A listed part is missing, its ETag differs, or the list is out of order.
    InvalidPart,
    /// `If-None-Match: *` held: an object is already there.
    PreconditionFailed,
    /// Anything else S3 answered, with its status and code.
    Other {
        status: u16,
        code: String,
    },
}

/// Reads an answer that is not a success: its `<Code>` (a HEAD answer has no body, so its
/// status alone speaks).
pub(crate) fn read_error(status: u16, body: &str) -> S3Error {
    let code = text(body, "Code").unwrap_or_default();
    match code.as_str() {
        "NoSuchUpload" => S3Error::NoSuchUpload,
        "NoSuchKey" => S3Error::NoSuchKey,
        "" if status == 404 => S3Error::NoSuchKey,
        "AccessDenied" | "SignatureDoesNotMatch" | "InvalidAccessKeyId" | "ExpiredToken" => {
            S3Error::AccessDenied
        }
        "" if status == 403 => S3Error::AccessDenied,
        "EntityTooSmall" => S3Error::EntityTooSmall,
        "InvalidPart" | "InvalidPartOrder" => S3Error::InvalidPart,
        "PreconditionFailed" => S3Error::PreconditionFailed,
        "" if status == 412 => S3Error::PreconditionFailed,
        _ => S3Error::Other { status, code },
    }
}

/// The `<Part>` elements of `xml`, or `None` if one is not closed.
pub(super) fn parts_of(xml: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let mut rest = xml;
    while let Some(start) = find(rest, "<Part>") {
        let after = &rest[start + "<Part>".len()..];
        let end = find(after, "</Part>")?;
        parts.push(&after[..end]);
        rest = &after[end + "</Part>".len()..];
    }
    Some(parts)
}

/// The content of the first `<name ...>...</name>` in `xml`.
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = find(xml, &["<", name].concat())?;
    let after_name = &xml[open + 1 + name.len()..];
    // `<Name>` or `<Name attr="...">`, not `<NameLonger>`.
    if !after_name.starts_with(['>', ' ']) {
        return None;
    }
    let content = &after_name[after_name.find('>')? + 1..];
    let close = find(content, &["</", name, ">"].concat())?;
    Some(&content[..close])
}

/// An element's text with XML's five entities and numeric references resolved.
pub(super) fn text(xml: &str, name: &str) -> Option<String> {
    let raw = element(xml, name)?;
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let entity_end = rest[amp..].find(';')? + amp;
        let entity = &rest[amp + 1..entity_end];
        let resolved = match entity {
            "quot" => '"',
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "apos" => '\'',
            _ => {
                let (digits, radix) = match entity.strip_prefix("#x") {
                    Some(hex) => (hex, 16),
                    None => (entity.strip_prefix('#')?, 10),
                };
                // Digits only: `from_str_radix` alone would also take a sign (`&#+65;`).
                if !digits.chars().all(|c| c.is_digit(radix)) {
                    return None;
                }
                char::from_u32(u32::from_str_radix(digits, radix).ok()?)?
            }
        };
        out.push(resolved);
        rest = &rest[entity_end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

pub(super) fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
}

impl From<S3Error> for ApiError {
    /// Each S3 refusal with its own code; the worker's own failures (credentials S3 refuses,
    /// anything unexpected) as 502, never as the caller's fault.
    fn from(error: S3Error) -> Self {
        match error {
            S3Error::NoSuchUpload => Self::new(
                ErrorCode::UploadNotFound,
                "no such multipart upload: it was completed, aborted or has expired",
            ),
            S3Error::NoSuchKey => Self::new(
                ErrorCode::ObjectNotFound,
                "there is no object under this key",
            ),
            S3Error::EntityTooSmall => Self::new(
                ErrorCode::PartTooSmall,
                "every part but the last must be at least 5 MiB",
            ),
            S3Error::InvalidPart => Self::invalid_parts(
                "a listed part was not uploaded, its ETag differs, or the parts are out of order",
            ),
            S3Error::PreconditionFailed => Self::new(
                ErrorCode::ObjectExists,
                "an object already exists under this key, and it is not replaced",
            ),
            S3Error::AccessDenied => Self::new(
                ErrorCode::StorageRefused,
                "the storage service refused the worker's credentials for this operation",
            ),
            S3Error::Other { status, .. } if status >= 500 => Self::storage_unavailable(),
            S3Error::Other { status, code } => Self::new(
                ErrorCode::StorageError,
                format!("the storage service answered {status} {code}"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::complete_multipart_upload::read_complete;
    use super::create_multipart_upload::read_upload_id;
    use super::*;

    #[test]
    fn part_numbers_are_1_to_10000_in_plain_digits() {
        assert_eq!(parse_part_number("1"), Some(1));
        assert_eq!(parse_part_number("10000"), Some(10_000));
        for bad in [
            "",
            "0",
            "10001",
            "007",
            "+7",
            "-1",
            "7 ",
            "1e3",
            "99999999999",
            "٣",
        ] {
            assert_eq!(parse_part_number(bad), None, "{bad:?}");
        }
    }

    pub(super) fn signer_test(check: impl FnOnce(&Signer<'_>, &IssuedKey)) {
        let credentials = crate::sigv4::tests::example_credentials(None);
        let now = time::macros::utc_datetime!(2026-11-24 12:00);
        let day_key = crate::sigv4::SigningKey::derive(
            &credentials.secret_access_key,
            now.date(),
            "us-east-1",
        );
        let origin = crate::origin::Origin::parse("http://127.0.0.1:9000").unwrap();
        let location = ObjectLocation::new("photos", "us-east-1", Some(&origin), false);
        let signer = Signer {
            location: &location,
            credentials: &credentials,
            at: SigningTime::new(&day_key, now).unwrap(),
        };
        let key = IssuedKey::check(
            "uploads/0b7e0c2a-0000-4000-8000-000000000000/a b.txt",
            "uploads/",
            None,
        )
        .unwrap();
        check(&signer, &key);
    }

    fn header<'r>(request: &'r S3Request, name: &str) -> Option<&'r str> {
        request
            .headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn requests_are_addressed_and_signed_in_their_headers() {
        signer_test(|signer, key| {
            let object = "http://127.0.0.1:9000/photos/uploads/0b7e0c2a-0000-4000-8000-000000000000/a%20b.txt";
            let head = signer.head_object(key);
            assert_eq!((head.method, head.url.as_str()), (Method::Head, object));
            assert_eq!(header(&head, "x-amz-content-sha256"), Some(EMPTY_SHA256));
            let auth = header(&head, "authorization").unwrap();
            assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261124/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature="), "{auth}");
            let printed = format!("{head:?}");
            assert!(!printed.contains("Signature="), "{printed}");

            let id = UploadId::parse("u-1").unwrap();
            let create = signer.create_multipart_upload(key, &[("content-type", "text/plain")]);
            assert_eq!(create.url, format!("{object}?uploads="));
            assert!(header(&create, "authorization")
                .unwrap()
                .contains("SignedHeaders=content-type;host;"));
            let list = signer.list_parts(key, &id, Some(1000));
            assert_eq!(
                list.url,
                format!("{object}?max-parts=1000&part-number-marker=1000&uploadId=u-1")
            );
            let complete = signer.complete_multipart_upload(key, &id, &[(1, "\"e\"")], true);
            assert_eq!(complete.method, Method::Post);
            assert_eq!(header(&complete, "if-none-match"), Some("*"));
            assert!(header(&complete, "authorization")
                .unwrap()
                .contains("SignedHeaders=content-type;host;if-none-match;"));
            let overwrite = signer.complete_multipart_upload(key, &id, &[(1, "\"e\"")], false);
            assert_eq!(header(&overwrite, "if-none-match"), None);
            assert_eq!(
                header(&complete, "x-amz-content-sha256").unwrap(),
                hex::encode(Sha256::digest(complete.body.as_bytes()))
            );
            let checked = signer.head_object_with_checksum(key);
            assert_eq!(header(&checked, "x-amz-checksum-mode"), Some("ENABLED"));
            assert!(header(&checked, "authorization")
                .unwrap()
                .contains("SignedHeaders=host;x-amz-checksum-mode;"));
            let delete = signer.delete_object(key, "9b2c");
            assert_eq!(
                (delete.method, delete.url.as_str()),
                (Method::Delete, object)
            );
            let abort = signer.abort_multipart_upload(key, &id);
            assert_eq!(
                (abort.method, abort.url.as_str()),
                (Method::Delete, format!("{object}?uploadId=u-1").as_str())
            );
        });
    }

    #[test]
    fn errors_are_read_by_their_code() {
        let error = |code: &str| {
            format!("<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>m</Message></Error>")
        };
        assert_eq!(
            read_error(404, &error("NoSuchUpload")),
            S3Error::NoSuchUpload
        );
        assert_eq!(
            read_error(403, &error("AccessDenied")),
            S3Error::AccessDenied
        );
        assert_eq!(
            read_error(412, &error("PreconditionFailed")),
            S3Error::PreconditionFailed
        );
        assert_eq!(read_error(412, ""), S3Error::PreconditionFailed);
        assert_eq!(
            read_error(403, &error("SignatureDoesNotMatch")),
            S3Error::AccessDenied
        );
        assert_eq!(
            read_error(400, &error("EntityTooSmall")),
            S3Error::EntityTooSmall
        );
        assert_eq!(
            read_error(400, &error("InvalidPartOrder")),
            S3Error::InvalidPart
        );
        assert_eq!(
            read_error(404, ""),
            S3Error::NoSuchKey,
            "a HEAD has no body"
        );
        assert_eq!(read_error(403, ""), S3Error::AccessDenied);
        assert_eq!(read_error(404, &error("NoSuchKey")), S3Error::NoSuchKey);
        assert_eq!(
            read_error(500, ""),
            S3Error::Other {
                status: 500,
                code: String::new()
            },
            "no body and no telling status: nothing to read"
        );
        assert_eq!(
            read_error(503, &error("SlowDown")),
            S3Error::Other {
                status: 503,
                code: "SlowDown".into()
            }
        );
    }

    #[test]
    fn initiate_and_complete_answers_are_read() {
        // S3 API Reference, CreateMultipartUpload, "Example 1" response.
        let initiated = r#"<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket>
  <Key>example-object</Key>
  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
</InitiateMultipartUploadResult>"#;
        assert_eq!(
            read_upload_id(initiated).unwrap().as_str(),
            "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"
        );
        assert_eq!(read_upload_id("<InitiateMultipartUploadResult><UploadId>a b</UploadId></InitiateMultipartUploadResult>"), None);
        assert_eq!(
            read_upload_id("<Error><Code>AccessDenied</Code></Error>"),
            None
        );
        let completed =
            "<CompleteMultipartUploadResult><Location>x</Location></CompleteMultipartUploadResult>";
        assert_eq!(read_complete(completed), Ok(None));
        let with_etag = "<CompleteMultipartUploadResult><ETag>&quot;3858f6-2&quot;</ETag></CompleteMultipartUploadResult>";
        assert_eq!(read_complete(with_etag), Ok(Some("\"3858f6-2\"".into())));
        // S3 can answer 200 OK and still fail the completion.
        let failed = "<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code></Error>";
        assert_eq!(
            read_complete(failed),
            Err(S3Error::Other {
                status: 200,
                code: "InternalError".into()
            })
        );
        assert_eq!(
            read_complete("<Error><Code>InvalidPart</Code></Error>"),
            Err(S3Error::InvalidPart)
        );
    }

    #[test]
    fn upload_ids_are_bounded_visible_ascii() {
        assert_eq!(UploadId::parse("a b"), None);
        assert_eq!(UploadId::parse("ok").unwrap().as_str(), "ok");
        assert!(is_upload_id("f66461d3-6f01-4077-80a9-d21a4ca2eb8c"));
        assert!(is_upload_id("VXBsb2FkIElE.for-6_~+/=="));
        assert!(is_upload_id(&"a".repeat(MAX_UPLOAD_ID_BYTES)));
        for bad in ["", "a b", "a\nb", "a\u{0}b", "é"] {
            assert!(!is_upload_id(bad), "{bad:?}");
        }
        assert!(!is_upload_id(&"a".repeat(MAX_UPLOAD_ID_BYTES + 1)));
    }

    #[test]
    fn a_request_shows_in_debug_without_its_signature() {
        signer_test(|signer, key| {
            let shown = format!("{:?}", signer.head_object(key));
            assert!(
                shown.starts_with("S3Request { method: Head, url: \"http://"),
                "{shown}"
            );
            assert!(
                shown.contains("\"authorization\""),
                "header names are shown: {shown}"
            );
            assert!(!shown.contains("Signature="), "{shown}");
        });
    }
}
