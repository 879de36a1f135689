//! Upload handles: what the worker hands out instead of S3's upload ID. A handle is the ID
//! with an expiry and a MAC over (upload ID, object key, caller, expiry) under a key only the
//! worker has, so every multipart route can check that an upload belongs to the key and the
//! caller naming it before it touches S3. No store's own checks matter: s3s-fs, for one,
//! lets any key be paired with any upload ID.
//!
//! The same key signs the worker's own URLs that a browser calls without a token
//! (`signRequest` mode sends Uppy's requests with no headers of ours): the URL that answers
//! a created upload's ID, and the completion URL. They are self-authorising, like a
//! presigned S3 URL: a MAC over what they may do and until when.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{ApiError, ErrorCode};
use crate::s3::UploadId;

/// How long a handle names its upload: a day, for uploads that are paused and resumed.
pub(crate) const HANDLE_LIFETIME_SECONDS: i64 = 24 * 60 * 60;
/// 128 bits of MAC, hex: a forgery is a 2^-128 guess per request.
const MAC_BYTES: usize = 16;
const MAC_HEX: usize = 2 * MAC_BYTES;
/// Longest handle: S3's upload IDs are far shorter than the 1,024 bytes allowed here.
const MAX_HANDLE_BYTES: usize = 1024;

/// The MAC key, derived from the S3 secret key (a worker-only secret every isolate has), so
/// a handle issued by one isolate opens in any other. `Debug` shows nothing of it.
#[derive(Clone)]
pub(crate) struct HandleKey([u8; 32]);

impl fmt::Debug for HandleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HandleKey(..)")
    }
}

/// Why a handle or a worker URL was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandleError {
    /// Not shaped like anything the worker issues.
    Malformed,
    /// Issued for another key or caller, or forged.
    NotYours,
    Expired,
}

impl From<HandleError> for ApiError {
    fn from(e: HandleError) -> Self {
        match e {
            HandleError::Malformed => ApiError::invalid_upload_id(),
            HandleError::NotYours => ApiError::new(
                ErrorCode::UploadNotAllowed,
                "this upload was not started for this key and caller",
            ),
            HandleError::Expired => ApiError::new(
                ErrorCode::UploadNotAllowed,
                "this upload's handle or URL has expired: start the upload again",
            ),
        }
    }
}

/// What a self-authorising worker URL may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Answer a created upload's handle as S3's `InitiateMultipartUploadResult`.
    Created,
    /// Complete the upload, within `limit`.
    Complete,
}

/// The terms a worker URL carries in its query, under its MAC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlGrant {
    /// The most the upload may hold (the caller's limit when the URL was issued).
    pub limit: u64,
    /// The caller's `sub`, for the handle and the audit line; `None` with auth off.
    pub sub: Option<String>,
    pub expires: i64,
}

impl HandleKey {
    /// The key for one deployment: the AWS secret, and the store, bucket and prefix it
    /// signs for (`scope`), so that a handle or URL one deployment issued (staging, say,
    /// sharing production's credentials) means nothing to another.
    pub(crate) fn derive(secret_access_key: &str, scope: &[&str]) -> Self {
        let label = b"edge-presign upload handles v2";
        Self(mac(secret_access_key.as_bytes(), label, scope))
    }

    /// `{expires}.{mac}.{upload ID}`: the ID last, so whatever characters it has are kept.
    pub(crate) fn issue(
        &self,
        id: &UploadId,
        key: &str,
        sub: Option<&str>,
        expires: i64,
    ) -> String {
        let expires = expires.to_string();
        let tag = self.handle_tag(&expires, id, key, sub);
        [&expires, ".", &tag, ".", id.as_str()].concat()
    }

    /// S3's upload ID behind `handle`, if it was issued for `key` and `sub` and is in date.
    pub(crate) fn open(
        &self,
        handle: &str,
        key: &str,
        sub: Option<&str>,
        now: i64,
    ) -> Result<UploadId, HandleError> {
        let (expires, tag, id) = split_handle(handle).ok_or(HandleError::Malformed)?;
        let expected = self.handle_tag(expires, &id, key, sub);
        if !same(tag, &expected) {
            return Err(HandleError::NotYours);
        }
        in_date(expires, now)?;
        Ok(id)
    }

