//! Settings, read and validated once per isolate. Errors name the variable, never its value.
//!
//! Every text value is trimmed of surrounding whitespace, except secrets: a secret is used
//! byte for byte, so one that starts or ends with whitespace (a pasted newline) is refused
//! rather than silently changed. An empty value means the default (for `UPLOAD_PREFIX`: the
//! bucket's root); an empty list, or an empty item in a list, is refused.

use std::fmt;

use crate::auth::{AuthSettings, HmacKey, IssuerRules, JwksUrl};
use crate::media_type::{Disposition, MediaRange, MediaType};
use crate::object_url::ObjectLocation;
use crate::origin::Origin;
use crate::profile::{
    self, is_valid_prefix, Profile, Profiles, DEFAULT_PROFILE, MAX_EXPIRES_SECONDS,
    MAX_PREFIX_BYTES, S3_MULTIPART_MAX_BYTES, S3_SINGLE_UPLOAD_MAX_BYTES,
};
use crate::sigv4::{Credentials, Method, Secret};

/// HS256 secrets shorter than the hash (32 bytes) are guessable offline from one token.
const MIN_AUTH_SECRET_BYTES: usize = 32;
/// Stored with every upload unless `UPLOAD_CACHE_CONTROL` says otherwise: kept out of shared
/// caches (CDNs), reusable by the downloader's own browser for an hour.
pub(crate) const DEFAULT_CACHE_CONTROL: &str = "private, max-age=3600";
/// Cloudflare R2's S3 endpoints (`<account>.r2.cloudflarestorage.com`, and its jurisdictions
/// such as `<account>.eu.r2...`): R2 has no POST Object, so uploads there are presigned PUTs.
const R2_HOST_SUFFIX: &str = ".r2.cloudflarestorage.com";

#[derive(Clone, Debug)]
pub struct Config {
    pub bucket: String,
    pub region: String,
    /// Where objects live (scheme, host, the path keys follow).
    pub location: ObjectLocation,
    /// Where the browser posts a form: `location`'s form URL, computed once.
    pub upload_url: String,
    /// False on Cloudflare R2, which has no POST Object.
    pub post_supported: bool,
    /// The upload rules: the settings' own (`default`: `UPLOAD_PREFIX`, `UPLOAD_MAX_BYTES`,
    /// `UPLOAD_MAX_MULTIPART_BYTES` (by default `UPLOAD_MAX_BYTES`: it caps the part numbers
    /// signed and is checked again when a multipart upload completes),
    /// `UPLOAD_EXPIRES_SECONDS`, `UPLOAD_ALLOWED_TYPES`, `UPLOAD_METHOD`), then each of
    /// `UPLOAD_PROFILES`.
    pub(crate) profiles: Profiles,
    /// `UPLOAD_ALLOW_OVERWRITE`: false (the default) signs `If-None-Match: *` into every
    /// presigned PUT and the worker's completions, so neither replaces an object. (A POST form
    /// cannot carry the condition: it can be sent again until it expires.)
    pub allow_overwrite: bool,
    /// How long a `GET /downloads/{key}` URL lasts.
    pub download_expires_seconds: u64,
    /// Types shown inline besides the built-in safe set (`UPLOAD_INLINE_TYPES`).
    pub inline_types: Vec<MediaRange>,
    /// Stored with every upload (`UPLOAD_CACHE_CONTROL`).
    pub cache_control: String,
    pub allowed_origins: AllowedOrigins,
    /// Every route sits under it: empty, or `/api/uploads` style (`BASE_PATH`).
    pub base_path: String,
    pub demo_page: bool,
    /// Log one audit line per object signed for and per refusal (`AUDIT_LOG`).
    pub audit_log: bool,
    /// `None`: anyone may ask for uploads.
    pub auth: Option<AuthSettings>,
    /// Where `upload.completed` events go, and their key (`UPLOAD_WEBHOOK_URL`,
    /// `UPLOAD_WEBHOOK_SECRET`); `None`: no events.
    pub(crate) webhook: Option<crate::event::Webhook>,
    /// `UPLOAD_DELETE_REJECTED`: delete an object whose completion is refused.
    pub delete_rejected: bool,
    /// The rate limiter's period, for `Retry-After` (`UPLOAD_RATE_LIMIT_PERIOD`).
    pub rate_limit_period: u64,
    pub credentials: Credentials,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowedOrigins {
    Any,
    /// Empty means same-origin only.
    List(Vec<Origin>),
}

impl AllowedOrigins {
    pub fn allows(&self, origin: &str) -> bool {
        match self {
            Self::Any => true,
            Self::List(origins) => origins.iter().any(|o| o.matches(origin)),
        }
    }
}

/// One thing wrong with one variable. `reason` describes the rule, never the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub variable: &'static str,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<Problem>,
}

impl ConfigError {
    pub fn variables(&self) -> Vec<&'static str> {
        self.problems.iter().map(|p| p.variable).collect()
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{} {}", problem.variable, problem.reason)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// One setting as the runtime holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Setting {
    Unset,
    Text(String),
    /// A TOML list of strings.
    List(Vec<String>),
    /// A TOML table (a JSON object in the runtime), as JSON text: only `UPLOAD_PROFILES`
    /// takes one.
    Json(String),
    /// Set, but to something that has no text form (a fraction, say). Reported, never
    /// silently replaced by the default: that could switch a limit off.
    NotText,
}

impl From<Option<String>> for Setting {
    fn from(value: Option<String>) -> Self {
        value.map_or(Self::Unset, Self::Text)
    }
}

/// Collects every problem instead of stopping at the first, so one deploy fixes them all.
struct Reader<F> {
    lookup: F,
    problems: Vec<Problem>,
}

const NOT_TEXT: &str = "must be a string, a whole number or true/false";

impl<F: Fn(&str) -> Setting> Reader<F> {
    fn problem(&mut self, variable: &'static str, reason: impl Into<String>) {
        self.problems.push(Problem {
            variable,
            reason: reason.into(),
        });
    }

