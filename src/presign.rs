//! One upload request in, one signed form out: the whole core behind `POST /uploads`.

use std::fmt;

use time::{Duration, UtcDateTime};

use crate::auth::Caller;
use crate::config::{Config, UploadMethod, S3_SINGLE_UPLOAD_MAX_BYTES};
use crate::form::{self, OptionalField, PostForm, UploadTarget};
use crate::key::{self, FileNameError};
use crate::media_type::MediaType;
use crate::object_url::{self, InvalidChecksum, KeyRefusal, PutPins, SignedUrl};
use crate::sigv4::SigningKeyCache;

/// What a client asks for, with JSON types already checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UploadRequest {
    pub file_name: String,
    pub content_type: Option<String>,
    /// Exact size in bytes, if the client knows it (browsers do: `File.size`).
    pub size: Option<u64>,
    /// `None`: the `UPLOAD_METHOD` setting decides.
    pub method: Option<UploadMethod>,
    /// The file's SHA-256, base64: the store then refuses any other bytes.
    pub checksum_sha256: Option<String>,
}

/// A signed upload and what the client needs to know about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    pub key: String,
    pub signed: SignedUpload,
    pub expires_at: UtcDateTime,
    /// The largest file the store will accept: enforced by a POST policy always, by a PUT
    /// only when the size was given (then it is that exact size).
    pub max_bytes: u64,
}

/// How the file is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignedUpload {
    /// A multipart/form-data POST of `fields`, then the file.
    Form(PostForm),
    /// A PUT of the bare file to the URL, with exactly its signed headers.
    Put(SignedUrl),
}

/// A presigned download.
#[derive(Clone, PartialEq, Eq)]
pub struct Download {
    pub url: String,
    pub expires_at: UtcDateTime,
}

