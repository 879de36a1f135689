//! The S3 calls the worker makes itself (HeadObject for downloads; Create, ListParts,
//! Complete and Abort for multipart uploads), signed in their `Authorization` header, and the
//! XML documents they exchange. Plain Rust: the shell sends each [`S3Request`] and hands the
//! answer back to be read here.
//!
//! The documents are read and written by hand rather than with an XML crate: the worker only
//! needs a few fields of a few answers and writes one fixed shape, and every byte of an XML
//! parser would be paid in the wasm at every cold start.

use std::fmt;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use crate::key::IssuedKey;
use crate::object_url::ObjectLocation;
use crate::sigv4::{self, Credentials, HeaderTarget, Method, SigningTime};
use crate::text::find;

/// S3 numbers parts from 1 to 10,000.
pub const MAX_PART_NUMBER: u16 = 10_000;
/// Longest upload ID accepted back from a client. S3's are far shorter; the bound only keeps
/// an opaque token from becoming an unbounded one.
pub const MAX_UPLOAD_ID_BYTES: usize = 1024;
/// Most parts one CompleteMultipartUpload may list.
pub const MAX_PARTS: usize = MAX_PART_NUMBER as usize;
/// SHA-256 of nothing: the payload hash of a request without a body.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A part number as a client sends it (`"7"`): 1 to 10,000, digits only, no leading zero.
pub fn parse_part_number(raw: &str) -> Option<u16> {
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

pub fn is_upload_id(id: &str) -> bool {
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

    /// HeadObject: the stored type and disposition a download is judged by.
    pub fn head_object(&self, key: &IssuedKey) -> S3Request {
        self.request(Method::Head, key, &[], &[], String::new())
    }

    /// CreateMultipartUpload with the headers the object will be stored with.
    pub fn create_multipart_upload(
        &self,
        key: &IssuedKey,
        headers: &[(&'static str, &str)],
    ) -> S3Request {
        self.request(
            Method::Post,
            key,
            &[("uploads", "")],
            headers,
            String::new(),
        )
    }

    /// One page of ListParts, from `marker` (the last part number of the previous page).
    pub fn list_parts(&self, key: &IssuedKey, id: &UploadId, marker: Option<u16>) -> S3Request {
        let marker = marker.map(|m| m.to_string());
        // S3's largest page, asked for by name: ten pages then hold every part there can be.
        let mut query = vec![("uploadId", id.as_str()), ("max-parts", "1000")];
        if let Some(marker) = &marker {
            query.push(("part-number-marker", marker));
        }
        self.request(Method::Get, key, &query, &[], String::new())
    }

    /// CompleteMultipartUpload of `parts` (number, ETag), in order.
    pub fn complete_multipart_upload(
        &self,
        key: &IssuedKey,
        id: &UploadId,
        parts: &[(u16, &str)],
        create_only: bool,
    ) -> S3Request {
        let query = [("uploadId", id.as_str())];
        // `If-None-Match: *`: the store refuses to complete onto an existing object.
        let headers: &[(&str, &str)] = if create_only {
            &[("content-type", "application/xml"), ("if-none-match", "*")]
        } else {
            &[("content-type", "application/xml")]
        };
        self.request(Method::Post, key, &query, headers, complete_body(parts))
    }

    pub fn abort_multipart_upload(&self, key: &IssuedKey, id: &UploadId) -> S3Request {
        let query = [("uploadId", id.as_str())];
        self.request(Method::Delete, key, &query, &[], String::new())
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
pub fn read_error(status: u16, body: &str) -> S3Error {
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

/// The `UploadId` of an `InitiateMultipartUploadResult`.
pub fn read_upload_id(xml: &str) -> Option<UploadId> {
    let result = element(xml, "InitiateMultipartUploadResult")?;
    UploadId::parse(&text(result, "UploadId")?)
}

/// A CompleteMultipartUpload answer, and the object's ETag if it names one: S3 may answer
/// 200 and still report an error in the body.
pub fn read_complete(xml: &str) -> Result<Option<String>, S3Error> {
    match element(xml, "CompleteMultipartUploadResult") {
        Some(result) => Ok(text(result, "ETag")),
        None => Err(read_error(200, xml)),
    }
}

/// The `CompleteMultipartUploadResult` the worker answers an S3 client with, as S3 would.
pub fn complete_result(location: &str, bucket: &str, key: &str, etag: Option<&str>) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str("<CompleteMultipartUploadResult>");
    let fields = [
        ("Location", Some(location)),
        ("Bucket", Some(bucket)),
        ("Key", Some(key)),
    ];
    for (name, value) in fields.into_iter().chain([("ETag", etag)]) {
        if let Some(value) = value {
            let _ = write!(xml, "<{name}>");
            escape_into(&mut xml, value);
            let _ = write!(xml, "</{name}>");
        }
    }
    xml.push_str("</CompleteMultipartUploadResult>");
    xml
}

/// S3's answer to CreateMultipartUpload, for an S3 client (`signRequest` mode) to which the
/// worker hands its own handle as the upload ID.
pub fn initiate_result(bucket: &str, key: &str, upload_id: &str) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str("<InitiateMultipartUploadResult>");
    for (name, value) in [("Bucket", bucket), ("Key", key), ("UploadId", upload_id)] {
        let _ = write!(xml, "<{name}>");
        escape_into(&mut xml, value);
        let _ = write!(xml, "</{name}>");
    }
    xml.push_str("</InitiateMultipartUploadResult>");
    xml
}

/// One uploaded part, as ListParts reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub number: u16,
    /// With its quotes, as S3 sends it and wants it back.
    pub etag: String,
    pub size: u64,
}

/// One page of a ListParts answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartsPage {
    pub parts: Vec<Part>,
    /// `Some(marker)` when S3 says there is more: ask again with `part-number-marker`.
    pub next_marker: Option<u16>,
}

/// Reads a `ListPartsResult`. `None` when it is not one, or a part lacks its number, ETag or
/// size (a page the worker cannot total must not be taken as a smaller upload).
pub fn parse_list_parts(xml: &str) -> Option<PartsPage> {
    let result = element(xml, "ListPartsResult")?;
    let mut parts = Vec::new();
    for part in parts_of(result)? {
        parts.push(Part {
            number: text(part, "PartNumber")?.parse().ok()?,
            etag: text(part, "ETag")?,
            size: text(part, "Size")?.parse().ok()?,
        });
    }
    let truncated = text(result, "IsTruncated").is_some_and(|t| t == "true");
    let next_marker = match truncated {
        true => Some(text(result, "NextPartNumberMarker")?.parse().ok()?),
        false => None,
    };
    Some(PartsPage { parts, next_marker })
}

/// ListParts pages at 1,000 parts at most (the worker asks for that many), and an upload has
/// at most 10,000.
pub const MAX_LIST_PAGES: usize = 10;

/// What to do after reading a ListParts page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextPage {
    /// That page was the last.
    Done,
    /// Ask again from this marker.
    From(u16),
    /// More is claimed, but the listing would not end: past ten pages, or a marker that does
    /// not advance. A partial list would undercount the total, so this is an error.
    Stuck,
}

/// The step after the `pages_read`th page, asked from `current`, named `next` as its marker.
pub fn next_page(pages_read: usize, current: Option<u16>, next: Option<u16>) -> NextPage {
    match next {
        None => NextPage::Done,
        Some(next) if pages_read < MAX_LIST_PAGES && Some(next) > current => NextPage::From(next),
        Some(_) => NextPage::Stuck,
    }
}

/// The bytes of all parts together, saturating (a total past `u64` is past any limit anyway).
pub fn total_bytes<'a>(parts: impl IntoIterator<Item = &'a Part>) -> u64 {
    parts
        .into_iter()
        .fold(0u64, |sum, part| sum.saturating_add(part.size))
}

