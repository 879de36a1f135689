//! The HTTP contract in plain Rust: request bodies in, JSON bodies and error codes out.
//! The shell (`src/shell/`) only moves bytes between this module and the Workers runtime.

use time::UtcDateTime;

use crate::auth::Caller;
use crate::config::ConfigError;
use crate::error::{ApiError, EntryError, ErrorCode};
use crate::json::{self, Object, Value};
use crate::object_url::InvalidChecksum;
use crate::presign::{Download, Presigner, SignedUpload, Upload, UploadRequest};
use crate::sigv4::{iso_date_time, Method};
use crate::upload_error::UploadError;

/// Largest request body read; anything longer is refused without reading the rest.
pub(crate) const MAX_BODY_BYTES: usize = 16 * 1024;
/// Largest body of a multipart completion: its parts list runs to 10,000 parts (about 70
/// bytes each).
pub(crate) const MAX_COMPLETE_BODY_BYTES: usize = 1024 * 1024;
/// Most files one batch request may ask forms for.
pub(crate) const MAX_BATCH: usize = 20;

/// True for `application/json`, with or without parameters such as `charset`.
pub(crate) fn is_json_content_type(header: Option<&str>) -> bool {
    has_essence(header, &["application/json"])
}

/// An S3 client's request body (`signRequest` mode's completion).
pub(crate) fn is_xml_content_type(header: Option<&str>) -> bool {
    has_essence(header, &["application/xml", "text/xml"])
}

fn has_essence(header: Option<&str>, essences: &[&str]) -> bool {
    let essence = header
        .and_then(|h| h.split(';').next())
        .unwrap_or_default()
        .trim();
    essences.iter().any(|e| essence.eq_ignore_ascii_case(e))
}

fn invalid_batch() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidBatch,
        format!("files must be an array of 1 to {MAX_BATCH} objects"),
    )
}

/// A parsed `POST /uploads` body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum UploadBody {
    Single(UploadRequest),
    /// Each entry parsed on its own, so a batch can report every bad index at once.
    Batch(Vec<Result<UploadRequest, ApiError>>),
}

pub(crate) fn parse_upload_body(body: &[u8]) -> Result<UploadBody, ApiError> {
    let value = parse_object(body)?;
    let Some(files) = value.get("files") else {
        return parse_entry(&value).map(UploadBody::Single);
    };
    let Value::Array(files) = files else {
        return Err(invalid_batch());
    };
    if files.is_empty() || files.len() > MAX_BATCH {
        return Err(invalid_batch());
    }
    Ok(UploadBody::Batch(
        files
            .iter()
            .map(|entry| match entry {
                Value::Object(_) => parse_entry(entry),
                _ => Err(ApiError::invalid_json(
                    "each entry of files must be a JSON object",
                )),
            })
            .collect(),
    ))
}

/// A request body that must be one JSON object, at most [`MAX_BODY_BYTES`].
pub(crate) fn parse_object(body: &[u8]) -> Result<Value, ApiError> {
    parse_object_up_to(body, MAX_BODY_BYTES)
}

/// A request body that must be one JSON object, at most `limit` bytes.
pub(crate) fn parse_object_up_to(body: &[u8], limit: usize) -> Result<Value, ApiError> {
    if body.len() > limit {
        return Err(ApiError::body_too_large(limit));
    }
    let value = json::parse(body).map_err(|e| {
        // Where, not serde_json's wording: its messages cost wasm bytes and say little more.
        let problem = if e.eof {
            "ends early"
        } else {
            "is not valid JSON"
        };
        ApiError::invalid_json(format!(
            "request body {problem} at line {}, column {}",
            e.line, e.column
        ))
    })?;
    if !matches!(value, Value::Object(_)) {
        return Err(ApiError::invalid_json("request body must be a JSON object"));
    }
    Ok(value)
}

