//! One upload request in, one signed form out: the whole core behind `POST /uploads`.

use std::fmt;

use time::{Duration, UtcDateTime};

use crate::auth::Caller;
use crate::config::{Config, S3_POST_MAX_BYTES};
use crate::form::{self, OptionalField, PostForm, UploadTarget};
use crate::key::{self, FileNameError};
use crate::media_type::MediaType;
use crate::sigv4::SigningKeyCache;

/// What a client asks for, with JSON types already checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadRequest {
    pub file_name: String,
    pub content_type: Option<String>,
    /// Exact size in bytes, if the client knows it (browsers do: `File.size`).
    pub size: Option<u64>,
}

/// A signed form and what the client needs to know about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    pub key: String,
    pub form: PostForm,
    /// The largest file this form accepts.
    pub max_bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UploadError {
    InvalidFileName(FileNameError),
    /// Zero, or above what S3 accepts in a POST.
    InvalidSize,
    FileTooLarge {
        max_bytes: u64,
    },
    MalformedContentType,
    ContentTypeNotAllowed {
        content_type: String,
    },
    /// An allow-list is set, no type was given, and none could be inferred from the name.
    ContentTypeRequired,
}

impl fmt::Display for UploadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidFileName(e) => e.fmt(f),
            Self::InvalidSize => write!(
                f,
                "size must be a whole number of bytes from 1 to {S3_POST_MAX_BYTES}"
            ),
            Self::FileTooLarge { max_bytes } => {
                write!(f, "file is larger than the {max_bytes} bytes allowed")
            }
            Self::MalformedContentType => {
                f.write_str("content_type must be a media type such as image/png")
            }
            Self::ContentTypeNotAllowed { content_type } => {
                write!(f, "files of type {content_type} are not allowed")
            }
            Self::ContentTypeRequired => f.write_str(
                "content_type is required: no allowed type could be inferred from the file name",
            ),
        }
    }
}

impl std::error::Error for UploadError {}

impl From<FileNameError> for UploadError {
    fn from(e: FileNameError) -> Self {
        Self::InvalidFileName(e)
    }
}

/// The per-isolate state: validated settings and the day's signing key.
#[derive(Debug)]
pub struct Presigner {
    config: Config,
    signing_keys: SigningKeyCache,
}

