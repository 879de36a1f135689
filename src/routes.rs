//! The route table: which path is which endpoint, which methods it takes, and whether it signs
//! anything (then it needs the caller and counts against the rate limit). The shell applies
//! these rules for every route in one place; no handler has to remember them.

/// One endpoint, with the still percent-encoded parts of its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route<'a> {
    /// `POST /uploads`: one form or PUT URL, or a batch.
    Uploads,
    /// `POST /uploads/complete`: verify an uploaded object and announce it.
    UploadsComplete,
    /// `GET /uploads/limits`: what the worker signs for this caller.
    UploadLimits,
    /// `GET /downloads/{key}`.
    Download(&'a str),
    /// `GET /healthz`.
    Health,
    /// `GET /s3/params`: Uppy's Companion PutObject (a POST form).
    CompanionParams,
    /// `POST /s3/multipart`: CreateMultipartUpload.
    CompanionCreate,
    /// `GET /s3/multipart/{uploadId}` (ListParts) and `DELETE` (AbortMultipartUpload).
    CompanionUpload(&'a str),
    /// `GET /s3/multipart/{uploadId}/{partNumber}`: a presigned UploadPart.
    CompanionPart(&'a str, &'a str),
    /// `POST /s3/multipart/{uploadId}/complete`: with the caller's token (Companion), or as a
    /// self-authorising URL `/s3/sign` handed out (its query carries a `signature`).
    CompanionComplete(&'a str),
    /// `POST /s3/multipart/{uploadId}/created`: the self-authorising URL `/s3/sign` hands out
    /// for a CreateMultipartUpload the worker already made; it answers S3's XML with the handle.
    SignedCreated(&'a str),
    /// `POST /s3/sign`: Uppy's `signRequest` mode.
    Sign,
    /// Anything else: a static file from `web/`, for GET and HEAD.
    Static,
}

impl<'a> Route<'a> {
    /// The route for `path`, once `base_path` is taken off; `None` outside the base path.
    pub(crate) fn parse(path: &'a str, base_path: &str) -> Option<Self> {
        let path = path.strip_prefix(base_path)?;
        if !(path.is_empty() || path.starts_with('/')) {
            return None;
        }
        Some(match path {
            "/uploads" => Self::Uploads,
            "/uploads/complete" => Self::UploadsComplete,
            "/uploads/limits" => Self::UploadLimits,
            "/healthz" => Self::Health,
            "/s3/params" => Self::CompanionParams,
            "/s3/multipart" => Self::CompanionCreate,
            "/s3/sign" => Self::Sign,
            _ => {
                if let Some(key) = path.strip_prefix("/downloads/") {
                    return Some(Self::Download(key));
                }
                let Some(rest) = path.strip_prefix("/s3/multipart/") else {
                    return Some(Self::Static);
                };
                let mut parts = rest.split('/');
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(id), None, None) => Self::CompanionUpload(id),
                    (Some(id), Some("complete"), None) => Self::CompanionComplete(id),
                    (Some(id), Some("created"), None) => Self::SignedCreated(id),
                    (Some(id), Some(number), None) => Self::CompanionPart(id, number),
                    _ => Self::Static,
                }
            }
        })
    }

    /// The methods the route takes (the `Allow` header, and what a preflight grants).
    pub(crate) fn allow(&self) -> &'static str {
        match self {
            Self::Uploads
            | Self::UploadsComplete
            | Self::CompanionCreate
            | Self::Sign
            | Self::CompanionComplete(_)
            | Self::SignedCreated(_) => "POST, OPTIONS",
            Self::UploadLimits
            | Self::Download(_)
            | Self::CompanionParams
            | Self::CompanionPart(..) => "GET, OPTIONS",
            Self::CompanionUpload(_) => "GET, DELETE, OPTIONS",
            Self::Health | Self::Static => "GET, HEAD",
        }
    }

    /// True when `method` is one the route takes (a preflight's `OPTIONS` aside).
    pub(crate) fn takes(&self, method: &str) -> bool {
        self.allow()
            .split(',')
            .any(|allowed| allowed.trim() == method && method != "OPTIONS")
    }

    /// True for the routes that sign something or call S3: they need the caller when auth is
    /// on, and count against the rate limit.
    pub(crate) fn signs(&self) -> bool {
        !matches!(self, Self::Health | Self::Static)
    }

    /// True for a request that carries its own authority (a worker URL with a `signature`,
    /// which a browser calls without a token): the handler checks that signature instead of
    /// the caller's token, and nothing else may be reached this way.
    pub(crate) fn self_authorising(&self, query: &str) -> bool {
        match self {
            Self::SignedCreated(_) => true,
            Self::CompanionComplete(_) => query_param(query, "signature").is_some(),
            _ => false,
        }
    }

    /// A short name for the audit log.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Uploads => "uploads",
            Self::UploadsComplete => "uploads/complete",
            Self::UploadLimits => "uploads/limits",
            Self::Download(_) => "downloads",
            Self::Health => "healthz",
            Self::CompanionParams => "s3/params",
            Self::CompanionCreate => "s3/multipart",
            Self::CompanionUpload(_) => "s3/multipart/{uploadId}",
            Self::CompanionPart(..) => "s3/multipart/{uploadId}/{partNumber}",
            Self::CompanionComplete(_) => "s3/multipart/{uploadId}/complete",
            Self::SignedCreated(_) => "s3/multipart/{uploadId}/created",
            Self::Sign => "s3/sign",
            Self::Static => "static",
        }
    }
}

