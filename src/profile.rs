//! Upload profiles: named sets of upload rules (`UPLOAD_PROFILES`), so one worker signs for
//! avatars, documents and videos each under its own prefix, size, types, method and expiry.
//! The settings themselves are the profile `default`, so a deployment without
//! `UPLOAD_PROFILES` signs exactly as before.
//!
//! Which profile a key belongs to is read from the key itself (its prefix), so every route on
//! an existing object (parts, completion, downloads) applies the rules it was signed under
//! without storing anything.

use serde_json::Value;

use crate::media_type::{MediaRange, MediaType};
use crate::sigv4::Method;

/// S3 refuses a single POST or PUT above 5 GiB.
pub(crate) const S3_SINGLE_UPLOAD_MAX_BYTES: u64 = 5 * 1024 * 1024 * 1024;
/// S3's largest object, which only a multipart upload reaches: 5 TiB.
pub(crate) const S3_MULTIPART_MAX_BYTES: u64 = 5 * 1024 * 1024 * 1024 * 1024;
/// SigV4 credentials and policies last at most seven days.
pub(crate) const MAX_EXPIRES_SECONDS: u64 = 604_800;
pub(crate) const MAX_PREFIX_BYTES: usize = 512;

/// The name of the profile the settings themselves make.
pub(crate) const DEFAULT_PROFILE: &str = "default";
const MAX_NAME_BYTES: usize = 64;

/// One profile's rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Profile {
    pub name: String,
    /// Keys are `{prefix}[{user}/]{uuid}/{name}`.
    pub prefix: String,
    pub max_bytes: u64,
    /// Largest multipart upload; 0: this profile takes no multipart uploads.
    pub max_multipart_bytes: u64,
    pub expires_seconds: u64,
    /// Empty: any media type.
    pub allowed_types: Vec<MediaRange>,
    /// What a request gets when it names no method: POST or PUT.
    pub method: Method,
    /// Whether a verified upload under this profile sends a completion event.
    pub events: bool,
}

impl Profile {
    /// True when `media_type` may be uploaded under this profile.
    pub(crate) fn allows_type(&self, media_type: &MediaType) -> bool {
        self.allowed_types.is_empty() || self.allowed_types.iter().any(|r| r.matches(media_type))
    }
}

/// The default profile first, then the named ones in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Profiles {
    list: Vec<Profile>,
}

impl Profiles {
    pub(crate) fn new(default: Profile, named: Vec<Profile>) -> Self {
        let mut list = vec![default];
        list.extend(named);
        Self { list }
    }

    pub(crate) fn default_profile(&self) -> &Profile {
        &self.list[0]
    }

    /// The profile a request names (`None`: the default), with its index.
    pub(crate) fn named(&self, name: Option<&str>) -> Option<(usize, &Profile)> {
        let name = name.unwrap_or(DEFAULT_PROFILE);
        self.list.iter().enumerate().find(|(_, p)| p.name == name)
    }

    /// The profile at `index` (as an [`IssuedKey`](crate::key::IssuedKey) names it).
    pub(crate) fn get(&self, index: usize) -> &Profile {
        self.list.get(index).unwrap_or(&self.list[0])
    }

    /// The profiles whose prefix `key` starts with, the longest prefix first: prefixes may
    /// nest (`uploads/` and `uploads/avatars/`), and the caller then checks which one's key
    /// shape the key has.
    pub(crate) fn for_key<'a>(
        &'a self,
        key: &'a str,
    ) -> impl Iterator<Item = (usize, &'a Profile)> {
        // Ordered by insertion, not `sort_by_key`: a handful of profiles, and std's sort costs
        // about 1.5 KiB gzip of wasm (measured with twiggy).
        let mut matching: Vec<(usize, &Profile)> = Vec::new();
        for (index, profile) in self.list.iter().enumerate() {
            if key.starts_with(&profile.prefix) {
                let longer = |(_, p): &(usize, &Profile)| p.prefix.len() >= profile.prefix.len();
                let at = matching.iter().take_while(|m| longer(m)).count();
                matching.insert(at, (index, profile));
            }
        }
        matching.into_iter()
    }
}