/// The URL's query (signature, STS token) stays out of `Debug` output.
impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("url", &object_url::without_query(&self.url))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl Upload {
    pub fn form(&self) -> Option<&PostForm> {
        match &self.signed {
            SignedUpload::Form(form) => Some(form),
            SignedUpload::Put(_) => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UploadError {
    InvalidFileName(FileNameError),
    /// Zero, or above what S3 accepts in one POST or PUT.
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
    InvalidChecksum(InvalidChecksum),
    /// A method the store cannot take (POST on R2), or not POST or PUT at all.
    MethodNotSupported {
        r2: bool,
    },
}

impl fmt::Display for UploadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidFileName(e) => e.fmt(f),
            Self::InvalidSize => write!(
                f,
                "size must be a whole number of bytes from 1 to {S3_SINGLE_UPLOAD_MAX_BYTES}"
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
            Self::InvalidChecksum(e) => e.fmt(f),
            Self::MethodNotSupported { r2: true } => f.write_str(
                "this bucket is on Cloudflare R2, which has no POST Object: use method PUT",
            ),
            Self::MethodNotSupported { r2: false } => f.write_str("method must be POST or PUT"),
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
            Some(size) if size == 0 || size > S3_SINGLE_UPLOAD_MAX_BYTES => {
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
        let method = request.method.unwrap_or(config.upload_method);
        if method == UploadMethod::Post && !config.post_supported {
            return Err(UploadError::MethodNotSupported { r2: true });
        }
        let checksum = match &request.checksum_sha256 {
            Some(value) => Some(
                object_url::parse_checksum_sha256(value).map_err(UploadError::InvalidChecksum)?,
            ),
            None => None,
        };
        // Stored with the object, so a download shows the person's own name, not the key's.
        let disposition = object_url::content_disposition(&key::display_name(&request.file_name));

        // Whole seconds (inside `at`): x-amz-date and the policy expiration have no finer
        // resolution, and `expires_at` must not promise a moment after the upload expires.
        let at = self
            .signing_keys
            .at(&config.credentials.secret_access_key, &config.region, now);
        let expires_in = Duration::seconds(config.expires_seconds as i64);
        let expires_at = at.now() + expires_in;
        let signed = match method {
            UploadMethod::Post => {
                let mut optional_fields = Vec::with_capacity(4);
                if let Some(t) = &content_type {
                    optional_fields.push(OptionalField::ContentType(t.as_str().to_owned()));
                }
                optional_fields.push(OptionalField::ContentDisposition(disposition));
                if let Some(checksum) = checksum {
                    optional_fields.push(OptionalField::ChecksumAlgorithmSha256);
                    optional_fields.push(OptionalField::ChecksumSha256(checksum.to_owned()));
                }
                let target = UploadTarget {
                    url: &config.upload_url,
                    bucket: &config.bucket,
                    key: &key,
                    content_length: content_length.clone(),
                    optional_fields: &optional_fields,
                };
                SignedUpload::Form(form::sign_post_form(
                    &target,
                    &config.credentials,
                    at,
                    expires_in,
                ))
            }
            UploadMethod::Put => {
                let pins = PutPins {
                    content_type: content_type.as_ref().map(MediaType::as_str),
                    content_length: request.size,
                    checksum_sha256: checksum,
                    content_disposition: Some(&disposition),
                };
                SignedUpload::Put(object_url::presigned_put(
                    &config.location,
                    &key,
                    &pins,
                    config.expires_seconds,
                    &config.credentials,
                    at,
                ))
            }
        };
        Ok(Upload {
            key,
            signed,
            expires_at,
            max_bytes: *content_length.end(),
        })
    }

    /// A presigned GET for `key`, if it is one this worker could have issued: under the
    /// prefix (and under the caller's segment when given), with no `..` or empty segment.
    pub fn presign_download(
        &mut self,
        key: &str,
        segment: Option<&str>,
        now: UtcDateTime,
    ) -> Result<Download, KeyRefusal> {
        let config = &self.config;
        object_url::check_download_key(key, &config.prefix, segment)?;
        let at = self
            .signing_keys
            .at(&config.credentials.secret_access_key, &config.region, now);
        let expires_in = config.download_expires_seconds;
        let signed =
            object_url::presigned_get(&config.location, key, expires_in, &config.credentials, at);
        Ok(Download {
            url: signed.url,
            expires_at: at.now() + Duration::seconds(expires_in as i64),
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
            ..UploadRequest::default()
        }
    }

    const NOW: UtcDateTime = utc_datetime!(2026-11-24 12:00);

    /// The signed policy's conditions, decoded from the form as S3 would.
    fn conditions(upload: &Upload) -> Vec<serde_json::Value> {
        use base64::{engine::general_purpose::STANDARD, Engine as _};
        let bytes = STANDARD
            .decode(upload.form().unwrap().field("policy").unwrap())
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
        assert_eq!(
            upload.form().unwrap().field("key"),
            Some(upload.key.as_str())
        );
        assert_eq!(upload.form().unwrap().field("Content-Type"), None);
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
        assert_eq!(
            upload.form().unwrap().field("Content-Type"),
            Some("image/png")
        );
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
            (
                S3_SINGLE_UPLOAD_MAX_BYTES + 1,
                Err(UploadError::InvalidSize),
            ),
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
            let got = got.map(|u| u.form().unwrap().field("Content-Type").unwrap().to_owned());
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

    const NAME: &str = "Café résumé © 2026 — 履歴書.pdf";
    const DISPOSITION: &str = "inline; filename=\"Caf_ r_sum_ _ 2026 _ ___.pdf\"; filename*=UTF-8''Caf%C3%A9%20r%C3%A9sum%C3%A9%20%C2%A9%202026%20%E2%80%94%20%E5%B1%A5%E6%AD%B4%E6%9B%B8.pdf";

    fn checksum() -> String {
        use base64::{engine::general_purpose::STANDARD, Engine as _};
        STANDARD.encode([9u8; 32])
    }

    #[test]
    fn every_form_pins_the_original_name_and_the_checksum() {
        let upload = presigner(&[])
            .presign(
                &UploadRequest {
                    file_name: NAME.into(),
                    checksum_sha256: Some(checksum()),
                    ..UploadRequest::default()
                },
                NOW,
                [7; 16],
            )
            .unwrap();
        assert!(
            upload.key.ends_with("/Café-résumé-2026-履歴書.pdf"),
            "{}",
            upload.key
        );
        let form = upload.form().unwrap();
        assert_eq!(form.field("Content-Disposition"), Some(DISPOSITION));
        assert_eq!(form.field("x-amz-checksum-algorithm"), Some("SHA256"));
        assert_eq!(
            form.field("x-amz-checksum-sha256"),
            Some(checksum().as_str())
        );
        let conditions = conditions(&upload);
        for (name, value) in [
            ("Content-Disposition", DISPOSITION.to_owned()),
            ("x-amz-checksum-algorithm", "SHA256".to_owned()),
            ("x-amz-checksum-sha256", checksum()),
        ] {
            assert!(
                conditions.contains(&serde_json::json!({ name: value })),
                "{name} not pinned"
            );
        }
        // Without a checksum, no checksum field.
        let plain = presigner(&[])
            .presign(&request("a.txt", None, None), NOW, [7; 16])
            .unwrap();
        assert_eq!(plain.form().unwrap().field("x-amz-checksum-sha256"), None);
    }

    #[test]
    fn a_put_signs_type_size_name_and_checksum() {
        let upload = presigner(&[])
            .presign(
                &UploadRequest {
                    file_name: NAME.into(),
                    content_type: Some("application/pdf".into()),
                    size: Some(4096),
                    method: Some(UploadMethod::Put),
                    checksum_sha256: Some(checksum()),
                },
                NOW,
                [7; 16],
            )
            .unwrap();
        let SignedUpload::Put(put) = &upload.signed else {
            panic!("a PUT was asked for");
        };
        let header = |name: &str| {
            put.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("content-type"), Some("application/pdf"));
        assert_eq!(header("content-length"), Some("4096"));
        assert_eq!(header("content-disposition"), Some(DISPOSITION));
        assert_eq!(header("x-amz-checksum-sha256"), Some(checksum().as_str()));
        assert!(put
            .url
            .starts_with("https://photos.s3.us-east-1.amazonaws.com/uploads/"));
        assert!(put.url.contains("X-Amz-Expires=600&"));
        assert!(put.url.contains(
            "X-Amz-SignedHeaders=content-disposition%3Bcontent-length%3Bcontent-type%3Bhost%3Bx-amz-checksum-sha256&"
        ));
        assert_eq!(upload.expires_at, utc_datetime!(2026-11-24 12:10));
        // Without a size or type, neither is signed: any size up to S3's 5 GiB is taken.
        let bare = presigner(&[("UPLOAD_METHOD", "PUT")])
            .presign(&request("a.bin", None, None), NOW, [7; 16])
            .unwrap();
        let SignedUpload::Put(put) = &bare.signed else {
            panic!("UPLOAD_METHOD is PUT");
        };
        let names: Vec<&str> = put.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["content-disposition"]);
    }

    #[test]
    fn bad_checksums_and_methods_are_refused() {
        let mut p = presigner(&[]);
        let bad = UploadRequest {
            file_name: "a.txt".into(),
            checksum_sha256: Some("not-a-digest".into()),
            ..UploadRequest::default()
        };
        assert!(matches!(
            p.presign(&bad, NOW, [1; 16]),
            Err(UploadError::InvalidChecksum(_))
        ));
        let mut r2 = presigner(&[
            ("S3_ENDPOINT", "https://acct.r2.cloudflarestorage.com"),
            ("S3_REGION", "auto"),
        ]);
        let post = UploadRequest {
            file_name: "a.txt".into(),
            method: Some(UploadMethod::Post),
            ..UploadRequest::default()
        };
        let refused = r2.presign(&post, NOW, [1; 16]).unwrap_err();
        assert_eq!(refused, UploadError::MethodNotSupported { r2: true });
        assert!(refused.to_string().contains("no POST Object"));
        let put = r2
            .presign(&request("a.txt", None, None), NOW, [1; 16])
            .unwrap();
        assert!(put.form().is_none());
    }

    #[test]
    fn downloads_are_signed_only_inside_the_prefix() {
        let mut p = presigner(&[("DOWNLOAD_EXPIRES_SECONDS", "120")]);
        let key = "uploads/0b7e0c2a-0000-4000-8000-000000000000/Café résumé.pdf";
        let download = p.presign_download(key, None, NOW).unwrap();
        assert!(download.url.starts_with(
            "https://photos.s3.us-east-1.amazonaws.com/uploads/0b7e0c2a-0000-4000-8000-000000000000/Caf%C3%A9%20r%C3%A9sum%C3%A9.pdf?X-Amz-Algorithm="
        ), "{}", download.url);
        assert!(download
            .url
            .contains("X-Amz-Expires=120&X-Amz-SignedHeaders=host&"));
        assert_eq!(download.expires_at, utc_datetime!(2026-11-24 12:02));
        assert_eq!(
            p.presign_download("secrets/x", None, NOW),
            Err(KeyRefusal::OutsidePrefix)
        );
        assert_eq!(
            p.presign_download("uploads/../secrets/x", None, NOW),
            Err(KeyRefusal::Malformed)
        );
    }

    #[test]
    fn expiry_is_reported_to_the_second_the_policy_uses() {
        let now = utc_datetime!(2026-11-24 12:00:00.999);
        let upload = presigner(&[])
            .presign(&request("a.txt", None, None), now, [1; 16])
            .unwrap();
        assert_eq!(
            upload.form().unwrap().expires_at,
            utc_datetime!(2026-11-24 12:10:00)
        );
        assert_eq!(
            upload.form().unwrap().field("x-amz-date"),
            Some("20261124T120000Z")
        );
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
        let scope = |u: &Upload| {
            u.form()
                .unwrap()
                .field("x-amz-credential")
                .unwrap()
                .to_owned()
        };
        assert_eq!(scope(&morning), scope(&evening));
        assert!(scope(&tomorrow).contains("/20261125/"));
    }
}
