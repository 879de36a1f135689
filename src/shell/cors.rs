//! The CORS decision, made once per request, and the headers it adds.

use web_sys::Headers;

use super::env::State;

const PREFLIGHT_MAX_AGE_SECONDS: &str = "86400";
/// Headers a page's script may read from an answer besides the simple ones.
const EXPOSED_HEADERS: &str = "Retry-After, WWW-Authenticate, x-amz-error-code";

/// What CORS allows for this request.
pub(crate) enum CorsVerdict {
    /// No `Origin` header, the worker's own origin, or settings too broken to say.
    NotNeeded,
    CrossOrigin(String),
    Refused,
}

impl CorsVerdict {
    pub(crate) fn new(origin: Option<&str>, own_origin: &str, state: &State) -> Self {
        let Some(origin) = origin else {
            return Self::NotNeeded;
        };
        if own_origin.eq_ignore_ascii_case(origin) {
            return Self::NotNeeded;
        }
        match state.presigner.as_ref() {
            Ok(p) if p.config().allowed_origins.allows(origin) => {
                Self::CrossOrigin(origin.to_owned())
            }
            Ok(_) => Self::Refused,
            Err(_) => Self::NotNeeded,
        }
    }

    /// Adds the verdict to an answer's headers. Every answer varies by `Origin` (the verdict, or
    /// its absence, depends on it), so caches keep one copy per origin.
    pub(crate) fn apply(&self, headers: &Headers) {
        let _ = headers.append("Vary", "Origin");
        if let Self::CrossOrigin(origin) = self {
            let _ = headers.set("Access-Control-Allow-Origin", origin);
            let _ = headers.set("Access-Control-Expose-Headers", EXPOSED_HEADERS);
        }
    }

    /// The headers of a granted preflight for a route taking `methods`.
    pub(crate) fn preflight_headers(&self, methods: &str, headers: &Headers) {
        self.apply(headers);
        if matches!(self, Self::CrossOrigin(_)) {
            let _ = headers.set("Access-Control-Allow-Methods", methods);
            let _ = headers.set(
                "Access-Control-Allow-Headers",
                "Authorization, Content-Type",
            );
            let _ = headers.set("Access-Control-Max-Age", PREFLIGHT_MAX_AGE_SECONDS);
        }
    }
}

/// True when a cookie may stand for the caller: the request comes from the worker's own
/// origin. Browsers send `Origin` on every cross-origin request that changes state, and
/// `Sec-Fetch-Site` on all of them; a cookie sent from elsewhere (CSRF) is never read.
pub(crate) fn is_same_origin(
    origin: Option<&str>,
    own_origin: &str,
    fetch_site: Option<&str>,
) -> bool {
    origin.is_none_or(|o| o.eq_ignore_ascii_case(own_origin))
        && fetch_site.is_none_or(|site| site == "same-origin")
}