/// Reads `UPLOAD_PROFILES` (a JSON object of profiles) over `base`, the default profile:
/// every member a profile leaves out is the default's, except `prefix`
/// (`{UPLOAD_PREFIX}{name}/`) and `max_multipart_bytes` (the profile's own `max_bytes`, so a
/// profile never takes more in parts than whole). Each problem names the profile and the
/// member, never a value.
pub(crate) fn read_profiles(
    json: &str,
    base: &Profile,
    on_r2: bool,
) -> Result<Vec<Profile>, Vec<String>> {
    // `json::parse`, the one reader of the crate: `serde_json::from_str` would link a second
    // copy of serde_json's parser for `&str` input (measured: 1.6 KiB gzip).
    let Ok(Value::Object(profiles)) = crate::json::parse(json.as_bytes()) else {
        return Err(vec![
            "must be a JSON object of profiles, such as {\"avatar\": {\"max_bytes\": 2097152}}"
                .into(),
        ]);
    };
    let mut problems = Vec::new();
    let mut read = Vec::new();
    for (name, members) in &profiles {
        if let Some(profile) = read_profile(name, members, base, on_r2, &mut problems) {
            read.push(profile);
        }
    }
    let mut prefixes: Vec<&str> = read.iter().map(|p| p.prefix.as_str()).collect();
    prefixes.push(&base.prefix);
    let repeated = (1..prefixes.len()).any(|i| prefixes[..i].contains(&prefixes[i]));
    if repeated {
        problems.push("gives two profiles the same prefix: each needs its own".into());
    }
    if problems.is_empty() {
        Ok(read)
    } else {
        Err(problems)
    }
}

fn read_profile(
    name: &str,
    members: &Value,
    base: &Profile,
    on_r2: bool,
    problems: &mut Vec<String>,
) -> Option<Profile> {
    let before = problems.len();
    let mut problem = |member: &str, rule: &str| {
        problems.push(format!("profile {name}: {member} {rule}"));
    };
    if !is_valid_name(name) {
        problems.push(format!(
            "has a profile named other than 1 to {MAX_NAME_BYTES} lowercase letters, digits, - and _ (or named {DEFAULT_PROFILE}, which the settings themselves are)"
        ));
        return None;
    }
    let Value::Object(members) = members else {
        problem("", "must be a JSON object");
        return None;
    };
    let mut profile = Profile {
        name: name.to_owned(),
        prefix: format!("{}{name}/", base.prefix),
        ..base.clone()
    };
    let mut max_multipart_bytes = None;
    for (member, value) in members {
        let ok = read_member(&mut profile, &mut max_multipart_bytes, member, value, on_r2);
        if let Err(rule) = ok {
            problem(member, rule);
        }
    }
    profile.max_multipart_bytes = max_multipart_bytes.unwrap_or(profile.max_bytes);
    (problems.len() == before).then_some(profile)
}

/// One member onto `profile`, or the rule its value breaks.
fn read_member(
    profile: &mut Profile,
    max_multipart_bytes: &mut Option<u64>,
    member: &str,
    value: &Value,
    on_r2: bool,
) -> Result<(), &'static str> {
    match member {
        "max_bytes" => {
            profile.max_bytes = whole(value, 1, S3_SINGLE_UPLOAD_MAX_BYTES)
                .ok_or("must be a whole number from 1 to 5368709120")?;
        }
        "max_multipart_bytes" => {
            *max_multipart_bytes = Some(
                whole(value, 0, S3_MULTIPART_MAX_BYTES)
                    .ok_or("must be a whole number from 0 (no multipart uploads) to 5497558138880")?,
            );
        }
        "expires_seconds" => {
            profile.expires_seconds = whole(value, 1, MAX_EXPIRES_SECONDS)
                .ok_or("must be a whole number from 1 to 604800")?;
        }
        "prefix" => {
            let prefix = value.as_str().filter(|p| is_valid_prefix(p));
            profile.prefix = prefix
                .ok_or("must be a string ending with '/' (see UPLOAD_PREFIX's rules)")?
                .to_owned();
        }
        "allowed_types" => profile.allowed_types = media_ranges(value)?,
        "method" => {
            profile.method = match value.as_str().and_then(Method::parse_upload) {
                Some(Method::Post) if on_r2 => return Err("must be PUT on Cloudflare R2"),
                Some(method) => method,
                None => return Err("must be POST or PUT"),
            };
        }
        "events" => profile.events = value.as_bool().ok_or("must be true or false")?,
        _ => return Err("is not a profile setting (max_bytes, max_multipart_bytes, allowed_types, prefix, method, expires_seconds, events)"),
    }
    Ok(())
}

