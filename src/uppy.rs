//! `@uppy/aws-s3` 6.x's two contracts, read from the plugin's own source
//! (`src/s3-client/CompanionS3.ts` and `types.ts`): the Companion S3 routes it calls with
//! `companionEndpoint`, and the request and answer of its `signRequest` option. Requests in,
//! JSON answers out; the shell does the S3 calls.

use crate::error::{ApiError, ErrorCode};
use crate::json::{self, Members as _, Object, Value};
use crate::presign::{SignedUpload, Upload, UploadRequest};
use crate::routes::{percent_decode, query_param};
use crate::s3::list_parts::Part;
use crate::s3::{parse_part_number, MAX_PARTS};
use crate::sigv4::{uri_encode, Method};
use crate::upload_handle::{Handle, UrlGrant};

/// A new file: its name and, when the browser knows them, its type and size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NewFile {
    pub file_name: String,
    pub content_type: Option<String>,
    /// A size given up front lets a multipart upload over the limit be refused before any
    /// part is sent (Uppy sends none; `client.js` does).
    pub size: Option<u64>,
    /// The upload profile (`UPLOAD_PROFILES`) it names; `None`: the default.
    pub profile: Option<String>,
}

impl NewFile {
    /// The upload request `/uploads` would get, without a size: `method` POST for Companion's
    /// `putObject` (it always posts a form, whose range bounds the size), `None` for
    /// `signRequest` (the store's default: a form, or on R2 a PUT, which needs a size).
    pub(crate) fn upload_request(&self, method: Option<Method>) -> UploadRequest {
        UploadRequest {
            file_name: self.file_name.clone(),
            content_type: self.content_type.clone(),
            method,
            profile: self.profile.clone(),
            ..UploadRequest::default()
        }
    }
}

fn invalid_file_name() -> ApiError {
    ApiError::new(ErrorCode::InvalidFileName, "filename is required")
}

/// An empty `type` is no type (Uppy sends `""` for files the browser could not type).
fn content_type(raw: Option<&str>) -> Option<String> {
    raw.filter(|t| !t.is_empty()).map(str::to_owned)
}

/// `GET /s3/params?filename=…&type=…&metadata[name]=…`: metadata is not stored (it would
/// be a way to write unchecked headers onto objects); only `metadata[profile]` is read.
pub(crate) fn params_request(query: &str) -> Result<NewFile, ApiError> {
    let file_name = query_param(query, "filename").ok_or_else(invalid_file_name)?;
    let content_type = content_type(query_param(query, "type").as_deref());
    Ok(NewFile {
        file_name,
        content_type,
        size: None,
        profile: query_param(query, "metadata[profile]"),
    })
}

/// A profile name from `value`'s `profile` member, or its `metadata.profile` (Uppy sends a
/// file's meta there).
fn profile_member(value: &Value) -> Result<Option<String>, ApiError> {
    let from_metadata = value.get("metadata").and_then(|m| m.get("profile"));
    match value.get("profile").or(from_metadata) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(name)) => Ok(Some(name.clone())),
        Some(_) => Err(crate::upload_error::UploadError::UnknownProfile.into()),
    }
}

/// `POST /s3/multipart` with `{filename, type, metadata}`, and optionally `size`.
pub(crate) fn create_request(body: &[u8]) -> Result<NewFile, ApiError> {
    let value = crate::api::parse_object(body)?;
    let file_name = match value.get("filename") {
        Some(Value::String(name)) => name.clone(),
        _ => return Err(invalid_file_name()),
    };
    let content_type = match value.get("type") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) => content_type(Some(t)),
        Some(_) => return Err(crate::upload_error::UploadError::MalformedContentType.into()),
    };
    let size = match value.get("size") {
        None | Some(Value::Null) => None,
        Some(size) => Some(json::whole(size).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidSize,
                "size must be a whole number of bytes",
            )
        })?),
    };
    Ok(NewFile {
        file_name,
        content_type,
        size,
        profile: profile_member(&value)?,
    })
}

