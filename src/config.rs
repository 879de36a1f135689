//! Settings, read and validated once per isolate. Errors name the variable, never its value.

use std::fmt;

use crate::media_type::{MediaRange, MediaType};
use crate::object_url::ObjectLocation;
use crate::sigv4::{Credentials, Secret};

/// S3 refuses a single POST or PUT above 5 GiB.
pub const S3_SINGLE_UPLOAD_MAX_BYTES: u64 = 5 * 1024 * 1024 * 1024;
/// SigV4 credentials and policies last at most seven days.
pub const MAX_EXPIRES_SECONDS: u64 = 604_800;
const MAX_PREFIX_BYTES: usize = 512;
/// Cloudflare R2's S3 endpoints (`<account>.r2.cloudflarestorage.com`, and its jurisdictions
/// such as `<account>.eu.r2...`): R2 has no POST Object, so uploads there are presigned PUTs.
const R2_HOST_SUFFIX: &str = ".r2.cloudflarestorage.com";

/// How a browser sends the file: a POST form (size range, type and fields pinned by the
/// policy) or a presigned PUT (type, exact size and checksum pinned as signed headers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UploadMethod {
    Post,
    Put,
}

impl UploadMethod {
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.eq_ignore_ascii_case("POST") {
            Some(Self::Post)
        } else if raw.eq_ignore_ascii_case("PUT") {
            Some(Self::Put)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Put => "PUT",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub bucket: String,
    pub region: String,
    /// Where the browser posts the form, computed once from bucket, region and endpoint.
    pub upload_url: String,
    /// The same place for presigned URLs: scheme, host and the path keys follow.
    pub location: ObjectLocation,
    /// What a request gets when it names no method (`UPLOAD_METHOD`).
    pub upload_method: UploadMethod,
    /// False on Cloudflare R2, which has no POST Object.
    pub post_supported: bool,
    pub prefix: String,
    pub max_bytes: u64,
    pub expires_seconds: u64,
    /// How long a `GET /downloads/{key}` URL lasts.
    pub download_expires_seconds: u64,
    /// Empty: any media type.
    pub allowed_types: Vec<MediaRange>,
    pub allowed_origins: AllowedOrigins,
    pub demo_page: bool,
    pub credentials: Credentials,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowedOrigins {
    Any,
    /// Lowercased `scheme://host[:port]`; empty means same-origin only.
    List(Vec<String>),
}

impl AllowedOrigins {
    pub fn allows(&self, origin: &str) -> bool {
        match self {
            Self::Any => true,
            Self::List(origins) => origins.iter().any(|o| o.eq_ignore_ascii_case(origin)),
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
    /// Set, but to something that has no text form (a TOML table, say). Reported, never
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

impl<F: Fn(&str) -> Setting> Reader<F> {
    /// The value as given, or `None` when unset (or unusable, which is recorded).
    fn raw(&mut self, name: &'static str) -> Option<String> {
        match (self.lookup)(name) {
            Setting::Unset => None,
            Setting::Text(value) => Some(value),
            Setting::NotText => {
                self.problem(
                    name,
                    "must be a string, a whole number, true/false or a list of strings",
                );
                None
            }
        }
    }

    /// The trimmed value, or `None` when unset or blank.
    fn get(&mut self, name: &'static str) -> Option<String> {
        self.raw(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn problem(&mut self, variable: &'static str, reason: impl Into<String>) {
        self.problems.push(Problem {
            variable,
            reason: reason.into(),
        });
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
        let endpoint = r.get("S3_ENDPOINT");
        let endpoint = endpoint.and_then(|e| match parse_endpoint(&e) {
            Some(endpoint) => Some(endpoint),
            None => {
                r.problem(
                    "S3_ENDPOINT",
                    "must be an http:// or https:// origin with no path, query or fragment",
                );
                None
            }
        });
        let force_path_style = r.flag("S3_FORCE_PATH_STYLE", false);
        let on_r2 = endpoint
            .as_deref()
            .and_then(|e| split_scheme(e))
            .is_some_and(|(_, host)| {
                let hostname = host.rsplit_once(':').map_or(host, |(h, _)| h);
                hostname.ends_with(R2_HOST_SUFFIX)
            });
        // `auto` is R2's region; anywhere else it would sign for a region that does not exist.
        if region == "auto" && !on_r2 {
            r.problem(
                "S3_REGION",
                "may be auto only with a Cloudflare R2 S3_ENDPOINT (*.r2.cloudflarestorage.com)",
            );
        }
        let upload_method = match r.get("UPLOAD_METHOD") {
            None if on_r2 => UploadMethod::Put,
            None => UploadMethod::Post,
            Some(raw) => match UploadMethod::parse(&raw) {
                Some(UploadMethod::Post) if on_r2 => {
                    r.problem(
                        "UPLOAD_METHOD",
                        "must be PUT with Cloudflare R2, which has no POST Object",
                    );
                    UploadMethod::Put
                }
                Some(method) => method,
                None => {
                    r.problem("UPLOAD_METHOD", "must be POST or PUT");
                    UploadMethod::Post
                }
            },
        };

        let prefix = r.raw("UPLOAD_PREFIX").unwrap_or_else(|| "uploads/".into());
        if !is_valid_prefix(&prefix) {
            r.problem(
                "UPLOAD_PREFIX",
                format!(
                    "must be empty or end with '/', be at most {MAX_PREFIX_BYTES} bytes, not start with '/', and have no '\\', empty or '..' segment or control character"
                ),
            );
        }
        let max_bytes = r.number(
            "UPLOAD_MAX_BYTES",
            10_485_760,
            1,
            S3_SINGLE_UPLOAD_MAX_BYTES,
        );
        let expires_seconds = r.number("UPLOAD_EXPIRES_SECONDS", 600, 1, MAX_EXPIRES_SECONDS);
        let download_expires_seconds =
            r.number("DOWNLOAD_EXPIRES_SECONDS", 300, 1, MAX_EXPIRES_SECONDS);

        let allowed_types = match r.get("UPLOAD_ALLOWED_TYPES") {
            None => Vec::new(),
            Some(list) => match parse_list(&list, MediaRange::parse) {
                // Set but empty (",") must not quietly mean "any type".
                Some(ranges) if !ranges.is_empty() => ranges,
                _ => {
                    r.problem(
                        "UPLOAD_ALLOWED_TYPES",
                        "must be comma-separated media types such as image/png or image/*",
                    );
                    Vec::new()
                }
            },
        };
        let allowed_origins = match r.get("ALLOWED_ORIGINS") {
            None => AllowedOrigins::List(Vec::new()),
            Some(list) if list == "*" => AllowedOrigins::Any,
            Some(list) => parse_list(&list, parse_endpoint)
                .map(AllowedOrigins::List)
                .unwrap_or_else(|| {
                    r.problem(
                        "ALLOWED_ORIGINS",
                        "must be * or comma-separated origins such as https://app.example.com",
                    );
                    AllowedOrigins::List(Vec::new())
                }),
        };
        let demo_page = r.flag("DEMO_PAGE", false);

        let access_key_id = r.required("AWS_ACCESS_KEY_ID");
        if access_key_id.chars().any(|c| c.is_whitespace() || c == '/') {
            r.problem("AWS_ACCESS_KEY_ID", "must not contain spaces or '/'");
        }
        let secret_access_key = Secret::new(r.required("AWS_SECRET_ACCESS_KEY"));
        let session_token = r.get("AWS_SESSION_TOKEN").map(Secret::new);

        if !r.problems.is_empty() {
            return Err(ConfigError {
                problems: r.problems,
            });
        }
        // R2's S3 endpoint is documented path style (`https://<account>.r2.cloudflarestorage.com/<bucket>`).
        let path_style = force_path_style || on_r2;
        let upload_url = upload_url(&bucket, &region, endpoint.as_deref(), path_style);
        let location = ObjectLocation::from_upload_url(&upload_url).ok_or_else(|| ConfigError {
            problems: vec![Problem {
                variable: "S3_ENDPOINT",
                reason: "must be an http:// or https:// origin".into(),
            }],
        })?;
        Ok(Self {
            bucket,
            region,
            upload_url,
            location,
            upload_method,
            post_supported: !on_r2,
            prefix,
            max_bytes,
            expires_seconds,
            download_expires_seconds,
            allowed_types,
            allowed_origins,
            demo_page,
            credentials: Credentials {
                access_key_id,
                secret_access_key,
                session_token,
            },
        })
    }

    /// True when `media_type` may be uploaded under `UPLOAD_ALLOWED_TYPES`.
    pub fn allows_type(&self, media_type: &MediaType) -> bool {
        self.allowed_types.is_empty() || self.allowed_types.iter().any(|r| r.matches(media_type))
    }
}

/// Where the form is posted. Virtual-hosted style on AWS; path style when asked, when the
/// bucket has dots (its virtual host would not match the `*.s3` TLS certificate), or when the
/// endpoint is an IP address or `localhost` (no subdomains there).
pub fn upload_url(
    bucket: &str,
    region: &str,
    endpoint: Option<&str>,
    force_path_style: bool,
) -> String {
    let path_style = force_path_style || bucket.contains('.');
    match endpoint {
        None if path_style => format!("https://s3.{region}.amazonaws.com/{bucket}"),
        None => format!("https://{bucket}.s3.{region}.amazonaws.com/"),
        Some(endpoint) => {
            let (scheme, host) = split_scheme(endpoint).unwrap_or(("https", endpoint));
            let hostname = host.rsplit_once(':').map_or(host, |(h, _)| h);
            let no_subdomains = hostname == "localhost"
                || hostname.starts_with('[')
                || hostname.bytes().all(|b| b.is_ascii_digit() || b == b'.');
            if path_style || no_subdomains {
                format!("{endpoint}/{bucket}")
            } else {
                format!("{scheme}://{bucket}.{host}/")
            }
        }
    }
}

/// `("https", "host/path")` from `https://host/path`. Split on characters, not on the string
/// `"://"`: a substring search links about 2 KB of searcher code into the wasm.
pub fn split_scheme(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once(':')?;
    Some((scheme, rest.strip_prefix("//")?))
}

/// The non-blank items of a comma-separated list, each parsed; `None` if any fails.
fn parse_list<T>(list: &str, parse: impl Fn(&str) -> Option<T>) -> Option<Vec<T>> {
    let mut items = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        items.push(parse(item)?);
    }
    Some(items)
}

/// AWS bucket naming rules (general purpose buckets).
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

/// Empty, or ending in `/`: keys are `{prefix}{uuid}/{name}`, and IAM rules and listings
/// expect the prefix to be a folder (`uploads/*`).
fn is_valid_prefix(prefix: &str) -> bool {
    (prefix.is_empty() || prefix.ends_with('/'))
        && prefix.len() <= MAX_PREFIX_BYTES
        && !prefix.starts_with('/')
        && !prefix.contains('\\')
        && !prefix.chars().any(char::is_control)
        && !prefix
            .trim_end_matches('/')
            .split('/')
            .any(|segment| segment == ".." || segment == ".")
        && !prefix.as_bytes().windows(2).any(|pair| pair == b"//")
}

/// `scheme://host[:port]`, lowercased, without a trailing slash and without the scheme's
/// default port (browsers send `Origin: https://app.example.com`, never `...:443`); `None`
/// if it is not one.
fn parse_endpoint(raw: &str) -> Option<String> {
    let trimmed = raw.trim().trim_end_matches('/');
    let (scheme, authority) = split_scheme(trimmed)?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let valid = !authority.is_empty()
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if !valid {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    (!authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert_eq!(c.prefix, "uploads/");
        assert_eq!(c.max_bytes, 10_485_760);
        assert_eq!(c.expires_seconds, 600);
        assert!(c.allowed_types.is_empty());
        assert_eq!(c.allowed_origins, AllowedOrigins::List(vec![]));
        assert!(!c.demo_page);
        assert!(c.credentials.session_token.is_none());
        assert_eq!(c.upload_url, "https://photos.s3.us-east-1.amazonaws.com/");
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
            (c.upload_method, c.post_supported),
            (UploadMethod::Put, false)
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
            (c.upload_method, c.post_supported),
            (UploadMethod::Post, true)
        );
        let c = config(&[("UPLOAD_METHOD", "PUT")]).unwrap();
        assert_eq!(c.upload_method, UploadMethod::Put);
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

    #[test]
    fn the_secret_never_reaches_debug_or_errors() {
        let c = config(&[]).unwrap();
        assert!(!format!("{c:?}").contains(SECRET));
        let err = config(&[("S3_BUCKET", "")]).unwrap_err();
        assert!(!format!("{err} {err:?}").contains(SECRET));
    }

    #[test]
    fn upload_urls_follow_addressing_rules() {
        let table = [
            (
                "photos",
                None,
                false,
                "https://photos.s3.us-east-1.amazonaws.com/",
            ),
            (
                "photos",
                None,
                true,
                "https://s3.us-east-1.amazonaws.com/photos",
            ),
            (
                "my.photos",
                None,
                false,
                "https://s3.us-east-1.amazonaws.com/my.photos",
            ),
            (
                "photos",
                Some("http://127.0.0.1:9000"),
                false,
                "http://127.0.0.1:9000/photos",
            ),
            (
                "photos",
                Some("http://localhost:9000"),
                false,
                "http://localhost:9000/photos",
            ),
            (
                "photos",
                Some("https://minio.example.com"),
                true,
                "https://minio.example.com/photos",
            ),
            (
                "photos",
                Some("https://minio.example.com"),
                false,
                "https://photos.minio.example.com/",
            ),
            (
                "my.photos",
                Some("https://minio.example.com"),
                false,
                "https://minio.example.com/my.photos",
            ),
        ];
        for (bucket, endpoint, force, expected) in table {
            assert_eq!(upload_url(bucket, "us-east-1", endpoint, force), expected);
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
        assert_eq!(c.credentials.session_token.unwrap().expose(), "token");
        assert_eq!(c.upload_url, "https://s3.us-east-1.amazonaws.com/photos");
        assert!(c.demo_page);
        assert_eq!(c.prefix, "", "an explicitly empty prefix is allowed");
    }
}
