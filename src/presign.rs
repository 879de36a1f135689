//! One request in, one signed upload out: the whole core behind the upload, download and
//! multipart routes. The per-isolate `Presigner` holds the settings and the day's signing key.

use std::fmt;
use std::ops::RangeInclusive;

use time::UtcDateTime;

use crate::auth::Caller;
use crate::config::Config;
use crate::form::{self, OptionalField, PostForm, UploadTarget};
use crate::key::{FileNameError, IssuedKey, KeyRefusal};
use crate::media_type::MediaType;
use crate::object_url::{self, PutPins, SignedUrl};
use crate::profile::Profile;
use crate::profile::S3_SINGLE_UPLOAD_MAX_BYTES;
use crate::s3::{S3Request, Signer, UploadId};
use crate::sigv4::{Method, SigningKeyCache, SigningTime, Subresource};
use crate::upload_error::UploadError;
use crate::upload_handle::{HandleKey, Purpose, UrlGrant, HANDLE_LIFETIME_SECONDS};

/// What a client asks for, with JSON types already checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UploadRequest {
    pub file_name: String,
    pub content_type: Option<String>,
    /// Exact size in bytes, if the client knows it (browsers do: `File.size`). Required for
    /// a PUT, which can bound a size only by signing it.
    pub size: Option<u64>,
    /// POST or PUT; `None`: the `UPLOAD_METHOD` setting decides.
    pub method: Option<Method>,
    /// The file's SHA-256, base64: the store then refuses any other bytes.
    pub checksum_sha256: Option<String>,
    /// The upload profile whose rules apply; `None`: the default (the settings' own).
    pub profile: Option<String>,
}

/// A signed upload and what the client needs to know about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    pub key: IssuedKey,
    pub signed: SignedUpload,
    pub expires_at: UtcDateTime,
    /// The largest file the store will accept (for a PUT, the exact size).
    pub max_bytes: u64,
    /// The type the object will be stored with.
    pub content_type: MediaType,
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

impl std::error::Error for UploadError {}

impl From<FileNameError> for UploadError {
    fn from(e: FileNameError) -> Self {
        Self::InvalidFileName(e)
    }
}

/// What every new object is stored with, whichever way it is uploaded.
struct ObjectPins {
    key: IssuedKey,
    content_type: MediaType,
    /// `inline` only for a type that is safe to show, with the person's own file name.
    disposition: String,
}

/// The per-isolate state: validated settings, the day's signing key and the upload-handle key.
#[derive(Debug)]
pub struct Presigner {
    config: Config,
    signing_keys: SigningKeyCache,
    handles: HandleKey,
}