fn parse_entry(entry: &Value) -> Result<UploadRequest, ApiError> {
    let file_name = match entry.get("file_name") {
        Some(Value::String(name)) => name.clone(),
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::InvalidFileName,
                "file_name must be a string",
            ))
        }
        None => {
            return Err(ApiError::new(
                ErrorCode::InvalidFileName,
                "file_name is required",
            ))
        }
    };
    let content_type = match entry.get("content_type") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) => Some(t.clone()),
        Some(_) => return Err(UploadError::MalformedContentType.into()),
    };
    let size = match entry.get("size") {
        None | Some(Value::Null) => None,
        Some(size) => Some(json::whole(size).ok_or(UploadError::InvalidSize)?),
    };
    let method = match entry.get("method") {
        None | Some(Value::Null) => None,
        Some(Value::String(m)) => {
            Some(Method::parse_upload(m).ok_or(UploadError::MethodNotSupported { r2: false })?)
        }
        Some(_) => return Err(UploadError::MethodNotSupported { r2: false }.into()),
    };
    let checksum_sha256 = match entry.get("checksum_sha256") {
        None | Some(Value::Null) => None,
        Some(Value::String(c)) => Some(c.clone()),
        Some(_) => return Err(UploadError::InvalidChecksum(InvalidChecksum).into()),
    };
    let profile = match entry.get("profile") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(p.clone()),
        Some(_) => return Err(UploadError::UnknownProfile.into()),
    };
    Ok(UploadRequest {
        file_name,
        content_type,
        size,
        method,
        checksum_sha256,
        profile,
    })
}

/// The JSON answer for one upload: `{method: "POST", url, fields, key, expires_at, max_bytes}`
/// or `{method: "PUT", url, headers, key, expires_at}`.
pub(crate) fn upload_answer(upload: &Upload) -> String {
    let answer = match &upload.signed {
        SignedUpload::Form(form) => Object::new()
            .text("method", "POST")
            .text("url", &form.url)
            .strings("fields", &form.fields),
        SignedUpload::Put(put) => Object::new()
            .text("method", put.method.as_str())
            .text("url", &put.url)
            .strings("headers", &put.headers),
    };
    let answer = answer
        .text("key", upload.key.as_str())
        .text("expires_at", &iso_date_time(upload.expires_at));
    match upload.signed {
        SignedUpload::Form(_) => answer.number("max_bytes", upload.max_bytes),
        SignedUpload::Put(_) => answer,
    }
    .finish()
}

/// `POST /uploads`: parse, presign, answer. `random` is called once per file.
pub fn handle_uploads(
    presigner: &Presigner,
    body: &[u8],
    now: UtcDateTime,
    random: impl FnMut() -> [u8; 16],
) -> Result<String, ApiError> {
    handle_uploads_as(presigner, body, None, now, random).map(|(json, _)| json)
}

/// `POST /uploads` for an authenticated caller (or anyone, with `None`): keys under the
/// caller's segment, limits narrowed by the token's claims. The answer, and what was signed
/// (for the audit log).
pub(crate) fn handle_uploads_as(
    presigner: &Presigner,
    body: &[u8],
    caller: Option<&Caller>,
    now: UtcDateTime,
    mut random: impl FnMut() -> [u8; 16],
) -> Result<(String, Vec<Upload>), ApiError> {
    match parse_upload_body(body)? {
        UploadBody::Single(request) => {
            let upload = presigner.presign_as(&request, caller, now, random())?;
            Ok((upload_answer(&upload), vec![upload]))
        }
        UploadBody::Batch(entries) => {
            let mut uploads = Vec::with_capacity(entries.len());
            let mut errors = Vec::new();
            for (index, entry) in entries.into_iter().enumerate() {
                let result = entry.and_then(|request| {
                    presigner
                        .presign_as(&request, caller, now, random())
                        .map_err(ApiError::from)
                });
                match result {
                    Ok(upload) => uploads.push(upload),
                    Err(e) => errors.push(EntryError {
                        index,
                        code: e.code,
                        message: e.message,
                    }),
                }
            }
            if !errors.is_empty() {
                let mut message = String::from("no forms were issued: bad entries at index ");
                for (i, entry) in errors.iter().enumerate() {
                    if i > 0 {
                        message.push_str(", ");
                    }
                    message.push_str(&entry.index.to_string());
                }
                let mut error = ApiError::new(ErrorCode::InvalidBatch, message);
                error.details = errors;
                return Err(error);
            }
            let answers = json::list(uploads.iter().map(upload_answer));
            let json = Object::new().raw("uploads", &answers).finish();
            Ok((json, uploads))
        }
    }
}

/// The answer to `GET /downloads/{key}`: `{"url", "expires_at"}`.
pub(crate) fn download_answer(download: &Download) -> String {
    Object::new()
        .text("url", &download.url)
        .text("expires_at", &iso_date_time(download.expires_at))
        .finish()
}

