//! AbortMultipartUpload: the request.

use super::{S3Request, Signer, UploadId};
use crate::key::IssuedKey;
use crate::sigv4::Method;

impl Signer<'_> {
    pub fn abort_multipart_upload(&self, key: &IssuedKey, id: &UploadId) -> S3Request {
        let query = [("uploadId", id.as_str())];
        self.request(Method::Delete, key, &query, &[], String::new())
    }
}
