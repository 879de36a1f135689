//! Turning the file name a browser sends into a safe, collision-free object key.
//!
//! Key shape: `{prefix}{uuid-v4}/{name}`. The random part is its own path segment so the
//! last segment stays the person's file name (what S3 consoles and downloads show), and the
//! client chooses only that last segment, never the prefix.
//!
//! Rules for `name` (see [`sanitize_file_name`]):
//! - Only the last path segment counts: `../../etc/passwd` → `passwd`, `C:\dir\x.ini` → `x.ini`.
//! - Kept: Unicode letters and digits, `-`, `_`, `(`, `)` and single dots. Dropped: control,
//!   bidi-override, zero-width and combining characters. Anything else (spaces, punctuation,
//!   emoji) becomes `-`; runs of `-` or `.` collapse to one, and the stem never starts or ends
//!   with either.
//! - The extension is the text after the last dot when it is 1 to 10 ASCII letters or digits
//!   and something stands before it; it is lowercased. `name.tar.gz`, `.tar.bz2`, `.tar.xz`
//!   (any `.tar.X`) keep both parts. A leading dot is not an extension: `.env` → `env`.
//! - A stem left empty (say, only emoji) becomes `file`; the whole name is cut to at most
//!   [`MAX_NAME_BYTES`] bytes of UTF-8 at a character boundary, keeping the extension.
//! - A name with nothing in it but dots, spaces and invisible characters is refused.

use std::fmt;

use crate::error::{ApiError, ErrorCode};

/// Longest sanitised name, in bytes of UTF-8 (S3 allows 1024 for the whole key).
pub(crate) const MAX_NAME_BYTES: usize = 128;
const MAX_EXTENSION_CHARS: usize = 10;
const FALLBACK_STEM: &str = "file";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileNameError {
    /// Nothing usable: empty, only dots or spaces, or ends with a path separator.
    Empty,
}

impl fmt::Display for FileNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("file_name has no usable characters"),
        }
    }
}

impl std::error::Error for FileNameError {}

/// `{prefix}{uuid}/{sanitised name}`. `random` is 16 bytes from a CSPRNG; 122 of its bits
/// end up in the key (a v4 UUID), so overwriting another upload by chance is out of reach.
pub(crate) fn object_key(
    prefix: &str,
    file_name: &str,
    random: [u8; 16],
) -> Result<String, FileNameError> {
    let name = sanitize_file_name(file_name)?;
    let id = uuid::Builder::from_random_bytes(random).into_uuid();
    let mut buffer = uuid::Uuid::encode_buffer();
    let id = id.hyphenated().encode_lower(&mut buffer);
    Ok([prefix, id, "/", &name].concat())
}

/// A browser file name made safe for the last segment of an object key (rules in the module
/// documentation). Never returns an empty name, a separator, a `..` or an invisible character.
pub(crate) fn sanitize_file_name(raw: &str) -> Result<String, FileNameError> {
    let last_segment = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    if last_segment
        .chars()
        .all(|c| c == '.' || c.is_whitespace() || is_invisible(c))
    {
        return Err(FileNameError::Empty);
    }

    let cleaned = clean_characters(last_segment);
    let (stem, extension) = split_extension(cleaned.trim_end_matches(['-', '.']));
    let extension = extension.map(|ext| ext.to_ascii_lowercase());
    let stem = trim_separators(stem);

    let budget = MAX_NAME_BYTES - extension.as_ref().map_or(0, |ext| ext.len() + 1);
    let stem = trim_separators(truncate_at_char_boundary(stem, budget));
    let stem = if stem.is_empty() { FALLBACK_STEM } else { stem };

    Ok(match extension {
        Some(ext) => format!("{stem}.{ext}"),
        None => stem.to_owned(),
    })
}

/// Why a key a client sent is not signed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRefusal {
    /// Empty, `..` or empty segments, control characters, or longer than S3 allows.
    Malformed,
    /// Not under `UPLOAD_PREFIX` (and the caller's own segment, with auth).
    OutsidePrefix,
}

/// Longest S3 object key, in bytes.
pub(crate) const MAX_KEY_BYTES: usize = 1024;

