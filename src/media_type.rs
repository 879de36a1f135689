//! Media types (`Content-Type` values) a client may ask for, and the allow-list they meet.

/// A syntactically valid media type. `essence` is the lowercased `type/subtype`; `value` is
/// the whole string as it will be stored on the object (parameters included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaType {
    value: String,
    essence: String,
}

/// Longest `Content-Type` we sign; real ones are far shorter.
const MAX_LEN: usize = 255;

impl MediaType {
    /// `type/subtype` with optional `; name=value` parameters, every part an RFC 9110 token.
    /// Quoted values are refused: a browser splits `Content-Type` at commas outside quotes
    /// and keeps the last type, so `image/png; a="",text/html,""` would be HTML to it while
    /// this reads `image/png`. Tokens hold no comma or quote, so both read the same type.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > MAX_LEN || !raw.bytes().all(|b| (0x20..0x7f).contains(&b))
        {
            return None;
        }
        let mut parts = raw.split(';');
        let (kind, subtype) = parts.next()?.trim().split_once('/')?;
        if !is_token(kind) || !is_token(subtype) {
            return None;
        }
        for parameter in parts {
            let (name, value) = parameter.trim().split_once('=')?;
            if !is_token(name.trim()) || !is_token(value) {
                return None;
            }
        }
        Some(Self {
            value: raw.to_owned(),
            essence: format!(
                "{}/{}",
                kind.to_ascii_lowercase(),
                subtype.to_ascii_lowercase()
            ),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    pub fn essence(&self) -> &str {
        &self.essence
    }

    /// The media type usually meant by a file extension (lowercase, without the dot).
    pub fn from_extension(extension: &str) -> Option<Self> {
        let essence = match extension.rsplit('.').next()?.to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" => "image/jpeg",
            "png" => "image/png",
            "gif" => "image/gif",
            "webp" => "image/webp",
            "avif" => "image/avif",
            "heic" => "image/heic",
            "svg" => "image/svg+xml",
            "bmp" => "image/bmp",
            "tif" | "tiff" => "image/tiff",
            "ico" => "image/vnd.microsoft.icon",
            "pdf" => "application/pdf",
            "txt" => "text/plain",
            "csv" => "text/csv",
            "md" => "text/markdown",
            "html" | "htm" => "text/html",
            "json" => "application/json",
            "xml" => "application/xml",
            "zip" => "application/zip",
            "gz" => "application/gzip",
            "tar" => "application/x-tar",
            "7z" => "application/x-7z-compressed",
            "doc" => "application/msword",
            "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "xls" => "application/vnd.ms-excel",
            "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "ppt" => "application/vnd.ms-powerpoint",
            "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "odt" => "application/vnd.oasis.opendocument.text",
            "mp3" => "audio/mpeg",
            "wav" => "audio/wav",
            "ogg" => "audio/ogg",
            "m4a" => "audio/mp4",
            "mp4" => "video/mp4",
            "mov" => "video/quicktime",
            "webm" => "video/webm",
            _ => return None,
        };
        Self::parse(essence)
    }
}

use crate::text::find;

/// How a browser should treat an object when it is opened: show it (`inline`) or save it
/// (`attachment`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    Inline,
    Attachment,
}

impl Disposition {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inline => "inline",
            Self::Attachment => "attachment",
        }
    }
}

/// The stream type: what an upload without a known type is stored as.
pub(crate) const OCTET_STREAM: &str = "application/octet-stream";

impl MediaType {
    /// `application/octet-stream`.
    pub fn octet_stream() -> Self {
        Self {
            value: OCTET_STREAM.to_owned(),
            essence: OCTET_STREAM.to_owned(),
        }
    }

    /// Types a browser may run script in when it shows them: HTML, XHTML, SVG, any XML (XSLT
    /// can carry HTML), JavaScript. Never shown inline, whatever the settings say.
    pub fn is_scriptable(&self) -> bool {
        let essence = self.essence.as_str();
        let subtype = essence.split_once('/').map_or("", |(_, s)| s);
        matches!(
            essence,
            "text/html" | "application/xhtml+xml" | "image/svg+xml" | "text/xml" | "text/xsl"
        ) || subtype == "xml"
            || subtype.ends_with("+xml")
            || find(subtype, "javascript").is_some()
            || find(subtype, "ecmascript").is_some()
    }

    /// The built-in set a browser can show without running anything the uploader wrote:
    /// raster images, audio, video, PDF and plain text.
    pub fn is_inline_safe(&self) -> bool {
        let (kind, subtype) = self.essence.split_once('/').unwrap_or_default();
        let raster = matches!(
            subtype,
            "png" | "jpeg" | "gif" | "webp" | "avif" | "bmp" | "vnd.microsoft.icon"
        );
        !self.is_scriptable()
            && (kind == "image" && raster
                || kind == "audio"
                || kind == "video"
                || self.essence == "application/pdf"
                || self.essence == "text/plain")
    }
}

/// One entry of `UPLOAD_ALLOWED_TYPES`: `type/subtype` or `type/*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaRange {
    kind: String,
    /// `None` for `type/*`.
    subtype: Option<String>,
}