/// The `<Part>` elements of `xml`, or `None` if one is not closed.
fn parts_of(xml: &str) -> Option<Vec<&str>> {
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

/// A `CompleteMultipartUpload` body as an S3 client sends it: each part's number and ETag
/// as written (the caller checks them), or `None` if it is not one.
pub fn read_complete_body(xml: &str) -> Option<Vec<(String, String)>> {
    let body = element(xml, "CompleteMultipartUpload")?;
    parts_of(body)?
        .into_iter()
        .map(|part| Some((text(part, "PartNumber")?, text(part, "ETag")?)))
        .collect()
}

/// The listed parts a completion names, each with the ETag it names (quotes aside), so the
/// total checked is the object made. `Err` is the first named part the listing lacks (not
/// uploaded, or uploaded again since). Stores list parts in any order (s3s-fs does not sort
/// them), so they are looked up by number.
pub fn named_parts<'a>(named: &[(u16, String)], listed: &'a [Part]) -> Result<Vec<&'a Part>, u16> {
    let mut by_number: Vec<Option<&Part>> = vec![None; usize::from(MAX_PART_NUMBER) + 1];
    for part in listed {
        if let Some(slot) = by_number.get_mut(usize::from(part.number)) {
            *slot = Some(part);
        }
    }
    let unquoted = |etag: &'a str| etag.trim_matches('"');
    named
        .iter()
        .map(|(number, etag)| match by_number.get(usize::from(*number)) {
            Some(Some(part)) if unquoted(&part.etag) == etag.trim_matches('"') => Ok(*part),
            _ => Err(*number),
        })
        .collect()
}

