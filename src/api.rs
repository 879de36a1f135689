//! The HTTP contract in plain Rust: request bodies in, JSON bodies and error codes out.
//! `lib.rs` only moves bytes between this module and the Workers runtime.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{json, Map, Value};
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

use crate::config::ConfigError;
use crate::presign::{Presigner, Upload, UploadError, UploadRequest};

/// Largest request body read; anything longer is refused without reading the rest.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Most files one batch request may ask forms for.
pub const MAX_BATCH: usize = 20;

/// Every failure leaves as `{"error": {"code", "message"[, "details"]}}` with `status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// For a batch: one entry per bad file, with its index.
    pub details: Vec<EntryError>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EntryError {
    pub index: usize,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub fn not_found() -> Self {
        Self::new(
            404,
            "not_found",
            "no such endpoint; see GET /healthz and POST /uploads",
        )
    }

    pub fn method_not_allowed(allow: &str) -> Self {
        Self::new(
            405,
            "method_not_allowed",
            format!("this endpoint accepts {allow}"),
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            415,
            "unsupported_media_type",
            "send the request body as JSON with Content-Type: application/json",
        )
    }

    pub fn body_too_large() -> Self {
        Self::new(
            413,
            "body_too_large",
            format!("request body must be at most {MAX_BODY_BYTES} bytes"),
        )
    }

    pub fn origin_not_allowed() -> Self {
        Self::new(
            403,
            "origin_not_allowed",
            "this origin may not request upload forms",
        )
    }

    /// Names the variables only: their values may be secrets.
    pub fn misconfigured(error: &ConfigError) -> Self {
        Self::new(
            500,
            "misconfigured",
            format!("the service is misconfigured: {error}"),
        )
    }

    fn invalid_json(message: impl Into<String>) -> Self {
        Self::new(400, "invalid_json", message)
    }

    pub fn to_json(&self) -> String {
        let mut error = Map::new();
        error.insert("code".into(), json!(self.code));
        error.insert("message".into(), json!(self.message));
        if !self.details.is_empty() {
            error.insert("details".into(), json!(self.details));
        }
        json!({ "error": error }).to_string()
    }
}

impl From<UploadError> for ApiError {
    fn from(error: UploadError) -> Self {
        let (status, code) = match error {
            UploadError::InvalidFileName(_) => (400, "invalid_file_name"),
            UploadError::InvalidSize => (400, "invalid_size"),
            UploadError::FileTooLarge { .. } => (413, "file_too_large"),
            UploadError::MalformedContentType | UploadError::ContentTypeNotAllowed { .. } => {
                (415, "content_type_not_allowed")
            }
            UploadError::ContentTypeRequired => (400, "content_type_required"),
        };
        Self::new(status, code, error.to_string())
    }
}

/// True for `application/json`, with or without parameters such as `charset`.
pub fn is_json_content_type(header: Option<&str>) -> bool {
    header
        .and_then(|h| h.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// A parsed `POST /uploads` body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UploadBody {
    Single(UploadRequest),
    /// Each entry parsed on its own, so a batch can report every bad index at once.
    Batch(Vec<Result<UploadRequest, ApiError>>),
}

pub fn parse_upload_body(body: &[u8]) -> Result<UploadBody, ApiError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::body_too_large());
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid_json(format!("request body is not valid JSON: {e}")))?;
    let Value::Object(object) = value else {
        return Err(ApiError::invalid_json("request body must be a JSON object"));
    };
    let Some(files) = object.get("files") else {
        return parse_entry(&object).map(UploadBody::Single);
    };
    let invalid_batch = || {
        ApiError::new(
            400,
            "invalid_batch",
            format!("files must be an array of 1 to {MAX_BATCH} objects"),
        )
    };
    let files = files.as_array().ok_or_else(invalid_batch)?;
    if files.is_empty() || files.len() > MAX_BATCH {
        return Err(invalid_batch());
    }
    Ok(UploadBody::Batch(
        files
            .iter()
            .map(|entry| match entry {
                Value::Object(object) => parse_entry(object),
                _ => Err(ApiError::invalid_json(
                    "each entry of files must be a JSON object",
                )),
            })
            .collect(),
    ))
}

fn parse_entry(object: &Map<String, Value>) -> Result<UploadRequest, ApiError> {
    let file_name = match object.get("file_name") {
        Some(Value::String(name)) => name.clone(),
        Some(_) => {
            return Err(ApiError::new(
                400,
                "invalid_file_name",
                "file_name must be a string",
            ))
        }
        None => {
            return Err(ApiError::new(
                400,
                "invalid_file_name",
                "file_name is required",
            ))
        }
    };
    let content_type = match object.get("content_type") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) => Some(t.clone()),
        Some(_) => return Err(UploadError::MalformedContentType.into()),
    };
    let size = match object.get("size") {
        None | Some(Value::Null) => None,
        Some(n) => Some(n.as_u64().ok_or(UploadError::InvalidSize)?),
    };
    Ok(UploadRequest {
        file_name,
        content_type,
        size,
    })
}

/// The JSON answer for one form.
#[derive(Debug, Serialize)]
pub struct UploadResponse<'a> {
    pub url: &'a str,
    #[serde(serialize_with = "ordered_fields")]
    pub fields: &'a [(String, String)],
    pub key: &'a str,
    #[serde(serialize_with = "rfc3339")]
    pub expires_at: OffsetDateTime,
    pub max_bytes: u64,
}

impl<'a> From<&'a Upload> for UploadResponse<'a> {
    fn from(upload: &'a Upload) -> Self {
        Self {
            url: &upload.form.url,
            fields: &upload.form.fields,
            key: &upload.key,
            expires_at: upload.form.expires_at,
            max_bytes: upload.max_bytes,
        }
    }
}

