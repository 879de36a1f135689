//! `POST /uploads/complete`: whether what the store holds under an issued key is the upload
//! the client declared and the settings allow. A pure decision from the HEAD answer, the
//! declared values and the rules; the shell sends the HEAD (and a DELETE of a refused object)
//! and the event.

use time::UtcDateTime;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};
use crate::event::UploadEvent;
use crate::json::{self, Members, Object, Value};
use crate::key::IssuedKey;
use crate::media_type::{MediaRange, MediaType};
use crate::object_url::{parse_checksum_sha256, InvalidChecksum};
use crate::presign::Presigner;
use crate::s3::head_object::StoredObject;
use crate::upload_error::UploadError;

/// What the client declared when it asked for the upload (`web/client.js` sends it back).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Declared {
    pub size: Option<u64>,
    pub content_type: Option<MediaType>,
    pub checksum_sha256: Option<String>,
}

/// A parsed `POST /uploads/complete` body: the key, still to be checked, and the declarations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CompleteRequest {
    pub key: String,
    pub declared: Declared,
}

/// The limits a completed upload is held to: its profile's, read in one place
/// ([`rules_for`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UploadRules {
    pub profile: String,
    /// A single upload's limit (`UPLOAD_MAX_BYTES`).
    pub max_bytes: u64,
    /// A multipart object's limit (`UPLOAD_MAX_MULTIPART_BYTES`).
    pub max_multipart_bytes: u64,
    /// Empty: any type.
    pub allowed_types: Vec<MediaRange>,
    /// Delete an object the worker refuses (`UPLOAD_DELETE_REJECTED`).
    pub delete_rejected: bool,
    /// Whether a verified object's event is sent (the profile's `events`).
    pub events: bool,
}

/// The rules an object under `key` is verified by when its upload completes: its profile's,
/// narrowed by the caller's token (`max_bytes`), as they were when it was signed.
pub(crate) fn rules_for(
    presigner: &Presigner,
    key: &IssuedKey,
    caller: Option<&Caller>,
) -> UploadRules {
    let profile = presigner.profile_of(key);
    let claim = caller.and_then(Caller::max_bytes);
    UploadRules {
        profile: profile.name.clone(),
        max_bytes: claim.map_or(profile.max_bytes, |c| c.min(profile.max_bytes)),
        max_multipart_bytes: crate::multipart::limit(profile.max_multipart_bytes, claim),
        allowed_types: profile.allowed_types.clone(),
        delete_rejected: presigner.config().delete_rejected,
        events: profile.events,
    }
}

/// Why the stored object is not the upload that was declared or allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    TooLarge {
        size: u64,
        limit: u64,
    },
    SizeMismatch {
        found: u64,
        declared: u64,
    },
    TypeNotAllowed {
        found: Option<String>,
    },
    TypeMismatch {
        found: Option<String>,
        declared: String,
    },
    ChecksumMismatch {
        found: Option<String>,
        declared: String,
    },
}

impl Refusal {
    /// Whether `UPLOAD_DELETE_REJECTED` deletes the refused object. One outside the rules (too
    /// large, a type not allowed) goes whoever asked. One that only differs from what the
    /// request declares goes only for an authenticated caller, whose segment it is in: with
    /// auth off, anyone who knows a key could declare a wrong size and have another's upload
    /// deleted.
    pub(crate) fn deletes(&self, rules: &UploadRules, authenticated: bool) -> bool {
        let outside_the_rules = matches!(self, Self::TooLarge { .. } | Self::TypeNotAllowed { .. });
        rules.delete_rejected && (outside_the_rules || authenticated)
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        let shown = |t: &Option<String>| t.clone().unwrap_or_else(|| "no type".into());
        match refusal {
            Refusal::TooLarge { size, limit } => Self::new(
                ErrorCode::FileTooLarge,
                format!("the stored object is {size} bytes, over the limit of {limit} bytes"),
            ),
            Refusal::SizeMismatch { found, declared } => Self::new(
                ErrorCode::SizeMismatch,
                format!("the stored object is {found} bytes, but {declared} were declared"),
            ),
            Refusal::TypeNotAllowed { found } => Self::new(
                ErrorCode::ContentTypeNotAllowed,
                format!(
                    "the stored object is {}, which is not an allowed type",
                    shown(&found)
                ),
            ),
            Refusal::TypeMismatch { found, declared } => Self::new(
                ErrorCode::TypeMismatch,
                format!(
                    "the stored object is {}, but {declared} was declared",
                    shown(&found)
                ),
            ),
            Refusal::ChecksumMismatch { found, declared } => Self::new(
                ErrorCode::ChecksumMismatch,
                match found {
                    Some(found) => format!(
                        "the stored object's SHA-256 is {found}, but {declared} was declared"
                    ),
                    None => format!(
                        "the store reports no SHA-256 for the object, but {declared} was declared"
                    ),
                },
            ),
        }
    }
}