impl MediaRange {
    pub fn parse(raw: &str) -> Option<Self> {
        let (kind, subtype) = raw.trim().split_once('/')?;
        if !is_token(kind) || kind == "*" {
            return None;
        }
        let subtype = match subtype {
            "*" => None,
            s if is_token(s) => Some(s.to_ascii_lowercase()),
            _ => return None,
        };
        Some(Self {
            kind: kind.to_ascii_lowercase(),
            subtype,
        })
    }

    /// True when this range takes in a type that can carry script (`text/html`, `image/*`
    /// with its SVG, `application/xml`, ...): such a range can never mark types safe inline.
    pub fn admits_scriptable(&self) -> bool {
        match &self.subtype {
            Some(subtype) => MediaType::parse(&[self.kind.as_str(), "/", subtype].concat())
                .is_some_and(|t| t.is_scriptable()),
            None => matches!(self.kind.as_str(), "text" | "image" | "application"),
        }
    }

    pub fn matches(&self, media_type: &MediaType) -> bool {
        let (kind, subtype) = media_type
            .essence
            .split_once('/')
            .expect("essence always has a slash");
        kind == self.kind && self.subtype.as_deref().is_none_or(|s| s == subtype)
    }

    /// The types both ranges take in, as one range (`image/*` and `image/png`: `image/png`),
    /// or `None` when they share none. Ranges are never `*/*`, so one always holds the other
    /// or they are disjoint.
    pub fn intersect(&self, other: &Self) -> Option<Self> {
        if self.kind != other.kind {
            return None;
        }
        match (&self.subtype, &other.subtype) {
            (None, _) => Some(other.clone()),
            (_, None) => Some(self.clone()),
            (Some(a), Some(b)) if a == b => Some(self.clone()),
            _ => None,
        }
    }
}

/// `type/subtype` or `type/*`, lowercased: how a page's `accept` lists it.
impl std::fmt::Display for MediaRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let subtype = self.subtype.as_deref().unwrap_or("*");
        write!(f, "{}/{subtype}", self.kind)
    }
}