/// The upload's handle from its (percent-encoded) path segment.
pub(crate) fn upload_id(segment: &str) -> Result<Handle, ApiError> {
    percent_decode(segment)
        .and_then(|id| Handle::parse(&id))
        .ok_or_else(ApiError::invalid_upload_id)
}

/// A part's `size` query parameter (`client.js` sends it; Uppy does not), to be signed.
pub(crate) fn part_size(query: &str) -> Result<Option<u64>, ApiError> {
    match query_param(query, "size") {
        None => Ok(None),
        Some(size) => size.parse().map(Some).map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidSize,
                "size must be a whole number of bytes",
            )
        }),
    }
}

/// The terms and `signature` a worker URL carries (see [`worker_url`]).
pub(crate) fn url_grant(query: &str) -> Result<(UrlGrant, String), ApiError> {
    let number = |name| query_param(query, name).and_then(|n| n.parse().ok());
    let (limit, expires) = (number("limit"), number("expires"));
    let signature = query_param(query, "signature");
    let (Some(limit), Some(expires), Some(signature)) = (limit, expires, signature) else {
        return Err(ApiError::new(
            ErrorCode::UploadNotAllowed,
            "this URL is not one the worker issued",
        ));
    };
    let grant = UrlGrant {
        limit,
        sub: query_param(query, "sub"),
        expires: i64::try_from(expires).unwrap_or(i64::MAX),
    };
    Ok((grant, signature))
}

/// A part number as JSON carries it, `7` or `"7"`: both read by S3's one rule
/// ([`parse_part_number`]), so `7.0`, `-1` and `"07"` are refused alike.
fn json_part_number(value: &Value) -> Option<u16> {
    match value {
        Value::String(n) => parse_part_number(n),
        Value::Number(n) => parse_part_number(&n.to_string()),
        _ => None,
    }
}

pub(crate) fn part_number(segment: &str) -> Result<u16, ApiError> {
    parse_part_number(segment).ok_or_else(ApiError::invalid_part_number)
}

/// The `key` query parameter every route on an existing upload carries.
pub(crate) fn key_param(query: &str) -> Result<String, ApiError> {
    query_param(query, "key").ok_or_else(ApiError::invalid_key)
}

/// `POST /s3/multipart/{uploadId}/complete` from Companion mode: `{parts: [{PartNumber, ETag}]}`.
pub(crate) fn complete_request(body: &[u8]) -> Result<Vec<(u16, String)>, ApiError> {
    let value = crate::api::parse_object_up_to(body, crate::api::MAX_COMPLETE_BODY_BYTES)?;
    let Some(Value::Array(parts)) = value.get("parts") else {
        return Err(ApiError::invalid_parts("parts must be a list"));
    };
    let read = parts.iter().map(|part| {
        let number = part.get("PartNumber").and_then(json_part_number);
        (number, part.text("ETag").ok().flatten())
    });
    checked_parts(read)
}

/// The same completion as an S3 client sends it to S3 (`signRequest` mode: the worker's
/// `/s3/sign` points the completion at this route, so that the worker completes it).
pub(crate) fn complete_request_xml(body: &[u8]) -> Result<Vec<(u16, String)>, ApiError> {
    let parts = std::str::from_utf8(body)
        .ok()
        .and_then(crate::s3::complete_multipart_upload::read_complete_body)
        .ok_or_else(|| ApiError::invalid_parts("the body is no CompleteMultipartUpload"))?;
    let read = parts
        .iter()
        .map(|(number, etag)| (parse_part_number(number), Some(etag.as_str())));
    checked_parts(read)
}