    /// The trimmed value, or `None` when unset or blank.
    fn get(&mut self, name: &'static str) -> Option<String> {
        match (self.lookup)(name) {
            Setting::Unset => None,
            Setting::Text(value) => Some(value.trim().to_owned()).filter(|v| !v.is_empty()),
            Setting::List(_) | Setting::Json(_) | Setting::NotText => {
                self.problem(name, NOT_TEXT);
                None
            }
        }
    }

    /// A list from a TOML list or a comma-separated string, each item trimmed; `None` when
    /// unset or blank. An empty list or an empty item is refused: it must not quietly mean
    /// "anything".
    fn list(&mut self, name: &'static str) -> Option<Vec<String>> {
        let items: Vec<String> = match (self.lookup)(name) {
            Setting::Unset => return None,
            Setting::Text(text) if text.trim().is_empty() => return None,
            Setting::Text(text) => text.split(',').map(|i| i.trim().to_owned()).collect(),
            Setting::List(items) => items.iter().map(|i| i.trim().to_owned()).collect(),
            Setting::Json(_) | Setting::NotText => {
                self.problem(
                    name,
                    "must be a comma-separated string or a list of strings",
                );
                return None;
            }
        };
        if items.is_empty() || items.iter().any(String::is_empty) {
            self.problem(name, "must not be an empty list or have an empty item");
            return None;
        }
        Some(items)
    }

    /// A secret as given, byte for byte; `None` when unset or empty.
    fn secret(&mut self, name: &'static str) -> Option<Secret> {
        match (self.lookup)(name) {
            Setting::Unset => None,
            Setting::Text(value) if value.is_empty() => None,
            Setting::Text(value) if value.trim().len() != value.len() => {
                self.problem(name, "must not start or end with whitespace");
                None
            }
            Setting::Text(value) => Some(Secret::new(value)),
            Setting::List(_) | Setting::Json(_) | Setting::NotText => {
                self.problem(name, "must be a string");
                None
            }
        }
    }

    fn required(&mut self, name: &'static str) -> String {
        self.get(name).unwrap_or_else(|| {
            self.problem(name, "is required");
            String::new()
        })
    }

    fn number(&mut self, name: &'static str, default: u64, min: u64, max: u64) -> u64 {
        let Some(raw) = self.get(name) else {
            return default;
        };
        match raw.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => n,
            _ => {
                self.problem(name, format!("must be a whole number from {min} to {max}"));
                default
            }
        }
    }

    fn flag(&mut self, name: &'static str, default: bool) -> bool {
        match self.get(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => default,
            Some("true" | "1" | "yes") => true,
            Some("false" | "0" | "no") => false,
            Some(_) => {
                self.problem(name, "must be true or false");
                default
            }
        }
    }

    /// A list whose every item `parse` accepts; `None` (and a problem) otherwise.
    fn parsed_list<T>(
        &mut self,
        name: &'static str,
        rule: &'static str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Vec<T> {
        let items = self.list(name).unwrap_or_default();
        match items.iter().map(|i| parse(i)).collect::<Option<Vec<T>>>() {
            Some(parsed) => parsed,
            None => {
                self.problem(name, rule);
                Vec::new()
            }
        }
    }
}

impl Config {
    /// Reads every setting through `lookup`: `None` for unset, else its text.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::from_settings(|name| lookup(name).into())
    }

    /// Reads every setting through `lookup` (the Worker's env, or a map in tests).
    pub fn from_settings(lookup: impl Fn(&str) -> Setting) -> Result<Self, ConfigError> {
        let mut r = Reader {
            lookup,
            problems: Vec::new(),
        };
        let store = read_store(&mut r);
        let profiles = read_profiles(&mut r, store.on_r2);
        let download_expires_seconds =
            r.number("DOWNLOAD_EXPIRES_SECONDS", 300, 1, MAX_EXPIRES_SECONDS);
        let (inline_types, cache_control) = read_stored_headers(&mut r);
        let allowed_origins = read_allowed_origins(&mut r);
        let base_path = r.get("BASE_PATH").unwrap_or_default();
        if !is_valid_base_path(&base_path) {
            r.problem(
                "BASE_PATH",
                "must be empty or a path that starts with '/' and does not end with one, with no empty, '.' or '..' segment",
            );
        }
        let demo_page = r.flag("DEMO_PAGE", false);
        let audit_log = r.flag("AUDIT_LOG", true);
        let allow_overwrite = r.flag("UPLOAD_ALLOW_OVERWRITE", false);
        let auth = read_auth(&mut r);
        let rate_limit_period = r.number("UPLOAD_RATE_LIMIT_PERIOD", 60, 1, 3600);
        let webhook = read_webhook(&mut r);
        let delete_rejected = r.flag("UPLOAD_DELETE_REJECTED", false);
        let credentials = read_credentials(&mut r);
        if !r.problems.is_empty() {
            return Err(ConfigError {
                problems: r.problems,
            });
        }
        let location = ObjectLocation::new(
            &store.bucket,
            &store.region,
            store.endpoint.as_ref(),
            store.path_style,
        );
        Ok(Self {
            upload_url: location.form_url(),
            location,
            bucket: store.bucket,
            region: store.region,
            post_supported: !store.on_r2,
            profiles,
            allow_overwrite,
            download_expires_seconds,
            inline_types,
            cache_control,
            allowed_origins,
            base_path,
            demo_page,
            audit_log,
            auth,
            rate_limit_period,
            webhook,
            delete_rejected,
            credentials,
        })
    }

    /// The settings' own profile.
    pub(crate) fn default_profile(&self) -> &Profile {
        self.profiles.default_profile()
    }

    /// Inline for the built-in safe set and `UPLOAD_INLINE_TYPES`; never for a type that can
    /// carry script.
    pub fn disposition_for(&self, media_type: &MediaType) -> Disposition {
        let listed = self.inline_types.iter().any(|r| r.matches(media_type));
        if !media_type.is_scriptable() && (media_type.is_inline_safe() || listed) {
            Disposition::Inline
        } else {
            Disposition::Attachment
        }
    }
}