/// RFC 9110 `token`: one or more of the visible ASCII characters that are not delimiters.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_media_types_parse() {
        for raw in [
            "image/jpeg",
            "IMAGE/PNG",
            "text/plain; charset=utf-8",
            "text/plain;charset=utf-8",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "image/svg+xml",
        ] {
            assert!(MediaType::parse(raw).is_some(), "{raw}");
        }
        assert_eq!(
            MediaType::parse("IMAGE/PNG").unwrap().essence(),
            "image/png"
        );
        assert_eq!(MediaType::parse("IMAGE/PNG").unwrap().as_str(), "IMAGE/PNG");
        let longest = format!("image/{}", "x".repeat(MAX_LEN - "image/".len()));
        assert!(
            MediaType::parse(&longest).is_some(),
            "{MAX_LEN} characters are allowed"
        );
    }

    #[test]
    fn malformed_media_types_are_refused() {
        let long = format!("image/{}", "x".repeat(300));
        for raw in [
            "",
            "image",
            "/png",
            "image/",
            "image/png/x",
            "image /png",
            "imäge/png",
            "image/png\r\nX-Injected: 1",
            "image/png; charset",
            "image/png; =x",
            "a/b; c=d e",
            // A browser reads each of these as text/html (the last type after a comma).
            "image/png; a=\"\",text/html,\"\"",
            "text/plain; a=\"\",text/html,\"\"",
            "image/png; a=\"\\\",text/html\"",
            "image/png, text/html",
            "image/png; charset=\"utf-8\"",
            long.as_str(),
        ] {
            assert!(MediaType::parse(raw).is_none(), "{raw:?}");
        }
    }

    #[test]
    fn ranges_match_exactly_or_by_wildcard() {
        let png = MediaType::parse("image/png").unwrap();
        let pdf = MediaType::parse("application/pdf; x=y").unwrap();
        let images = MediaRange::parse("image/*").unwrap();
        let only_pdf = MediaRange::parse("Application/PDF").unwrap();
        assert!(images.matches(&png));
        assert!(!images.matches(&pdf));
        assert!(only_pdf.matches(&pdf));
        assert!(!only_pdf.matches(&png));
        assert!(
            MediaRange::parse("*/*").is_none(),
            "leave the list empty to allow any type"
        );
        assert!(MediaRange::parse("image").is_none());
        assert!(MediaRange::parse("image/p ng").is_none());
        assert!(MediaRange::parse("image/png;x").is_none());
    }

    #[test]
    fn only_types_that_run_no_script_are_inline_safe() {
        let safe = [
            "image/png",
            "IMAGE/JPEG",
            "image/webp",
            "audio/mpeg",
            "video/mp4",
            "application/pdf",
            "text/plain; charset=utf-8",
        ];
        for raw in safe {
            assert!(MediaType::parse(raw).unwrap().is_inline_safe(), "{raw}");
        }
        let unsafe_types = [
            "text/html",
            "TEXT/HTML; charset=utf-8",
            "application/xhtml+xml",
            "image/svg+xml",
            "text/xml",
            "application/xml",
            "application/rss+xml",
            "text/javascript",
            "application/javascript",
            "application/x-javascript",
            "text/ecmascript",
            "text/xsl",
            "image/tiff",
            "application/octet-stream",
            "application/json",
            "text/csv",
        ];
        for raw in unsafe_types {
            assert!(!MediaType::parse(raw).unwrap().is_inline_safe(), "{raw}");
        }
        for raw in &unsafe_types[..11] {
            assert!(MediaType::parse(raw).unwrap().is_scriptable(), "{raw}");
        }
        assert!(!MediaType::octet_stream().is_scriptable());
    }

    #[test]
    fn ranges_that_take_in_script_are_known() {
        for raw in [
            "text/html",
            "image/*",
            "text/*",
            "application/*",
            "image/svg+xml",
        ] {
            assert!(MediaRange::parse(raw).unwrap().admits_scriptable(), "{raw}");
        }
        for raw in [
            "font/*",
            "audio/*",
            "model/gltf-binary",
            "image/tiff",
            "text/csv",
        ] {
            assert!(
                !MediaRange::parse(raw).unwrap().admits_scriptable(),
                "{raw}"
            );
        }
    }

    #[test]
    fn extensions_map_to_their_usual_type() {
        assert_eq!(
            MediaType::from_extension("jpg").unwrap().essence(),
            "image/jpeg"
        );
        assert_eq!(
            MediaType::from_extension("tar.gz").unwrap().essence(),
            "application/gzip"
        );
        assert_eq!(
            MediaType::from_extension("PDF").unwrap().essence(),
            "application/pdf"
        );
        assert!(MediaType::from_extension("unknownext").is_none());
        // The whole table: a file's extension decides its type when the client sends none.
        for (extensions, essence) in [
            ("jpg jpeg", "image/jpeg"),
            ("png", "image/png"),
            ("gif", "image/gif"),
            ("webp", "image/webp"),
            ("avif", "image/avif"),
            ("heic", "image/heic"),
            ("svg", "image/svg+xml"),
            ("bmp", "image/bmp"),
            ("tif tiff", "image/tiff"),
            ("ico", "image/vnd.microsoft.icon"),
            ("pdf", "application/pdf"),
            ("txt", "text/plain"),
            ("csv", "text/csv"),
            ("md", "text/markdown"),
            ("html htm", "text/html"),
            ("json", "application/json"),
            ("xml", "application/xml"),
            ("zip", "application/zip"),
            ("gz", "application/gzip"),
            ("tar", "application/x-tar"),
            ("7z", "application/x-7z-compressed"),
            ("doc", "application/msword"),
            (
                "docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ),
            ("xls", "application/vnd.ms-excel"),
            (
                "xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            ("ppt", "application/vnd.ms-powerpoint"),
            (
                "pptx",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            ),
            ("odt", "application/vnd.oasis.opendocument.text"),
            ("mp3", "audio/mpeg"),
            ("wav", "audio/wav"),
            ("ogg", "audio/ogg"),
            ("m4a", "audio/mp4"),
            ("mp4", "video/mp4"),
            ("mov", "video/quicktime"),
            ("webm", "video/webm"),
        ] {
            for extension in extensions.split(' ') {
                let found = MediaType::from_extension(extension).map(|t| t.essence().to_owned());
                assert_eq!(found.as_deref(), Some(essence), "{extension}");
            }
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// The type a browser reads from a `Content-Type` header (Fetch's "extract a MIME type",
    /// simplified to what matters here): the value is split at commas outside quoted strings
    /// and the last part with a `type/subtype` wins.
    fn browser_essence(header: &str) -> Option<String> {
        let (mut parts, mut current, mut quoted) = (Vec::new(), String::new(), false);
        for c in header.chars() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => parts.push(std::mem::take(&mut current)),
                _ => {}
            }
            if c != ',' || quoted {
                current.push(c);
            }
        }
        parts.push(current);
        parts.iter().rev().find_map(|part| {
            let essence = part.split(';').next()?.trim();
            essence.contains('/').then(|| essence.to_ascii_lowercase())
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::fuzz_cases()))]

        /// Whatever a client sends, a type the worker accepts is the type a browser reads from
        /// the stored header: the allow-list and the inline rule judge what will be shown.
        #[test]
        fn an_accepted_type_is_the_type_a_browser_reads(
            raw in r#"[a-z]{1,6}/[a-z]{1,6}(; ?[a-z]{1,5}=("[a-z,/;= "]{0,12}"|[a-z]{1,5})){0,2}"#,
        ) {
            if let Some(media_type) = MediaType::parse(&raw) {
                let read = browser_essence(media_type.as_str());
                prop_assert_eq!(read, Some(media_type.essence().to_owned()), "{}", raw);
            }
        }
    }

    #[test]
    fn the_model_of_the_browser_reads_the_smuggled_type() {
        assert_eq!(
            browser_essence("image/png; a=\"\",text/html,\"\"").as_deref(),
            Some("text/html")
        );
        assert_eq!(
            browser_essence("image/png; a=\",text/html\"").as_deref(),
            Some("image/png")
        );
    }
}
