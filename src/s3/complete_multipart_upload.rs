//! CompleteMultipartUpload: the request and its body, S3's answer read, the body an S3 client
//! sends read, the parts it names checked against the listing, and the answer in S3's shape.

use std::fmt::Write as _;

use super::list_parts::Part;
use super::{
    element, escape_into, parts_of, read_error, text, S3Error, S3Request, Signer, UploadId,
    MAX_PART_NUMBER,
};
use crate::key::IssuedKey;
use crate::sigv4::Method;

impl Signer<'_> {
    /// CompleteMultipartUpload of `parts` (number, ETag), in order.
    pub fn complete_multipart_upload(
        &self,
        key: &IssuedKey,
        id: &UploadId,
        parts: &[(u16, &str)],
        create_only: bool,
    ) -> S3Request {
        let query = [("uploadId", id.as_str())];
        // `If-None-Match: *`: the store refuses to complete onto an existing object.
        let headers: &[(&str, &str)] = if create_only {
            &[("content-type", "application/xml"), ("if-none-match", "*")]
        } else {
            &[("content-type", "application/xml")]
        };
        self.request(Method::Post, key, &query, headers, complete_body(parts))
    }
}

/// A CompleteMultipartUpload answer, and the object's ETag if it names one: S3 may answer
/// 200 and still report an error in the body.
pub(crate) fn read_complete(xml: &str) -> Result<Option<String>, S3Error> {
    match element(xml, "CompleteMultipartUploadResult") {
        Some(result) => Ok(text(result, "ETag")),
        None => Err(read_error(200, xml)),
    }
}

/// The `CompleteMultipartUploadResult` the worker answers an S3 client with, as S3 would.
pub(crate) fn complete_result(
    location: &str,
    bucket: &str,
    key: &str,
    etag: Option<&str>,
) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str("<CompleteMultipartUploadResult>");
    let fields = [
        ("Location", Some(location)),
        ("Bucket", Some(bucket)),
        ("Key", Some(key)),
    ];
    for (name, value) in fields.into_iter().chain([("ETag", etag)]) {
        if let Some(value) = value {
            let _ = write!(xml, "<{name}>");
            escape_into(&mut xml, value);
            let _ = write!(xml, "</{name}>");
        }
    }
    xml.push_str("</CompleteMultipartUploadResult>");
    xml
}

/// A `CompleteMultipartUpload` body as an S3 client sends it: each part's number and ETag
/// as written (the caller checks them), or `None` if it is not one.
pub(crate) fn read_complete_body(xml: &str) -> Option<Vec<(String, String)>> {
    let body = element(xml, "CompleteMultipartUpload")?;
    parts_of(body)?
        .into_iter()
        .map(|part| Some((text(part, "PartNumber")?, text(part, "ETag")?)))
        .collect()
}

/// The listed parts a completion names, each with the ETag it names (quotes aside), so the
/// total checked is the object made. `Err` is the first named part the listing lacks (not
/// uploaded, or uploaded again since). Stores list parts in any order (s3s-fs does not sort
/// them), so they are looked up by number.
pub(crate) fn named_parts<'a>(
    named: &[(u16, String)],
    listed: &'a [Part],
) -> Result<Vec<&'a Part>, u16> {
    let mut by_number: Vec<Option<&Part>> = vec![None; usize::from(MAX_PART_NUMBER) + 1];
    for part in listed {
        if let Some(slot) = by_number.get_mut(usize::from(part.number)) {
            *slot = Some(part);
        }
    }
    let unquoted = |etag: &'a str| etag.trim_matches('"');
    named
        .iter()
        .map(|(number, etag)| match by_number.get(usize::from(*number)) {
            Some(Some(part)) if unquoted(&part.etag) == etag.trim_matches('"') => Ok(*part),
            _ => Err(*number),
        })
        .collect()
}