/// Where the bucket is: `S3_BUCKET`, `S3_REGION`, `S3_ENDPOINT`, `S3_FORCE_PATH_STYLE`.
struct Store {
    bucket: String,
    region: String,
    endpoint: Option<Origin>,
    on_r2: bool,
    path_style: bool,
}

fn read_store(r: &mut Reader<impl Fn(&str) -> Setting>) -> Store {
    let bucket = r.required("S3_BUCKET");
    if !bucket.is_empty() && !is_valid_bucket(&bucket) {
        r.problem(
            "S3_BUCKET",
            "must be 3 to 63 lowercase letters, digits, dots or hyphens",
        );
    }
    let region = r.get("S3_REGION").unwrap_or_else(|| "us-east-1".into());
    if !region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        r.problem("S3_REGION", "must be lowercase letters, digits and hyphens");
    }
    let endpoint = r.get("S3_ENDPOINT").and_then(|raw| {
        let origin = Origin::parse(&raw);
        if origin.is_none() {
            r.problem(
                "S3_ENDPOINT",
                "must be an http:// or https:// origin with no path, query or fragment",
            );
        }
        origin
    });
    let force_path_style = r.flag("S3_FORCE_PATH_STYLE", false);
    let on_r2 = endpoint
        .as_ref()
        .is_some_and(|e| e.hostname().ends_with(R2_HOST_SUFFIX));
    // `auto` is R2's region; anywhere else it would sign for a region that does not exist.
    if region == "auto" && !on_r2 {
        r.problem(
            "S3_REGION",
            "may be auto only with a Cloudflare R2 S3_ENDPOINT (*.r2.cloudflarestorage.com)",
        );
    }
    Store {
        bucket,
        region,
        endpoint,
        on_r2,
        // R2's S3 endpoint is documented path style (`https://<account>.r2.cloudflarestorage.com/<bucket>`).
        path_style: force_path_style || on_r2,
    }
}

/// The settings' own profile, then `UPLOAD_PROFILES` over it.
fn read_profiles(r: &mut Reader<impl Fn(&str) -> Setting>, on_r2: bool) -> Profiles {
    let method = read_upload_method(r, on_r2);
    let prefix = read_prefix(r);
    let max_bytes = r.number(
        "UPLOAD_MAX_BYTES",
        10_485_760,
        1,
        S3_SINGLE_UPLOAD_MAX_BYTES,
    );
    // One size rule for every way in: a multipart upload may hold what a form may, unless
    // the operator chose a larger limit for it.
    let max_multipart_bytes = r.number(
        "UPLOAD_MAX_MULTIPART_BYTES",
        max_bytes,
        1,
        S3_MULTIPART_MAX_BYTES,
    );
    let expires_seconds = r.number("UPLOAD_EXPIRES_SECONDS", 600, 1, MAX_EXPIRES_SECONDS);
    let allowed_types = r.parsed_list(
        "UPLOAD_ALLOWED_TYPES",
        "must be comma-separated media types such as image/png or image/*",
        MediaRange::parse,
    );
    let default = Profile {
        name: DEFAULT_PROFILE.to_owned(),
        prefix,
        max_bytes,
        max_multipart_bytes,
        expires_seconds,
        allowed_types,
        method,
        events: true,
    };
    let json = match (r.lookup)("UPLOAD_PROFILES") {
        Setting::Unset => None,
        Setting::Text(text) if text.trim().is_empty() => None,
        Setting::Text(json) | Setting::Json(json) => Some(json),
        Setting::List(_) | Setting::NotText => Some(String::new()),
    };
    let named = match json.map(|json| profile::read_profiles(&json, &default, on_r2)) {
        None => Vec::new(),
        Some(Ok(named)) => named,
        Some(Err(problems)) => {
            for problem in problems {
                r.problem("UPLOAD_PROFILES", problem);
            }
            Vec::new()
        }
    };
    Profiles::new(default, named)
}

/// What every upload is stored with: the inline types and the cache policy.
fn read_stored_headers(r: &mut Reader<impl Fn(&str) -> Setting>) -> (Vec<MediaRange>, String) {
    let inline_types = r.parsed_list(
        "UPLOAD_INLINE_TYPES",
        "must be media types that cannot carry script (not HTML, SVG, XML, JavaScript, image/*, text/* or application/*)",
        |item| MediaRange::parse(item).filter(|range| !range.admits_scriptable()),
    );
    let cache_control = r
        .get("UPLOAD_CACHE_CONTROL")
        .unwrap_or_else(|| DEFAULT_CACHE_CONTROL.into());
    if cache_control.len() > 256 || !cache_control.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        r.problem(
            "UPLOAD_CACHE_CONTROL",
            "must be at most 256 characters of printable ASCII",
        );
    }
    (inline_types, cache_control)
}

fn read_credentials(r: &mut Reader<impl Fn(&str) -> Setting>) -> Credentials {
    let access_key_id = r.required("AWS_ACCESS_KEY_ID");
    if access_key_id.chars().any(|c| c.is_whitespace() || c == '/') {
        r.problem("AWS_ACCESS_KEY_ID", "must not contain spaces or '/'");
    }
    let reported = r.problems.len();
    let secret_access_key = r.secret("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|| {
        if r.problems.len() == reported {
            r.problem("AWS_SECRET_ACCESS_KEY", "is required");
        }
        Secret::new("")
    });
    Credentials {
        access_key_id,
        secret_access_key,
        session_token: r.secret("AWS_SESSION_TOKEN"),
    }
}

fn read_upload_method(r: &mut Reader<impl Fn(&str) -> Setting>, on_r2: bool) -> Method {
    match r.get("UPLOAD_METHOD") {
        None if on_r2 => Method::Put,
        None => Method::Post,
        Some(raw) => match Method::parse_upload(&raw) {
            Some(Method::Post) if on_r2 => {
                r.problem(
                    "UPLOAD_METHOD",
                    "must be PUT with Cloudflare R2, which has no POST Object",
                );
                Method::Put
            }
            Some(method) => method,
            None => {
                r.problem("UPLOAD_METHOD", "must be POST or PUT");
                Method::Post
            }
        },
    }
}