/// A key this worker issued, or could have: `{prefix}[{segment}/]{uuid v4}/{name}`, the only
/// shape [`object_key`] makes. There are two ways to get one, [`IssuedKey::issue`] (a fresh
/// key) and [`IssuedKey::check`] (a key a client sends back), and everything that signs for
/// an existing object takes one: a key the worker never issued (`uploads/report.pdf`, another
/// user's, anything at the bucket root) cannot reach a signer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedKey {
    key: String,
    /// Which upload profile it was issued under (an index into the settings' profiles, 0
    /// being the default), so every later route applies that profile's rules.
    profile: usize,
}

impl IssuedKey {
    /// A fresh key for `file_name` under the prefix and the caller's segment, if any.
    pub fn issue(
        prefix: &str,
        segment: Option<&str>,
        file_name: &str,
        random: [u8; 16],
    ) -> Result<Self, FileNameError> {
        let key = match segment {
            None => object_key(prefix, file_name, random)?,
            Some(segment) => object_key(&[prefix, segment, "/"].concat(), file_name, random)?,
        };
        Ok(Self { key, profile: 0 })
    }

    /// `key` if it is well formed and shaped as issued under `prefix` (and `segment`, with
    /// auth).
    pub fn check(key: &str, prefix: &str, segment: Option<&str>) -> Result<Self, KeyRefusal> {
        let malformed = key.is_empty()
            || key.len() > MAX_KEY_BYTES
            || key.starts_with('/')
            || key.chars().any(char::is_control)
            || key
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..");
        if malformed {
            return Err(KeyRefusal::Malformed);
        }
        let mut rest = key.strip_prefix(prefix).ok_or(KeyRefusal::OutsidePrefix)?;
        if let Some(segment) = segment {
            rest = rest
                .strip_prefix(segment)
                .and_then(|after| after.strip_prefix('/'))
                .ok_or(KeyRefusal::OutsidePrefix)?;
        }
        let issued = rest
            .split_once('/')
            .is_some_and(|(id, name)| !name.contains('/') && is_hyphenated_v4(id));
        if issued {
            Ok(Self {
                key: key.to_owned(),
                profile: 0,
            })
        } else {
            Err(KeyRefusal::OutsidePrefix)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.key
    }

    /// The same key, issued under profile `index` (only the presigner, which knows the
    /// profiles, says which).
    pub(crate) fn in_profile(self, index: usize) -> Self {
        Self {
            profile: index,
            ..self
        }
    }

    pub(crate) fn profile(&self) -> usize {
        self.profile
    }

    /// The last segment: the sanitised file name.
    pub fn name(&self) -> &str {
        self.key.rsplit('/').next().unwrap_or_default()
    }
}

/// `xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx` in lowercase hex: how [`object_key`] writes
/// the random part of every key. A shape check, not a parser (the `uuid` crate's parser costs
/// 0.9 KiB of gzip wasm); a test holds it equal to the crate's own reading.
fn is_hyphenated_v4(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            14 => c == b'4',
            19 => matches!(c, b'8' | b'9' | b'a' | b'b'),
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        })
}

/// Longest name a download shows, in bytes of UTF-8 (before percent-encoding triples it).
pub(crate) const MAX_DISPLAY_NAME_BYTES: usize = 255;

/// The person's own file name as a download should show it (`Content-Disposition`): the last
/// path segment, with invisible characters dropped (a bidi override could disguise
/// `gpj.exe` as `exe.jpg`), cut to [`MAX_DISPLAY_NAME_BYTES`] keeping the extension. Unlike
/// the key, spaces, punctuation and every script stay as they were.
pub(crate) fn display_name(raw: &str) -> String {
    let last_segment = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    // Most names have nothing to drop: skip the copy then.
    let visible: std::borrow::Cow<str> = if last_segment.chars().any(is_invisible) {
        last_segment.chars().filter(|c| !is_invisible(*c)).collect()
    } else {
        last_segment.into()
    };
    let visible = visible.trim();
    if visible.len() <= MAX_DISPLAY_NAME_BYTES {
        return visible.to_owned();
    }
    let (stem, extension) = split_extension(visible);
    let budget = MAX_DISPLAY_NAME_BYTES - extension.map_or(0, |ext| ext.len() + 1);
    let stem = truncate_at_char_boundary(stem, budget).trim_end();
    match extension {
        Some(ext) => [stem, ".", ext].concat(),
        None => stem.to_owned(),
    }
}