/// 1 to 10,000 parts in ascending order, each with a number and a plausible ETag.
fn checked_parts<'a>(
    parts: impl ExactSizeIterator<Item = (Option<u16>, Option<&'a str>)>,
) -> Result<Vec<(u16, String)>, ApiError> {
    if !(1..=MAX_PARTS).contains(&parts.len()) {
        return Err(ApiError::invalid_parts("parts must list 1 to 10000 parts"));
    }
    let mut read: Vec<(u16, String)> = Vec::with_capacity(parts.len());
    for (number, etag) in parts {
        let number = number.filter(|n| (1..=crate::s3::MAX_PART_NUMBER).contains(n));
        let (Some(number), Some(etag)) = (number, etag) else {
            return Err(ApiError::invalid_parts(
                "each part needs a PartNumber from 1 to 10000 and an ETag",
            ));
        };
        if etag.is_empty() || etag.len() > 1024 || !etag.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ApiError::invalid_parts("an ETag is malformed"));
        }
        if read.last().is_some_and(|(last, _)| *last >= number) {
            return Err(ApiError::invalid_parts(
                "parts must be listed in ascending PartNumber order",
            ));
        }
        read.push((number, etag.to_owned()));
    }
    Ok(read)
}

/// A worker URL `signRequest` hands out (`worker` is its origin and `BASE_PATH`; `action`
/// `created` or `complete`): the browser calls it without a token, so it carries its terms
/// and their `signature`. A completion goes to the worker, never to a presigned
/// CompleteMultipartUpload, which would let the browser upload more parts after the total
/// was checked and complete them.
pub(crate) fn worker_url(
    worker: &str,
    handle: &Handle,
    action: &str,
    key: &str,
    grant: &UrlGrant,
    signature: &str,
) -> String {
    let (id, key) = (uri_encode(handle.as_str(), false), uri_encode(key, false));
    let (limit, expires) = (grant.limit.to_string(), grant.expires.to_string());
    let mut url = [
        worker,
        "/s3/multipart/",
        &id,
        "/",
        action,
        "?key=",
        &key,
        "&limit=",
        &limit,
    ]
    .concat();
    if let Some(sub) = &grant.sub {
        url.push_str("&sub=");
        url.push_str(&uri_encode(sub, false));
    }
    [&url, "&expires=", &expires, "&signature=", signature].concat()
}

/// What Uppy's `signRequest` asks to have signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SignOp {
    /// A whole file (`PUT` without `uploadId`): the worker chooses the key.
    PutObject(NewFile),
    /// CreateMultipartUpload (`POST` without `uploadId`): the worker chooses the key.
    CreateMultipart(NewFile),
    UploadPart {
        key: String,
        id: Handle,
        part: u16,
    },
    ListParts {
        key: String,
        id: Handle,
    },
    Complete {
        key: String,
        id: Handle,
    },
    Abort {
        key: String,
        id: Handle,
    },
}

/// `{method, key, uploadId?, partNumber?, contentType?}`. The `key` Uppy sends for a new file
/// is its own guess (`{uuid}-{name}` by default): only the name in it is kept.
pub(crate) fn sign_request(body: &[u8]) -> Result<SignOp, ApiError> {
    let value = crate::api::parse_object(body)?;
    let text = |name: &str| value.text(name).ok().flatten();
    let method = text("method").unwrap_or_default();
    let key = text("key")
        .filter(|k| !k.is_empty())
        .ok_or_else(ApiError::invalid_key)?;
    let id = match value.get("uploadId") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(Handle::parse(id).ok_or_else(ApiError::invalid_upload_id)?),
        Some(_) => return Err(ApiError::invalid_upload_id()),
    };
    let part = match value.get("partNumber") {
        None | Some(Value::Null) => None,
        Some(n) => Some(json_part_number(n).ok_or_else(ApiError::invalid_part_number)?),
    };
    let profile = profile_member(&value)?;
    let new_file = || NewFile {
        file_name: without_uppy_id(key).to_owned(),
        content_type: content_type(text("contentType")),
        size: None,
        profile,
    };
    let key = key.to_owned();
    Ok(match (method, id, part) {
        ("PUT", None, None) => SignOp::PutObject(new_file()),
        ("POST", None, None) => SignOp::CreateMultipart(new_file()),
        ("PUT", Some(id), Some(part)) => SignOp::UploadPart { key, id, part },
        ("GET", Some(id), None) => SignOp::ListParts { key, id },
        ("POST", Some(id), None) => SignOp::Complete { key, id },
        ("DELETE", Some(id), None) => SignOp::Abort { key, id },
        _ => {
            return Err(ApiError::new(
                ErrorCode::MethodNotSupported,
                "signRequest signs PutObject, CreateMultipartUpload, UploadPart, ListParts, CompleteMultipartUpload and AbortMultipartUpload only",
            ))
        }
    })
}

