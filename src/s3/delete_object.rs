//! DeleteObject: the request (a refused upload is removed when the settings say so).

use super::{S3Request, Signer};
use crate::key::IssuedKey;
use crate::sigv4::Method;

impl Signer<'_> {
    /// DeleteObject of exactly the object a HEAD saw (`If-Match` its ETag): one written under
    /// the key since (a POST form can be sent again until it expires) is not deleted with it.
    pub(crate) fn delete_object(&self, key: &IssuedKey, etag: &str) -> S3Request {
        let etag = ["\"", etag.trim_matches('"'), "\""].concat();
        self.request(
            Method::Delete,
            key,
            &[],
            &[("if-match", &etag)],
            String::new(),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::s3::tests::signer_test;

    #[test]
    fn a_delete_names_the_etag_it_may_delete() {
        signer_test(|signer, key| {
            let request = signer.delete_object(key, "9b2c");
            let quoted = signer.delete_object(key, "\"9b2c\"");
            for r in [&request, &quoted] {
                assert_eq!(r.method.as_str(), "DELETE");
                let if_match = r.headers.iter().find(|(n, _)| *n == "if-match");
                assert_eq!(if_match.map(|(_, v)| v.as_str()), Some("\"9b2c\""));
                assert!(r
                    .headers
                    .iter()
                    .any(|(n, v)| *n == "authorization"
                        && v.contains("SignedHeaders=host;if-match;")));
            }
        });
    }
}