    /// S3's upload ID behind `handle` for `key` and `sub`, however old: for aborting an
    /// upload, which must stay possible after the handle stopped naming it for anything else
    /// (or its parts would stay billed until a lifecycle rule removes them).
    pub(crate) fn open_to_abort(
        &self,
        handle: &str,
        key: &str,
        sub: Option<&str>,
    ) -> Result<UploadId, HandleError> {
        self.open(handle, key, sub, i64::MIN)
    }

    fn handle_tag(&self, expires: &str, id: &UploadId, key: &str, sub: Option<&str>) -> String {
        let (has_sub, sub) = caller_fields(sub);
        self.tag(b"handle", &[expires, id.as_str(), key, has_sub, sub])
    }

    /// The `signature` of a worker URL for `purpose` on `handle` and `key`.
    pub(crate) fn sign_url(
        &self,
        purpose: Purpose,
        handle: &str,
        key: &str,
        grant: &UrlGrant,
    ) -> String {
        self.url_tag(purpose, handle, key, grant)
    }

    /// Whether `signature` is this worker's for exactly these terms, and still in date.
    pub(crate) fn check_url(
        &self,
        purpose: Purpose,
        handle: &str,
        key: &str,
        grant: &UrlGrant,
        signature: &str,
        now: i64,
    ) -> Result<(), HandleError> {
        let expected = self.url_tag(purpose, handle, key, grant);
        if !same(signature, &expected) {
            return Err(HandleError::NotYours);
        }
        if now > grant.expires {
            return Err(HandleError::Expired);
        }
        Ok(())
    }

    fn url_tag(&self, purpose: Purpose, handle: &str, key: &str, grant: &UrlGrant) -> String {
        let (limit, expires) = (grant.limit.to_string(), grant.expires.to_string());
        let (has_sub, sub) = caller_fields(grant.sub.as_deref());
        self.tag(
            purpose.label(),
            &[handle, key, &limit, has_sub, sub, &expires],
        )
    }

    fn tag(&self, label: &[u8], fields: &[&str]) -> String {
        hex::encode(&mac(&self.0, label, fields)[..MAC_BYTES])
    }
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Self::Created => b"url:created",
            Self::Complete => b"url:complete",
        }
    }
}

/// HMAC-SHA256 under `key` of `label`, then each field after its length: no two lists of
/// fields give the same message.
fn mac(key: &[u8], label: &[u8], fields: &[&str]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(label);
    for field in fields {
        mac.update(&(field.len() as u64).to_be_bytes());
        mac.update(field.as_bytes());
    }
    mac.finalize().into_bytes().into()
}

/// A caller as two MACed fields: whether there is one (auth on), and its `sub`; so no `sub`
/// (auth off) and an empty one never read alike.
fn caller_fields(sub: Option<&str>) -> (&'static str, &str) {
    match sub {
        Some(sub) => ("1", sub),
        None => ("0", ""),
    }
}