/// `{uuid}-{name}` → `name`: the key `@uppy/aws-s3` makes up by default.
fn without_uppy_id(key: &str) -> &str {
    let looks_like_uuid = key.len() > 37
        && key.as_bytes()[36] == b'-'
        && key[..36].bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    if looks_like_uuid {
        &key[37..]
    } else {
        key
    }
}

/// `{method: "POST", url, fields, expires}` for `/s3/params`.
pub(crate) fn params_answer(upload: &Upload, expires_seconds: u64) -> String {
    let answer = match &upload.signed {
        SignedUpload::Form(form) => Object::new()
            .text("method", "POST")
            .text("url", &form.url)
            .strings("fields", &form.fields),
        SignedUpload::Put(_) => Object::new(),
    };
    answer.number("expires", expires_seconds).finish()
}

/// `{key, uploadId, bucket}` for a created multipart upload.
pub(crate) fn created_answer(key: &str, id: &Handle, bucket: &str) -> String {
    Object::new()
        .text("key", key)
        .text("uploadId", id.as_str())
        .text("bucket", bucket)
        .finish()
}

/// `{url, expires}` for a presigned part.
pub(crate) fn part_answer(url: &str, expires_seconds: u64) -> String {
    Object::new()
        .text("url", url)
        .number("expires", expires_seconds)
        .finish()
}

/// `[{PartNumber, Size, ETag}]` for ListParts.
pub(crate) fn parts_answer(parts: &[Part]) -> String {
    json::list(parts.iter().map(|part| {
        Object::new()
            .number("PartNumber", u64::from(part.number))
            .number("Size", part.size)
            .text("ETag", &part.etag)
            .finish()
    }))
}

/// `{location, key, bucket}` for a completed upload.
pub(crate) fn completed_answer(location: &str, key: &str, bucket: &str) -> String {
    Object::new()
        .text("location", location)
        .text("key", key)
        .text("bucket", bucket)
        .finish()
}

