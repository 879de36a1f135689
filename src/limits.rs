//! `GET /uploads/limits`: what the worker will sign for this caller, so a page can refuse a
//! file before a byte of it goes anywhere, in the worker's own words. The same rules
//! `presign.rs` and `multipart.rs` enforce, read from the same settings and token claims: a
//! page that trusts this answer refuses exactly what the worker would refuse.

use crate::auth::Caller;
use crate::json::{self, Object};
use crate::media_type::MediaRange;
use crate::presign::Presigner;
use crate::sigv4::Method;
use crate::upload_error::UploadError;

/// The caller's effective limits under one upload profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The profile they are of (`default`: the settings' own).
    pub profile: String,
    /// Largest single upload (form or PUT): `UPLOAD_MAX_BYTES`, or the token's `max_bytes`.
    pub max_bytes: u64,
    /// Largest multipart upload: `UPLOAD_MAX_MULTIPART_BYTES`, or the token's `max_bytes`.
    pub max_multipart_bytes: u64,
    /// Types the worker signs, as ranges (`image/*`); empty when any type goes.
    pub allowed_types: Vec<MediaRange>,
    /// What an upload request that names no method gets (`UPLOAD_METHOD`).
    pub method: Method,
    /// Whether a multipart upload can be started for this caller.
    pub multipart: bool,
    pub expires_seconds: u64,
}

/// The limits `presigner` applies to `caller` (`None`: auth off) under the upload profile
/// `profile` names (`None`: the default), refused as `POST /uploads` would refuse the name.
pub(crate) fn for_caller(
    presigner: &Presigner,
    profile: Option<&str>,
    caller: Option<&Caller>,
) -> Result<Limits, UploadError> {
    let (_, profile) = presigner.profile_for(profile, caller)?;
    let claim = caller.and_then(Caller::max_bytes);
    let max_bytes = crate::multipart::limit(profile.max_bytes, claim);
    let max_multipart_bytes = crate::multipart::limit(profile.max_multipart_bytes, claim);
    let token_types = caller.and_then(Caller::content_types);
    let allowed_types = effective_types(&profile.allowed_types, token_types);
    // Both lists narrow and share no type: every request would be refused, so the answer
    // says no size fits rather than an empty list, which would read as "any type".
    let nothing = allowed_types.is_none();
    let (max_bytes, max_multipart_bytes) = if nothing {
        (0, 0)
    } else {
        (max_bytes, max_multipart_bytes)
    };
    Ok(Limits {
        profile: profile.name.clone(),
        max_bytes,
        max_multipart_bytes,
        allowed_types: allowed_types.unwrap_or_default(),
        method: profile.method,
        // Off where the profile takes no multipart uploads, or the caller can upload nothing.
        multipart: !nothing && max_multipart_bytes > 0,
        expires_seconds: profile.expires_seconds,
    })
}

/// The types both the setting and the token allow: either list alone when the other is
/// empty or absent (empty means any), else every overlap of one range from each. `None`
/// when both narrow and nothing overlaps.
fn effective_types(
    setting: &[MediaRange],
    token: Option<&[MediaRange]>,
) -> Option<Vec<MediaRange>> {
    let Some(token) = token else {
        return Some(setting.to_vec());
    };
    if setting.is_empty() {
        return Some(token.to_vec());
    }
    let mut both: Vec<MediaRange> = Vec::new();
    for overlap in setting
        .iter()
        .flat_map(|s| token.iter().filter_map(|t| s.intersect(t)))
    {
        if !both.contains(&overlap) {
            both.push(overlap);
        }
    }
    (!both.is_empty()).then_some(both)
}

