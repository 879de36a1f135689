//! ListParts: the request for one page, the page read, and the rules for when a listing ends.

use super::{element, parse_part_number, parts_of, text, S3Request, Signer, UploadId};
use crate::key::IssuedKey;
use crate::sigv4::Method;

impl Signer<'_> {
    /// One page of ListParts, from `marker` (the last part number of the previous page).
    pub fn list_parts(&self, key: &IssuedKey, id: &UploadId, marker: Option<u16>) -> S3Request {
        let marker = marker.map(|m| m.to_string());
        // S3's largest page, asked for by name: ten pages then hold every part there can be.
        let mut query = vec![("uploadId", id.as_str()), ("max-parts", "1000")];
        if let Some(marker) = &marker {
            query.push(("part-number-marker", marker));
        }
        self.request(Method::Get, key, &query, &[], String::new())
    }
}

/// One uploaded part, as ListParts reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Part {
    pub number: u16,
    /// With its quotes, as S3 sends it and wants it back.
    pub etag: String,
    pub size: u64,
}

/// One page of a ListParts answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PartsPage {
    pub parts: Vec<Part>,
    /// `Some(marker)` when S3 says there is more: ask again with `part-number-marker`.
    pub next_marker: Option<u16>,
}

/// Reads a `ListPartsResult`. `None` when it is not one, or a part lacks its number, ETag or
/// size (a page the worker cannot total must not be taken as a smaller upload).
pub(crate) fn parse_list_parts(xml: &str) -> Option<PartsPage> {
    let result = element(xml, "ListPartsResult")?;
    let mut parts = Vec::new();
    for part in parts_of(result)? {
        parts.push(Part {
            number: parse_part_number(&text(part, "PartNumber")?)?,
            etag: text(part, "ETag")?,
            size: text(part, "Size")?.parse().ok()?,
        });
    }
    let truncated = text(result, "IsTruncated").is_some_and(|t| t == "true");
    let next_marker = match truncated {
        true => Some(parse_part_number(&text(result, "NextPartNumberMarker")?)?),
        false => None,
    };
    Some(PartsPage { parts, next_marker })
}

/// ListParts pages at 1,000 parts at most (the worker asks for that many), and an upload has
/// at most 10,000.
pub(crate) const MAX_LIST_PAGES: usize = 10;

/// What to do after reading a ListParts page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NextPage {
    /// That page was the last.
    Done,
    /// Ask again from this marker.
    From(u16),
    /// More is claimed, but the listing would not end: past ten pages, or a marker that does
    /// not advance. A partial list would undercount the total, so this is an error.
    Stuck,
}

/// The step after the `pages_read`th page, asked from `current`, named `next` as its marker.
pub(crate) fn next_page(pages_read: usize, current: Option<u16>, next: Option<u16>) -> NextPage {
    match next {
        None => NextPage::Done,
        Some(next) if pages_read < MAX_LIST_PAGES && Some(next) > current => NextPage::From(next),
        Some(_) => NextPage::Stuck,
    }
}

/// The bytes of all parts together, saturating (a total past `u64` is past any limit anyway).
pub(crate) fn total_bytes<'a>(parts: impl IntoIterator<Item = &'a Part>) -> u64 {
    parts
        .into_iter()
        .fold(0u64, |sum, part| sum.saturating_add(part.size))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real answer: s3s-fs 0.17.0's ListParts after three UploadParts made with boto3
    /// (its key holds `&` and `<`, escaped in the XML).
    #[test]
    fn reads_a_real_list_parts_answer() {
        let xml = include_str!("../../tests/fixtures/s3s-fs-list-parts.xml");
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
            "<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>&#+65;</ETag><Size>1</Size></Part></ListPartsResult>",
            "<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>&#x+41;</ETag><Size>1</Size></Part></ListPartsResult>",
            "<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>&#;</ETag><Size>1</Size></Part></ListPartsResult>",
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
    fn a_parts_listing_ends_or_is_an_error() {
        assert_eq!(next_page(1, None, None), NextPage::Done);
        assert_eq!(next_page(1, None, Some(1000)), NextPage::From(1000));
        assert_eq!(next_page(9, Some(8000), Some(9000)), NextPage::From(9000));
        assert_eq!(next_page(10, Some(9000), None), NextPage::Done);
        // Ten pages hold every part there can be: an eleventh is a store that will not end.
        assert_eq!(next_page(10, Some(9000), Some(10_000)), NextPage::Stuck);
        // A marker that stays or goes back would list the same parts again, forever.
        assert_eq!(next_page(2, Some(1000), Some(1000)), NextPage::Stuck);
        assert_eq!(next_page(2, Some(1000), Some(999)), NextPage::Stuck);
    }
}