/// `GET /healthz`: whether the settings are usable, naming (never showing) the bad ones.
pub(crate) fn health(config: Result<(), &ConfigError>, version: &str) -> (u16, String) {
    let answer = Object::new();
    match config {
        Ok(()) => (
            200,
            answer.flag("ok", true).text("version", version).finish(),
        ),
        Err(error) => {
            let mut variables = error.variables();
            variables.dedup(); // one setting may break several rules (UPLOAD_PROFILES)
            let names = variables.into_iter().map(|variable| {
                let mut name = String::new();
                json::push_string(&mut name, variable);
                name
            });
            let problems = error.problems.iter().map(|p| {
                Object::new()
                    .text("variable", p.variable)
                    .text("problem", &p.reason)
                    .finish()
            });
            let body = answer
                .flag("ok", false)
                .text("version", version)
                .raw("misconfigured", &json::list(names))
                .raw("problems", &json::list(problems))
                .finish();
            (503, body)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AuthError;
    use crate::presign::tests::presigner;
    use crate::s3::S3Error;
    use serde_json::{json, Value};
    use time::macros::utc_datetime;

    const NOW: UtcDateTime = utc_datetime!(2026-11-24 12:00);

    fn call_raw(p: &Presigner, body: &str) -> Result<String, ApiError> {
        let mut counter = 0u8;
        handle_uploads(p, body.as_bytes(), NOW, || {
            counter += 1;
            [counter; 16]
        })
    }

    fn call(p: &Presigner, body: &str) -> Result<Value, ApiError> {
        call_raw(p, body).map(|s| serde_json::from_str(&s).unwrap())
    }

    #[test]
    fn single_request_answers_url_fields_key_expiry_and_limit() {
        let v = call(
            &presigner(&[]),
            r#"{"file_name": "holiday photo.JPG", "content_type": "image/jpeg", "size": 123456}"#,
        )
        .unwrap();
        assert_eq!(v["url"], "https://photos.s3.us-east-1.amazonaws.com/");
        assert_eq!(v["max_bytes"], 123456);
        assert_eq!(v["expires_at"], "2026-11-24T12:10:00Z");
        assert_eq!(v["fields"]["key"], v["key"]);
        assert_eq!(v["fields"]["Content-Type"], "image/jpeg");
        assert!(v["fields"]
            .as_object()
            .unwrap()
            .values()
            .all(Value::is_string));
    }

    #[test]
    fn fields_keep_the_order_a_browser_should_append_them_in() {
        let raw = call_raw(
            &presigner(&[]),
            r#"{"file_name": "a.png", "content_type": "image/png"}"#,
        )
        .unwrap();
        let order = [
            "\"key\"",
            "\"Content-Type\"",
            "\"x-amz-algorithm\"",
            "\"x-amz-credential\"",
            "\"x-amz-date\"",
            "\"policy\"",
            "\"x-amz-signature\"",
        ];
        let positions: Vec<usize> = order.iter().map(|name| raw.find(name).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{raw}");
    }

    #[test]
    fn bad_bodies_get_precise_codes() {
        let table = [
            ("", 400, "invalid_json"),
            ("{", 400, "invalid_json"),
            ("[]", 400, "invalid_json"),
            ("\"x\"", 400, "invalid_json"),
            ("{}", 400, "invalid_file_name"),
            (r#"{"file_name": 5}"#, 400, "invalid_file_name"),
            (r#"{"file_name": ".."}"#, 400, "invalid_file_name"),
            (r#"{"file_name": "a", "size": -1}"#, 400, "invalid_size"),
            (r#"{"file_name": "a", "size": 1.5}"#, 400, "invalid_size"),
            (r#"{"file_name": "a", "size": "12"}"#, 400, "invalid_size"),
            (r#"{"file_name": "a", "size": 0}"#, 400, "invalid_size"),
            (
                r#"{"file_name": "a", "size": 5368709121}"#,
                400,
                "invalid_size",
            ),
            (
                r#"{"file_name": "a", "size": 10485761}"#,
                413,
                "file_too_large",
            ),
            (
                r#"{"file_name": "a", "content_type": 7}"#,
                415,
                "content_type_not_allowed",
            ),
            (
                r#"{"file_name": "a", "content_type": "nope"}"#,
                415,
                "content_type_not_allowed",
            ),
            (r#"{"files": []}"#, 400, "invalid_batch"),
            (r#"{"files": {}}"#, 400, "invalid_batch"),
        ];
        for (body, status, code) in table {
            let e = call(&presigner(&[]), body).unwrap_err();
            assert_eq!((e.status(), e.code.as_str()), (status, code), "{body}");
            let json: Value = serde_json::from_str(&e.to_json()).unwrap();
            assert_eq!(json["error"]["code"], code);
            assert!(!json["error"]["message"].as_str().unwrap().is_empty());
        }
    }

    #[test]
    fn nesting_beyond_serde_jsons_limit_is_invalid_json_in_any_member() {
        let deep = format!("{}1{}", r#"{"a":"#.repeat(2000), "}".repeat(2000));
        let e = call(&presigner(&[]), &deep).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidJson);
        let deep_list = format!(
            r#"{{"file_name": "a.txt", "x": {}1{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        let e = call(&presigner(&[]), &deep_list).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidJson);
    }

    #[test]
    fn oversized_bodies_are_refused_before_parsing() {
        let body = format!(r#"{{"file_name": "{}"}}"#, "a".repeat(MAX_BODY_BYTES));
        assert_eq!(
            call(&presigner(&[]), &body).unwrap_err().code,
            ErrorCode::BodyTooLarge
        );
    }

    #[test]
    fn batch_answers_in_order_with_distinct_keys() {
        let v = call(
            &presigner(&[]),
            r#"{"files": [{"file_name": "a.txt"}, {"file_name": "b.png", "content_type": "image/png"}]}"#,
        )
        .unwrap();
        let uploads = v["uploads"].as_array().unwrap();
        assert_eq!(uploads.len(), 2);
        assert!(uploads[0]["key"].as_str().unwrap().ends_with("/a.txt"));
        assert!(uploads[1]["key"].as_str().unwrap().ends_with("/b.png"));
        assert_ne!(uploads[0]["key"], uploads[1]["key"]);
    }

    #[test]
    fn batch_with_bad_entries_names_each_index_and_issues_nothing() {
        let e = call(
            &presigner(&[]),
            r#"{"files": [{"file_name": "ok.txt"}, {"file_name": ""}, 3, {"file_name": "x", "size": 99999999}]}"#,
        )
        .unwrap_err();
        assert_eq!((e.status(), e.code), (400, ErrorCode::InvalidBatch));
        let indexes: Vec<usize> = e.details.iter().map(|d| d.index).collect();
        assert_eq!(indexes, [1, 2, 3]);
        assert_eq!(e.details[2].code, ErrorCode::FileTooLarge);
        let json: Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(json["error"]["details"][0]["index"], 1);
        let too_many = format!(
            r#"{{"files": [{}]}}"#,
            [r#"{"file_name":"a"}"#; 21].join(",")
        );
        assert_eq!(
            call(&presigner(&[]), &too_many).unwrap_err().code,
            ErrorCode::InvalidBatch
        );
    }

    #[test]
    fn a_put_answer_lists_url_headers_key_and_expiry() {
        let v = call(
            &presigner(&[]),
            r#"{"file_name": "a.png", "content_type": "image/png", "size": 5, "method": "PUT"}"#,
        )
        .unwrap();
        let mut names: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        names.sort();
        assert_eq!(names, ["expires_at", "headers", "key", "method", "url"]);
        assert_eq!(v["method"], "PUT");
        assert_eq!(v["headers"]["content-type"], "image/png");
        assert_eq!(v["headers"]["content-length"], "5");
        assert_eq!(v["expires_at"], "2026-11-24T12:10:00Z");
        let key = v["key"].as_str().unwrap();
        assert!(v["url"].as_str().unwrap().contains(key));
        // A form says so too.
        let form = call(&presigner(&[]), r#"{"file_name": "a.png"}"#).unwrap();
        assert_eq!(form["method"], "POST");
    }

    #[test]
    fn methods_and_checksums_are_checked_in_each_entry() {
        let p = presigner(&[]);
        for (body, code) in [
            (
                r#"{"file_name": "a", "method": "PATCH"}"#,
                ErrorCode::MethodNotSupported,
            ),
            (
                r#"{"file_name": "a", "method": 1}"#,
                ErrorCode::MethodNotSupported,
            ),
            (
                r#"{"file_name": "a", "checksum_sha256": "abc"}"#,
                ErrorCode::InvalidChecksum,
            ),
            (
                r#"{"file_name": "a", "checksum_sha256": 7}"#,
                ErrorCode::InvalidChecksum,
            ),
        ] {
            assert_eq!(call(&p, body).unwrap_err().code, code, "{body}");
        }
        let batch = call(
            &p,
            r#"{"files": [{"file_name": "a", "method": "PUT", "size": 1}, {"file_name": "b", "method": "POST"}]}"#,
        )
        .unwrap();
        assert_eq!(batch["uploads"][0]["method"], "PUT");
        assert_eq!(batch["uploads"][1]["method"], "POST");
    }

    #[test]
    fn downloads_answer_a_url_or_a_coded_refusal() {
        let p = presigner(&[]);
        let key = p
            .check_key("uploads/0b7e0c2a-0000-4000-8000-000000000000/x y.txt", None)
            .unwrap();
        let body = download_answer(&p.presign_download(&key, Some("text/plain"), None, NOW));
        let v: Value = serde_json::from_str(&body).unwrap();
        assert!(v["url"]
            .as_str()
            .unwrap()
            .contains("/0b7e0c2a-0000-4000-8000-000000000000/x%20y.txt?"));
        assert_eq!(v["expires_at"], "2026-11-24T12:05:00Z");
        for (key, code, status) in [
            ("elsewhere/x.txt", ErrorCode::KeyNotAllowed, 403),
            ("uploads/report.pdf", ErrorCode::KeyNotAllowed, 403),
            ("uploads/../x", ErrorCode::InvalidKey, 400),
            ("uploads//x", ErrorCode::InvalidKey, 400),
            ("uploads/a\u{7}b", ErrorCode::InvalidKey, 400),
            ("", ErrorCode::InvalidKey, 400),
        ] {
            let error = ApiError::from(p.check_key(key, None).unwrap_err());
            assert_eq!((error.code, error.status()), (code, status), "{key:?}");
        }
    }

    #[test]
    fn auth_and_storage_failures_get_their_own_codes() {
        let missing = ApiError::from(AuthError::MissingToken);
        assert_eq!(
            (missing.status(), missing.code),
            (401, ErrorCode::Unauthorized)
        );
        assert_eq!(missing.header, Some(("WWW-Authenticate", "Bearer".into())));
        let expired = ApiError::from(AuthError::Expired);
        assert_eq!(
            expired.header,
            Some(("WWW-Authenticate", "Bearer error=\"invalid_token\"".into()))
        );
        assert!(expired.message.contains("expired"));
        let keys = ApiError::from(AuthError::KeysUnavailable);
        assert_eq!(
            (keys.status(), keys.code, keys.header),
            (503, ErrorCode::AuthUnavailable, None)
        );
        for (error, status, code) in [
            (S3Error::NoSuchUpload, 404, ErrorCode::UploadNotFound),
            (S3Error::NoSuchKey, 404, ErrorCode::ObjectNotFound),
            (S3Error::EntityTooSmall, 400, ErrorCode::PartTooSmall),
            (S3Error::InvalidPart, 400, ErrorCode::InvalidParts),
            (S3Error::AccessDenied, 502, ErrorCode::StorageRefused),
            (
                S3Error::Other {
                    status: 503,
                    code: "SlowDown".into(),
                },
                502,
                ErrorCode::StorageUnavailable,
            ),
            (
                S3Error::Other {
                    status: 400,
                    code: "Weird".into(),
                },
                502,
                ErrorCode::StorageError,
            ),
        ] {
            let e = ApiError::from(error);
            assert_eq!((e.status(), e.code), (status, code));
        }
        let limited = ApiError::rate_limited(60);
        assert_eq!(
            (limited.status(), limited.header),
            (429, Some(("Retry-After", "60".into())))
        );
    }

    #[test]
    fn the_browser_client_batches_as_many_files_as_the_worker_takes() {
        let client = include_str!("../web/client.js");
        let line = format!("const BATCH_LIMIT = {MAX_BATCH};");
        assert!(client.contains(&line), "web/client.js must say {line}");
    }

    #[test]
    fn json_content_type_detection() {
        assert!(is_json_content_type(Some("application/json")));
        assert!(is_json_content_type(Some(
            "Application/JSON; charset=utf-8"
        )));
        assert!(!is_json_content_type(Some("text/plain")));
        assert!(!is_json_content_type(Some("application/jsonx")));
        assert!(!is_json_content_type(None));
        assert!(is_xml_content_type(Some("application/xml")));
        assert!(is_xml_content_type(Some("Text/XML; charset=utf-8")));
        assert!(!is_xml_content_type(Some("application/json")));
        assert!(!is_xml_content_type(Some("application/xmlx")));
        assert!(!is_xml_content_type(None));
    }

    #[test]
    fn health_names_bad_settings_without_values() {
        let err = crate::config::Config::from_lookup(|k| {
            (k == "AWS_SECRET_ACCESS_KEY").then(|| "topsecretvalue".to_string())
        })
        .unwrap_err();
        let (status, body) = health(Err(&err), "0.1.0");
        assert_eq!(status, 503);
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["ok"], false);
        assert_eq!(
            v["misconfigured"],
            json!(["S3_BUCKET", "AWS_ACCESS_KEY_ID"])
        );
        assert!(!body.contains("topsecretvalue"));
        assert_eq!(
            health(Ok(()), "0.1.0"),
            (200, r#"{"ok":true,"version":"0.1.0"}"#.into())
        );
    }
}

/// Fuzzing the request path natively: whatever the body, the answer is a form or a documented
/// error, never a panic. `FUZZ_CASES` scales the run (default 2,000 per property).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::*;
    use crate::presign::tests::presigner;
    use proptest::prelude::*;
    use serde_json::{Map, Value};
    use time::macros::utc_datetime;

    fn check(body: &[u8], allow_list: bool) -> Result<(), TestCaseError> {
        let extra: &[(&str, &str)] = if allow_list {
            &[("UPLOAD_ALLOWED_TYPES", "image/*,application/pdf")]
        } else {
            &[]
        };
        let p = presigner(extra);
        match handle_uploads(&p, body, utc_datetime!(2026-11-24 12:00), || [9; 16]) {
            Ok(json) => {
                let v: Value = serde_json::from_str(&json).expect("answers are JSON");
                let forms = match v.get("uploads") {
                    Some(list) => list.as_array().unwrap().clone(),
                    None => vec![v],
                };
                for form in forms {
                    let key = form["key"].as_str().unwrap();
                    prop_assert!(key.starts_with("uploads/"));
                    prop_assert!(!key.contains("..") && !key.contains('\\'));
                    prop_assert_eq!(form["fields"]["key"].as_str(), Some(key));
                    if allow_list {
                        let t = form["fields"]["Content-Type"]
                            .as_str()
                            .expect("type pinned");
                        let essence = t.split(';').next().unwrap().trim().to_ascii_lowercase();
                        prop_assert!(essence.starts_with("image/") || essence == "application/pdf");
                    }
                }
            }
            Err(e) => {
                // Bad input is the caller's fault: a documented 4xx, never a 5xx.
                prop_assert!(e.status() < 500, "{} for a request body", e.code);
                let v: Value = serde_json::from_str(&e.to_json()).expect("errors are JSON");
                let code = v["error"]["code"].as_str().unwrap();
                prop_assert!(ErrorCode::ALL.iter().any(|c| c.as_str() == code));
                prop_assert!(!v["error"]["message"].as_str().unwrap().is_empty());
            }
        }
        Ok(())
    }

    fn json_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            any::<String>().prop_map(Value::from),
            prop::sample::select(vec![
                "image/png",
                "IMAGE/JPEG",
                "text/html",
                "application/pdf",
                "image/*",
                "a/b; c=d",
                "image/png\r\nX: y",
                "",
                "image",
                "../../etc/passwd",
                ".env",
                "a.tar.gz",
                "🎉.pdf",
            ])
            .prop_map(Value::from),
        ]
    }

    fn request_object() -> impl Strategy<Value = Value> {
        (
            prop::option::of(json_value()),
            prop::option::of(json_value()),
            prop::option::of(json_value()),
        )
            .prop_map(|(file_name, content_type, size)| {
                let mut map = Map::new();
                for (name, value) in [
                    ("file_name", file_name),
                    ("content_type", content_type),
                    ("size", size),
                ] {
                    if let Some(value) = value {
                        map.insert(name.into(), value);
                    }
                }
                Value::Object(map)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::fuzz_cases()))]

        #[test]
        fn arbitrary_bytes_get_a_documented_answer(body in prop::collection::vec(any::<u8>(), 0..512)) {
            check(&body, false)?;
        }

        #[test]
        fn arbitrary_requests_get_a_form_or_a_documented_error(
            request in request_object(),
            allow_list in any::<bool>(),
        ) {
            check(request.to_string().as_bytes(), allow_list)?;
        }

        #[test]
        fn arbitrary_batches_get_forms_or_a_documented_error(
            files in prop::collection::vec(request_object(), 0..25),
            allow_list in any::<bool>(),
        ) {
            let body = serde_json::json!({ "files": files }).to_string();
            check(body.as_bytes(), allow_list)?;
        }
    }
}
