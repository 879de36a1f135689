//! HeadObject: what the store holds under a key, without its bytes, and the facts a
//! completion is verified by (size, type, ETag, checksum, the stored file name).

use super::{S3Request, Signer};
use crate::key::IssuedKey;
use crate::routes::percent_decode;
use crate::sigv4::Method;

impl Signer<'_> {
    /// HeadObject: the stored type and disposition a download is judged by.
    pub fn head_object(&self, key: &IssuedKey) -> S3Request {
        self.request(Method::Head, key, &[], &[], String::new())
    }

    /// HeadObject asking for the stored checksums too: S3 only answers
    /// `x-amz-checksum-sha256` when the request says `x-amz-checksum-mode: ENABLED`.
    pub fn head_object_with_checksum(&self, key: &IssuedKey) -> S3Request {
        let headers = [("x-amz-checksum-mode", "ENABLED")];
        self.request(Method::Head, key, &[], &headers, String::new())
    }
}

/// What a HEAD answer says about an object, as far as the worker needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StoredObject {
    pub size: u64,
    pub content_type: Option<String>,
    /// Without its quotes: S3 sends `"…"`, R2's notifications send the bare value.
    pub etag: String,
    pub checksum_sha256: Option<String>,
    pub disposition: Option<String>,
}

/// Reads a HEAD answer's headers (`header` looks one up by name, in any case). `None` when
/// it lacks a size or an ETag: then it was no object's answer.
pub(crate) fn read_head(header: impl Fn(&str) -> Option<String>) -> Option<StoredObject> {
    let size = header("Content-Length")?.trim().parse::<u64>().ok()?;
    let etag = unquoted_etag(&header("ETag")?);
    if etag.is_empty() {
        return None;
    }
    let present = |name: &str| header(name).filter(|v| !v.trim().is_empty());
    Some(StoredObject {
        size,
        content_type: present("Content-Type"),
        etag,
        checksum_sha256: present("x-amz-checksum-sha256"),
        disposition: present("Content-Disposition"),
    })
}

/// An ETag without its quotes or a weak marker, so the same object reads the same from S3's
/// headers, its XML and R2's notifications.
pub(crate) fn unquoted_etag(raw: &str) -> String {
    let raw = raw.trim();
    raw.strip_prefix("W/")
        .unwrap_or(raw)
        .trim_matches('"')
        .to_owned()
}

impl StoredObject {
    /// A multipart object's ETag is the hash of its parts' hashes and `-{part count}`.
    pub(crate) fn is_multipart(&self) -> bool {
        self.etag
            .rsplit_once('-')
            .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    }

    /// The person's original file name: the `filename*` the worker stored in
    /// Content-Disposition, else the key's last segment.
    pub(crate) fn file_name(&self, key: &IssuedKey) -> String {
        self.disposition
            .as_deref()
            .and_then(extended_file_name)
            .unwrap_or_else(|| key.name().to_owned())
    }
}

/// RFC 5987's `filename*=UTF-8''<percent-encoded>`, decoded; `None` when absent or broken.
fn extended_file_name(disposition: &str) -> Option<String> {
    let value = disposition.split(';').find_map(|part| {
        let (name, value) = part.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("filename*")
            .then_some(value.trim())
    })?;
    let (charset, rest) = value.split_once('\'')?;
    let (_language, encoded) = rest.split_once('\'')?;
    if !charset.eq_ignore_ascii_case("UTF-8") {
        return None;
    }
    percent_decode(encoded).filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media_type::Disposition;
    use crate::object_url::content_disposition;
    use std::collections::HashMap;

    fn key() -> IssuedKey {
        IssuedKey::check(
            "uploads/0b7e0c2a-0000-4000-8000-000000000000/cafe-resume.pdf",
            "uploads/",
            None,
        )
        .unwrap()
    }

    fn answer(pairs: &[(&str, &str)]) -> Option<StoredObject> {
        let headers: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
            .collect();
        read_head(|name| headers.get(&name.to_ascii_lowercase()).cloned())
    }

    #[test]
    fn a_head_answer_is_read_into_the_facts_a_completion_needs() {
        // S3 API Reference, HeadObject, "Sample Response" (plus a SHA-256 checksum).
        let stored = answer(&[
            ("Content-Length", "434234"),
            ("Content-Type", "text/plain"),
            ("ETag", "\"fba9dede5f27731c9771645a39863328\""),
            (
                "x-amz-checksum-sha256",
                "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
            ),
        ])
        .unwrap();
        assert_eq!(stored.size, 434_234);
        assert_eq!(stored.content_type.as_deref(), Some("text/plain"));
        assert_eq!(stored.etag, "fba9dede5f27731c9771645a39863328");
        assert!(!stored.is_multipart());
        assert_eq!(
            stored.checksum_sha256.as_deref(),
            Some("n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=")
        );
        assert_eq!(stored.disposition, None);
        assert_eq!(
            stored.file_name(&key()),
            "cafe-resume.pdf",
            "the key's name"
        );
    }

    #[test]
    fn an_answer_without_size_or_etag_is_no_object() {
        assert_eq!(answer(&[("ETag", "\"e\"")]), None);
        assert_eq!(answer(&[("Content-Length", "5")]), None);
        assert_eq!(answer(&[("Content-Length", "x"), ("ETag", "\"e\"")]), None);
        assert_eq!(answer(&[("Content-Length", "5"), ("ETag", "\"\"")]), None);
    }

    #[test]
    fn multipart_etags_and_weak_or_bare_etags_are_recognised() {
        let multipart = answer(&[("Content-Length", "5"), ("ETag", "\"3858f62230ac-12\"")]);
        assert!(multipart.unwrap().is_multipart());
        assert_eq!(unquoted_etag("W/\"abc\""), "abc");
        assert_eq!(unquoted_etag("abc"), "abc");
        let dashed = answer(&[("Content-Length", "5"), ("ETag", "\"abc-\"")]);
        assert!(!dashed.unwrap().is_multipart());
    }

    #[test]
    fn the_original_file_name_comes_back_from_the_stored_disposition() {
        let original = "Café résumé © 2026 — 履歴书.pdf";
        let stored = content_disposition(Disposition::Inline, original);
        let object = answer(&[
            ("Content-Length", "5"),
            ("ETag", "\"e\""),
            ("Content-Disposition", &stored),
        ])
        .unwrap();
        assert_eq!(object.file_name(&key()), original);
        for foreign in [
            "attachment; filename=\"plain.pdf\"",
            "attachment; filename*=ISO-8859-1''caf%E9.pdf",
            "attachment; filename*=UTF-8''%FF",
        ] {
            let object = answer(&[
                ("Content-Length", "5"),
                ("ETag", "\"e\""),
                ("Content-Disposition", foreign),
            ])
            .unwrap();
            assert_eq!(object.file_name(&key()), "cafe-resume.pdf", "{foreign}");
        }
    }
}
