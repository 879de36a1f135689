//! A substring search for the few places that need one (S3's XML, media subtypes). std's
//! `str::find(&str)` links its two-way searcher, 1.4 KiB of wasm for needles of a few bytes.

/// The byte offset of the first `needle` in `haystack`.
pub(crate) fn find(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len().max(1))
        .position(|window| window == needle.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_occurrence() {
        assert_eq!(find("<a><Part><Part>", "<Part>"), Some(3));
        assert_eq!(find("abc", "abcd"), None);
        assert_eq!(find("abc", "x"), None);
        assert_eq!(find("aé<b>", "<b>"), Some(3));
    }
}