/// Compares in time that does not depend on where the strings differ.
fn same(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn in_date(expires: &str, now: i64) -> Result<(), HandleError> {
    let expires: i64 = expires.parse().map_err(|_| HandleError::Malformed)?;
    if now > expires {
        return Err(HandleError::Expired);
    }
    Ok(())
}

fn split_handle(handle: &str) -> Option<(&str, &str, UploadId)> {
    if handle.len() > MAX_HANDLE_BYTES {
        return None;
    }
    let (expires, rest) = handle.split_once('.')?;
    let (tag, id) = rest.split_once('.')?;
    let digits = !expires.is_empty() && expires.len() <= 12;
    if !digits || !expires.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hex = tag.len() == MAC_HEX && tag.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    hex.then_some(())?;
    Some((expires, tag, UploadId::parse(id)?))
}

/// A string shaped like a handle (its MAC is checked when it is opened).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Handle(String);

impl Handle {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        split_handle(text).map(|_| Self(text.to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
fn is_handle(handle: &str) -> bool {
    Handle::parse(handle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn key() -> HandleKey {
        HandleKey::derive(
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            &["https://s3.us-east-1.amazonaws.com", "photos", "uploads/"],
        )
    }

    fn id() -> UploadId {
        UploadId::parse("VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA").unwrap()
    }

    fn handle(sub: Option<&str>) -> String {
        key().issue(&id(), "uploads/a/k.bin", sub, NOW + 60)
    }

    #[test]
    fn a_handle_opens_for_its_key_and_caller_only() {
        let h = handle(Some("alice"));
        let open = |k: &str, sub: Option<&str>| key().open(&h, k, sub, NOW);
        assert_eq!(open("uploads/a/k.bin", Some("alice")), Ok(id()));
        assert_eq!(
            open("uploads/a/other.bin", Some("alice")),
            Err(HandleError::NotYours)
        );
        assert_eq!(
            open("uploads/a/k.bin", Some("bob")),
            Err(HandleError::NotYours)
        );
        assert_eq!(open("uploads/a/k.bin", None), Err(HandleError::NotYours));
        let anonymous = handle(None);
        assert_eq!(
            key().open(&anonymous, "uploads/a/k.bin", None, NOW),
            Ok(id())
        );
        assert_eq!(
            key().open(&anonymous, "uploads/a/k.bin", Some(""), NOW),
            Err(HandleError::NotYours),
            "auth off has no caller, which is not an empty one"
        );
    }

    #[test]
    fn a_handle_expires() {
        let h = handle(None);
        assert_eq!(key().open(&h, "uploads/a/k.bin", None, NOW + 60), Ok(id()));
        assert_eq!(
            key().open(&h, "uploads/a/k.bin", None, NOW + 61),
            Err(HandleError::Expired)
        );
    }

    #[test]
    fn a_changed_handle_is_refused() {
        let h = handle(None);
        let open = |h: &str| key().open(h, "uploads/a/k.bin", None, NOW);
        // Another upload ID, a later expiry, a changed MAC.
        let other_id = h.replace("VXBsb2Fk", "VXBsb2Fl");
        assert_eq!(open(&other_id), Err(HandleError::NotYours));
        let later = h.replacen(&(NOW + 60).to_string(), &(NOW + 99_999).to_string(), 1);
        assert_eq!(open(&later), Err(HandleError::NotYours));
        let (expires, rest) = h.split_once('.').unwrap();
        let flipped = format!(
            "{expires}.{}{}",
            if rest.starts_with('0') { "1" } else { "0" },
            &rest[1..]
        );
        assert_eq!(open(&flipped), Err(HandleError::NotYours));
        // Another worker's key.
        let scope = ["https://s3.us-east-1.amazonaws.com", "photos", "uploads/"];
        let stranger = HandleKey::derive("another secret", &scope);
        assert_eq!(
            stranger.open(&h, "uploads/a/k.bin", None, NOW),
            Err(HandleError::NotYours)
        );
        // The same credentials for another store, bucket or prefix: another deployment.
        for other in [
            ["https://s3.eu-west-1.amazonaws.com", "photos", "uploads/"],
            [
                "https://s3.us-east-1.amazonaws.com",
                "photos-staging",
                "uploads/",
            ],
            ["https://s3.us-east-1.amazonaws.com", "photos", "staging/"],
            ["https://s3.us-east-1.amazonaws.com", "photosu", "ploads/"],
        ] {
            let elsewhere = HandleKey::derive("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", &other);
            assert_eq!(
                elsewhere.open(&h, "uploads/a/k.bin", None, NOW),
                Err(HandleError::NotYours),
                "{other:?}"
            );
        }
        // Auth off (no caller) and an empty caller are not the same.
        let no_caller = key().issue(&id(), "uploads/a/k.bin", None, NOW + 60);
        assert_eq!(
            key().open(&no_caller, "uploads/a/k.bin", Some(""), NOW),
            Err(HandleError::NotYours)
        );
    }

    #[test]
    fn malformed_handles_are_refused() {
        let tag = "0".repeat(32);
        for bad in [
            "",
            "raw-upload-id",
            &format!("x.{tag}.id"),
            &format!(".{tag}.id"),
            &format!("1234567890123.{tag}.id"),
            &format!("1.{}.id", "0".repeat(31)),
            &format!("1.{}.id", "A".repeat(32)),
            &format!("1.{tag}."),
            &format!("1.{tag}.id with space"),
            &format!("1.{tag}.{}", "a".repeat(1000)),
        ] {
            assert_eq!(
                key().open(bad, "k", None, NOW),
                Err(HandleError::Malformed),
                "{bad}"
            );
            assert!(!is_handle(bad), "{bad}");
        }
        assert!(is_handle(&handle(None)));
    }

    #[test]
    fn fields_cannot_be_shifted_between_each_other() {
        // The same bytes split differently between key and sub.
        let a = key().issue(&id(), "uploads/a", Some("b"), NOW);
        let b = key().issue(&id(), "uploads/", Some("ab"), NOW);
        assert_ne!(a, b);
    }

    fn grant() -> UrlGrant {
        UrlGrant {
            limit: 1 << 20,
            sub: Some("alice".into()),
            expires: NOW + 600,
        }
    }

    #[test]
    fn a_worker_url_holds_its_exact_terms() {
        let h = handle(Some("alice"));
        let signature = key().sign_url(Purpose::Complete, &h, "k", &grant());
        let check = |purpose, handle: &str, k: &str, g: &UrlGrant, now| {
            key().check_url(purpose, handle, k, g, &signature, now)
        };
        assert_eq!(check(Purpose::Complete, &h, "k", &grant(), NOW), Ok(()));
        assert_eq!(
            check(Purpose::Complete, &h, "k", &grant(), NOW + 600),
            Ok(())
        );
        assert_eq!(
            check(Purpose::Complete, &h, "k", &grant(), NOW + 601),
            Err(HandleError::Expired)
        );
        assert_eq!(
            check(Purpose::Created, &h, "k", &grant(), NOW),
            Err(HandleError::NotYours)
        );
        assert_eq!(
            check(Purpose::Complete, &handle(None), "k", &grant(), NOW),
            Err(HandleError::NotYours)
        );
        assert_eq!(
            check(Purpose::Complete, &h, "k2", &grant(), NOW),
            Err(HandleError::NotYours)
        );
        let wider = UrlGrant {
            limit: 1 << 30,
            ..grant()
        };
        let other_sub = UrlGrant {
            sub: Some("bob".into()),
            ..grant()
        };
        let no_sub = UrlGrant {
            sub: None,
            ..grant()
        };
        let later = UrlGrant {
            expires: NOW + 9_999,
            ..grant()
        };
        for g in [wider, other_sub, no_sub, later] {
            assert_eq!(
                check(Purpose::Complete, &h, "k", &g, NOW),
                Err(HandleError::NotYours),
                "{g:?}"
            );
        }
        assert_eq!(
            key().check_url(Purpose::Complete, &h, "k", &grant(), "", NOW),
            Err(HandleError::NotYours)
        );
    }

    #[test]
    fn the_key_stays_out_of_debug() {
        assert_eq!(format!("{:?}", key()), "HandleKey(..)");
    }

    #[test]
    fn comparison_needs_every_byte() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abd", "abc"));
        assert!(!same("ab", "abc"));
        assert!(!same("", "a"));
        // Two differences that would cancel if they were combined by XOR.
        assert!(!same("ab", "ba"));
    }

    #[test]
    fn a_handle_of_the_longest_length_still_opens() {
        // "{10 digits}.{32 hex}." then the upload ID: 1,024 bytes in all, the most allowed.
        let id = UploadId::parse(&"u".repeat(MAX_HANDLE_BYTES - 44)).unwrap();
        let longest = key().issue(&id, "k", None, NOW + 60);
        assert_eq!(longest.len(), MAX_HANDLE_BYTES);
        assert_eq!(
            key().open(&longest, "k", None, NOW).unwrap().as_str(),
            id.as_str()
        );
        let longer = format!("{longest}u");
        assert_eq!(
            key().open(&longer, "k", None, NOW),
            Err(HandleError::Malformed)
        );
    }

    #[test]
    fn an_expired_handle_still_aborts_its_own_upload_only() {
        let h = key().issue(&id(), "uploads/a/k.bin", Some("alice"), NOW - 1);
        assert_eq!(
            key().open(&h, "uploads/a/k.bin", Some("alice"), NOW),
            Err(HandleError::Expired)
        );
        assert_eq!(
            key().open_to_abort(&h, "uploads/a/k.bin", Some("alice")),
            Ok(id())
        );
        for (k, sub) in [
            ("uploads/a/k.bin", Some("bob")),
            ("uploads/b/k.bin", Some("alice")),
        ] {
            assert_eq!(key().open_to_abort(&h, k, sub), Err(HandleError::NotYours));
        }
    }

    #[test]
    fn a_handle_lives_a_day() {
        assert_eq!(HANDLE_LIFETIME_SECONDS, 86_400);
    }
}