/// A flat JSON object of strings, in the order the browser should append them.
fn ordered_fields<S: Serializer>(fields: &&[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(fields.len()))?;
    for (name, value) in fields.iter() {
        map.serialize_entry(name, value)?;
    }
    map.end()
}

fn rfc3339<S: Serializer>(when: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&when.format(&Rfc3339).map_err(serde::ser::Error::custom)?)
}

/// `POST /uploads`: parse, presign, answer. `random` is called once per file.
pub fn handle_uploads(
    presigner: &mut Presigner,
    body: &[u8],
    now: OffsetDateTime,
    mut random: impl FnMut() -> [u8; 16],
) -> Result<String, ApiError> {
    match parse_upload_body(body)? {
        UploadBody::Single(request) => {
            let upload = presigner.presign(&request, now, random())?;
            Ok(to_json(&UploadResponse::from(&upload)))
        }
        UploadBody::Batch(entries) => {
            let mut uploads = Vec::with_capacity(entries.len());
            let mut errors = Vec::new();
            for (index, entry) in entries.into_iter().enumerate() {
                let result = entry.and_then(|request| {
                    presigner
                        .presign(&request, now, random())
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
                let indexes: Vec<String> = errors.iter().map(|e| e.index.to_string()).collect();
                let mut error = ApiError::new(
                    400,
                    "invalid_batch",
                    format!(
                        "no forms were issued: bad entries at index {}",
                        indexes.join(", ")
                    ),
                );
                error.details = errors;
                return Err(error);
            }
            let uploads: Vec<UploadResponse> = uploads.iter().map(UploadResponse::from).collect();
            Ok(to_json(&json!({ "uploads": uploads })))
        }
    }
}

fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("response types always serialise")
}

/// `GET /healthz`: whether the settings are usable, naming (never showing) the bad ones.
pub fn health(config: Result<(), &ConfigError>, version: &str) -> (u16, String) {
    match config {
        Ok(()) => (200, json!({"ok": true, "version": version}).to_string()),
        Err(error) => {
            let problems: Vec<Value> = error
                .problems
                .iter()
                .map(|p| json!({"variable": p.variable, "problem": p.reason}))
                .collect();
            let body = json!({
                "ok": false,
                "version": version,
                "misconfigured": error.variables(),
                "problems": problems,
            });
            (503, body.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presign::tests::presigner;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

    fn call_raw(p: &mut Presigner, body: &str) -> Result<String, ApiError> {
        let mut counter = 0u8;
        handle_uploads(p, body.as_bytes(), NOW, || {
            counter += 1;
            [counter; 16]
        })
    }

    fn call(p: &mut Presigner, body: &str) -> Result<Value, ApiError> {
        call_raw(p, body).map(|s| serde_json::from_str(&s).unwrap())
    }

    #[test]
    fn single_request_answers_url_fields_key_expiry_and_limit() {
        let v = call(
            &mut presigner(&[]),
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
            &mut presigner(&[]),
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
            let e = call(&mut presigner(&[]), body).unwrap_err();
            assert_eq!((e.status, e.code), (status, code), "{body}");
            let json: Value = serde_json::from_str(&e.to_json()).unwrap();
            assert_eq!(json["error"]["code"], code);
            assert!(!json["error"]["message"].as_str().unwrap().is_empty());
        }
    }

    #[test]
    fn oversized_bodies_are_refused_before_parsing() {
        let body = format!(r#"{{"file_name": "{}"}}"#, "a".repeat(MAX_BODY_BYTES));
        assert_eq!(
            call(&mut presigner(&[]), &body).unwrap_err().code,
            "body_too_large"
        );
    }

    #[test]
    fn batch_answers_in_order_with_distinct_keys() {
        let v = call(
            &mut presigner(&[]),
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
            &mut presigner(&[]),
            r#"{"files": [{"file_name": "ok.txt"}, {"file_name": ""}, 3, {"file_name": "x", "size": 99999999}]}"#,
        )
        .unwrap_err();
        assert_eq!((e.status, e.code), (400, "invalid_batch"));
        let indexes: Vec<usize> = e.details.iter().map(|d| d.index).collect();
        assert_eq!(indexes, [1, 2, 3]);
        assert_eq!(e.details[2].code, "file_too_large");
        let json: Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(json["error"]["details"][0]["index"], 1);
        let too_many = format!(
            r#"{{"files": [{}]}}"#,
            [r#"{"file_name":"a"}"#; 21].join(",")
        );
        assert_eq!(
            call(&mut presigner(&[]), &too_many).unwrap_err().code,
            "invalid_batch"
        );
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
    use time::macros::datetime;

    const DOCUMENTED: [(u16, &str); 8] = [
        (400, "invalid_json"),
        (413, "body_too_large"),
        (400, "invalid_file_name"),
        (400, "invalid_size"),
        (413, "file_too_large"),
        (415, "content_type_not_allowed"),
        (400, "content_type_required"),
        (400, "invalid_batch"),
    ];

    fn check(body: &[u8], allow_list: bool) -> Result<(), TestCaseError> {
        let extra: &[(&str, &str)] = if allow_list {
            &[("UPLOAD_ALLOWED_TYPES", "image/*,application/pdf")]
        } else {
            &[]
        };
        let mut p = presigner(extra);
        match handle_uploads(&mut p, body, datetime!(2026-11-24 12:00 UTC), || [9; 16]) {
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
            Err(e) => prop_assert!(
                DOCUMENTED.contains(&(e.status, e.code)),
                "undocumented answer {} {}",
                e.status,
                e.code
            ),
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
