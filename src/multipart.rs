//! Multipart uploads (files beyond 5 GiB, resumable part by part): the checks and the two S3
//! documents the worker would read and write for Uppy's routes. Plain Rust, tested natively.
//! No route uses it yet: the routes do not fit the size budget (see README, "Not yet").
//!
//! The documents are read and written by hand rather than with an XML crate: the worker only
//! needs three fields of one response and writes one fixed shape, and every byte of an XML
//! parser would be paid in the wasm at every cold start.

use std::fmt::Write as _;

/// S3 numbers parts from 1 to 10,000.
pub const MAX_PART_NUMBER: u16 = 10_000;
/// Longest upload ID accepted back from a client. S3's are far shorter; the bound only keeps
/// an opaque token from becoming an unbounded one.
pub const MAX_UPLOAD_ID_BYTES: usize = 1024;
/// S3's largest object: 5 TiB.
pub const S3_MULTIPART_MAX_BYTES: u64 = 5 * 1024 * 1024 * 1024 * 1024;

/// A part number as a client sends it (`"7"`): 1 to 10,000, digits only, no leading zero.
pub fn parse_part_number(raw: &str) -> Option<u16> {
    if raw.is_empty() || raw.len() > 5 || raw.starts_with('0') {
        return None;
    }
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse::<u16>()
        .ok()
        .filter(|n| (1..=MAX_PART_NUMBER).contains(n))
}

/// An upload ID is S3's opaque token: the worker passes it back untouched, so it only checks
/// that it is one: 1 to [`MAX_UPLOAD_ID_BYTES`] bytes of visible ASCII (no spaces or controls,
/// which could not have come from S3).
pub fn is_upload_id(id: &str) -> bool {
    (1..=MAX_UPLOAD_ID_BYTES).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// One uploaded part, as ListParts reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub number: u16,
    /// With its quotes, as S3 sends it and wants it back.
    pub etag: String,
    pub size: u64,
}

/// One page of a ListParts answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartsPage {
    pub parts: Vec<Part>,
    /// `Some(marker)` when S3 says there is more: ask again with `part-number-marker`.
    pub next_marker: Option<u16>,
}

/// Reads a `ListPartsResult`. `None` when it is not one, or a part lacks its number, ETag or
/// size (a page the worker cannot total must not be taken as a smaller upload).
pub fn parse_list_parts(xml: &str) -> Option<PartsPage> {
    let result = element(xml, "ListPartsResult")?;
    let mut parts = Vec::new();
    let mut rest = result;
    while let Some(start) = rest.find("<Part>") {
        let after = &rest[start + "<Part>".len()..];
        let end = after.find("</Part>")?;
        let part = &after[..end];
        parts.push(Part {
            number: text(part, "PartNumber")?.parse().ok()?,
            etag: text(part, "ETag")?,
            size: text(part, "Size")?.parse().ok()?,
        });
        rest = &after[end + "</Part>".len()..];
    }
    let truncated = text(result, "IsTruncated").is_some_and(|t| t == "true");
    let next_marker = match truncated {
        true => Some(text(result, "NextPartNumberMarker")?.parse().ok()?),
        false => None,
    };
    Some(PartsPage { parts, next_marker })
}

/// The bytes of all parts together, saturating (a total past `u64` is past any limit anyway).
pub fn total_bytes(parts: &[Part]) -> u64 {
    parts
        .iter()
        .fold(0u64, |sum, part| sum.saturating_add(part.size))
}

/// The `CompleteMultipartUpload` body for `(part number, ETag)` pairs, in the order given.
pub fn complete_body(parts: &[(u16, &str)]) -> String {
    let mut body = String::from("<CompleteMultipartUpload>");
    for (number, etag) in parts {
        let _ = write!(body, "<Part><PartNumber>{number}</PartNumber><ETag>");
        escape_into(&mut body, etag);
        body.push_str("</ETag></Part>");
    }
    body.push_str("</CompleteMultipartUpload>");
    body
}

/// The content of the first `<name ...>...</name>` in `xml`.
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = xml.find(&["<", name].concat())?;
    let after_name = &xml[open + 1 + name.len()..];
    // `<Name>` or `<Name attr="...">`, not `<NameLonger>`.
    if !after_name.starts_with(['>', ' ']) {
        return None;
    }
    let content = &after_name[after_name.find('>')? + 1..];
    let close = content.find(&["</", name, ">"].concat())?;
    Some(&content[..close])
}

