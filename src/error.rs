//! The one error type every route answers with, and the one table of its codes.
//!
//! Each module says which code its own failures are, beside the failure type
//! (`impl From<UploadError> for ApiError` in `presign.rs`, `AuthError` in `auth.rs`,
//! `S3Error` in `s3.rs`, `KeyRefusal` in `key.rs`), so this module depends on nothing but the
//! JSON writer and nothing forms a circle through it.

use std::fmt;

use crate::json::{self, Object};

/// Writes [`ErrorCode`] from one table: each variant, its HTTP status and its wire name on
/// one line, so the enum, [`ErrorCode::ALL`], `status` and `as_str` cannot drift apart.
macro_rules! error_codes {
    ($($variant:ident = $status:literal, $name:literal;)+) => {
        /// Every error the API answers, each with its one HTTP status. Tests take the list
        /// of documented codes from [`ErrorCode::ALL`], and docs/api.md's table lists the
        /// same.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum ErrorCode { $($variant,)+ }

        impl ErrorCode {
            #[cfg(test)]
            pub(crate) const ALL: &[Self] = &[$(Self::$variant,)+];

            pub const fn status(self) -> u16 {
                match self { $(Self::$variant => $status,)+ }
            }

            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name,)+ }
            }
        }
    };
}

error_codes! {
    InvalidJson           = 400, "invalid_json";
    BodyTooLarge          = 413, "body_too_large";
    UnsupportedMediaType  = 415, "unsupported_media_type";
    InvalidFileName       = 400, "invalid_file_name";
    InvalidSize           = 400, "invalid_size";
    FileTooLarge          = 413, "file_too_large";
    ContentTypeNotAllowed = 415, "content_type_not_allowed";
    ContentTypeRequired   = 400, "content_type_required";
    InvalidBatch          = 400, "invalid_batch";
    OriginNotAllowed      = 403, "origin_not_allowed";
    NotFound              = 404, "not_found";
    MethodNotAllowed      = 405, "method_not_allowed";
    Misconfigured         = 500, "misconfigured";
    ClockUnavailable      = 500, "clock_unavailable";
    EntropyUnavailable    = 500, "entropy_unavailable";
    InvalidChecksum       = 400, "invalid_checksum";
    MethodNotSupported    = 400, "method_not_supported";
    InvalidKey            = 400, "invalid_key";
    KeyNotAllowed         = 403, "key_not_allowed";
    SizeRequired          = 400, "size_required";
    Unauthorized          = 401, "unauthorized";
    RateLimited           = 429, "rate_limited";
    AuthUnavailable       = 503, "auth_unavailable";
    ObjectNotFound        = 404, "object_not_found";
    UploadNotFound        = 404, "upload_not_found";
    InvalidUploadId       = 400, "invalid_upload_id";
    UploadNotAllowed      = 403, "upload_not_allowed";
    ObjectExists          = 409, "object_exists";
    InvalidPartNumber     = 400, "invalid_part_number";
    InvalidParts          = 400, "invalid_parts";
    PartTooSmall          = 400, "part_too_small";
    StorageUnavailable    = 502, "storage_unavailable";
    StorageRefused        = 502, "storage_refused";
    StorageError          = 502, "storage_error";
    SizeMismatch          = 422, "size_mismatch";
    TypeMismatch          = 422, "type_mismatch";
    ChecksumMismatch      = 422, "checksum_mismatch";
    InternalError         = 500, "internal_error";
    UnknownProfile        = 400, "unknown_profile";
    ProfileNotAllowed     = 403, "profile_not_allowed";
    MultipartNotAllowed   = 403, "multipart_not_allowed";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every failure leaves as `{"error": {"code", "message"[, "details"]}}` with the code's
/// status, plus the one header some codes need (`Allow` on a 405).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// For a batch: one entry per bad file, with its index.
    pub details: Vec<EntryError>,
    /// A header the answer must carry: `Allow` on a 405, `WWW-Authenticate` on a 401,
    /// `Retry-After` on a 429.
    pub header: Option<(&'static str, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryError {
    pub index: usize,
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Vec::new(),
            header: None,
        }
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    pub fn not_found() -> Self {
        Self::new(
            ErrorCode::NotFound,
            "no such endpoint; see GET /healthz and POST /uploads",
        )
    }

    /// `allow` lists the methods the path accepts; it travels as the `Allow` header.
    pub fn method_not_allowed(allow: &'static str) -> Self {
        Self {
            header: Some(("Allow", allow.to_owned())),
            ..Self::new(
                ErrorCode::MethodNotAllowed,
                format!("this endpoint accepts {allow}"),
            )
        }
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            ErrorCode::UnsupportedMediaType,
            "send the request body as JSON with Content-Type: application/json",
        )
    }

    pub fn body_too_large(limit: usize) -> Self {
        Self::new(
            ErrorCode::BodyTooLarge,
            format!("request body must be at most {limit} bytes"),
        )
    }

    pub fn body_unreadable() -> Self {
        Self::invalid_json("request body could not be read")
    }

    pub fn origin_not_allowed() -> Self {
        Self::new(
            ErrorCode::OriginNotAllowed,
            "this origin may not request upload forms",
        )
    }

    /// Names the variables only: their values may be secrets.
    pub fn misconfigured(error: &impl fmt::Display) -> Self {
        Self::new(
            ErrorCode::Misconfigured,
            format!("the service is misconfigured: {error}"),
        )
    }

    /// The runtime gave no usable time: better no form than one signed for 1970.
    pub fn clock_unavailable() -> Self {
        Self::new(
            ErrorCode::ClockUnavailable,
            "the server clock is unavailable; nothing was signed, try again",
        )
    }

    /// The runtime's CSPRNG failed: no key may be made from anything weaker.
    pub fn entropy_unavailable() -> Self {
        Self::new(
            ErrorCode::EntropyUnavailable,
            "the server's random number source is unavailable; nothing was signed, try again",
        )
    }

    /// A download key that is not one: empty, badly percent-encoded, `..` or an empty
    /// segment, control characters, or longer than S3 allows.
    pub fn invalid_key() -> Self {
        Self::new(
            ErrorCode::InvalidKey,
            "the key must be a percent-encoded S3 key without '..', empty segments or control characters",
        )
    }

    /// Over the rate limit: try again after `seconds`.
    pub fn rate_limited(seconds: u64) -> Self {
        Self {
            header: Some(("Retry-After", seconds.to_string())),
            ..Self::new(
                ErrorCode::RateLimited,
                "too many requests from this caller; try again later",
            )
        }
    }

    /// S3 could not be reached, or answered with a server error.
    pub fn storage_unavailable() -> Self {
        Self::new(
            ErrorCode::StorageUnavailable,
            "the storage service could not be reached; try again",
        )
    }

    pub fn invalid_upload_id() -> Self {
        Self::new(
            ErrorCode::InvalidUploadId,
            "uploadId must be the uploadId this worker answered when the upload was created",
        )
    }

    pub fn invalid_part_number() -> Self {
        Self::new(
            ErrorCode::InvalidPartNumber,
            "partNumber must be a whole number from 1 to 10000",
        )
    }

    pub fn invalid_parts(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParts, message)
    }

    pub fn invalid_json(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidJson, message)
    }

    /// `{"error": {"code", "message"[, "details": [{"index", "code", "message"}]]}}`.
    pub fn to_json(&self) -> String {
        let mut inner = Object::new()
            .text("code", self.code.as_str())
            .text("message", &self.message);
        if !self.details.is_empty() {
            let details = self.details.iter().map(|d| {
                Object::new()
                    .number("index", d.index as u64)
                    .text("code", d.code.as_str())
                    .text("message", &d.message)
                    .finish()
            });
            inner = inner.raw("details", &json::list(details));
        }
        Object::new().raw("error", &inner.finish()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_one_status_and_a_row_in_the_docs() {
        let readme = include_str!("../docs/api.md");
        for &code in ErrorCode::ALL {
            assert!((400..600).contains(&code.status()), "{code}");
            let row = format!("| {} | `{}` |", code.status(), code.as_str());
            assert!(
                readme.contains(&row),
                "docs/api.md's error table lacks {row}"
            );
        }
        let mut names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len(), "codes are distinct");
    }

    #[test]
    fn every_code_is_in_the_browser_clients_types() {
        let types = include_str!("../web/client.d.ts");
        let union = &types[types.find("export type WorkerErrorCode").unwrap()..];
        let union = &union[..=union.find("\";").unwrap()];
        for &code in ErrorCode::ALL {
            let member = format!("| \"{}\"", code.as_str());
            assert!(
                union.contains(&member),
                "client.d.ts's WorkerErrorCode lacks {member}"
            );
        }
    }

    #[test]
    fn a_405_carries_its_allow_header() {
        let e = ApiError::method_not_allowed("GET, HEAD");
        assert_eq!(e.status(), 405);
        assert_eq!(e.header, Some(("Allow", "GET, HEAD".into())));
        assert_eq!(ApiError::not_found().header, None);
    }
}