/// `signRequest`'s answer: `{url, key?, headers?}` for a presigned request, or
/// `{url, key, fields}` for a POST form (`fields.key` is what Uppy stores under).
pub(crate) fn signed_answer(
    url: &str,
    key: Option<&str>,
    headers: &[(String, String)],
    fields: Option<&[(String, String)]>,
) -> String {
    let mut answer = Object::new().text("url", url);
    if let Some(key) = key {
        answer = answer.text("key", key);
    }
    // Browsers refuse to set these, and Uppy's contract says not to list them.
    let settable: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| name != "content-length" && name != "host")
        .cloned()
        .collect();
    if !settable.is_empty() {
        answer = answer.strings("headers", &settable);
    }
    if let Some(fields) = fields {
        answer = answer.strings("fields", fields);
    }
    answer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value as Json};

    const H: &str = "1800000000.00000000000000000000000000000000.u1";

    #[test]
    fn companion_requests_are_read_as_uppy_sends_them() {
        let file =
            params_request("filename=My+cat%20(1).png&type=image%2Fpng&metadata%5Bname%5D=x")
                .unwrap();
        assert_eq!(file.file_name, "My cat (1).png");
        assert_eq!(file.content_type.as_deref(), Some("image/png"));
        assert_eq!(
            params_request("filename=a&type=").unwrap().content_type,
            None
        );
        assert_eq!(
            params_request("type=a").unwrap_err().code,
            ErrorCode::InvalidFileName
        );
        let created = create_request(br#"{"filename":"big.bin","type":"","metadata":{}}"#).unwrap();
        assert_eq!(
            (created.file_name.as_str(), created.content_type),
            ("big.bin", None)
        );
        assert_eq!(
            create_request(b"{}").unwrap_err().code,
            ErrorCode::InvalidFileName
        );
        assert_eq!(
            create_request(br#"{"filename":"a","type":5}"#)
                .unwrap_err()
                .code,
            ErrorCode::ContentTypeNotAllowed
        );
        assert_eq!(
            upload_id("1800000000.00000000000000000000000000000000.abc%2B%2F%3D")
                .unwrap()
                .as_str(),
            "1800000000.00000000000000000000000000000000.abc+/="
        );
        assert_eq!(
            upload_id("abc").unwrap_err().code,
            ErrorCode::InvalidUploadId,
            "a raw S3 upload ID is no handle"
        );
        assert_eq!(
            upload_id("a%20b").unwrap_err().code,
            ErrorCode::InvalidUploadId
        );
        assert_eq!(
            upload_id("%zz").unwrap_err().code,
            ErrorCode::InvalidUploadId
        );
        assert_eq!(part_number("10000").unwrap(), 10_000);
        assert_eq!(
            part_number("0").unwrap_err().code,
            ErrorCode::InvalidPartNumber
        );
        assert_eq!(key_param("key=uploads%2Fa").unwrap(), "uploads/a");
        assert_eq!(key_param("x=1").unwrap_err().code, ErrorCode::InvalidKey);
    }

    #[test]
    fn complete_lists_are_checked() {
        let ok = complete_request(
            br#"{"parts":[{"PartNumber":1,"ETag":"\"a\""},{"PartNumber":"2","ETag":"b"}]}"#,
        )
        .unwrap();
        assert_eq!(ok, [(1, "\"a\"".to_owned()), (2, "b".to_owned())]);
        for bad in [
            r#"{}"#,
            r#"{"parts":[]}"#,
            r#"{"parts":{}}"#,
            r#"{"parts":[{"PartNumber":0,"ETag":"a"}]}"#,
            r#"{"parts":[{"PartNumber":10001,"ETag":"a"}]}"#,
            r#"{"parts":[{"PartNumber":1}]}"#,
            r#"{"parts":[{"PartNumber":1,"ETag":""}]}"#,
            r#"{"parts":[{"PartNumber":1,"ETag":"a b"}]}"#,
            r#"{"parts":[{"PartNumber":2,"ETag":"a"},{"PartNumber":1,"ETag":"b"}]}"#,
            r#"{"parts":[{"PartNumber":1,"ETag":"a"},{"PartNumber":1,"ETag":"b"}]}"#,
        ] {
            assert_eq!(
                complete_request(bad.as_bytes()).unwrap_err().code,
                ErrorCode::InvalidParts,
                "{bad}"
            );
        }
        let many = format!(
            r#"{{"parts":[{}]}}"#,
            (1..=10_001)
                .map(|n| format!(r#"{{"PartNumber":{n},"ETag":"e"}}"#))
                .collect::<Vec<_>>()
                .join(",")
        );
        // Too many parts, or too big a body: refused either way, never read whole.
        assert!(complete_request(many.as_bytes()).is_err());
    }

    #[test]
    fn an_s3_clients_completion_is_checked_alike() {
        let xml =
            |parts: &str| format!("<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>");
        let part = |n: &str, etag: &str| {
            format!("<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>")
        };
        let ok = xml(&[part("1", "a"), part("2", "&quot;b&quot;")].concat());
        assert_eq!(
            complete_request_xml(ok.as_bytes()).unwrap(),
            [(1, "a".to_owned()), (2, "\"b\"".to_owned())]
        );
        for bad in [
            String::new(),
            "{\"parts\":[]}".to_owned(),
            xml(""),
            xml(&part("0", "a")),
            xml(&part("10001", "a")),
            xml(&part("01", "a")),
            xml(&part("1", "")),
            xml(&part("1", "a b")),
            xml(&[part("2", "a"), part("1", "b")].concat()),
            xml(&[part("1", "a"), part("1", "b")].concat()),
        ] {
            assert_eq!(
                complete_request_xml(bad.as_bytes()).unwrap_err().code,
                ErrorCode::InvalidParts,
                "{bad}"
            );
        }
        assert!(complete_request_xml(b"\xff<CompleteMultipartUpload>").is_err());
    }

    #[test]
    fn sign_requests_point_completions_at_the_worker() {
        let id = Handle::parse("1800000000.00000000000000000000000000000000.a/b+c=").unwrap();
        let mut grant = UrlGrant {
            limit: 1024,
            sub: Some("a&b".into()),
            expires: 1_800_000_600,
        };
        let url = worker_url(
            "https://w.example/api",
            &id,
            "complete",
            "uploads/u/a b&c.txt",
            &grant,
            "ff",
        );
        assert_eq!(
            url,
            "https://w.example/api/s3/multipart/1800000000.00000000000000000000000000000000.a%2Fb%2Bc%3D/complete?key=uploads%2Fu%2Fa%20b%26c.txt&limit=1024&sub=a%26b&expires=1800000600&signature=ff"
        );
        let query = url.split_once('?').unwrap().1;
        assert_eq!(url_grant(query).unwrap(), (grant.clone(), "ff".to_owned()));
        grant.sub = None;
        let url = worker_url("https://w", &id, "created", "k", &grant, "ff");
        assert!(url.contains("/created?key=k&limit=1024&expires="), "{url}");
        assert_eq!(url_grant(url.split_once('?').unwrap().1).unwrap().0, grant);
        for bad in [
            "",
            "limit=1&expires=2",
            "limit=x&expires=2&signature=s",
            "limit=1&expires=-2&signature=s",
        ] {
            assert_eq!(
                url_grant(bad).unwrap_err().code,
                ErrorCode::UploadNotAllowed,
                "{bad}"
            );
        }
    }

    #[test]
    fn part_sizes_are_whole_numbers() {
        assert_eq!(part_size("key=k").unwrap(), None);
        assert_eq!(part_size("key=k&size=5").unwrap(), Some(5));
        for bad in ["size=", "size=-1", "size=1.5", "size=x"] {
            assert_eq!(
                part_size(bad).unwrap_err().code,
                ErrorCode::InvalidSize,
                "{bad}"
            );
        }
    }

    #[test]
    fn sign_requests_map_to_operations() {
        let read = |json: &str| sign_request(json.as_bytes());
        let put = read(
            r#"{"method":"PUT","key":"0b7e0c2a-1234-4000-8000-00000000abcd-My cat.png","contentType":"image/png"}"#,
        );
        assert_eq!(
            put.unwrap(),
            SignOp::PutObject(NewFile {
                file_name: "My cat.png".into(),
                content_type: Some("image/png".into()),
                size: None,
                profile: None,
            })
        );
        let create = read(r#"{"method":"POST","key":"report.pdf"}"#).unwrap();
        assert!(
            matches!(create, SignOp::CreateMultipart(NewFile { ref file_name, .. }) if file_name == "report.pdf")
        );
        let id = Handle::parse(H).unwrap();
        assert_eq!(
            read(r#"{"method":"PUT","key":"k","uploadId":"1800000000.00000000000000000000000000000000.u1","partNumber":3}"#).unwrap(),
            SignOp::UploadPart {
                key: "k".into(),
                id: id.clone(),
                part: 3
            }
        );
        assert_eq!(
            read(r#"{"method":"GET","key":"k","uploadId":"1800000000.00000000000000000000000000000000.u1"}"#).unwrap(),
            SignOp::ListParts {
                key: "k".into(),
                id: id.clone()
            }
        );
        assert_eq!(
            read(r#"{"method":"POST","key":"k","uploadId":"1800000000.00000000000000000000000000000000.u1"}"#).unwrap(),
            SignOp::Complete {
                key: "k".into(),
                id: id.clone()
            }
        );
        assert_eq!(
            read(r#"{"method":"DELETE","key":"k","uploadId":"1800000000.00000000000000000000000000000000.u1"}"#).unwrap(),
            SignOp::Abort {
                key: "k".into(),
                id
            }
        );
        for (bad, code) in [
            (
                r#"{"method":"DELETE","key":"k"}"#,
                ErrorCode::MethodNotSupported,
            ),
            (
                r#"{"method":"PATCH","key":"k"}"#,
                ErrorCode::MethodNotSupported,
            ),
            (
                r#"{"method":"PUT","key":"k","uploadId":"1800000000.00000000000000000000000000000000.u1"}"#,
                ErrorCode::MethodNotSupported,
            ),
            (r#"{"method":"PUT"}"#, ErrorCode::InvalidKey),
            (
                r#"{"method":"PUT","key":"k","uploadId":"a b","partNumber":1}"#,
                ErrorCode::InvalidUploadId,
            ),
            (
                r#"{"method":"PUT","key":"k","uploadId":"1800000000.00000000000000000000000000000000.u1","partNumber":0}"#,
                ErrorCode::InvalidPartNumber,
            ),
            (
                r#"{"method":"PUT","key":"k","uploadId":"1800000000.00000000000000000000000000000000.u1","partNumber":1.0}"#,
                ErrorCode::InvalidPartNumber,
            ),
            (
                r#"{"method":"PUT","key":"k","uploadId":"1800000000.00000000000000000000000000000000.u1","partNumber":"01"}"#,
                ErrorCode::InvalidPartNumber,
            ),
            (r#"[]"#, ErrorCode::InvalidJson),
        ] {
            assert_eq!(read(bad).unwrap_err().code, code, "{bad}");
        }
    }

    #[test]
    fn answers_have_uppys_shapes() {
        let parts = [Part {
            number: 1,
            etag: "\"e\"".into(),
            size: 5,
        }];
        let v: Json = serde_json::from_str(&parts_answer(&parts)).unwrap();
        assert_eq!(v, json!([{"PartNumber": 1, "Size": 5, "ETag": "\"e\""}]));
        let id = Handle::parse(H).unwrap();
        let v: Json = serde_json::from_str(&created_answer("k", &id, "b")).unwrap();
        assert_eq!(v, json!({"key": "k", "uploadId": H, "bucket": "b"}));
        let v: Json = serde_json::from_str(&part_answer("https://x", 600)).unwrap();
        assert_eq!(v, json!({"url": "https://x", "expires": 600}));
        let v: Json = serde_json::from_str(&completed_answer("https://x/k", "k", "b")).unwrap();
        assert_eq!(
            v,
            json!({"location": "https://x/k", "key": "k", "bucket": "b"})
        );
        let headers = [
            ("content-length".to_owned(), "5".to_owned()),
            ("content-type".to_owned(), "image/png".to_owned()),
        ];
        let v: Json =
            serde_json::from_str(&signed_answer("https://x", Some("k"), &headers, None)).unwrap();
        assert_eq!(
            v,
            json!({"url": "https://x", "key": "k", "headers": {"content-type": "image/png"}})
        );
        let v: Json = serde_json::from_str(&signed_answer("https://x", None, &[], None)).unwrap();
        assert_eq!(v, json!({"url": "https://x"}));
    }
}