/// An element's text with XML's five entities and numeric references resolved.
fn text(xml: &str, name: &str) -> Option<String> {
    let raw = element(xml, name)?;
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let entity_end = rest[amp..].find(';')? + amp;
        let entity = &rest[amp + 1..entity_end];
        let resolved = match entity {
            "quot" => '"',
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "apos" => '\'',
            _ => {
                let code = match entity.strip_prefix("#x") {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => entity.strip_prefix('#')?.parse().ok()?,
                };
                char::from_u32(code)?
            }
        };
        out.push(resolved);
        rest = &rest[entity_end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_numbers_are_1_to_10000_in_plain_digits() {
        assert_eq!(parse_part_number("1"), Some(1));
        assert_eq!(parse_part_number("10000"), Some(10_000));
        for bad in [
            "",
            "0",
            "10001",
            "007",
            "+7",
            "-1",
            "7 ",
            "1e3",
            "99999999999",
            "٣",
        ] {
            assert_eq!(parse_part_number(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn upload_ids_are_bounded_visible_ascii() {
        assert!(is_upload_id("f66461d3-6f01-4077-80a9-d21a4ca2eb8c"));
        assert!(is_upload_id("VXBsb2FkIElE.for-6_~+/=="));
        assert!(is_upload_id(&"a".repeat(MAX_UPLOAD_ID_BYTES)));
        for bad in ["", "a b", "a\nb", "a\u{0}b", "é"] {
            assert!(!is_upload_id(bad), "{bad:?}");
        }
        assert!(!is_upload_id(&"a".repeat(MAX_UPLOAD_ID_BYTES + 1)));
    }

    /// A real answer: s3s-fs 0.17.0's ListParts after three UploadParts made with boto3
    /// (its key holds `&` and `<`, escaped in the XML).
    #[test]
    fn reads_a_real_list_parts_answer() {
        let xml = include_str!("../tests/fixtures/s3s-fs-list-parts.xml");
        let page = parse_list_parts(xml).unwrap();
        assert_eq!(page.next_marker, None);
        let summary: Vec<(u16, &str, u64)> = page
            .parts
            .iter()
            .map(|p| (p.number, p.etag.as_str(), p.size))
            .collect();
        assert_eq!(
            summary,
            [
                (1, "\"08b46181d7094b5ece88bb389c7499af\"", 5_242_880),
                (2, "\"d76f89e449720d99d4b92c79040f4882\"", 5_242_880),
                (3, "\"193d16844d1be50b489aa50379030d08\"", 1000),
            ]
        );
        assert_eq!(total_bytes(&page.parts), 10_486_760);
    }

    /// S3 pages at 1,000 parts: a truncated page names where the next one starts (s3s-fs
    /// never pages, so this one is written as S3's documentation shows it).
    #[test]
    fn a_truncated_page_names_the_next_marker() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket>
  <PartNumberMarker>1</PartNumberMarker>
  <NextPartNumberMarker>3</NextPartNumberMarker>
  <MaxParts>2</MaxParts>
  <IsTruncated>true</IsTruncated>
  <Part>
    <PartNumber>2</PartNumber>
    <ETag>&quot;7778aef83f66abc1fa1e8477f296d394&quot;</ETag>
    <Size>10485760</Size>
  </Part>
  <Part>
    <PartNumber>3</PartNumber>
    <ETag>&#34;aaaa18db4cc2f85cedef654fccc4a4x8&#x22;</ETag>
    <Size>10485760</Size>
  </Part>
</ListPartsResult>"#;
        let page = parse_list_parts(xml).unwrap();
        assert_eq!(page.next_marker, Some(3));
        assert_eq!(page.parts[0].etag, "\"7778aef83f66abc1fa1e8477f296d394\"");
        assert_eq!(page.parts[1].etag, "\"aaaa18db4cc2f85cedef654fccc4a4x8\"");
        assert_eq!(page.parts.len(), 2);
    }

    #[test]
    fn answers_that_cannot_be_totalled_are_refused() {
        for xml in [
            "",
            "<Error><Code>NoSuchUpload</Code></Error>",
            "<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>\"x\"</ETag></Part></ListPartsResult>",
            "<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>\"x\"</ETag><Size>-1</Size></Part></ListPartsResult>",
            "<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>&bogus;</ETag><Size>1</Size></Part></ListPartsResult>",
            "<ListPartsResult><Part><PartNumber>1</PartNumber>",
            "<ListPartsResult><IsTruncated>true</IsTruncated></ListPartsResult>",
            "<ListPartsResultX></ListPartsResultX>",
        ] {
            assert_eq!(parse_list_parts(xml), None, "{xml}");
        }
        assert_eq!(
            parse_list_parts("<ListPartsResult></ListPartsResult>").unwrap(),
            PartsPage {
                parts: vec![],
                next_marker: None
            }
        );
        let huge = Part {
            number: 1,
            etag: String::new(),
            size: u64::MAX,
        };
        assert_eq!(total_bytes(&[huge.clone(), huge]), u64::MAX);
    }

    #[test]
    fn the_complete_body_lists_parts_with_escaped_etags() {
        assert_eq!(
            complete_body(&[(1, "\"a1\""), (2, "\"b<2>&\"")]),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;a1&quot;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;b&lt;2&gt;&amp;&quot;</ETag></Part></CompleteMultipartUpload>"
        );
        // What the body escapes, the reader unescapes.
        let page = parse_list_parts(
            "<ListPartsResult><Part><PartNumber>2</PartNumber><ETag>&quot;b&lt;2&gt;&amp;&quot;</ETag><Size>1</Size></Part></ListPartsResult>",
        )
        .unwrap();
        assert_eq!(page.parts[0].etag, "\"b<2>&\"", "escaping round-trips");
    }
}
