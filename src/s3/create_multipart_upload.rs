//! CreateMultipartUpload: the request, S3's answer read, and the answer the worker gives an S3
//! client in S3's own shape.

use std::fmt::Write as _;

use super::{element, escape_into, text, S3Request, Signer, UploadId};
use crate::key::IssuedKey;
use crate::sigv4::Method;

impl Signer<'_> {
    /// CreateMultipartUpload with the headers the object will be stored with.
    pub fn create_multipart_upload(
        &self,
        key: &IssuedKey,
        headers: &[(&'static str, &str)],
    ) -> S3Request {
        self.request(
            Method::Post,
            key,
            &[("uploads", "")],
            headers,
            String::new(),
        )
    }
}

/// The `UploadId` of an `InitiateMultipartUploadResult`.
pub(crate) fn read_upload_id(xml: &str) -> Option<UploadId> {
    let result = element(xml, "InitiateMultipartUploadResult")?;
    UploadId::parse(&text(result, "UploadId")?)
}

/// S3's answer to CreateMultipartUpload, for an S3 client (`signRequest` mode) to which the
/// worker hands its own handle as the upload ID.
pub(crate) fn initiate_result(bucket: &str, key: &str, upload_id: &str) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str("<InitiateMultipartUploadResult>");
    for (name, value) in [("Bucket", bucket), ("Key", key), ("UploadId", upload_id)] {
        let _ = write!(xml, "<{name}>");
        escape_into(&mut xml, value);
        let _ = write!(xml, "</{name}>");
    }
    xml.push_str("</InitiateMultipartUploadResult>");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_created_answer_is_s3s_initiate_result_with_the_handle() {
        // As AWS's CreateMultipartUpload example answers, with the worker's handle as the ID.
        let xml = initiate_result("example-bucket", "uploads/a&b.bin", "1800000000.ab.ID");
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult>\
             <Bucket>example-bucket</Bucket><Key>uploads/a&amp;b.bin</Key>\
             <UploadId>1800000000.ab.ID</UploadId></InitiateMultipartUploadResult>"
        );
        assert_eq!(read_upload_id(&xml).unwrap().as_str(), "1800000000.ab.ID");
    }
}