impl Presigner {
    pub fn new(config: Config) -> Self {
        Self {
            config,
            signing_keys: SigningKeyCache::default(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Validates `request` against the settings and signs a form for it. `now` is the
    /// signing time; `random` (16 bytes from a CSPRNG) makes the object key unique.
    pub fn presign(
        &mut self,
        request: &UploadRequest,
        now: UtcDateTime,
        random: [u8; 16],
    ) -> Result<Upload, UploadError> {
        self.presign_as(request, None, now, random)
    }

    /// As [`Presigner::presign`], for an authenticated caller: the key goes under the
    /// caller's segment, and the token's claims may narrow (never widen) size and types.
    pub fn presign_as(
        &mut self,
        request: &UploadRequest,
        caller: Option<&Caller>,
        now: UtcDateTime,
        random: [u8; 16],
    ) -> Result<Upload, UploadError> {
        let config = &self.config;
        let max_bytes = caller
            .and_then(|c| c.max_bytes)
            .map_or(config.max_bytes, |claim| claim.min(config.max_bytes));
        let content_length = match request.size {
            Some(size) if size == 0 || size > S3_POST_MAX_BYTES => {
                return Err(UploadError::InvalidSize)
            }
            Some(size) if size > max_bytes => return Err(UploadError::FileTooLarge { max_bytes }),
            Some(size) => size..=size,
            None => 1..=max_bytes,
        };
        let key = match caller {
            None => key::object_key(&config.prefix, &request.file_name, random)?,
            Some(caller) => {
                let prefix = [config.prefix.as_str(), &caller.segment, "/"].concat();
                key::object_key(&prefix, &request.file_name, random)?
            }
        };
        let content_type = self.content_type_for(request, caller, &key)?;
        let optional_fields: Vec<OptionalField> = content_type
            .map(|t| OptionalField::ContentType(t.as_str().to_owned()))
            .into_iter()
            .collect();

        // Whole seconds (inside `at`): x-amz-date and the policy expiration have no finer
        // resolution, and `expires_at` must not promise a moment after the policy expires.
        let at = self
            .signing_keys
            .at(&config.credentials.secret_access_key, &config.region, now);
        let target = UploadTarget {
            url: &config.upload_url,
            bucket: &config.bucket,
            key: &key,
            content_length: content_length.clone(),
            optional_fields: &optional_fields,
        };
        let expires_in = Duration::seconds(config.expires_seconds as i64);
        let form = form::sign_post_form(&target, &config.credentials, at, expires_in);
        Ok(Upload {
            key,
            form,
            max_bytes: *content_length.end(),
        })
    }

    /// The type to pin. With an allow-list every form pins one: the requested type, or the
    /// one the file's extension implies; without a list, only a requested type is pinned.
    fn content_type_for(
        &self,
        request: &UploadRequest,
        caller: Option<&Caller>,
        key: &str,
    ) -> Result<Option<MediaType>, UploadError> {
        let caller_types = caller.and_then(|c| c.content_types.as_ref());
        let restricted = !self.config.allowed_types.is_empty() || caller_types.is_some();
        let media_type = match &request.content_type {
            Some(raw) => MediaType::parse(raw).ok_or(UploadError::MalformedContentType)?,
            None if !restricted => return Ok(None),
            None => {
                let name = key.rsplit('/').next().unwrap_or_default();
                let extension = name.split_once('.').map(|(_, ext)| ext);
                extension
                    .and_then(MediaType::from_extension)
                    .ok_or(UploadError::ContentTypeRequired)?
            }
        };
        let caller_allows = caller.is_none_or(|c| c.allows_type(&media_type));
        if self.config.allows_type(&media_type) && caller_allows {
            Ok(Some(media_type))
        } else {
            Err(UploadError::ContentTypeNotAllowed {
                content_type: media_type.essence().to_owned(),
            })
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;
    use time::macros::utc_datetime;

    pub(crate) fn presigner(extra: &[(&str, &str)]) -> Presigner {
        let mut env: HashMap<&str, &str> = HashMap::from([
            ("S3_BUCKET", "photos"),
            ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
            (
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ),
        ]);
        env.extend(extra.iter().copied());
        Presigner::new(Config::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap())
    }

    fn request(name: &str, content_type: Option<&str>, size: Option<u64>) -> UploadRequest {
        UploadRequest {
            file_name: name.into(),
            content_type: content_type.map(Into::into),
            size,
        }
    }

    const NOW: UtcDateTime = utc_datetime!(2026-11-24 12:00);

    /// The signed policy's conditions, decoded from the form as S3 would.
    fn conditions(upload: &Upload) -> Vec<serde_json::Value> {
        use base64::{engine::general_purpose::STANDARD, Engine as _};
        let bytes = STANDARD
            .decode(upload.form.field("policy").unwrap())
            .unwrap();
        let policy: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        policy["conditions"].as_array().unwrap().clone()
    }

    #[test]
    fn a_plain_request_gets_a_form_for_its_key() {
        let upload = presigner(&[])
            .presign(&request("holiday photo.JPG", None, None), NOW, [7; 16])
            .unwrap();
        assert!(upload.key.starts_with("uploads/") && upload.key.ends_with("/holiday-photo.jpg"));
        assert_eq!(upload.form.field("key"), Some(upload.key.as_str()));
        assert_eq!(upload.form.field("Content-Type"), None);
        assert_eq!(upload.max_bytes, 10_485_760);
        assert!(conditions(&upload).contains(&serde_json::json!([
            "content-length-range",
            1,
            10_485_760
        ])));
    }

    #[test]
    fn a_given_size_and_type_are_pinned() {
        let upload = presigner(&[])
            .presign(
                &request("a.png", Some("image/png"), Some(1234)),
                NOW,
                [7; 16],
            )
            .unwrap();
        assert_eq!(upload.form.field("Content-Type"), Some("image/png"));
        assert_eq!(upload.max_bytes, 1234);
        assert!(conditions(&upload).contains(&serde_json::json!([
            "content-length-range",
            1234,
            1234
        ])));
    }

    #[test]
    fn sizes_are_checked_against_s3_and_the_setting() {
        let mut p = presigner(&[("UPLOAD_MAX_BYTES", "1000")]);
        let table = [
            (0, Err(UploadError::InvalidSize)),
            (S3_POST_MAX_BYTES + 1, Err(UploadError::InvalidSize)),
            (1001, Err(UploadError::FileTooLarge { max_bytes: 1000 })),
            (1000, Ok(1000)),
            (1, Ok(1)),
        ];
        for (size, expected) in table {
            let got = p
                .presign(&request("a.bin", None, Some(size)), NOW, [1; 16])
                .map(|u| u.max_bytes);
            assert_eq!(got, expected, "size {size}");
        }
    }

    #[test]
    fn allow_list_decides_every_content_type() {
        let mut p = presigner(&[("UPLOAD_ALLOWED_TYPES", "image/*, application/pdf")]);
        let table: [(&str, Option<&str>, Result<&str, UploadError>); 7] = [
            ("a.png", Some("image/png"), Ok("image/png")),
            ("a.bin", Some("IMAGE/WEBP"), Ok("IMAGE/WEBP")),
            ("doc.pdf", None, Ok("application/pdf")),
            ("cat.jpeg", None, Ok("image/jpeg")),
            (
                "page.html",
                Some("text/html"),
                Err(UploadError::ContentTypeNotAllowed {
                    content_type: "text/html".into(),
                }),
            ),
            (
                "page.html",
                None,
                Err(UploadError::ContentTypeNotAllowed {
                    content_type: "text/html".into(),
                }),
            ),
            ("noext", None, Err(UploadError::ContentTypeRequired)),
        ];
        for (name, content_type, expected) in table {
            let got = p.presign(&request(name, content_type, None), NOW, [1; 16]);
            let got = got.map(|u| u.form.field("Content-Type").unwrap().to_owned());
            assert_eq!(
                got.as_deref().map_err(Clone::clone),
                expected,
                "{name} {content_type:?}"
            );
        }
        assert_eq!(
            p.presign(&request("a.png", Some("image"), None), NOW, [1; 16]),
            Err(UploadError::MalformedContentType)
        );
    }

    #[test]
    fn expiry_is_reported_to_the_second_the_policy_uses() {
        let now = utc_datetime!(2026-11-24 12:00:00.999);
        let upload = presigner(&[])
            .presign(&request("a.txt", None, None), now, [1; 16])
            .unwrap();
        assert_eq!(upload.form.expires_at, utc_datetime!(2026-11-24 12:10:00));
        assert_eq!(upload.form.field("x-amz-date"), Some("20261124T120000Z"));
    }

    #[test]
    fn a_caller_gets_their_own_segment_and_narrower_limits() {
        let mut p = presigner(&[("UPLOAD_ALLOWED_TYPES", "image/*,application/pdf")]);
        let caller = Caller {
            segment: "user_7c42".into(),
            max_bytes: Some(1000),
            content_types: Some(vec![
                crate::media_type::MediaRange::parse("image/*").unwrap()
            ]),
        };
        let upload = p
            .presign_as(&request("cat.png", None, None), Some(&caller), NOW, [3; 16])
            .unwrap();
        assert!(
            upload.key.starts_with("uploads/user_7c42/"),
            "{}",
            upload.key
        );
        assert!(upload.key.ends_with("/cat.png"));
        assert_eq!(upload.max_bytes, 1000);
        assert!(conditions(&upload).contains(&serde_json::json!([
            "content-length-range",
            1,
            1000
        ])));
        assert_eq!(
            p.presign_as(
                &request("a.png", None, Some(1001)),
                Some(&caller),
                NOW,
                [3; 16]
            ),
            Err(UploadError::FileTooLarge { max_bytes: 1000 })
        );
        assert_eq!(
            p.presign_as(&request("doc.pdf", None, None), Some(&caller), NOW, [3; 16]),
            Err(UploadError::ContentTypeNotAllowed {
                content_type: "application/pdf".into()
            }),
            "the token narrows the allow-list"
        );
        // A claim above the setting never widens it.
        let generous = Caller {
            max_bytes: Some(u64::MAX),
            content_types: Some(
                ["image/*", "text/html"]
                    .map(|t| crate::media_type::MediaRange::parse(t).unwrap())
                    .to_vec(),
            ),
            ..caller
        };
        let upload = p
            .presign_as(&request("a.png", None, None), Some(&generous), NOW, [3; 16])
            .unwrap();
        assert_eq!(upload.max_bytes, 10_485_760);
        assert!(p
            .presign_as(
                &request("a.html", None, None),
                Some(&generous),
                NOW,
                [3; 16]
            )
            .is_err());
    }

    #[test]
    fn unusable_file_names_are_refused() {
        assert_eq!(
            presigner(&[]).presign(&request("...", None, None), NOW, [1; 16]),
            Err(UploadError::InvalidFileName(FileNameError::Empty))
        );
    }

    #[test]
    fn signing_key_is_reused_within_a_day_and_rotated_after() {
        let mut p = presigner(&[]);
        let req = request("a.txt", None, None);
        let morning = p
            .presign(&req, utc_datetime!(2026-11-24 00:00:01), [1; 16])
            .unwrap();
        let evening = p
            .presign(&req, utc_datetime!(2026-11-24 23:59:59), [1; 16])
            .unwrap();
        let tomorrow = p
            .presign(&req, utc_datetime!(2026-11-25 00:00:00), [1; 16])
            .unwrap();
        let scope = |u: &Upload| u.form.field("x-amz-credential").unwrap().to_owned();
        assert_eq!(scope(&morning), scope(&evening));
        assert!(scope(&tomorrow).contains("/20261125/"));
    }
}