/// The `CompleteMultipartUpload` body for `(part number, ETag)` pairs, in the order given.
pub(crate) fn complete_body(parts: &[(u16, &str)]) -> String {
    let mut body = String::from("<CompleteMultipartUpload>");
    for (number, etag) in parts {
        let _ = write!(body, "<Part><PartNumber>{number}</PartNumber><ETag>");
        escape_into(&mut body, etag);
        body.push_str("</ETag></Part>");
    }
    body.push_str("</CompleteMultipartUpload>");
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::list_parts::parse_list_parts;

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
        let all = "&<>\"'";
        let body = complete_body(&[(1, all)]);
        assert!(
            body.contains("<ETag>&amp;&lt;&gt;&quot;&apos;</ETag>"),
            "{body}"
        );
        assert_eq!(
            read_complete_body(&body).unwrap(),
            [("1".into(), all.into())]
        );
        assert_eq!(
            read_complete_body("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&#39;&#x27;</ETag></Part></CompleteMultipartUpload>").unwrap(),
            [("1".into(), "''".into())]
        );
    }

    fn part(number: u16, etag: &str, size: u64) -> Part {
        Part {
            number,
            etag: etag.into(),
            size,
        }
    }

    #[test]
    fn a_completion_names_listed_parts_with_their_etags() {
        let listed = [
            part(1, "\"a\"", 5),
            part(2, "\"b\"", 6),
            part(4, "\"d\"", 7),
        ];
        let named = |list: &[(u16, &str)]| -> Vec<(u16, String)> {
            list.iter().map(|(n, e)| (*n, (*e).to_owned())).collect()
        };
        // Quotes or none, as browsers and S3 write them; parts may be left out.
        let chosen = named_parts(&named(&[(1, "a"), (4, "\"d\"")]), &listed).unwrap();
        assert_eq!(chosen, [&listed[0], &listed[2]]);
        assert_eq!(
            named_parts(&named(&[(2, "b")]), &listed).unwrap(),
            [&listed[1]]
        );
        // A part not uploaded, or uploaded again since it was listed (another ETag).
        assert_eq!(named_parts(&named(&[(1, "a"), (3, "c")]), &listed), Err(3));
        assert_eq!(named_parts(&named(&[(2, "x")]), &listed), Err(2));
        assert_eq!(named_parts(&named(&[(5, "e")]), &listed), Err(5));
        assert_eq!(named_parts(&named(&[(1, "a")]), &[]), Err(1));
        // In whatever order the store lists them.
        let shuffled = [part(4, "\"d\"", 7), part(1, "\"a\"", 5)];
        let chosen = named_parts(&named(&[(1, "a"), (4, "d")]), &shuffled).unwrap();
        assert_eq!(chosen, [&shuffled[1], &shuffled[0]]);
    }

    #[test]
    fn an_s3_clients_completion_is_read_and_answered_as_s3_would() {
        // What @uppy/aws-s3 6.x's S3mini sends (ETags as the browser read them, unquoted).
        let body = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a1</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;b2&quot;</ETag></Part></CompleteMultipartUpload>";
        assert_eq!(
            read_complete_body(body).unwrap(),
            [("1".into(), "a1".into()), ("2".into(), "\"b2\"".into())]
        );
        // And what the worker itself writes.
        let ours = complete_body(&[(7, "\"x\"")]);
        assert_eq!(
            read_complete_body(&ours).unwrap(),
            [("7".into(), "\"x\"".into())]
        );
        for bad in [
            "",
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
            "<CompleteMultipartUpload><Part><ETag>a</ETag></Part></CompleteMultipartUpload>",
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag>",
            "<CompleteMultipartUpload><Part></Part></CompleteMultipartUpload>",
            "<Other/>",
        ] {
            assert_eq!(read_complete_body(bad), None, "{bad}");
        }
        assert_eq!(
            complete_result("http://s/b/k%26", "b", "k&", Some("\"e-2\"")),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult><Location>http://s/b/k%26</Location><Bucket>b</Bucket><Key>k&amp;</Key><ETag>&quot;e-2&quot;</ETag></CompleteMultipartUploadResult>"
        );
        assert!(!complete_result("l", "b", "k", None).contains("ETag"));
    }
}