/// Unset: `uploads/`; set but empty: the bucket's root.
fn read_prefix(r: &mut Reader<impl Fn(&str) -> Setting>) -> String {
    let prefix = match (r.lookup)("UPLOAD_PREFIX") {
        Setting::Unset => "uploads/".to_owned(),
        Setting::Text(text) => text.trim().to_owned(),
        Setting::List(_) | Setting::Json(_) | Setting::NotText => {
            r.problem("UPLOAD_PREFIX", NOT_TEXT);
            String::new()
        }
    };
    if !is_valid_prefix(&prefix) {
        r.problem(
            "UPLOAD_PREFIX",
            format!(
                "must be empty or end with '/', be at most {MAX_PREFIX_BYTES} bytes, not start with '/', and have no '\\', whitespace, empty or '..' segment or control character"
            ),
        );
    }
    prefix
}

fn read_allowed_origins(r: &mut Reader<impl Fn(&str) -> Setting>) -> AllowedOrigins {
    let items = r.list("ALLOWED_ORIGINS").unwrap_or_default();
    if items.len() == 1 && items[0] == "*" {
        return AllowedOrigins::Any;
    }
    match items.iter().map(|i| Origin::parse(i)).collect() {
        Some(origins) => AllowedOrigins::List(origins),
        None => {
            r.problem(
                "ALLOWED_ORIGINS",
                "must be * or comma-separated origins such as https://app.example.com",
            );
            AllowedOrigins::List(Vec::new())
        }
    }
}

/// HS256 with `UPLOAD_AUTH_SECRET`, a JWKS with `UPLOAD_AUTH_JWKS_URL` (and its issuer), or
/// both; `None` when neither is set.
fn read_auth(r: &mut Reader<impl Fn(&str) -> Setting>) -> Option<AuthSettings> {
    let secret = r.secret("UPLOAD_AUTH_SECRET");
    if secret
        .as_ref()
        .is_some_and(|s| s.expose().len() < MIN_AUTH_SECRET_BYTES)
    {
        r.problem("UPLOAD_AUTH_SECRET", "must be at least 32 bytes");
    }
    let jwks_url = r.get("UPLOAD_AUTH_JWKS_URL").and_then(|raw| {
        let url = JwksUrl::parse(&raw);
        if url.is_none() {
            r.problem(
                "UPLOAD_AUTH_JWKS_URL",
                "must be an https:// URL (http:// only for localhost or 127.0.0.1)",
            );
        }
        url
    });
    let issuer = r.get("UPLOAD_AUTH_ISSUER");
    let audience = r.get("UPLOAD_AUTH_AUDIENCE");
    let cookie = r.get("UPLOAD_AUTH_COOKIE");
    if cookie.as_deref().is_some_and(|name| !is_cookie_name(name)) {
        r.problem(
            "UPLOAD_AUTH_COOKIE",
            "must be a cookie name (letters, digits, - and _)",
        );
    }
    // An identity provider signs tokens for every app of its tenant: without both rules, a
    // token it issued to another app would be taken.
    if jwks_url.is_some() {
        for (name, value) in [
            ("UPLOAD_AUTH_ISSUER", &issuer),
            ("UPLOAD_AUTH_AUDIENCE", &audience),
        ] {
            if value.is_none() {
                r.problem(name, "is required with UPLOAD_AUTH_JWKS_URL");
            }
        }
    }
    if secret.is_none() && jwks_url.is_none() {
        // Each would otherwise look like auth is on, while it is off.
        for (name, set) in [
            ("UPLOAD_AUTH_ISSUER", issuer.is_some()),
            ("UPLOAD_AUTH_AUDIENCE", audience.is_some()),
            ("UPLOAD_AUTH_COOKIE", cookie.is_some()),
        ] {
            if set {
                r.problem(name, "needs UPLOAD_AUTH_SECRET or UPLOAD_AUTH_JWKS_URL");
            }
        }
        return None;
    }
    Some(AuthSettings {
        secret: secret.as_ref().map(HmacKey::new),
        jwks: jwks_url,
        rules: IssuerRules { issuer, audience },
        cookie,
    })
}

/// AWS bucket naming rules (general purpose buckets).
/// `UPLOAD_WEBHOOK_URL` and the secret its events are signed with, which it requires.
fn read_webhook(r: &mut Reader<impl Fn(&str) -> Setting>) -> Option<crate::event::Webhook> {
    let url = r.get("UPLOAD_WEBHOOK_URL");
    let secret = r.secret("UPLOAD_WEBHOOK_SECRET");
    let url = url?;
    if !crate::event::is_webhook_url(&url) {
        r.problem(
            "UPLOAD_WEBHOOK_URL",
            "must be an https:// URL (http:// only on a loopback host)",
        );
    }
    let key = match secret
        .as_ref()
        .map(|s| crate::event::WebhookKey::parse(s.expose()))
    {
        Some(Some(key)) => key,
        Some(None) => {
            let rule = "must be whsec_ and the base64 of 24 to 64 random bytes";
            r.problem("UPLOAD_WEBHOOK_SECRET", rule);
            return None;
        }
        None => {
            r.problem(
                "UPLOAD_WEBHOOK_SECRET",
                "is required with UPLOAD_WEBHOOK_URL",
            );
            return None;
        }
    };
    Some(crate::event::Webhook { url, key })
}

fn is_valid_bucket(bucket: &str) -> bool {
    let bytes = bucket.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && !bytes.windows(2).any(|pair| pair == b"..")
}

/// Empty, or `/segment[/segment…]` of URL-safe characters.
fn is_valid_base_path(path: &str) -> bool {
    path.is_empty()
        || path.strip_prefix('/').is_some_and(|rest| {
            rest.split('/').all(|segment| {
                !segment.is_empty()
                    && segment != "."
                    && segment != ".."
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
            })
        })
}