fn whole(value: &Value, min: u64, max: u64) -> Option<u64> {
    value.as_u64().filter(|n| (min..=max).contains(n))
}

/// A non-empty list of media ranges: an empty list must not quietly mean "anything".
fn media_ranges(value: &Value) -> Result<Vec<MediaRange>, &'static str> {
    const RULE: &str =
        "must be a non-empty list of media types such as \"image/png\" or \"image/*\"";
    let Value::Array(items) = value else {
        return Err(RULE);
    };
    let ranges: Option<Vec<MediaRange>> = items
        .iter()
        .map(|item| item.as_str().and_then(MediaRange::parse))
        .collect();
    ranges.filter(|r| !r.is_empty()).ok_or(RULE)
}

fn is_valid_name(name: &str) -> bool {
    name != DEFAULT_PROFILE
        && (1..=MAX_NAME_BYTES).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Empty, or ending in `/`: keys are `{prefix}{uuid}/{name}`, and IAM rules and listings
/// expect the prefix to be a folder (`uploads/*`).
pub(crate) fn is_valid_prefix(prefix: &str) -> bool {
    (prefix.is_empty() || prefix.ends_with('/'))
        && prefix.len() <= MAX_PREFIX_BYTES
        && !prefix.starts_with('/')
        && !prefix.contains('\\')
        && !prefix.chars().any(|c| c.is_control() || c.is_whitespace())
        && !prefix
            .trim_end_matches('/')
            .split('/')
            .any(|segment| segment == ".." || segment == ".")
        && !prefix.as_bytes().windows(2).any(|pair| pair == b"//")
}

/// A profile for tests elsewhere in the crate: the built-in defaults under `uploads/`.
#[cfg(test)]
pub(crate) fn base_for_tests() -> Profile {
    Profile {
        name: DEFAULT_PROFILE.into(),
        prefix: "uploads/".into(),
        max_bytes: 10_485_760,
        max_multipart_bytes: 10_485_760,
        expires_seconds: 600,
        allowed_types: Vec::new(),
        method: Method::Post,
        events: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<Vec<Profile>, Vec<String>> {
        read_profiles(json, &base_for_tests(), false)
    }

    #[test]
    fn members_override_the_default_and_the_rest_is_inherited() {
        let profiles = read(
            r#"{"avatar": {"max_bytes": 2097152, "allowed_types": ["image/png", "image/jpeg"], "prefix": "avatars/"},
                "document": {"method": "PUT", "expires_seconds": 60, "max_multipart_bytes": 0, "events": false}}"#,
        )
        .unwrap();
        let avatar = &profiles[0];
        assert_eq!(
            (
                avatar.name.as_str(),
                avatar.prefix.as_str(),
                avatar.max_bytes
            ),
            ("avatar", "avatars/", 2_097_152)
        );
        assert_eq!(
            avatar.max_multipart_bytes, 2_097_152,
            "no more in parts than whole"
        );
        assert!(avatar.allows_type(&MediaType::parse("image/png").unwrap()));
        assert!(!avatar.allows_type(&MediaType::parse("application/pdf").unwrap()));
        assert_eq!(
            (avatar.method, avatar.expires_seconds, avatar.events),
            (Method::Post, 600, true)
        );
        let document = &profiles[1];
        assert_eq!(
            document.prefix, "uploads/document/",
            "the default prefix is the name's folder"
        );
        assert_eq!(
            (document.method, document.expires_seconds),
            (Method::Put, 60)
        );
        assert_eq!(
            (document.max_bytes, document.max_multipart_bytes),
            (10_485_760, 0)
        );
        assert!(!document.events);
        assert!(document.allows_type(&MediaType::parse("application/pdf").unwrap()));
    }

    #[test]
    fn each_bad_member_is_named_with_its_profile_and_never_its_value() {
        let problems = read(
            r#"{"a": {"max_bytes": 0, "max_multipart_bytes": -1, "expires_seconds": 604801,
                      "prefix": "no-slash", "allowed_types": [], "method": "GET", "events": "yes",
                      "colour": "red"}}"#,
        )
        .unwrap_err();
        for member in [
            "max_bytes",
            "max_multipart_bytes",
            "expires_seconds",
            "prefix",
            "allowed_types",
            "method",
            "events",
            "colour",
        ] {
            let problem = format!("profile a: {member} ");
            assert!(
                problems.iter().any(|p| p.starts_with(&problem)),
                "{problem}: {problems:?}"
            );
        }
        assert!(problems
            .iter()
            .all(|p| !p.contains("red") && !p.contains("no-slash")));
        assert_eq!(problems.len(), 8);
    }

    #[test]
    fn names_shapes_and_prefixes_are_checked() {
        for bad in [
            r#"[]"#,
            r#""avatar""#,
            r#"{"#,
            r#"{"default": {}}"#,
            r#"{"Avatar": {}}"#,
            r#"{"a b": {}}"#,
            r#"{"a": 1}"#,
            r#"{"a": {"prefix": "uploads/"}}"#,
            r#"{"a": {"prefix": "x/"}, "b": {"prefix": "x/"}}"#,
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
        assert!(read(&format!(r#"{{"{}": {{}}}}"#, "a".repeat(64))).is_ok());
        assert!(read(r#"{"my-avatar_2": {}}"#).is_ok(), "digits, - and _");
        assert!(read(&format!(r#"{{"{}": {{}}}}"#, "a".repeat(65))).is_err());
        assert_eq!(read("{}").unwrap(), Vec::new());
    }

    #[test]
    fn sizes_and_expiry_stop_where_s3_and_sigv4_do() {
        let one = |member: &str, value: u64| read(&format!(r#"{{"a": {{"{member}": {value}}}}}"#));
        for (member, most) in [
            ("max_bytes", 5_368_709_120),               // 5 GiB: one POST or PUT
            ("max_multipart_bytes", 5_497_558_138_880), // 5 TiB: S3's largest object
            ("expires_seconds", 604_800),               // seven days
        ] {
            assert!(one(member, most).is_ok(), "{member} {most}");
            assert!(one(member, most + 1).is_err(), "{member} {}", most + 1);
        }
    }

    #[test]
    fn post_is_refused_on_r2() {
        let on_r2 = |json| read_profiles(json, &base_for_tests(), true);
        assert!(on_r2(r#"{"a": {"method": "POST"}}"#).is_err());
        assert!(on_r2(r#"{"a": {"method": "PUT"}}"#).is_ok());
        assert_eq!(
            read(r#"{"a": {"method": "post"}}"#).unwrap()[0].method,
            Method::Post
        );
    }

    #[test]
    fn a_key_belongs_to_the_longest_prefix_first() {
        let named = read(r#"{"avatar": {}, "doc": {"prefix": "docs/"}}"#).unwrap();
        let profiles = Profiles::new(base_for_tests(), named);
        let names = |key| {
            profiles
                .for_key(key)
                .map(|(_, p)| p.name.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(names("uploads/avatar/x/y"), ["avatar", "default"]);
        assert_eq!(names("uploads/x/y"), ["default"]);
        assert_eq!(names("docs/x/y"), ["doc"]);
        assert!(names("elsewhere/x").is_empty());
        assert_eq!(profiles.named(None).unwrap().1.name, "default");
        let (index, doc) = profiles.named(Some("doc")).unwrap();
        assert_eq!((index, doc.prefix.as_str()), (2, "docs/"));
        assert_eq!(profiles.get(2).name, "doc");
        assert_eq!(profiles.get(9).name, "default");
        assert!(profiles.named(Some("nope")).is_none());
    }
}