/// `%XX` escapes decoded (`+` stays a `+`, as in a path); `None` for a broken escape or bytes
/// that are not UTF-8.
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            // Two hex digits exactly: `from_str_radix` alone would also take `%+7`.
            let hex = text.get(i + 1..i + 3)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The value of `name` in a URL query (`a=1&b=x%20y`), decoded as a form does (`+` is a
/// space). `None` when absent or badly encoded.
pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(&key.replace('+', " "))?;
        (key == name)
            .then(|| percent_decode(&value.replace('+', " ")))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_routes_under_the_base_path() {
        let table = [
            ("/uploads", "", Some(Route::Uploads)),
            ("/uploads/complete", "", Some(Route::UploadsComplete)),
            ("/uploads/complete/x", "", Some(Route::Static)),
            ("/uploads/limits", "", Some(Route::UploadLimits)),
            ("/uploads/limits/x", "", Some(Route::Static)),
            (
                "/api/uploads/uploads/limits",
                "/api/uploads",
                Some(Route::UploadLimits),
            ),
            ("/healthz", "", Some(Route::Health)),
            ("/downloads/a%2Fb/c", "", Some(Route::Download("a%2Fb/c"))),
            ("/s3/params", "", Some(Route::CompanionParams)),
            ("/s3/multipart", "", Some(Route::CompanionCreate)),
            ("/s3/multipart/abc", "", Some(Route::CompanionUpload("abc"))),
            (
                "/s3/multipart/abc/7",
                "",
                Some(Route::CompanionPart("abc", "7")),
            ),
            (
                "/s3/multipart/abc/complete",
                "",
                Some(Route::CompanionComplete("abc")),
            ),
            (
                "/s3/multipart/abc/created",
                "",
                Some(Route::SignedCreated("abc")),
            ),
            ("/s3/multipart/abc/7/x", "", Some(Route::Static)),
            ("/s3/sign", "", Some(Route::Sign)),
            ("/", "", Some(Route::Static)),
            ("/client.js", "", Some(Route::Static)),
            (
                "/api/uploads/s3/params",
                "/api/uploads",
                Some(Route::CompanionParams),
            ),
            ("/api/uploads/uploads", "/api/uploads", Some(Route::Uploads)),
            ("/api/uploads", "/api/uploads", Some(Route::Static)),
            ("/uploads", "/api/uploads", None),
            ("/api/uploadsx/uploads", "/api/uploads", None),
        ];
        for (path, base, route) in table {
            assert_eq!(Route::parse(path, base), route, "{path} under {base:?}");
        }
    }

    #[test]
    fn each_route_says_what_it_takes_and_whether_it_signs() {
        assert!(Route::Uploads.takes("POST") && !Route::Uploads.takes("GET"));
        assert!(Route::UploadLimits.takes("GET") && !Route::UploadLimits.takes("POST"));
        assert!(
            !Route::Uploads.takes("OPTIONS"),
            "a preflight is not the route itself"
        );
        assert!(Route::CompanionUpload("x").takes("DELETE"));
        assert!(Route::CompanionUpload("x").takes("GET"));
        assert!(!Route::CompanionUpload("x").takes("POST"));
        assert!(Route::Health.takes("HEAD"));
        assert!(!Route::Health.takes("GE"), "whole names only");
        assert!(Route::UploadsComplete.takes("POST") && !Route::UploadsComplete.takes("GET"));
        // The limits are the caller's: they need the token, as the uploads they describe do.
        let signing = [
            Route::Uploads,
            Route::UploadsComplete,
            Route::UploadLimits,
            Route::Download("k"),
            Route::CompanionParams,
            Route::CompanionCreate,
            Route::CompanionUpload("x"),
            Route::CompanionPart("x", "1"),
            Route::CompanionComplete("x"),
            Route::Sign,
        ];
        assert!(signing.iter().all(Route::signs));
        assert!(!Route::Health.signs() && !Route::Static.signs());
        assert!(Route::SignedCreated("x").signs() && Route::SignedCreated("x").takes("POST"));
    }

    #[test]
    fn only_worker_urls_with_a_signature_skip_the_token() {
        assert!(Route::SignedCreated("x").self_authorising(""));
        let complete = Route::CompanionComplete("x");
        assert!(complete.self_authorising("key=k&signature=ab"));
        assert!(!complete.self_authorising("key=k"));
        assert!(!complete.self_authorising("key=k&signaturex=ab"));
        for route in [
            Route::Uploads,
            Route::UploadLimits,
            Route::Download("k"),
            Route::CompanionParams,
            Route::CompanionCreate,
            Route::CompanionUpload("x"),
            Route::CompanionPart("x", "1"),
            Route::Sign,
        ] {
            assert!(!route.self_authorising("signature=ab"), "{route:?}");
        }
    }

    #[test]
    fn percent_escapes_and_queries_decode() {
        assert_eq!(percent_decode("a%20b%2Fc+d").as_deref(), Some("a b/c+d"));
        assert_eq!(percent_decode("%E5%B1%A5").as_deref(), Some("履"));
        for bad in ["%", "%2", "%zz", "%FF", "%C3", "%+7", "%-1", "% 7"] {
            assert_eq!(percent_decode(bad), None, "{bad}");
        }
        let query = "filename=My+file%20(1).png&type=image%2Fpng&metadata%5Bname%5D=x";
        assert_eq!(
            query_param(query, "filename").as_deref(),
            Some("My file (1).png")
        );
        assert_eq!(query_param(query, "type").as_deref(), Some("image/png"));
        assert_eq!(query_param(query, "metadata[name]").as_deref(), Some("x"));
        assert_eq!(query_param(query, "missing"), None);
        assert_eq!(query_param("key", "key").as_deref(), Some(""));
    }
}