impl Presigner {
    pub fn new(config: Config) -> Self {
        let store = [
            config.location.scheme,
            "://",
            &config.location.host,
            &config.location.base_path,
        ]
        .concat();
        let prefix = &config.default_profile().prefix;
        let scope = [store.as_str(), &config.bucket, prefix];
        let handles = HandleKey::derive(config.credentials.secret_access_key.expose(), &scope);
        Self {
            config,
            signing_keys: SigningKeyCache::default(),
            handles,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Validates `request` against the settings and signs a form or PUT for it. `now` is the
    /// signing time; `random` (16 bytes from a CSPRNG) makes the object key unique.
    pub fn presign(
        &self,
        request: &UploadRequest,
        now: UtcDateTime,
        random: [u8; 16],
    ) -> Result<Upload, UploadError> {
        self.presign_as(request, None, now, random)
    }

    /// As [`Presigner::presign`], for an authenticated caller: the key goes under the
    /// caller's segment, and the token's claims may narrow (never widen) size and types.
    pub fn presign_as(
        &self,
        request: &UploadRequest,
        caller: Option<&Caller>,
        now: UtcDateTime,
        random: [u8; 16],
    ) -> Result<Upload, UploadError> {
        let profile = self.profile_for(request.profile.as_deref(), caller)?;
        let method = request.method.unwrap_or(profile.1.method);
        if method == Method::Post && !self.config.post_supported {
            return Err(UploadError::MethodNotSupported { r2: true });
        }
        let content_length = size_range(profile.1, request.size, method, caller)?;
        let pins = self.object_pins(
            profile,
            &request.file_name,
            request.content_type.as_deref(),
            caller,
            random,
        )?;
        let profile = profile.1;
        let checksum = match &request.checksum_sha256 {
            Some(value) => Some(
                object_url::parse_checksum_sha256(value).map_err(UploadError::InvalidChecksum)?,
            ),
            None => None,
        };
        let config = &self.config;
        // Whole seconds (inside `at`): x-amz-date and the policy expiration have no finer
        // resolution, and `expires_at` must not promise a moment after the upload expires.
        let at = self
            .signing_keys
            .at(&config.credentials.secret_access_key, &config.region, now);
        let expires_at = at.after(profile.expires_seconds);
        let signed = if method == Method::Post {
            let form = sign_form(config, profile, &pins, &content_length, checksum, at);
            SignedUpload::Form(form)
        } else {
            let put_pins = PutPins {
                content_type: pins.content_type.as_str(),
                content_length: *content_length.end(),
                content_disposition: &pins.disposition,
                cache_control: &config.cache_control,
                checksum_sha256: checksum,
                create_only: !config.allow_overwrite,
            };
            SignedUpload::Put(object_url::presigned_put(
                &config.location,
                &pins.key,
                &put_pins,
                profile.expires_seconds,
                &config.credentials,
                at,
            ))
        };
        Ok(Upload {
            key: pins.key,
            signed,
            expires_at,
            max_bytes: *content_length.end(),
            content_type: pins.content_type,
        })
    }

    /// The profile a request names, with its index, if there is one and the caller's token
    /// (when it lists profiles) allows it.
    pub(crate) fn profile_for(
        &self,
        name: Option<&str>,
        caller: Option<&Caller>,
    ) -> Result<(usize, &Profile), UploadError> {
        let (index, profile) = self
            .config
            .profiles
            .named(name)
            .ok_or(UploadError::UnknownProfile)?;
        if caller.is_some_and(|c| !c.may_use_profile(&profile.name)) {
            return Err(UploadError::ProfileNotAllowed);
        }
        Ok((index, profile))
    }

    /// The rules `key` was issued under.
    pub(crate) fn profile_of(&self, key: &IssuedKey) -> &Profile {
        self.config.profiles.get(key.profile())
    }

    /// A fresh key, and the type and disposition the object will carry.
    fn object_pins(
        &self,
        (index, profile): (usize, &Profile),
        file_name: &str,
        content_type: Option<&str>,
        caller: Option<&Caller>,
        random: [u8; 16],
    ) -> Result<ObjectPins, UploadError> {
        let segment = caller.map(Caller::segment);
        let key = IssuedKey::issue(&profile.prefix, segment, file_name, random)?.in_profile(index);
        let content_type = content_type_for(profile, content_type, caller, key.name())?;
        let kind = self.config.disposition_for(&content_type);
        let disposition =
            object_url::content_disposition(kind, &crate::key::display_name(file_name));
        Ok(ObjectPins {
            key,
            content_type,
            disposition,
        })
    }

    /// `key` if it is one this worker could have issued: under a profile's prefix, under the
    /// caller's segment when there is a caller, and in a profile the caller's token allows.
    pub fn check_key(&self, key: &str, caller: Option<&Caller>) -> Result<IssuedKey, KeyRefusal> {
        let key = self.check_key_in(key, caller.map(Caller::segment))?;
        let profile = &self.profile_of(&key).name;
        if caller.is_some_and(|c| !c.may_use_profile(profile)) {
            return Err(KeyRefusal::OutsidePrefix);
        }
        Ok(key)
    }

    /// `key` if this worker could have issued it in the key segment `segment` (none: auth
    /// off), under the profile with the longest prefix whose key shape it has.
    pub fn check_key_in(&self, key: &str, segment: Option<&str>) -> Result<IssuedKey, KeyRefusal> {
        let profiles = &self.config.profiles;
        let mut refusal = None;
        for (index, profile) in profiles.for_key(key) {
            match IssuedKey::check(key, &profile.prefix, segment) {
                Ok(issued) => return Ok(issued.in_profile(index)),
                Err(e) => refusal = Some(e),
            }
        }
        // Under no prefix at all: still say whether the key is malformed or only elsewhere.
        let default = &profiles.default_profile().prefix;
        Err(refusal.unwrap_or_else(|| {
            IssuedKey::check(key, default, segment)
                .err()
                .unwrap_or(KeyRefusal::OutsidePrefix)
        }))
    }

    /// `key` if this worker could have issued it to anyone (an R2 notification names no
    /// caller): with auth off, directly under a profile's prefix; with auth on, under one
    /// caller's segment there, the only shape it then issues. (Trying both would give a user
    /// whose segment is a nested profile's name, `uploads/avatar/…`, to that profile.)
    pub(crate) fn check_key_of_anyone(&self, key: &str) -> Option<IssuedKey> {
        let segmented = self.config.auth.is_some();
        self.config
            .profiles
            .for_key(key)
            .find_map(|(index, profile)| {
                let rest = &key[profile.prefix.len()..];
                let segment = match segmented {
                    true => Some(rest.split_once('/')?.0),
                    false => None,
                };
                let issued = IssuedKey::check(key, &profile.prefix, segment).ok()?;
                Some(issued.in_profile(index))
            })
    }

    /// Signs the worker's own calls to S3 at `now`.
    pub fn signer(&self, now: UtcDateTime) -> Signer<'_> {
        let config = &self.config;
        Signer {
            location: &config.location,
            credentials: &config.credentials,
            at: self
                .signing_keys
                .at(&config.credentials.secret_access_key, &config.region, now),
        }
    }

    /// A presigned GET for `key` that answers with the stored type only if it is safe to
    /// show, and as an attachment otherwise, whatever the object carries (`stored_type` and
    /// `stored_disposition` as a HEAD reported them).
    pub fn presign_download(
        &self,
        key: &IssuedKey,
        stored_type: Option<&str>,
        stored_disposition: Option<&str>,
        now: UtcDateTime,
    ) -> Download {
        let config = &self.config;
        let overrides = object_url::download_overrides(key, stored_type, stored_disposition, |t| {
            config.disposition_for(t) == crate::media_type::Disposition::Inline
        });
        let at = self
            .signing_keys
            .at(&config.credentials.secret_access_key, &config.region, now);
        let expires_in = config.download_expires_seconds;
        let signed = object_url::presigned_get(
            &config.location,
            key,
            &overrides,
            expires_in,
            &config.credentials,
            at.clone(),
        );
        Download {
            url: signed.url,
            expires_at: at.after(expires_in),
        }
    }

    /// A fresh key for a multipart upload and the CreateMultipartUpload call that starts it,
    /// storing the same type, disposition and cache policy as any other upload.
    pub fn start_multipart(
        &self,
        file: &UploadRequest,
        caller: Option<&Caller>,
        now: UtcDateTime,
        random: [u8; 16],
    ) -> Result<(IssuedKey, S3Request), UploadError> {
        let profile = self.profile_for(file.profile.as_deref(), caller)?;
        if profile.1.max_multipart_bytes == 0 {
            return Err(UploadError::MultipartNotAllowed);
        }
        let content_type = file.content_type.as_deref();
        let pins = self.object_pins(profile, &file.file_name, content_type, caller, random)?;
        let cache_control = self.config.cache_control.clone();
        let headers = multipart_headers(&cache_control, &pins);
        let request = self
            .signer(now)
            .create_multipart_upload(&pins.key, &headers);
        Ok((pins.key, request))
    }

    /// The most a multipart upload of `key` may hold: its profile's `max_multipart_bytes`
    /// (`UPLOAD_MAX_MULTIPART_BYTES` for the default), or less if the caller's token says so.
    pub fn multipart_limit(&self, key: &IssuedKey, caller: Option<&Caller>) -> u64 {
        crate::multipart::limit(
            self.profile_of(key).max_multipart_bytes,
            caller.and_then(Caller::max_bytes),
        )
    }

    /// The handle the caller gets for S3's upload `id` on `key`: it names the upload for a day.
    pub fn issue_handle(
        &self,
        id: &UploadId,
        key: &IssuedKey,
        caller: Option<&Caller>,
        now: UtcDateTime,
    ) -> String {
        let expires = now.unix_timestamp() + HANDLE_LIFETIME_SECONDS;
        self.handles
            .issue(id, key.as_str(), caller.map(Caller::sub), expires)
    }

    /// S3's upload ID behind `handle`, if it was issued for this key and caller.
    pub fn open_handle(
        &self,
        handle: &str,
        key: &IssuedKey,
        sub: Option<&str>,
        now: UtcDateTime,
    ) -> Result<UploadId, crate::error::ApiError> {
        Ok(self
            .handles
            .open(handle, key.as_str(), sub, now.unix_timestamp())?)
    }

    /// S3's upload ID behind `handle` for this key and caller, however old: for an abort.
    pub fn open_handle_to_abort(
        &self,
        handle: &str,
        key: &IssuedKey,
        sub: Option<&str>,
    ) -> Result<UploadId, crate::error::ApiError> {
        Ok(self.handles.open_to_abort(handle, key.as_str(), sub)?)
    }

    /// The terms and `signature` of a worker URL a browser calls without a token, valid as
    /// long as a presigned URL.
    pub fn grant_url(
        &self,
        purpose: Purpose,
        handle: &str,
        key: &IssuedKey,
        caller: Option<&Caller>,
        now: UtcDateTime,
    ) -> (UrlGrant, String) {
        let grant = UrlGrant {
            limit: self.multipart_limit(key, caller),
            sub: caller.map(|c| c.sub().to_owned()),
            expires: now.unix_timestamp() + self.profile_of(key).expires_seconds as i64,
        };
        let signature = self.handles.sign_url(purpose, handle, key.as_str(), &grant);
        (grant, signature)
    }

    /// Whether a worker URL's terms carry this worker's `signature` and are in date.
    pub fn check_url(
        &self,
        purpose: Purpose,
        handle: &str,
        key: &str,
        grant: &UrlGrant,
        signature: &str,
        now: UtcDateTime,
    ) -> Result<(), crate::error::ApiError> {
        let now = now.unix_timestamp();
        Ok(self
            .handles
            .check_url(purpose, handle, key, grant, signature, now)?)
    }

    /// A presigned UploadPart, if part `number` (of `size` bytes, when known: then it is
    /// signed) fits the caller's limit.
    pub fn presign_part(
        &self,
        key: &IssuedKey,
        id: &UploadId,
        number: u16,
        size: Option<u64>,
        caller: Option<&Caller>,
        now: UtcDateTime,
    ) -> Result<SignedUrl, crate::error::ApiError> {
        crate::multipart::check_part(number, size, self.multipart_limit(key, caller))?;
        let (number, length) = (number.to_string(), size.map(|s| s.to_string()));
        let headers: Vec<(&str, &str)> = length
            .as_deref()
            .map(|l| ("content-length", l))
            .into_iter()
            .collect();
        let query = [
            (Subresource::PartNumber, number.as_str()),
            (Subresource::UploadId, id.as_str()),
        ];
        Ok(self.presign_on(Method::Put, key, &headers, &query, now))
    }

    /// A presigned request on a multipart upload (ListParts and Abort), for the browser to
    /// send.
    pub fn presign_multipart(
        &self,
        method: Method,
        key: &IssuedKey,
        id: &UploadId,
        now: UtcDateTime,
    ) -> SignedUrl {
        self.presign_on(
            method,
            key,
            &[],
            &[(Subresource::UploadId, id.as_str())],
            now,
        )
    }

    fn presign_on(
        &self,
        method: Method,
        key: &IssuedKey,
        headers: &[(&str, &str)],
        query: &[(Subresource, &str)],
        now: UtcDateTime,
    ) -> SignedUrl {
        let config = &self.config;
        let at = self
            .signing_keys
            .at(&config.credentials.secret_access_key, &config.region, now);
        object_url::presign_object(
            method,
            &config.location,
            key,
            headers,
            query,
            self.profile_of(key).expires_seconds,
            &config.credentials,
            at,
        )
    }
}

/// The sizes the store may accept: the exact `size` when given; for a POST without one,
/// 1 byte to the limit; a PUT without one is refused, since only a signed `Content-Length`
/// bounds it.
fn size_range(
    profile: &Profile,
    size: Option<u64>,
    method: Method,
    caller: Option<&Caller>,
) -> Result<RangeInclusive<u64>, UploadError> {
    let max_bytes = caller
        .and_then(Caller::max_bytes)
        .map_or(profile.max_bytes, |claim| claim.min(profile.max_bytes));
    match size {
        Some(size) if size == 0 || size > S3_SINGLE_UPLOAD_MAX_BYTES => {
            Err(UploadError::InvalidSize)
        }
        Some(size) if size > max_bytes => Err(UploadError::FileTooLarge { max_bytes }),
        Some(size) => Ok(size..=size),
        None if method == Method::Put => Err(UploadError::SizeRequired),
        None => Ok(1..=max_bytes),
    }
}

/// The type every upload pins: the requested one, or the one the file's extension implies,
/// or `application/octet-stream`. With an allow-list (the profile's or the token's) it must be
/// on it, and a file with no known type is refused rather than stored untyped.
fn content_type_for(
    profile: &Profile,
    requested: Option<&str>,
    caller: Option<&Caller>,
    name: &str,
) -> Result<MediaType, UploadError> {
    let restricted =
        !profile.allowed_types.is_empty() || caller.is_some_and(Caller::restricts_types);
    let media_type = match requested {
        Some(raw) => MediaType::parse(raw).ok_or(UploadError::MalformedContentType)?,
        None => {
            let extension = name.split_once('.').map(|(_, ext)| ext);
            match extension.and_then(MediaType::from_extension) {
                Some(inferred) => inferred,
                None if restricted => return Err(UploadError::ContentTypeRequired),
                None => MediaType::octet_stream(),
            }
        }
    };
    let caller_allows = caller.is_none_or(|c| c.allows_type(&media_type));
    if profile.allows_type(&media_type) && caller_allows {
        Ok(media_type)
    } else {
        Err(UploadError::ContentTypeNotAllowed {
            content_type: media_type.essence().to_owned(),
        })
    }
}

/// What a multipart upload stores, as CreateMultipartUpload headers (sorted by name): the
/// same type, disposition and cache policy as any other upload.
fn multipart_headers<'a>(
    cache_control: &'a str,
    pins: &'a ObjectPins,
) -> [(&'static str, &'a str); 3] {
    [
        ("cache-control", cache_control),
        ("content-disposition", pins.disposition.as_str()),
        ("content-type", pins.content_type.as_str()),
    ]
}