/// Maps every character to a kept one, `-`, or nothing; collapses runs of `-` and `.`.
fn clean_characters(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    let kept = |c: char| matches!(c, '_' | '(' | ')' | '.' | '-');
    for c in segment.chars() {
        let mapped = if c.is_ascii() {
            // The common case, without Unicode tables: ASCII's only invisibles are controls.
            if c.is_ascii_control() {
                continue;
            } else if c.is_ascii_alphanumeric() || kept(c) {
                c
            } else {
                '-'
            }
        // Marks first: some combining marks count as alphabetic in Unicode.
        } else if is_invisible(c) || is_combining_mark(c) {
            continue;
        } else if c.is_alphanumeric() {
            c
        } else {
            '-'
        };
        let collapses = matches!(mapped, '-' | '.') && out.ends_with(mapped);
        if !collapses {
            out.push(mapped);
        }
    }
    out
}

/// Splits off the extension (rules in the module documentation).
fn split_extension(name: &str) -> (&str, Option<&str>) {
    let Some(dot) = name.rfind('.') else {
        return (name, None);
    };
    let (stem, extension) = (&name[..dot], &name[dot + 1..]);
    // Something must stand before the dot (`.env` is a name, not an extension), even if it
    // was only replaced characters (`🎉.png` → `file.png`).
    if !is_extension(extension) || stem.is_empty() {
        return (name, None);
    }
    // `archive.tar.gz`: keep `tar.gz` together so tools still recognise it.
    if let Some(inner_dot) = stem.rfind('.') {
        if stem[inner_dot + 1..].eq_ignore_ascii_case("tar") && inner_dot > 0 {
            return (&name[..inner_dot], Some(&name[inner_dot + 1..]));
        }
    }
    (stem, Some(extension))
}

fn is_extension(candidate: &str) -> bool {
    (1..=MAX_EXTENSION_CHARS).contains(&candidate.len())
        && candidate.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn trim_separators(stem: &str) -> &str {
    stem.trim_matches(['-', '.'])
}

fn truncate_at_char_boundary(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Characters that render as nothing or reorder text: control characters, bidi embeddings,
/// overrides and isolates, zero-width characters, and other invisible format characters.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}'                  // soft hyphen
            | '\u{061C}'                // Arabic letter mark
            | '\u{180E}'                // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}'   // zero-width space/joiners, LRM, RLM
            | '\u{202A}'..='\u{202E}'   // bidi embeddings and overrides
            | '\u{2060}'..='\u{206F}'   // word joiner, bidi isolates, other format characters
            | '\u{FEFF}'                // zero-width no-break space (BOM)
            | '\u{FFF9}'..='\u{FFFB}'   // interlinear annotation
            | '\u{E0000}'..='\u{E007F}' // tag characters
        )
}

/// Combining marks (accents written as separate code points, as macOS names often are).
fn is_combining_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE00}'..='\u{FE0F}' // variation selectors
        | '\u{FE20}'..='\u{FE2F}'
    )
}