/// `{"profile", "max_bytes", "max_multipart_bytes", "allowed_types", "method", "multipart",
/// "expires_seconds", "messages": {"file_too_large"}}`. The message is the very text the
/// worker refuses a file over the larger limit with, so a page can show it before uploading.
pub(crate) fn answer(limits: &Limits) -> String {
    let types = limits.allowed_types.iter().map(|range| {
        let mut out = String::new();
        json::push_string(&mut out, &range.to_string());
        out
    });
    let largest = match limits.multipart {
        true => limits.max_bytes.max(limits.max_multipart_bytes),
        false => limits.max_bytes,
    };
    let too_large = UploadError::FileTooLarge { max_bytes: largest }.to_string();
    let messages = Object::new().text("file_too_large", &too_large).finish();
    Object::new()
        .text("profile", &limits.profile)
        .number("max_bytes", limits.max_bytes)
        .number("max_multipart_bytes", limits.max_multipart_bytes)
        .raw("allowed_types", &json::list(types))
        .text("method", limits.method.as_str())
        .flag("multipart", limits.multipart)
        .number("expires_seconds", limits.expires_seconds)
        .raw("messages", &messages)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presign::tests::presigner;
    use serde_json::{json, Value};

    fn range(raw: &str) -> MediaRange {
        MediaRange::parse(raw).unwrap()
    }

    fn answered(p: &Presigner, caller: Option<&Caller>) -> Value {
        serde_json::from_str(&answer(&for_caller(p, None, caller).unwrap())).unwrap()
    }

    #[test]
    fn the_defaults_answer_the_settings_as_the_worker_applies_them() {
        let p = presigner(&[]);
        assert_eq!(
            answered(&p, None),
            json!({
                "profile": "default",
                "max_bytes": 10_485_760, "max_multipart_bytes": 10_485_760, "allowed_types": [],
                "method": "POST", "multipart": true, "expires_seconds": 600,
                "messages": {"file_too_large": "file is larger than the 10485760 bytes allowed"},
            })
        );
    }

    #[test]
    fn settings_change_the_answer() {
        let p = presigner(&[
            ("UPLOAD_MAX_BYTES", "1000"),
            ("UPLOAD_MAX_MULTIPART_BYTES", "50000000"),
            ("UPLOAD_ALLOWED_TYPES", "image/*, application/pdf"),
            ("UPLOAD_METHOD", "PUT"),
            ("UPLOAD_EXPIRES_SECONDS", "120"),
        ]);
        let v = answered(&p, None);
        assert_eq!(
            (v["max_bytes"].clone(), v["max_multipart_bytes"].clone()),
            (json!(1000), json!(50_000_000))
        );
        assert_eq!(v["allowed_types"], json!(["image/*", "application/pdf"]));
        assert_eq!(
            (v["method"].clone(), v["expires_seconds"].clone()),
            (json!("PUT"), json!(120))
        );
        // The larger limit is the one a file can still go by (in parts).
        assert_eq!(
            v["messages"]["file_too_large"],
            "file is larger than the 50000000 bytes allowed"
        );
    }

    #[test]
    fn a_tokens_limit_lowers_both_sizes_and_never_raises_them() {
        let p = presigner(&[("UPLOAD_MAX_MULTIPART_BYTES", "50000000")]);
        let small = Caller::for_tests("alice", Some(2048), None);
        let v = answered(&p, Some(&small));
        assert_eq!(
            (v["max_bytes"].clone(), v["max_multipart_bytes"].clone()),
            (json!(2048), json!(2048))
        );
        assert_eq!(
            v["messages"]["file_too_large"],
            "file is larger than the 2048 bytes allowed"
        );
        let big = Caller::for_tests("bob", Some(u64::MAX), None);
        let v = answered(&p, Some(&big));
        assert_eq!(
            (v["max_bytes"].clone(), v["max_multipart_bytes"].clone()),
            (json!(10_485_760), json!(50_000_000))
        );
    }

    #[test]
    fn the_answer_is_what_presign_enforces() {
        // The limit answered is the size presign takes, and one byte more is refused with
        // the message the answer quotes.
        let p = presigner(&[("UPLOAD_MAX_BYTES", "5000")]);
        let caller = Caller::for_tests("alice", Some(3000), None);
        let limits = for_caller(&p, None, Some(&caller)).unwrap();
        let request = |size| crate::presign::UploadRequest {
            file_name: "a.bin".into(),
            size: Some(size),
            ..Default::default()
        };
        let now = time::macros::utc_datetime!(2026-01-01 0:00);
        assert!(p
            .presign_as(&request(limits.max_bytes), Some(&caller), now, [1; 16])
            .is_ok());
        let refused = p
            .presign_as(&request(limits.max_bytes + 1), Some(&caller), now, [1; 16])
            .unwrap_err();
        let v: Value = serde_json::from_str(&answer(&limits)).unwrap();
        assert_eq!(v["messages"]["file_too_large"], refused.to_string());
    }

    #[test]
    fn a_tokens_types_meet_the_settings() {
        let setting = [range("image/*"), range("application/pdf")];
        let token = [
            range("image/png"),
            range("text/plain"),
            range("application/*"),
        ];
        let both = effective_types(&setting, Some(&token)).unwrap();
        let names: Vec<String> = both.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["image/png", "application/pdf"]);
        assert_eq!(effective_types(&setting, None), Some(setting.to_vec()));
        assert_eq!(effective_types(&[], Some(&token)), Some(token.to_vec()));
        assert_eq!(effective_types(&[], None), Some(vec![]));
        assert_eq!(effective_types(&setting, Some(&[range("text/*")])), None);
    }

    #[test]
    fn a_caller_who_may_upload_no_type_is_told_nothing_fits() {
        let p = presigner(&[("UPLOAD_ALLOWED_TYPES", "image/png")]);
        let caller = Caller::for_tests("alice", None, Some(vec![range("text/plain")]));
        let v = answered(&p, Some(&caller));
        assert_eq!(
            (v["max_bytes"].clone(), v["multipart"].clone()),
            (json!(0), json!(false))
        );
        let allowed = Caller::for_tests("bob", None, Some(vec![range("image/*")]));
        let v = answered(&p, Some(&allowed));
        assert_eq!(v["allowed_types"], json!(["image/png"]));
        assert_eq!(v["multipart"], json!(true));
    }

    #[test]
    fn docs_api_md_describes_every_member_of_the_answer() {
        let docs = include_str!("../docs/api.md");
        let start = docs
            .find("### `GET /uploads/limits`")
            .expect("a section for the route");
        let section = &docs[start..];
        let section = &section[..section.find("\n### ").unwrap_or(section.len())];
        let v = answered(&presigner(&[]), None);
        let mut names: Vec<String> = Vec::new();
        for (name, value) in v.as_object().unwrap() {
            match value.as_object() {
                Some(inner) => names.extend(inner.keys().map(|k| format!("{name}.{k}"))),
                None => names.push(name.clone()),
            }
        }
        for name in names {
            let row = format!("| `{name}` |");
            assert!(
                section.contains(&row),
                "docs/api.md's limits table lacks {row}"
            );
        }
    }

    #[test]
    fn ranges_meet_as_far_as_they_overlap() {
        let meet = |a: &str, b: &str| range(a).intersect(&range(b)).map(|r| r.to_string());
        assert_eq!(meet("image/*", "image/png").as_deref(), Some("image/png"));
        assert_eq!(meet("image/png", "image/*").as_deref(), Some("image/png"));
        assert_eq!(meet("image/*", "image/*").as_deref(), Some("image/*"));
        assert_eq!(meet("IMAGE/PNG", "image/png").as_deref(), Some("image/png"));
        assert_eq!(meet("image/png", "image/gif"), None);
        assert_eq!(meet("image/*", "text/*"), None);
    }

    #[test]
    fn each_profile_answers_its_own_limits_and_a_bad_name_as_uploads_would() {
        let p = presigner(&[(
            "UPLOAD_PROFILES",
            r#"{"avatar": {"max_bytes": 1000, "allowed_types": ["image/png"], "max_multipart_bytes": 0, "method": "PUT", "expires_seconds": 60}}"#,
        )]);
        let avatar = for_caller(&p, Some("avatar"), None).unwrap();
        let v: Value = serde_json::from_str(&answer(&avatar)).unwrap();
        assert_eq!(
            v,
            json!({
                "profile": "avatar", "max_bytes": 1000, "max_multipart_bytes": 0,
                "allowed_types": ["image/png"], "method": "PUT", "multipart": false,
                "expires_seconds": 60,
                "messages": {"file_too_large": "file is larger than the 1000 bytes allowed"},
            })
        );
        assert_eq!(
            for_caller(&p, Some("nope"), None),
            Err(UploadError::UnknownProfile)
        );
        let others = Caller::for_tests("alice", None, None).with_profiles(&["default"]);
        assert_eq!(
            for_caller(&p, Some("avatar"), Some(&others)),
            Err(UploadError::ProfileNotAllowed)
        );
        assert_eq!(
            for_caller(&p, None, Some(&others)).unwrap().profile,
            "default"
        );
    }
}