/// The `CompleteMultipartUpload` body for `(part number, ETag)` pairs, in the order given.
pub fn complete_body(parts: &[(u16, &str)]) -> String {
    let mut body = String::from("<CompleteMultipartUpload>");
    for (number, etag) in parts {
        let _ = write!(body, "<Part><PartNumber>{number}</PartNumber><ETag>");
        escape_into(&mut body, etag);
        body.push_str("</ETag></Part>");
    }
    body.push_str("</CompleteMultipartUpload>");
    body
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
fn text(xml: &str, name: &str) -> Option<String> {
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

fn escape_into(out: &mut String, text: &str) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_created_answer_is_s3s_initiate_result_with_the_handle() {
        // As AWS's CreateMultipartUpload example answers, with the worker's handle as the ID.
        let xml = initiate_result("example-bucket", "uploads/a&b.bin", "1800000000.ab.ID");
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult>\
             <Bucket>example-bucket</Bucket><Key>uploads/a&amp;b.bin</Key>\
             <UploadId>1800000000.ab.ID</UploadId></InitiateMultipartUploadResult>"
        );
        assert_eq!(read_upload_id(&xml).unwrap().as_str(), "1800000000.ab.ID");
    }

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

    fn signer_test(check: impl FnOnce(&Signer<'_>, &IssuedKey)) {
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

    /// A real answer: s3s-fs 0.17.0's ListParts after three UploadParts made with boto3
    /// (its key holds `&` and `<`, escaped in the XML).
    #[test]
    fn reads_a_real_list_parts_answer() {
        let xml = include_str!("../tests/fixtures/s3s-fs-list-parts.xml");
        let page = parse_list_parts(xml).unwrap();
        assert_eq!(page.next_marker, None);
        let summary: Vec<(u16, &str, u64)> = page
            .parts
            .iter()
            .map(|p| (p.number, p.etag.as_str(), p.size))
            .collect();
        assert_eq!(
            summary,
            [
                (1, "\"08b46181d7094b5ece88bb389c7499af\"", 5_242_880),
                (2, "\"d76f89e449720d99d4b92c79040f4882\"", 5_242_880),
                (3, "\"193d16844d1be50b489aa50379030d08\"", 1000),
            ]
        );
        assert_eq!(total_bytes(&page.parts), 10_486_760);
    }

    /// S3 pages at 1,000 parts: a truncated page names where the next one starts (s3s-fs
    /// never pages, so this one is written as S3's documentation shows it).
    #[test]
    fn a_truncated_page_names_the_next_marker() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket>
  <PartNumberMarker>1</PartNumberMarker>
  <NextPartNumberMarker>3</NextPartNumberMarker>
  <MaxParts>2</MaxParts>
  <IsTruncated>true</IsTruncated>
  <Part>
    <PartNumber>2</PartNumber>
    <ETag>&quot;7778aef83f66abc1fa1e8477f296d394&quot;</ETag>
    <Size>10485760</Size>
  </Part>
  <Part>
    <PartNumber>3</PartNumber>
    <ETag>&#34;aaaa18db4cc2f85cedef654fccc4a4x8&#x22;</ETag>
    <Size>10485760</Size>
  </Part>
</ListPartsResult>"#;
        let page = parse_list_parts(xml).unwrap();
        assert_eq!(page.next_marker, Some(3));
        assert_eq!(page.parts[0].etag, "\"7778aef83f66abc1fa1e8477f296d394\"");
        assert_eq!(page.parts[1].etag, "\"aaaa18db4cc2f85cedef654fccc4a4x8\"");
        assert_eq!(page.parts.len(), 2);
    }

    #[test]
    fn answers_that_cannot_be_totalled_are_refused() {
        for xml in [
            "",
            "<Error><Code>NoSuchUpload</Code></Error>",
            "<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>\"x\"</ETag></Part></ListPartsResult>",
            "<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>\"x\"</ETag><Size>-1</Size></Part></ListPartsResult>",
            "<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>&bogus;</ETag><Size>1</Size></Part></ListPartsResult>",
            "<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>&#+65;</ETag><Size>1</Size></Part></ListPartsResult>",
            "<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>&#x+41;</ETag><Size>1</Size></Part></ListPartsResult>",
            "<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>&#;</ETag><Size>1</Size></Part></ListPartsResult>",
            "<ListPartsResult><Part><PartNumber>1</PartNumber>",
            "<ListPartsResult><IsTruncated>true</IsTruncated></ListPartsResult>",
            "<ListPartsResultX></ListPartsResultX>",
        ] {
            assert_eq!(parse_list_parts(xml), None, "{xml}");
        }
        assert_eq!(
            parse_list_parts("<ListPartsResult></ListPartsResult>").unwrap(),
            PartsPage {
                parts: vec![],
                next_marker: None
            }
        );
        let huge = Part {
            number: 1,
            etag: String::new(),
            size: u64::MAX,
        };
        assert_eq!(total_bytes(&[huge.clone(), huge]), u64::MAX);
    }

    #[test]
    fn the_complete_body_lists_parts_with_escaped_etags() {
        assert_eq!(
            complete_body(&[(1, "\"a1\""), (2, "\"b<2>&\"")]),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;a1&quot;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;b&lt;2&gt;&amp;&quot;</ETag></Part></CompleteMultipartUpload>"
        );
        // What the body escapes, the reader unescapes.
        let page = parse_list_parts(
            "<ListPartsResult><Part><PartNumber>2</PartNumber><ETag>&quot;b&lt;2&gt;&amp;&quot;</ETag><Size>1</Size></Part></ListPartsResult>",
        )
        .unwrap();
        assert_eq!(page.parts[0].etag, "\"b<2>&\"", "escaping round-trips");
        let all = "&<>\"'";
        let body = complete_body(&[(1, all)]);
        assert!(
            body.contains("<ETag>&amp;&lt;&gt;&quot;&apos;</ETag>"),
            "{body}"
        );
        assert_eq!(
            read_complete_body(&body).unwrap(),
            [("1".into(), all.into())]
        );
        assert_eq!(
            read_complete_body("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&#39;&#x27;</ETag></Part></CompleteMultipartUpload>").unwrap(),
            [("1".into(), "''".into())]
        );
    }

    fn part(number: u16, etag: &str, size: u64) -> Part {
        Part {
            number,
            etag: etag.into(),
            size,
        }
    }

    #[test]
    fn a_completion_names_listed_parts_with_their_etags() {
        let listed = [
            part(1, "\"a\"", 5),
            part(2, "\"b\"", 6),
            part(4, "\"d\"", 7),
        ];
        let named = |list: &[(u16, &str)]| -> Vec<(u16, String)> {
            list.iter().map(|(n, e)| (*n, (*e).to_owned())).collect()
        };
        // Quotes or none, as browsers and S3 write them; parts may be left out.
        let chosen = named_parts(&named(&[(1, "a"), (4, "\"d\"")]), &listed).unwrap();
        assert_eq!(chosen, [&listed[0], &listed[2]]);
        assert_eq!(
            named_parts(&named(&[(2, "b")]), &listed).unwrap(),
            [&listed[1]]
        );
        // A part not uploaded, or uploaded again since it was listed (another ETag).
        assert_eq!(named_parts(&named(&[(1, "a"), (3, "c")]), &listed), Err(3));
        assert_eq!(named_parts(&named(&[(2, "x")]), &listed), Err(2));
        assert_eq!(named_parts(&named(&[(5, "e")]), &listed), Err(5));
        assert_eq!(named_parts(&named(&[(1, "a")]), &[]), Err(1));
        // In whatever order the store lists them.
        let shuffled = [part(4, "\"d\"", 7), part(1, "\"a\"", 5)];
        let chosen = named_parts(&named(&[(1, "a"), (4, "d")]), &shuffled).unwrap();
        assert_eq!(chosen, [&shuffled[1], &shuffled[0]]);
    }

    #[test]
    fn an_s3_clients_completion_is_read_and_answered_as_s3_would() {
        // What @uppy/aws-s3 6.x's S3mini sends (ETags as the browser read them, unquoted).
        let body = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a1</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;b2&quot;</ETag></Part></CompleteMultipartUpload>";
        assert_eq!(
            read_complete_body(body).unwrap(),
            [("1".into(), "a1".into()), ("2".into(), "\"b2\"".into())]
        );
        // And what the worker itself writes.
        let ours = complete_body(&[(7, "\"x\"")]);
        assert_eq!(
            read_complete_body(&ours).unwrap(),
            [("7".into(), "\"x\"".into())]
        );
        for bad in [
            "",
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
            "<CompleteMultipartUpload><Part><ETag>a</ETag></Part></CompleteMultipartUpload>",
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag>",
            "<CompleteMultipartUpload><Part></Part></CompleteMultipartUpload>",
            "<Other/>",
        ] {
            assert_eq!(read_complete_body(bad), None, "{bad}");
        }
        assert_eq!(
            complete_result("http://s/b/k%26", "b", "k&", Some("\"e-2\"")),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult><Location>http://s/b/k%26</Location><Bucket>b</Bucket><Key>k&amp;</Key><ETag>&quot;e-2&quot;</ETag></CompleteMultipartUploadResult>"
        );
        assert!(!complete_result("l", "b", "k", None).contains("ETag"));
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

    #[test]
    fn a_parts_listing_ends_or_is_an_error() {
        assert_eq!(next_page(1, None, None), NextPage::Done);
        assert_eq!(next_page(1, None, Some(1000)), NextPage::From(1000));
        assert_eq!(next_page(9, Some(8000), Some(9000)), NextPage::From(9000));
        assert_eq!(next_page(10, Some(9000), None), NextPage::Done);
        // Ten pages hold every part there can be: an eleventh is a store that will not end.
        assert_eq!(next_page(10, Some(9000), Some(10_000)), NextPage::Stuck);
        // A marker that stays or goes back would list the same parts again, forever.
        assert_eq!(next_page(2, Some(1000), Some(1000)), NextPage::Stuck);
        assert_eq!(next_page(2, Some(1000), Some(999)), NextPage::Stuck);
    }
}