fn sign_form(
    config: &Config,
    profile: &Profile,
    pins: &ObjectPins,
    content_length: &RangeInclusive<u64>,
    checksum: Option<&str>,
    at: SigningTime,
) -> PostForm {
    let mut fields = vec![
        OptionalField::ContentType(pins.content_type.as_str().to_owned()),
        OptionalField::ContentDisposition(pins.disposition.clone()),
        OptionalField::CacheControl(config.cache_control.clone()),
    ];
    if let Some(checksum) = checksum {
        fields.push(OptionalField::ChecksumAlgorithmSha256);
        fields.push(OptionalField::ChecksumSha256(checksum.to_owned()));
    }
    let target = UploadTarget {
        url: &config.upload_url,
        bucket: &config.bucket,
        key: pins.key.as_str(),
        content_length: content_length.clone(),
        optional_fields: &fields,
    };
    form::sign_post_form(&target, &config.credentials, at, profile.expires_seconds)
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

    const PROFILES: &str = r#"{"avatar": {"max_bytes": 1000, "allowed_types": ["image/png"], "prefix": "uploads/avatar/", "expires_seconds": 60, "max_multipart_bytes": 0},
        "video": {"method": "PUT", "max_multipart_bytes": 104857600, "prefix": "videos/", "events": false}}"#;

    fn in_profile(name: &str, file: &str, size: Option<u64>, profile: &str) -> UploadRequest {
        UploadRequest {
            profile: Some(profile.into()),
            ..request(name, Some(file), size)
        }
    }

    #[test]
    fn a_profile_brings_its_own_prefix_limit_types_method_and_expiry() {
        let p = presigner(&[("UPLOAD_PROFILES", PROFILES)]);
        let avatar = p
            .presign(
                &in_profile("me.png", "image/png", None, "avatar"),
                NOW,
                [7; 16],
            )
            .unwrap();
        assert!(avatar.key.as_str().starts_with("uploads/avatar/"));
        assert_eq!(p.profile_of(&avatar.key).name, "avatar");
        assert_eq!(avatar.max_bytes, 1000);
        assert_eq!(avatar.expires_at, utc_datetime!(2026-11-24 12:01));
        let form = avatar.form().unwrap();
        assert!(form.field("policy").is_some(), "a form: the default method");
        let too_big = in_profile("me.png", "image/png", Some(1001), "avatar");
        assert_eq!(
            p.presign(&too_big, NOW, [7; 16]),
            Err(UploadError::FileTooLarge { max_bytes: 1000 })
        );
        let pdf = in_profile("cv.pdf", "application/pdf", Some(10), "avatar");
        assert!(matches!(
            p.presign(&pdf, NOW, [7; 16]),
            Err(UploadError::ContentTypeNotAllowed { .. })
        ));
        let video = p
            .presign(
                &in_profile("v.mp4", "video/mp4", Some(5000), "video"),
                NOW,
                [7; 16],
            )
            .unwrap();
        assert!(
            matches!(video.signed, SignedUpload::Put(_)),
            "the profile's method"
        );
        assert!(video.key.as_str().starts_with("videos/"));
        // The default is the settings' own, named or not.
        let plain = p
            .presign(&request("a.pdf", None, Some(20_000)), NOW, [7; 16])
            .unwrap();
        assert_eq!(
            (plain.max_bytes, p.profile_of(&plain.key).name.as_str()),
            (20_000, "default")
        );
        let named = in_profile("a.pdf", "application/pdf", Some(2000), "default");
        assert!(p.presign(&named, NOW, [7; 16]).is_ok());
    }

    #[test]
    fn unknown_and_forbidden_profiles_are_refused() {
        let p = presigner(&[("UPLOAD_PROFILES", PROFILES)]);
        let nope = in_profile("a.png", "image/png", Some(10), "nope");
        assert_eq!(
            p.presign(&nope, NOW, [7; 16]),
            Err(UploadError::UnknownProfile)
        );
        let avatars_only = Caller::for_tests("alice", None, None).with_profiles(&["avatar"]);
        let video = in_profile("v.mp4", "video/mp4", Some(10), "video");
        assert_eq!(
            p.presign_as(&video, Some(&avatars_only), NOW, [7; 16]),
            Err(UploadError::ProfileNotAllowed)
        );
        assert_eq!(
            p.presign_as(
                &request("a.png", None, Some(10)),
                Some(&avatars_only),
                NOW,
                [7; 16]
            ),
            Err(UploadError::ProfileNotAllowed),
            "the default is a profile like any other"
        );
        let avatar = in_profile("a.png", "image/png", Some(10), "avatar");
        assert!(p
            .presign_as(&avatar, Some(&avatars_only), NOW, [7; 16])
            .is_ok());
        // A key of a profile the token no longer lists is not this caller's to name.
        let alice = Caller::for_tests("alice", None, None);
        let key = p
            .presign_as(&video, Some(&alice), NOW, [7; 16])
            .unwrap()
            .key;
        assert!(p.check_key(key.as_str(), Some(&alice)).is_ok());
        assert_eq!(
            p.check_key(key.as_str(), Some(&avatars_only)),
            Err(KeyRefusal::OutsidePrefix)
        );
    }

    #[test]
    fn a_key_names_its_profile_and_its_multipart_rules() {
        let p = presigner(&[("UPLOAD_PROFILES", PROFILES)]);
        let video = p
            .start_multipart(
                &in_profile("v.mp4", "video/mp4", None, "video"),
                None,
                NOW,
                [7; 16],
            )
            .unwrap()
            .0;
        assert_eq!(p.multipart_limit(&video, None), 104_857_600);
        let back = p.check_key(video.as_str(), None).unwrap();
        assert_eq!(
            (back.profile(), p.profile_of(&back).name.as_str()),
            (2, "video")
        );
        // Completion holds the object to the same profile, narrowed by the caller's token.
        let rules = crate::completion::rules_for(&p, &back, None);
        assert_eq!(
            (
                rules.profile.as_str(),
                rules.max_multipart_bytes,
                rules.events
            ),
            ("video", 104_857_600, false)
        );
        let small = Caller::for_tests("alice", Some(4096), None);
        let rules = crate::completion::rules_for(&p, &back, Some(&small));
        assert_eq!((rules.max_bytes, rules.max_multipart_bytes), (4096, 4096));
        let avatar = in_profile("a.png", "image/png", None, "avatar");
        assert_eq!(
            p.start_multipart(&avatar, None, NOW, [7; 16]).map(|_| ()),
            Err(UploadError::MultipartNotAllowed)
        );
        let default = p.start_multipart(&request("a.bin", None, None), None, NOW, [7; 16]);
        assert_eq!(p.multipart_limit(&default.unwrap().0, None), 10_485_760);
        // A part URL lasts as long as its profile says.
        let id = UploadId::parse("u1").unwrap();
        let part = p.presign_part(&back, &id, 1, None, None, NOW).unwrap();
        assert!(part.url.contains("X-Amz-Expires=600"), "{}", part.url);
    }

    #[test]
    fn a_notified_key_is_checked_in_the_shape_the_worker_issues() {
        const SECRET: &str = "an-hs256-secret-of-at-least-32-bytes!!";
        let p = presigner(&[
            ("UPLOAD_PROFILES", PROFILES),
            ("UPLOAD_AUTH_SECRET", SECRET),
        ]);
        let alice = Caller::for_tests("alice", None, None);
        let video = in_profile("v.mp4", "video/mp4", Some(10), "video");
        let hers = p
            .presign_as(&video, Some(&alice), NOW, [7; 16])
            .unwrap()
            .key;
        let found = p.check_key_of_anyone(hers.as_str()).unwrap();
        assert_eq!(
            (found.as_str(), p.profile_of(&found).name.as_str()),
            (hers.as_str(), "video")
        );
        // The default profile's key of a user whose segment is a nested profile's name.
        let user = Caller::for_tests("avatar", None, None);
        let theirs = p
            .presign_as(&request("r.pdf", None, Some(10)), Some(&user), NOW, [7; 16])
            .unwrap()
            .key;
        assert!(theirs.as_str().starts_with("uploads/avatar/"));
        let found = p.check_key_of_anyone(theirs.as_str()).unwrap();
        assert_eq!(p.profile_of(&found).name, "default");
        // With auth on the worker issues no key without a segment.
        let open = presigner(&[("UPLOAD_PROFILES", PROFILES)]);
        let anyone = open
            .presign(&request("a.bin", None, Some(10)), NOW, [7; 16])
            .unwrap()
            .key;
        assert_eq!(
            open.check_key_of_anyone(anyone.as_str()).unwrap().profile(),
            0
        );
        assert!(p.check_key_of_anyone(anyone.as_str()).is_none());
        assert!(
            open.check_key_of_anyone(hers.as_str()).is_none(),
            "auth off: no segments"
        );
        for other in [
            "videos/report.pdf",
            "videos/a/b/c",
            "elsewhere/x",
            "uploads/../x",
        ] {
            assert!(p.check_key_of_anyone(other).is_none(), "{other}");
            assert!(open.check_key_of_anyone(other).is_none(), "{other}");
        }
    }

    #[test]
    fn nested_prefixes_give_each_key_to_the_profile_whose_shape_it_has() {
        let p = presigner(&[("UPLOAD_PROFILES", PROFILES)]);
        // With auth, a default key of a user whose segment is `avatar` sits under the avatar
        // profile's prefix; it is still the default profile's, and only that user's.
        let user = Caller::for_tests("avatar", None, None);
        let key = p
            .presign_as(
                &request("a.pdf", None, Some(5000)),
                Some(&user),
                NOW,
                [7; 16],
            )
            .unwrap()
            .key;
        assert!(key.as_str().starts_with("uploads/avatar/"));
        let back = p.check_key(key.as_str(), Some(&user)).unwrap();
        assert_eq!(p.profile_of(&back).name, "default");
        let other = Caller::for_tests("bob", None, None);
        assert!(p.check_key(key.as_str(), Some(&other)).is_err());
        assert_eq!(
            p.check_key("elsewhere/x", None),
            Err(KeyRefusal::OutsidePrefix)
        );
        assert_eq!(
            p.check_key("uploads/../x", None),
            Err(KeyRefusal::Malformed)
        );
    }

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
        let key = upload.key.as_str();
        assert!(key.starts_with("uploads/") && key.ends_with("/holiday-photo.jpg"));
        assert_eq!(upload.form().unwrap().field("key"), Some(key));
        // No type given: the extension's, pinned all the same.
        assert_eq!(
            upload.form().unwrap().field("Content-Type"),
            Some("image/jpeg")
        );
        assert_eq!(
            upload.form().unwrap().field("Cache-Control"),
            Some("private, max-age=3600")
        );
        assert!(conditions(&upload)
            .contains(&serde_json::json!({"Cache-Control": "private, max-age=3600"})));
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
        let p = presigner(&[("UPLOAD_MAX_BYTES", "1000")]);
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
    fn every_upload_pins_a_type_and_only_safe_types_are_inline() {
        let p = presigner(&[]);
        let table = [
            ("cat.png", None, "image/png", "inline"),
            ("notes.txt", None, "text/plain", "inline"),
            ("clip.mp4", None, "video/mp4", "inline"),
            ("doc.pdf", None, "application/pdf", "inline"),
            ("data.bin", None, "application/octet-stream", "attachment"),
            ("noext", None, "application/octet-stream", "attachment"),
            ("x.html", None, "text/html", "attachment"),
            ("x.html", Some("text/html"), "text/html", "attachment"),
            ("x.svg", None, "image/svg+xml", "attachment"),
            (
                "x.png",
                Some("image/svg+xml"),
                "image/svg+xml",
                "attachment",
            ),
            ("x.xml", None, "application/xml", "attachment"),
            (
                "x.js",
                Some("text/javascript"),
                "text/javascript",
                "attachment",
            ),
            (
                "x.png",
                Some("application/xhtml+xml"),
                "application/xhtml+xml",
                "attachment",
            ),
        ];
        for (name, content_type, pinned, disposition) in table {
            let upload = p
                .presign(&request(name, content_type, None), NOW, [1; 16])
                .unwrap();
            let form = upload.form().unwrap();
            assert_eq!(form.field("Content-Type"), Some(pinned), "{name}");
            let stored = form.field("Content-Disposition").unwrap();
            assert!(
                stored.starts_with(&format!("{disposition}; filename=")),
                "{name}: {stored}"
            );
            // The same for a PUT.
            let mut put = request(name, content_type, Some(5));
            put.method = Some(Method::Put);
            let upload = p.presign(&put, NOW, [1; 16]).unwrap();
            let SignedUpload::Put(signed) = &upload.signed else {
                panic!("a PUT was asked for");
            };
            let header = |n: &str| {
                signed
                    .headers
                    .iter()
                    .find(|(h, _)| h == n)
                    .unwrap()
                    .1
                    .clone()
            };
            assert_eq!(header("content-type"), pinned, "{name}");
            assert!(
                header("content-disposition").starts_with(disposition),
                "{name}"
            );
            assert_eq!(header("cache-control"), "private, max-age=3600");
        }
        let widened = presigner(&[
            ("UPLOAD_INLINE_TYPES", "image/tiff"),
            ("UPLOAD_CACHE_CONTROL", "no-store"),
        ]);
        let upload = widened
            .presign(&request("scan.tiff", None, None), NOW, [1; 16])
            .unwrap();
        let form = upload.form().unwrap();
        assert!(form
            .field("Content-Disposition")
            .unwrap()
            .starts_with("inline;"));
        assert_eq!(form.field("Cache-Control"), Some("no-store"));
    }

    #[test]
    fn allow_list_decides_every_content_type() {
        let p = presigner(&[("UPLOAD_ALLOWED_TYPES", "image/*, application/pdf")]);
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
            upload
                .key
                .as_str()
                .ends_with("/Café-résumé-2026-履歴書.pdf"),
            "{:?}",
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
                    method: Some(Method::Put),
                    checksum_sha256: Some(checksum()),
                    profile: None,
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
        assert_eq!(
            header("if-none-match"),
            Some("*"),
            "no overwrite by default"
        );
        assert!(put.url.contains(
            "X-Amz-SignedHeaders=cache-control%3Bcontent-disposition%3Bcontent-length%3Bcontent-type%3Bhost%3Bif-none-match%3Bx-amz-checksum-sha256&"
        ));
        assert_eq!(upload.expires_at, utc_datetime!(2026-11-24 12:10));
    }

    #[test]
    fn a_put_may_overwrite_only_where_the_operator_allows() {
        let p = presigner(&[("UPLOAD_METHOD", "PUT"), ("UPLOAD_ALLOW_OVERWRITE", "true")]);
        let upload = p
            .presign(&request("a.bin", None, Some(10)), NOW, [7; 16])
            .unwrap();
        let SignedUpload::Put(put) = &upload.signed else {
            panic!("UPLOAD_METHOD is PUT");
        };
        assert!(put.headers.iter().all(|(n, _)| n != "if-none-match"));
        assert!(!put.url.contains("if-none-match"));
    }

    #[test]
    fn a_put_without_a_size_is_refused_so_the_limit_holds_for_every_method() {
        let p = presigner(&[("UPLOAD_METHOD", "PUT"), ("UPLOAD_MAX_BYTES", "1000")]);
        assert_eq!(
            p.presign(&request("a.bin", None, None), NOW, [7; 16]),
            Err(UploadError::SizeRequired)
        );
        assert_eq!(
            p.presign(&request("a.bin", None, Some(5000)), NOW, [7; 16]),
            Err(UploadError::FileTooLarge { max_bytes: 1000 })
        );
        let upload = p
            .presign(&request("a.bin", None, Some(1000)), NOW, [7; 16])
            .unwrap();
        let SignedUpload::Put(put) = &upload.signed else {
            panic!("UPLOAD_METHOD is PUT");
        };
        assert!(put
            .headers
            .contains(&("content-length".into(), "1000".into())));
        // A POST without a size is still bounded by its policy's range.
        let mut post = request("a.bin", None, None);
        post.method = Some(Method::Post);
        assert_eq!(p.presign(&post, NOW, [7; 16]).unwrap().max_bytes, 1000);
    }

    #[test]
    fn bad_checksums_and_methods_are_refused() {
        let p = presigner(&[]);
        let bad = UploadRequest {
            file_name: "a.txt".into(),
            checksum_sha256: Some("not-a-digest".into()),
            ..UploadRequest::default()
        };
        assert!(matches!(
            p.presign(&bad, NOW, [1; 16]),
            Err(UploadError::InvalidChecksum(_))
        ));
        let r2 = presigner(&[
            ("S3_ENDPOINT", "https://acct.r2.cloudflarestorage.com"),
            ("S3_REGION", "auto"),
        ]);
        let post = UploadRequest {
            file_name: "a.txt".into(),
            method: Some(Method::Post),
            ..UploadRequest::default()
        };
        let refused = r2.presign(&post, NOW, [1; 16]).unwrap_err();
        assert_eq!(refused, UploadError::MethodNotSupported { r2: true });
        assert!(refused.to_string().contains("no POST Object"));
        let put = r2
            .presign(&request("a.txt", None, Some(3)), NOW, [1; 16])
            .unwrap();
        assert!(put.form().is_none());
    }

    #[test]
    fn downloads_are_signed_only_for_issued_keys_with_a_safe_answer() {
        let p = presigner(&[("DOWNLOAD_EXPIRES_SECONDS", "120")]);
        let raw = "uploads/0b7e0c2a-0000-4000-8000-000000000000/Café résumé.pdf";
        let key = p.check_key(raw, None).unwrap();
        let stored = "inline; filename=\"x.pdf\"; filename*=UTF-8''x.pdf";
        let download = p.presign_download(&key, Some("application/pdf"), Some(stored), NOW);
        assert!(download.url.starts_with(
            "https://photos.s3.us-east-1.amazonaws.com/uploads/0b7e0c2a-0000-4000-8000-000000000000/Caf%C3%A9%20r%C3%A9sum%C3%A9.pdf?X-Amz-Algorithm="
        ), "{}", download.url);
        assert!(download
            .url
            .contains("X-Amz-Expires=120&X-Amz-SignedHeaders=host&response-content-disposition=inline%3B%20filename%3D%22x.pdf%22"));
        assert!(download
            .url
            .contains("&response-content-type=application%2Fpdf&"));
        assert_eq!(download.expires_at, utc_datetime!(2026-11-24 12:02));
        let html = p.presign_download(&key, Some("text/html"), Some(stored), NOW);
        assert!(html
            .url
            .contains("response-content-disposition=attachment%3B"));
        assert_eq!(
            p.check_key("secrets/x", None),
            Err(KeyRefusal::OutsidePrefix)
        );
        assert_eq!(
            p.check_key("uploads/../secrets/x", None),
            Err(KeyRefusal::Malformed)
        );
        let alice = Caller::for_tests("alice", None, None);
        assert_eq!(
            p.check_key(raw, Some(&alice)),
            Err(KeyRefusal::OutsidePrefix)
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
        let p = presigner(&[("UPLOAD_ALLOWED_TYPES", "image/*,application/pdf")]);
        let caller = Caller::for_tests(
            "user|42",
            Some(1000),
            Some(vec![
                crate::media_type::MediaRange::parse("image/*").unwrap()
            ]),
        );
        let upload = p
            .presign_as(&request("cat.png", None, None), Some(&caller), NOW, [3; 16])
            .unwrap();
        assert!(
            upload.key.as_str().starts_with("uploads/user_7c42/"),
            "{:?}",
            upload.key
        );
        assert!(upload.key.as_str().ends_with("/cat.png"));
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
        let generous = Caller::for_tests(
            "user|42",
            Some(u64::MAX),
            Some(
                ["image/*", "text/html"]
                    .map(|t| crate::media_type::MediaRange::parse(t).unwrap())
                    .to_vec(),
            ),
        );
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
        let p = presigner(&[]);
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