/// Reads `{"key", "size"?, "content_type"?, "checksum_sha256"?}`.
pub(crate) fn parse_complete_request(body: &[u8]) -> Result<CompleteRequest, ApiError> {
    let value = crate::api::parse_object(body)?;
    let key = match value.text("key") {
        Ok(Some(key)) => key.to_owned(),
        _ => return Err(ApiError::invalid_key()),
    };
    let size = match value.get("size") {
        None | Some(Value::Null) => None,
        Some(size) => Some(json::whole(size).ok_or(UploadError::InvalidSize)?),
    };
    let content_type = match value.text("content_type") {
        Ok(None) => None,
        Ok(Some(raw)) => Some(MediaType::parse(raw).ok_or(UploadError::MalformedContentType)?),
        Err(_) => return Err(UploadError::MalformedContentType.into()),
    };
    let checksum_sha256 = match value.text("checksum_sha256") {
        Ok(None) => None,
        Ok(Some(raw)) => Some(
            parse_checksum_sha256(raw)
                .map_err(UploadError::InvalidChecksum)?
                .to_owned(),
        ),
        Err(_) => return Err(UploadError::InvalidChecksum(InvalidChecksum).into()),
    };
    Ok(CompleteRequest {
        key,
        declared: Declared {
            size,
            content_type,
            checksum_sha256,
        },
    })
}

/// The stored object, if it is the declared upload within the rules: size, type and checksum,
/// each refused with what was found and what was expected.
pub(crate) fn verify(
    stored: &StoredObject,
    declared: &Declared,
    rules: &UploadRules,
) -> Result<(), Refusal> {
    let limit = match stored.is_multipart() {
        true => rules.max_multipart_bytes,
        false => rules.max_bytes,
    };
    if stored.size > limit {
        return Err(Refusal::TooLarge {
            size: stored.size,
            limit,
        });
    }
    if let Some(size) = declared.size.filter(|&size| size != stored.size) {
        return Err(Refusal::SizeMismatch {
            found: stored.size,
            declared: size,
        });
    }
    let found = stored.content_type.as_deref().and_then(MediaType::parse);
    let allowed = found
        .as_ref()
        .is_some_and(|t| rules.allowed_types.iter().any(|r| r.matches(t)));
    if !rules.allowed_types.is_empty() && !allowed {
        return Err(Refusal::TypeNotAllowed {
            found: stored.content_type.clone(),
        });
    }
    if let Some(declared_type) = &declared.content_type {
        if found.as_ref().map(MediaType::essence) != Some(declared_type.essence()) {
            return Err(Refusal::TypeMismatch {
                found: stored.content_type.clone(),
                declared: declared_type.as_str().to_owned(),
            });
        }
    }
    match &declared.checksum_sha256 {
        Some(checksum) if stored.checksum_sha256.as_ref() != Some(checksum) => {
            Err(Refusal::ChecksumMismatch {
                found: stored.checksum_sha256.clone(),
                declared: checksum.clone(),
            })
        }
        _ => Ok(()),
    }
}

/// The event of a verified object, verified at `now`.
pub(crate) fn event_for(
    key: &IssuedKey,
    stored: &StoredObject,
    rules: &UploadRules,
    sub: Option<&str>,
    now: UtcDateTime,
) -> UploadEvent {
    UploadEvent {
        key: key.as_str().to_owned(),
        size: stored.size,
        content_type: stored
            .content_type
            .clone()
            .unwrap_or_else(|| MediaType::octet_stream().as_str().to_owned()),
        etag: ["\"", &stored.etag, "\""].concat(),
        checksum_sha256: stored.checksum_sha256.clone(),
        sub: sub.map(str::to_owned),
        profile: rules.profile.clone(),
        file_name: stored.file_name(key),
        time: now,
    }
}