fn is_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_read_has_a_row_in_the_docs() {
        let source = include_str!("config.rs");
        let code = &source[..source.find("#[cfg(test)]").unwrap()];
        let docs = include_str!("../docs/configuration.md");
        let mut names: Vec<&str> = code
            .split('"')
            .skip(1)
            .step_by(2)
            .filter(|s| s.len() > 4 && s.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
            .collect();
        names.sort_unstable();
        names.dedup();
        assert!(names.len() >= 20, "the settings were found: {names:?}");
        // A row starts with the setting's name (two that always go together share one row).
        let rows: Vec<&str> = docs.lines().filter(|l| l.starts_with("| `")).collect();
        for name in names {
            let cell = format!("`{name}`");
            let documented = rows.iter().any(|row| {
                row.split(" | ")
                    .next()
                    .is_some_and(|first| first.contains(&cell))
            });
            assert!(
                documented,
                "docs/configuration.md's settings table lacks {cell}"
            );
        }
    }
    use std::collections::HashMap;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut env: HashMap<String, String> = [
            ("S3_BUCKET", "photos"),
            ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in pairs {
            env.insert(k.to_string(), v.to_string());
        }
        Config::from_lookup(|name| env.get(name).cloned())
    }

    #[test]
    fn defaults_apply_when_only_required_settings_are_given() {
        let c = config(&[]).unwrap();
        assert_eq!(c.region, "us-east-1");
        assert_eq!(c.default_profile().prefix, "uploads/");
        assert_eq!(c.default_profile().max_bytes, 10_485_760);
        assert_eq!(c.default_profile().expires_seconds, 600);
        assert!(c.default_profile().allowed_types.is_empty());
        assert_eq!(c.allowed_origins, AllowedOrigins::List(vec![]));
        assert!(!c.demo_page);
        assert!(c.audit_log);
        assert!(!config(&[("AUDIT_LOG", "false")]).unwrap().audit_log);
        assert!(c.credentials.session_token.is_none());
        assert_eq!(c.upload_url, "https://photos.s3.us-east-1.amazonaws.com/");
        assert_eq!(c.cache_control, "private, max-age=3600");
        assert_eq!(
            c.default_profile().max_multipart_bytes,
            c.default_profile().max_bytes,
            "multipart defaults to the form limit"
        );
        let small = config(&[("UPLOAD_MAX_BYTES", "1048576")]).unwrap();
        assert_eq!(small.default_profile().max_multipart_bytes, 1_048_576);
        assert!(!c.allow_overwrite);
        assert!(
            config(&[("UPLOAD_ALLOW_OVERWRITE", "true")])
                .unwrap()
                .allow_overwrite
        );
        assert!(c.auth.is_none());
        assert_eq!((c.base_path.as_str(), c.rate_limit_period), ("", 60));
    }

    #[test]
    fn missing_settings_are_all_named_at_once() {
        let err = Config::from_lookup(|_| None).unwrap_err();
        assert_eq!(
            err.variables(),
            ["S3_BUCKET", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
        );
    }

    #[test]
    fn invalid_values_are_named_but_never_echoed() {
        let table = [
            ("S3_BUCKET", "Bad_Bucket!"),
            ("S3_REGION", "US EAST"),
            ("S3_ENDPOINT", "ftp://example.com"),
            ("S3_ENDPOINT", "http://example.com/path?x"),
            ("S3_FORCE_PATH_STYLE", "maybe"),
            ("UPLOAD_PREFIX", "/abs/"),
            ("UPLOAD_PREFIX", "a/../b/"),
            ("UPLOAD_PREFIX", "uploads"),
            ("UPLOAD_PREFIX", "a//"),
            ("UPLOAD_ALLOWED_TYPES", " , ,"),
            ("UPLOAD_MAX_BYTES", "0"),
            ("UPLOAD_MAX_BYTES", "5368709121"),
            ("UPLOAD_MAX_BYTES", "ten"),
            ("UPLOAD_EXPIRES_SECONDS", "604801"),
            ("UPLOAD_EXPIRES_SECONDS", "-5"),
            ("UPLOAD_ALLOWED_TYPES", "image/*,not a type"),
            ("ALLOWED_ORIGINS", "https://ok.example, javascript:alert(1)"),
            ("DEMO_PAGE", "sometimes"),
            ("AWS_ACCESS_KEY_ID", "has space"),
            ("UPLOAD_METHOD", "PATCH"),
            ("DOWNLOAD_EXPIRES_SECONDS", "604801"),
            ("UPLOAD_ALLOWED_TYPES", "image/png,,application/pdf"),
            ("UPLOAD_ALLOWED_TYPES", "image/png,"),
            ("UPLOAD_PREFIX", " up loads/"),
            ("UPLOAD_INLINE_TYPES", "text/html"),
            ("UPLOAD_INLINE_TYPES", "image/*,audio/*"),
            ("UPLOAD_INLINE_TYPES", "image/svg+xml"),
            ("UPLOAD_INLINE_TYPES", "application/xhtml+xml"),
            ("UPLOAD_CACHE_CONTROL", "max-age=60\r\nX-Evil: 1"),
            ("UPLOAD_MAX_MULTIPART_BYTES", "5497558138881"),
            ("BASE_PATH", "api/uploads"),
            ("BASE_PATH", "/api/uploads/"),
            ("BASE_PATH", "/api/../x"),
            ("UPLOAD_AUTH_SECRET", "too-short-secret"),
            ("UPLOAD_AUTH_SECRET", " a-test-secret-of-32-bytes-length"),
            ("UPLOAD_AUTH_JWKS_URL", "http://id.example.com/jwks"),
            ("UPLOAD_AUTH_COOKIE", "session"),
            (
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
            ),
        ];
        for (name, value) in table {
            let err = config(&[(name, value)]).unwrap_err();
            assert_eq!(err.variables(), [name], "{name}={value}");
            let message = err.to_string();
            assert!(message.starts_with(name), "{message}");
            // Short values (such as "0") occur in the rule's own numbers by chance.
            if value.len() > 3 {
                assert!(!message.contains(value), "{message} echoes {value}");
            }
        }
    }

    #[test]
    fn r2_defaults_to_put_and_refuses_post() {
        let endpoint = ("S3_ENDPOINT", "https://0123abcd.r2.cloudflarestorage.com");
        let c = config(&[endpoint, ("S3_REGION", "auto")]).unwrap();
        assert_eq!(
            (c.default_profile().method, c.post_supported),
            (Method::Put, false)
        );
        assert_eq!(c.region, "auto");
        assert_eq!(
            c.upload_url,
            "https://0123abcd.r2.cloudflarestorage.com/photos"
        );
        let eu = (
            "S3_ENDPOINT",
            "https://0123abcd.eu.r2.cloudflarestorage.com",
        );
        assert!(!config(&[eu, ("S3_REGION", "auto")]).unwrap().post_supported);
        let err = config(&[endpoint, ("UPLOAD_METHOD", "POST")]).unwrap_err();
        assert_eq!(err.variables(), ["UPLOAD_METHOD"]);
        assert!(err.to_string().contains("no POST Object"), "{err}");
        // Elsewhere POST stays the default, and PUT can be chosen.
        let c = config(&[]).unwrap();
        assert_eq!(
            (c.default_profile().method, c.post_supported),
            (Method::Post, true)
        );
        let c = config(&[("UPLOAD_METHOD", "put")]).unwrap();
        assert_eq!(c.default_profile().method, Method::Put);
        // `auto` is R2's region, meaningless elsewhere (the rule names it, so it is no echo).
        let err = config(&[("S3_REGION", "auto")]).unwrap_err();
        assert_eq!(err.variables(), ["S3_REGION"]);
        // A look-alike host is not R2.
        let fake = (
            "S3_ENDPOINT",
            "https://r2.cloudflarestorage.com.example.com",
        );
        assert!(config(&[fake]).unwrap().post_supported);
    }

    #[test]
    fn base_paths_and_multipart_limits_are_read() {
        let c = config(&[
            ("BASE_PATH", "/api/uploads"),
            ("UPLOAD_MAX_MULTIPART_BYTES", "1073741824"),
            ("UPLOAD_RATE_LIMIT_PERIOD", "10"),
        ])
        .unwrap();
        assert_eq!(c.base_path, "/api/uploads");
        assert_eq!(
            (c.default_profile().max_multipart_bytes, c.rate_limit_period),
            (1 << 30, 10)
        );
    }

    #[test]
    fn presigned_urls_go_where_the_form_goes() {
        let c = config(&[]).unwrap();
        assert_eq!(c.location.host, "photos.s3.us-east-1.amazonaws.com");
        assert_eq!(c.location.path_of("k"), "/k");
        assert_eq!(c.download_expires_seconds, 300);
        let c = config(&[
            ("S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("DOWNLOAD_EXPIRES_SECONDS", "60"),
        ])
        .unwrap();
        assert_eq!(
            (c.location.host.as_str(), c.location.path_of("k").as_str()),
            ("127.0.0.1:9000", "/photos/k")
        );
        assert_eq!(c.download_expires_seconds, 60);
    }

    #[test]
    fn settings_that_are_not_text_are_reported_not_defaulted() {
        let err = Config::from_settings(|name| match name {
            "S3_BUCKET" => Setting::Text("photos".into()),
            "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Setting::Text("x".into()),
            "UPLOAD_ALLOWED_TYPES" | "UPLOAD_MAX_BYTES" | "UPLOAD_PREFIX" => Setting::NotText,
            _ => Setting::Unset,
        })
        .unwrap_err();
        assert_eq!(
            err.variables(),
            ["UPLOAD_PREFIX", "UPLOAD_MAX_BYTES", "UPLOAD_ALLOWED_TYPES"]
        );
    }

    fn with_list(name: &'static str, items: &[&str]) -> Result<Config, ConfigError> {
        let items: Vec<String> = items.iter().map(|i| i.to_string()).collect();
        Config::from_settings(|n| match n {
            "S3_BUCKET" => Setting::Text("photos".into()),
            "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Setting::Text("x".into()),
            _ if n == name => Setting::List(items.clone()),
            _ => Setting::Unset,
        })
    }

    #[test]
    fn an_empty_list_or_item_never_means_anything() {
        for name in [
            "UPLOAD_ALLOWED_TYPES",
            "ALLOWED_ORIGINS",
            "UPLOAD_INLINE_TYPES",
        ] {
            for items in [&[][..], &[""], &[" "], &["image/png", ""]] {
                let err = with_list(name, items).unwrap_err();
                assert_eq!(err.variables(), [name], "{name} = {items:?}");
            }
        }
        let c = with_list("UPLOAD_ALLOWED_TYPES", &[" image/png ", "application/pdf"]).unwrap();
        assert_eq!(c.default_profile().allowed_types.len(), 2);
        // A list where text is expected is reported too.
        assert_eq!(
            with_list("S3_REGION", &["us-east-1"])
                .unwrap_err()
                .variables(),
            ["S3_REGION"]
        );
        // A blank string is the default, as documented; a lone comma is an empty item.
        assert!(config(&[("UPLOAD_ALLOWED_TYPES", "  ")])
            .unwrap()
            .default_profile()
            .allowed_types
            .is_empty());
        assert!(config(&[("UPLOAD_ALLOWED_TYPES", ",")]).is_err());
    }

    #[test]
    fn values_are_trimmed_and_secrets_are_not() {
        let c = config(&[
            ("UPLOAD_PREFIX", " uploads/ "),
            ("S3_REGION", " eu-west-1\n"),
            ("UPLOAD_CACHE_CONTROL", " no-store "),
        ])
        .unwrap();
        assert_eq!(
            (c.default_profile().prefix.as_str(), c.region.as_str()),
            ("uploads/", "eu-west-1")
        );
        assert_eq!(c.cache_control, "no-store");
        let err = config(&[("AWS_SESSION_TOKEN", "token ")]).unwrap_err();
        assert_eq!(err.variables(), ["AWS_SESSION_TOKEN"]);
    }

    #[test]
    fn auth_is_on_when_a_secret_or_a_jwks_is_set() {
        let secret = ("UPLOAD_AUTH_SECRET", "a-test-secret-of-32-bytes-length");
        let auth = config(&[secret]).unwrap().auth.unwrap();
        assert!(auth.secret.is_some() && auth.jwks.is_none() && auth.cookie.is_none());
        let auth = config(&[
            (
                "UPLOAD_AUTH_JWKS_URL",
                "https://id.example.com/.well-known/jwks.json",
            ),
            ("UPLOAD_AUTH_ISSUER", "https://id.example.com/"),
            ("UPLOAD_AUTH_AUDIENCE", "uploads"),
            ("UPLOAD_AUTH_COOKIE", "session"),
        ])
        .unwrap()
        .auth
        .unwrap();
        let url = auth.jwks.unwrap();
        assert_eq!(url.as_str(), "https://id.example.com/.well-known/jwks.json");
        assert_eq!(
            auth.rules.issuer.as_deref(),
            Some("https://id.example.com/")
        );
        assert_eq!(auth.rules.audience.as_deref(), Some("uploads"));
        assert_eq!(auth.cookie.as_deref(), Some("session"));
        let c = config(&[secret]).unwrap();
        assert!(
            !format!("{c:?}").contains(secret.1),
            "Debug redacts the auth secret"
        );
    }

    #[test]
    fn a_jwks_needs_an_issuer_and_an_audience() {
        let jwks = ("UPLOAD_AUTH_JWKS_URL", "https://id.example.com/jwks");
        let issuer = ("UPLOAD_AUTH_ISSUER", "https://id.example.com/");
        let audience = ("UPLOAD_AUTH_AUDIENCE", "uploads");
        let named = |pairs: &[(&str, &str)]| config(pairs).unwrap_err().variables();
        assert_eq!(
            named(&[jwks]),
            ["UPLOAD_AUTH_ISSUER", "UPLOAD_AUTH_AUDIENCE"]
        );
        assert_eq!(named(&[jwks, issuer]), ["UPLOAD_AUTH_AUDIENCE"]);
        assert_eq!(named(&[jwks, audience]), ["UPLOAD_AUTH_ISSUER"]);
        let err = config(&[jwks, issuer]).unwrap_err().to_string();
        assert_eq!(
            err,
            "UPLOAD_AUTH_AUDIENCE is required with UPLOAD_AUTH_JWKS_URL"
        );
        assert!(config(&[jwks, issuer, audience]).is_ok());
        // A secret with a JWKS changes nothing: JWKS tokens still need both.
        let secret = ("UPLOAD_AUTH_SECRET", "a-test-secret-of-32-bytes-length");
        assert_eq!(named(&[secret, jwks, issuer]), ["UPLOAD_AUTH_AUDIENCE"]);
    }

    #[test]
    fn issuer_and_audience_apply_to_the_secret_and_need_some_auth() {
        let secret = ("UPLOAD_AUTH_SECRET", "a-test-secret-of-32-bytes-length");
        let issuer = ("UPLOAD_AUTH_ISSUER", "https://id.example.com/");
        let audience = ("UPLOAD_AUTH_AUDIENCE", "uploads");
        let auth = config(&[secret, issuer, audience]).unwrap().auth.unwrap();
        assert_eq!(
            (auth.rules.issuer.as_deref(), auth.rules.audience.as_deref()),
            (Some("https://id.example.com/"), Some("uploads"))
        );
        let auth = config(&[secret]).unwrap().auth.unwrap();
        assert_eq!(auth.rules, IssuerRules::default());
        // Without a secret or a JWKS, auth is off: a rule for it is a mistake to report.
        for (pairs, names) in [
            (&[issuer][..], &["UPLOAD_AUTH_ISSUER"][..]),
            (&[audience], &["UPLOAD_AUTH_AUDIENCE"]),
            (
                &[("UPLOAD_AUTH_COOKIE", "session")],
                &["UPLOAD_AUTH_COOKIE"],
            ),
            (
                &[issuer, audience],
                &["UPLOAD_AUTH_ISSUER", "UPLOAD_AUTH_AUDIENCE"],
            ),
        ] {
            let err = config(pairs).unwrap_err();
            assert_eq!(err.variables(), names);
            assert!(err
                .to_string()
                .ends_with("needs UPLOAD_AUTH_SECRET or UPLOAD_AUTH_JWKS_URL"));
        }
    }

    #[test]
    fn inline_types_widen_the_safe_set_but_never_to_script() {
        let c = config(&[("UPLOAD_INLINE_TYPES", "image/tiff, model/gltf-binary")]).unwrap();
        let tiff = MediaType::parse("image/tiff").unwrap();
        let html = MediaType::parse("text/html").unwrap();
        let png = MediaType::parse("image/png").unwrap();
        let octet = MediaType::octet_stream();
        assert_eq!(c.disposition_for(&tiff), Disposition::Inline);
        assert_eq!(c.disposition_for(&png), Disposition::Inline);
        assert_eq!(c.disposition_for(&html), Disposition::Attachment);
        assert_eq!(c.disposition_for(&octet), Disposition::Attachment);
        let plain = config(&[]).unwrap();
        assert_eq!(plain.disposition_for(&tiff), Disposition::Attachment);
    }

    #[test]
    fn the_secret_never_reaches_debug_or_errors() {
        let c = config(&[]).unwrap();
        assert!(!format!("{c:?}").contains(SECRET));
        let err = config(&[("S3_BUCKET", "")]).unwrap_err();
        assert!(!format!("{err} {err:?}").contains(SECRET));
    }

    #[test]
    fn webhook_settings_need_a_url_and_a_whsec_secret_never_echoed() {
        const HOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let c = config(&[]).unwrap();
        assert!(c.webhook.is_none() && !c.delete_rejected);
        let url = ("UPLOAD_WEBHOOK_URL", "https://hooks.example.com/uploads");
        let c = config(&[url, ("UPLOAD_WEBHOOK_SECRET", HOOK_SECRET)]).unwrap();
        assert_eq!(c.webhook.as_ref().unwrap().url, url.1);
        assert!(!format!("{c:?}").contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        let c = config(&[("UPLOAD_DELETE_REJECTED", "true")]).unwrap();
        assert!(c.delete_rejected);
        let table = [
            (vec![url], "UPLOAD_WEBHOOK_SECRET"),
            (
                vec![url, ("UPLOAD_WEBHOOK_SECRET", "whsec_short")],
                "UPLOAD_WEBHOOK_SECRET",
            ),
            (
                vec![
                    ("UPLOAD_WEBHOOK_URL", "http://hooks.example.com/"),
                    ("UPLOAD_WEBHOOK_SECRET", HOOK_SECRET),
                ],
                "UPLOAD_WEBHOOK_URL",
            ),
            (
                vec![("UPLOAD_DELETE_REJECTED", "maybe")],
                "UPLOAD_DELETE_REJECTED",
            ),
        ];
        for (pairs, variable) in table {
            let err = config(&pairs).unwrap_err();
            assert_eq!(err.variables(), [variable], "{pairs:?}");
            let shown = format!("{err} {err:?}");
            assert!(
                !shown.contains("whsec_short") && !shown.contains("MfKQ9"),
                "{err}"
            );
        }
    }

    #[test]
    fn endpoint_and_origins_are_normalised() {
        let c = config(&[
            ("S3_ENDPOINT", "HTTP://127.0.0.1:9000/"),
            (
                "ALLOWED_ORIGINS",
                "https://App.example.com/, http://localhost:8787",
            ),
        ])
        .unwrap();
        assert_eq!(c.upload_url, "http://127.0.0.1:9000/photos");
        assert!(c.allowed_origins.allows("https://app.example.com"));
        assert!(c.allowed_origins.allows("http://localhost:8787"));
        assert!(!c.allowed_origins.allows("https://evil.example.com"));
        let default_ports = config(&[(
            "ALLOWED_ORIGINS",
            "https://app.example.com:443, http://localhost:80, https://alt.example.com:8443",
        )])
        .unwrap();
        let allowed = &default_ports.allowed_origins;
        assert!(allowed.allows("https://app.example.com"));
        assert!(allowed.allows("http://localhost"));
        assert!(allowed.allows("https://alt.example.com:8443"));
        assert!(!allowed.allows("https://alt.example.com"));
        assert!(!allowed.allows("http://app.example.com"));
        assert!(config(&[("ALLOWED_ORIGINS", "https://:443")]).is_err());
        assert!(config(&[("ALLOWED_ORIGINS", "*")])
            .unwrap()
            .allowed_origins
            .allows("https://x.y"));
    }

    #[test]
    fn session_token_and_flags_are_read() {
        let c = config(&[
            ("AWS_SESSION_TOKEN", "token"),
            ("S3_FORCE_PATH_STYLE", "TRUE"),
            ("DEMO_PAGE", "true"),
            ("UPLOAD_PREFIX", ""),
        ])
        .unwrap();
        assert_eq!(
            c.credentials.session_token.as_ref().unwrap().expose(),
            "token"
        );
        assert_eq!(c.upload_url, "https://s3.us-east-1.amazonaws.com/photos");
        assert!(c.demo_page);
        assert_eq!(
            c.default_profile().prefix,
            "",
            "an explicitly empty prefix is allowed"
        );
    }

    #[test]
    fn profiles_come_as_json_text_or_a_table_and_are_reported_by_name() {
        let json = r#"{"avatar": {"max_bytes": 2048, "prefix": "avatars/"}}"#;
        let c = config(&[("UPLOAD_PROFILES", json), ("UPLOAD_MAX_BYTES", "4096")]).unwrap();
        let (index, avatar) = c.profiles.named(Some("avatar")).unwrap();
        assert_eq!(
            (index, avatar.max_bytes, avatar.prefix.as_str()),
            (1, 2048, "avatars/")
        );
        assert_eq!(c.default_profile().max_bytes, 4096);
        let table = Config::from_settings(|name| match name {
            "UPLOAD_PROFILES" => Setting::Json(json.into()),
            "S3_BUCKET" => Setting::Text("photos".into()),
            "AWS_ACCESS_KEY_ID" => Setting::Text("AKIAIOSFODNN7EXAMPLE".into()),
            "AWS_SECRET_ACCESS_KEY" => Setting::Text(SECRET.into()),
            _ => Setting::Unset,
        })
        .unwrap();
        let (_, from_table) = table.profiles.named(Some("avatar")).unwrap();
        assert_eq!(
            (from_table.max_bytes, from_table.prefix.as_str()),
            (2048, "avatars/")
        );
        assert!(config(&[("UPLOAD_PROFILES", "  ")])
            .unwrap()
            .profiles
            .named(Some("avatar"))
            .is_none());
        let bad = config(&[(
            "UPLOAD_PROFILES",
            r#"{"avatar": {"max_bytes": 77777777777}}"#,
        )]);
        let err = bad.unwrap_err();
        assert_eq!(err.variables(), ["UPLOAD_PROFILES"]);
        assert!(err.to_string().contains("profile avatar: max_bytes"));
        assert!(!err.to_string().contains("77777777777"));
        // A profile may not take what R2 cannot do.
        let on_r2 = config(&[
            ("S3_ENDPOINT", "https://acc.r2.cloudflarestorage.com"),
            ("S3_REGION", "auto"),
            ("UPLOAD_PROFILES", r#"{"a": {"method": "POST"}}"#),
        ]);
        assert_eq!(on_r2.unwrap_err().variables(), ["UPLOAD_PROFILES"]);
        assert_eq!(
            config(&[("UPLOAD_PROFILES", "[1]")])
                .unwrap_err()
                .variables(),
            ["UPLOAD_PROFILES"]
        );
    }
}
