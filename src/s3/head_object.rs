//! HeadObject: what the store holds under a key, without its bytes.

use super::{S3Request, Signer};
use crate::key::IssuedKey;
use crate::sigv4::Method;

impl Signer<'_> {
    /// HeadObject: the stored type and disposition a download is judged by.
    pub fn head_object(&self, key: &IssuedKey) -> S3Request {
        self.request(Method::Head, key, &[], &[], String::new())
    }
}