/// `{"key", "size", "content_type", "etag", "profile", "checksum_sha256"?, "event_id"?}`.
pub(crate) fn verified_answer(event: &UploadEvent, event_id: Option<&str>) -> String {
    let mut answer = Object::new()
        .text("key", &event.key)
        .number("size", event.size)
        .text("content_type", &event.content_type)
        .text("etag", &event.etag)
        .text("profile", &event.profile);
    if let Some(checksum) = &event.checksum_sha256 {
        answer = answer.text("checksum_sha256", checksum);
    }
    if let Some(id) = event_id {
        answer = answer.text("event_id", id);
    }
    answer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::utc_datetime;

    const SUM: &str = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=";
    const OTHER_SUM: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

    fn stored() -> StoredObject {
        StoredObject {
            size: 1000,
            content_type: Some("image/png".into()),
            etag: "9b2cf535f27731c974343645a3985328".into(),
            checksum_sha256: Some(SUM.into()),
            disposition: Some(
                "inline; filename=\"Cat _1_.png\"; filename*=UTF-8''Cat%20%281%29.png".into(),
            ),
        }
    }

    fn rules() -> UploadRules {
        UploadRules {
            profile: "default".into(),
            max_bytes: 1000,
            max_multipart_bytes: 5000,
            allowed_types: vec![MediaRange::parse("image/*").unwrap()],
            delete_rejected: false,
            events: true,
        }
    }

    fn declared(size: Option<u64>, content_type: Option<&str>, sum: Option<&str>) -> Declared {
        Declared {
            size,
            content_type: content_type.map(|t| MediaType::parse(t).unwrap()),
            checksum_sha256: sum.map(Into::into),
        }
    }

    #[test]
    fn the_declared_upload_within_the_rules_is_verified() {
        let all = declared(Some(1000), Some("image/PNG"), Some(SUM));
        assert_eq!(verify(&stored(), &all, &rules()), Ok(()));
        assert_eq!(verify(&stored(), &Declared::default(), &rules()), Ok(()));
        let any_type = UploadRules {
            allowed_types: vec![],
            ..rules()
        };
        let untyped = StoredObject {
            content_type: None,
            ..stored()
        };
        assert_eq!(verify(&untyped, &Declared::default(), &any_type), Ok(()));
    }

    #[test]
    fn each_mismatch_is_refused_with_what_was_found_and_expected() {
        let table = [
            (
                stored(),
                declared(Some(999), None, None),
                Refusal::SizeMismatch {
                    found: 1000,
                    declared: 999,
                },
            ),
            (
                stored(),
                declared(None, Some("image/jpeg"), None),
                Refusal::TypeMismatch {
                    found: Some("image/png".into()),
                    declared: "image/jpeg".into(),
                },
            ),
            (
                stored(),
                declared(None, None, Some(OTHER_SUM)),
                Refusal::ChecksumMismatch {
                    found: Some(SUM.into()),
                    declared: OTHER_SUM.into(),
                },
            ),
            (
                StoredObject {
                    checksum_sha256: None,
                    ..stored()
                },
                declared(None, None, Some(SUM)),
                Refusal::ChecksumMismatch {
                    found: None,
                    declared: SUM.into(),
                },
            ),
            (
                StoredObject {
                    content_type: Some("text/html".into()),
                    ..stored()
                },
                Declared::default(),
                Refusal::TypeNotAllowed {
                    found: Some("text/html".into()),
                },
            ),
            (
                StoredObject {
                    content_type: None,
                    ..stored()
                },
                Declared::default(),
                Refusal::TypeNotAllowed { found: None },
            ),
            (
                StoredObject {
                    size: 1001,
                    ..stored()
                },
                declared(Some(1001), None, None),
                Refusal::TooLarge {
                    size: 1001,
                    limit: 1000,
                },
            ),
        ];
        for (object, declared, refusal) in table {
            assert_eq!(verify(&object, &declared, &rules()), Err(refusal.clone()));
        }
        let error = ApiError::from(Refusal::SizeMismatch {
            found: 1000,
            declared: 999,
        });
        assert_eq!((error.status(), error.code), (422, ErrorCode::SizeMismatch));
        assert_eq!(
            error.message,
            "the stored object is 1000 bytes, but 999 were declared"
        );
        let error = ApiError::from(Refusal::TypeMismatch {
            found: Some("image/png".into()),
            declared: "image/jpeg".into(),
        });
        assert_eq!(
            error.message,
            "the stored object is image/png, but image/jpeg was declared"
        );
        let error = ApiError::from(Refusal::TooLarge {
            size: 1001,
            limit: 1000,
        });
        assert_eq!((error.status(), error.code), (413, ErrorCode::FileTooLarge));
        let error = ApiError::from(Refusal::ChecksumMismatch {
            found: None,
            declared: SUM.into(),
        });
        assert_eq!(error.code, ErrorCode::ChecksumMismatch);
        assert!(error.message.contains(SUM));
    }

    #[test]
    fn a_multipart_object_is_held_to_the_multipart_limit() {
        let big = StoredObject {
            size: 4000,
            etag: "3858f62230ac3c915f300c664312c11f-2".into(),
            ..stored()
        };
        assert_eq!(verify(&big, &Declared::default(), &rules()), Ok(()));
        let bigger = StoredObject { size: 5001, ..big };
        assert_eq!(
            verify(&bigger, &Declared::default(), &rules()),
            Err(Refusal::TooLarge {
                size: 5001,
                limit: 5000
            })
        );
    }

    #[test]
    fn complete_requests_are_read_with_each_member_checked() {
        let body = br#"{"key": "uploads/k", "size": 5, "content_type": "text/plain", "checksum_sha256": "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="}"#;
        let request = parse_complete_request(body).unwrap();
        assert_eq!(request.key, "uploads/k");
        assert_eq!(
            request.declared,
            declared(Some(5), Some("text/plain"), Some(SUM))
        );
        let bare = parse_complete_request(br#"{"key": "k", "size": null}"#).unwrap();
        assert_eq!(bare.declared, Declared::default());
        let table: [(&[u8], ErrorCode); 6] = [
            (br#"{}"#, ErrorCode::InvalidKey),
            (br#"{"key": 5}"#, ErrorCode::InvalidKey),
            (br#"{"key": "k", "size": -1}"#, ErrorCode::InvalidSize),
            (
                br#"{"key": "k", "content_type": "no type"}"#,
                ErrorCode::ContentTypeNotAllowed,
            ),
            (
                br#"{"key": "k", "checksum_sha256": "abc"}"#,
                ErrorCode::InvalidChecksum,
            ),
            (b"[]", ErrorCode::InvalidJson),
        ];
        for (body, code) in table {
            let got = parse_complete_request(body).map(|_| ()).unwrap_err().code;
            assert_eq!(got, code, "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn the_answer_and_the_event_say_what_was_verified() {
        let key = IssuedKey::check(
            "uploads/0b7e0c2a-0000-4000-8000-000000000000/cat-1.png",
            "uploads/",
            None,
        )
        .unwrap();
        let now = utc_datetime!(2026-11-24 12:00);
        let event = event_for(&key, &stored(), &rules(), Some("user-42"), now);
        assert_eq!(event.file_name, "Cat (1).png");
        assert_eq!(event.etag, "\"9b2cf535f27731c974343645a3985328\"");
        assert_eq!(event.profile, "default");
        let answer: serde_json::Value =
            serde_json::from_str(&verified_answer(&event, Some("msg_1"))).unwrap();
        assert_eq!(
            answer,
            serde_json::json!({
                "key": key.as_str(),
                "size": 1000,
                "content_type": "image/png",
                "etag": "\"9b2cf535f27731c974343645a3985328\"",
                "profile": "default",
                "checksum_sha256": SUM,
                "event_id": "msg_1",
            })
        );
        let unsummed = StoredObject {
            checksum_sha256: None,
            ..stored()
        };
        let event = event_for(&key, &unsummed, &rules(), None, now);
        let plain: serde_json::Value =
            serde_json::from_str(&verified_answer(&event, None)).unwrap();
        assert!(plain.get("checksum_sha256").is_none() && plain.get("event_id").is_none());
    }

    #[test]
    fn only_an_owner_has_a_mismatch_deleted_and_rules_delete_for_anyone() {
        let deleting = UploadRules {
            delete_rejected: true,
            ..rules()
        };
        let too_large = Refusal::TooLarge { size: 2, limit: 1 };
        let wrong_type = Refusal::TypeNotAllowed { found: None };
        let mismatch = Refusal::SizeMismatch {
            found: 2,
            declared: 1,
        };
        for refusal in [&too_large, &wrong_type] {
            assert!(refusal.deletes(&deleting, false) && refusal.deletes(&deleting, true));
            assert!(
                !refusal.deletes(&rules(), true),
                "only when the setting says so"
            );
        }
        assert!(mismatch.deletes(&deleting, true));
        assert!(
            !mismatch.deletes(&deleting, false),
            "auth off: anyone could declare"
        );
        assert!(!mismatch.deletes(&rules(), true));
    }
}
