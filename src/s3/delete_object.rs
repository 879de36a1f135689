//! DeleteObject: the request (a refused upload is removed when the settings say so).

use super::{S3Request, Signer};
use crate::key::IssuedKey;
use crate::sigv4::Method;

impl Signer<'_> {
    pub fn delete_object(&self, key: &IssuedKey) -> S3Request {
        self.request(Method::Delete, key, &[], &[], String::new())
    }
}