impl From<KeyRefusal> for ApiError {
    fn from(refusal: KeyRefusal) -> Self {
        match refusal {
            KeyRefusal::Malformed => ApiError::invalid_key(),
            KeyRefusal::OutsidePrefix => Self::new(
                ErrorCode::KeyNotAllowed,
                "only keys this service issued to this caller are signed: {UPLOAD_PREFIX}[{user}/]{uuid}/{name}",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_never_cuts_a_character() {
        assert_eq!(truncate_at_char_boundary("aé", 2), "a");
        assert_eq!(truncate_at_char_boundary("aé", 3), "aé");
        assert_eq!(truncate_at_char_boundary("a😀", 4), "a");
        assert_eq!(truncate_at_char_boundary("abc", 2), "ab");
    }

    fn checked(key: &str, prefix: &str, segment: Option<&str>) -> Result<(), KeyRefusal> {
        IssuedKey::check(key, prefix, segment).map(|_| ())
    }

    /// What `uuid` itself reads as a v4 UUID written lowercase and hyphenated.
    fn crate_says_hyphenated_v4(id: &str) -> bool {
        uuid::Uuid::try_parse(id).is_ok_and(|uuid| {
            uuid.get_version_num() == 4
                && uuid.get_variant() == uuid::Variant::RFC4122
                && uuid
                    .hyphenated()
                    .encode_lower(&mut uuid::Uuid::encode_buffer())
                    == id
        })
    }

    #[test]
    fn issued_keys_go_under_the_prefix_and_segment_and_check_back() {
        let key = IssuedKey::issue("uploads/", Some("_41lice"), "Cat.PNG", [3; 16]).unwrap();
        assert!(key.as_str().starts_with("uploads/_41lice/"), "{key:?}");
        assert_eq!(key.name(), "Cat.png");
        let back = IssuedKey::check(key.as_str(), "uploads/", Some("_41lice")).unwrap();
        assert_eq!(back, key);
        assert_eq!(
            checked(key.as_str(), "uploads/", Some("bob")),
            Err(KeyRefusal::OutsidePrefix)
        );
        assert_eq!(
            checked(key.as_str(), "uploads/", None),
            Err(KeyRefusal::OutsidePrefix)
        );
        let plain = IssuedKey::issue("uploads/", None, "a.txt", [3; 16]).unwrap();
        assert_eq!(checked(plain.as_str(), "uploads/", None), Ok(()));
    }

    #[test]
    fn the_uuid_shape_check_agrees_with_the_uuid_crate() {
        for seed in 0u8..=255 {
            let key = object_key("", "a.txt", [seed; 16]).unwrap();
            let id = key.split('/').next().unwrap();
            assert!(is_hyphenated_v4(id) && crate_says_hyphenated_v4(id), "{id}");
            // Every single-character change is judged alike by both.
            for i in 0..id.len() {
                for c in ['0', '4', '8', 'a', 'b', 'f', 'g', 'A', '-', '{'] {
                    let mut changed = id.to_owned();
                    changed.replace_range(i..=i, &c.to_string());
                    assert_eq!(
                        is_hyphenated_v4(&changed),
                        crate_says_hyphenated_v4(&changed),
                        "{changed}"
                    );
                }
            }
        }
        for other in [
            "",
            "0b7e0c2a000040008000000000000000",
            "urn:uuid:0b7e0c2a-0000-4000-8000-000000000000",
        ] {
            assert!(!is_hyphenated_v4(other) && !crate_says_hyphenated_v4(other));
        }
    }

    #[test]
    fn download_keys_stay_inside_the_prefix_and_segment() {
        let ok = "uploads/alice/0b7e0c2a-0000-4000-8000-000000000000/cat.png";
        assert_eq!(checked(ok, "uploads/alice/", None), Ok(()));
        assert_eq!(checked(ok, "uploads/", Some("alice")), Ok(()));
        let unsegmented = "uploads/0b7e0c2a-0000-4000-8000-000000000000/cat.png";
        assert_eq!(checked(unsegmented, "uploads/", None), Ok(()));
        assert_eq!(
            checked(unsegmented, "", None),
            Err(KeyRefusal::OutsidePrefix)
        );
        let table = [
            // Under the prefix, but not a shape the worker issues.
            ("uploads/report.pdf", None, KeyRefusal::OutsidePrefix),
            (ok, None, KeyRefusal::OutsidePrefix),
            (
                "uploads/0b7e0c2a-0000-4000-8000-000000000000/a/b.png",
                None,
                KeyRefusal::OutsidePrefix,
            ),
            (
                "uploads/0B7E0C2A-0000-4000-8000-000000000000/cat.png",
                None,
                KeyRefusal::OutsidePrefix,
            ),
            (
                "uploads/0b7e0c2a-0000-1000-8000-000000000000/cat.png",
                None,
                KeyRefusal::OutsidePrefix,
            ),
            (
                "uploads/0b7e0c2a000040008000000000000000/cat.png",
                None,
                KeyRefusal::OutsidePrefix,
            ),
            ("other/cat.png", None, KeyRefusal::OutsidePrefix),
            // The issued shape, but at the bucket root: outside the prefix.
            (
                "0b7e0c2a-0000-4000-8000-000000000000/cat.png",
                None,
                KeyRefusal::OutsidePrefix,
            ),
            (ok, Some("bob"), KeyRefusal::OutsidePrefix),
            (
                "uploads/alice2/x/cat.png",
                Some("alice"),
                KeyRefusal::OutsidePrefix,
            ),
            ("uploads/../secrets", None, KeyRefusal::Malformed),
            ("uploads//cat.png", None, KeyRefusal::Malformed),
            ("uploads/a\u{0}b", None, KeyRefusal::Malformed),
            ("/uploads/cat.png", None, KeyRefusal::Malformed),
            ("", None, KeyRefusal::Malformed),
        ];
        for (key, segment, refusal) in table {
            assert_eq!(checked(key, "uploads/", segment), Err(refusal), "{key}");
        }
        assert_eq!(
            checked(&format!("uploads/{}", "a".repeat(1100)), "uploads/", None),
            Err(KeyRefusal::Malformed)
        );
        // S3's longest key, 1,024 bytes, is fine; a byte more is not.
        let issued = "uploads/0b7e0c2a-0000-4000-8000-000000000000/";
        let longest = format!("{issued}{}", "n".repeat(MAX_KEY_BYTES - issued.len()));
        assert_eq!(checked(&longest, "uploads/", None), Ok(()));
        assert_eq!(
            checked(&format!("{longest}n"), "uploads/", None),
            Err(KeyRefusal::Malformed)
        );
    }

    #[test]
    fn display_names_keep_the_person_s_own_name() {
        let name = "Café résumé © 2026 — 履歴書.pdf";
        assert_eq!(display_name(name), name);
        assert_eq!(display_name("C:\\Users\\me\\a b.txt"), "a b.txt");
        assert_eq!(display_name("evil\u{202E}gpj.exe"), "evilgpj.exe");
        let long = format!("{}.tar.gz", "長".repeat(200));
        let shown = display_name(&long);
        assert!(shown.len() <= MAX_DISPLAY_NAME_BYTES && shown.ends_with("長.tar.gz"));
        // Cut to exactly the limit, the extension kept whole.
        let shown = display_name(&format!("{}.pdf", "a".repeat(300)));
        assert_eq!(shown.len(), MAX_DISPLAY_NAME_BYTES);
        assert!(shown.ends_with("aa.pdf"));
    }

    #[test]
    fn sanitiser_table() {
        let table: &[(&str, &str)] = &[
            ("holiday photo.JPG", "holiday-photo.jpg"),
            ("report.pdf", "report.pdf"),
            ("archive.tar.gz", "archive.tar.gz"),
            ("backup.TAR.XZ", "backup.tar.xz"),
            // Not an extension (over 10 characters, or not letters and digits): kept as typed.
            ("Notes.ABCDEFGHIJK", "Notes.ABCDEFGHIJK"),
            ("Notes.ABCDEFGHIJKLMNOP", "Notes.ABCDEFGHIJKLMNOP"),
            ("v1.2.3-notes.txt", "v1.2.3-notes.txt"),
            (".env", "env"),
            ("noext", "noext"),
            ("../../etc/passwd", "passwd"),
            ("C:\\Windows\\x.ini", "x.ini"),
            ("a..b....c.txt", "a.b.c.txt"),
            ("  spaced   out  .md", "spaced-out.md"),
            ("evil\u{202E}gnp.exe", "evilgnp.exe"),
            ("nul\u{0}byte\u{7}.bin", "nulbyte.bin"),
            ("zero\u{200B}width.txt", "zerowidth.txt"),
            ("e\u{0301}te\u{0301}.jpg", "ete.jpg"),
            ("été.jpg", "été.jpg"),
            ("写真 2024.png", "写真-2024.png"),
            ("🎉🎉.png", "file.png"),
            ("🎉", "file"),
            ("tar.gz", "tar.gz"),
            (".tar.gz", "tar.gz"),
            (
                "file.with.a.verylongextension",
                "file.with.a.verylongextension",
            ),
            ("weird#name?&=x.csv", "weird-name-x.csv"),
            ("(draft) plan_v2.docx", "(draft)-plan_v2.docx"),
            ("-leading-and-trailing-.txt", "leading-and-trailing.txt"),
        ];
        for (raw, expected) in table {
            assert_eq!(
                sanitize_file_name(raw).as_deref(),
                Ok(*expected),
                "sanitising {raw:?}"
            );
        }
    }

    #[test]
    fn names_with_nothing_usable_are_refused() {
        for raw in [
            "",
            ".",
            "..",
            "...",
            "   ",
            "dir/",
            "a/..",
            "\u{202E}\u{200B}",
            "\0",
        ] {
            assert_eq!(
                sanitize_file_name(raw),
                Err(FileNameError::Empty),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn long_names_are_cut_keeping_the_extension() {
        let name = sanitize_file_name(&format!("{}.jpeg", "a".repeat(10_000))).unwrap();
        assert_eq!(name.len(), MAX_NAME_BYTES);
        assert!(name.ends_with("a.jpeg"));
        let wide = sanitize_file_name(&format!("{}.txt", "写".repeat(1_000))).unwrap();
        assert!(
            wide.len() <= MAX_NAME_BYTES && wide.ends_with("写.txt"),
            "{wide}"
        );
    }

    #[test]
    fn object_key_is_prefix_uuid_and_name() {
        let key = object_key("uploads/", "holiday photo.JPG", [0xAB; 16]).unwrap();
        assert_eq!(
            key,
            "uploads/abababab-abab-4bab-abab-abababababab/holiday-photo.jpg"
        );
        let other = object_key("uploads/", "holiday photo.JPG", [0xAC; 16]).unwrap();
        assert_ne!(key, other, "different randomness, different key");
    }

    #[test]
    fn object_key_refuses_unusable_names() {
        assert_eq!(object_key("p/", "..", [0; 16]), Err(FileNameError::Empty));
    }
}

/// Property tests over arbitrary Unicode (host only: proptest has no wasm32 RNG backend).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn assert_safe(name: &str) {
        assert!(!name.is_empty());
        assert!(name.len() <= MAX_NAME_BYTES, "{} bytes", name.len());
        assert!(!name.contains(['/', '\\']), "{name:?}");
        assert!(!name.contains(".."), "{name:?}");
        assert!(!name.starts_with(['.', '-']), "{name:?}");
        assert!(
            !name
                .chars()
                .any(|c| is_invisible(c) || is_combining_mark(c)),
            "{name:?}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::fuzz_cases()))]

        /// Every key the worker issues checks back; anything it accepts is shaped as an
        /// issued key (so never escapes the prefix).
        #[test]
        fn issued_keys_and_only_issued_shapes_check(
            name in any::<String>(),
            random in any::<[u8; 16]>(),
            probe in any::<String>(),
        ) {
            if let Ok(key) = IssuedKey::issue("uploads/", None, &name, random) {
                prop_assert_eq!(IssuedKey::check(key.as_str(), "uploads/", None), Ok(key.clone()));
            }
            // A probe under an issued-looking prefix, so acceptance is actually exercised.
            let issued_id = object_key("", "x", random).unwrap();
            let probe = format!("uploads/{}{probe}", issued_id.trim_end_matches('x'));
            if IssuedKey::check(&probe, "uploads/", None).is_ok() {
                let rest = probe.strip_prefix("uploads/").unwrap();
                let (id, last) = rest.split_once('/').unwrap();
                prop_assert!(is_hyphenated_v4(id) && !last.is_empty() && !last.contains('/'));
                prop_assert!(last != ".." && last != "." && !last.chars().any(char::is_control));
            }
        }

        #[test]
        fn any_unicode_name_is_refused_or_safe(raw in any::<String>()) {
            if let Ok(name) = sanitize_file_name(&raw) {
                assert_safe(&name);
            }
        }

        #[test]
        fn names_built_from_hostile_pieces_are_refused_or_safe(
            pieces in proptest::collection::vec(
                prop_oneof![
                    "[a-zA-Z0-9]{1,12}",
                    prop::sample::select(vec![
                        "..", "/", "\\", "\u{202E}", "\0", ".", " ", "\u{0301}", "🎉", ".tar", ".gz",
                    ])
                    .prop_map(str::to_owned),
                ],
                0..40,
            )
        ) {
            let raw: String = pieces.concat();
            if let Ok(name) = sanitize_file_name(&raw) {
                assert_safe(&name);
            }
        }

        #[test]
        fn sanitising_is_idempotent(raw in any::<String>()) {
            if let Ok(name) = sanitize_file_name(&raw) {
                prop_assert_eq!(sanitize_file_name(&name), Ok(name.clone()));
            }
        }

        #[test]
        fn keys_stay_inside_the_prefix(
            raw in any::<String>(),
            random in any::<[u8; 16]>(),
        ) {
            if let Ok(key) = object_key("uploads/", &raw, random) {
                let rest = key.strip_prefix("uploads/").expect("prefix kept");
                let (id, name) = rest.split_once('/').expect("uuid then name");
                prop_assert_eq!(id.len(), 36);
                prop_assert!(!name.contains('/'));
            }
        }
    }
}
