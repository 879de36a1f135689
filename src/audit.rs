//! The audit trail: one JSON line for each object the worker signs for, and one for each
//! refusal. Never a secret, a token, a signature or a URL: only what an operator needs to
//! find who asked for what (`route`, `method`, `key`, limits, `sub`, expiry; or `status`
//! and `code`).

use time::UtcDateTime;

use crate::json::Object;
use crate::sigv4::iso_date_time;

/// One object the worker granted access to.
pub(crate) struct Grant<'a> {
    pub route: &'a str,
    /// `POST` (a form), `PUT` (a URL), `GET` (a download), or the multipart operation.
    pub method: &'a str,
    pub key: &'a str,
    /// The largest size the store will take, when the grant bounds one.
    pub max_bytes: Option<u64>,
    pub content_type: Option<&'a str>,
    /// The caller's `sub`, when auth is on.
    pub sub: Option<&'a str>,
    pub expires_at: Option<UtcDateTime>,
}

impl Grant<'_> {
    pub(crate) fn to_line(&self) -> String {
        let mut line = Object::new()
            .text("audit", "grant")
            .text("route", self.route)
            .text("method", self.method)
            .text("key", self.key);
        if let Some(max_bytes) = self.max_bytes {
            line = line.number("max_bytes", max_bytes);
        }
        if let Some(content_type) = self.content_type {
            line = line.text("content_type", content_type);
        }
        if let Some(sub) = self.sub {
            line = line.text("sub", sub);
        }
        if let Some(expires_at) = self.expires_at {
            line = line.text("expires_at", &iso_date_time(expires_at));
        }
        line.finish()
    }
}

/// One refused request.
pub(crate) fn refusal_line(route: &str, status: u16, code: &str, sub: Option<&str>) -> String {
    let line = Object::new()
        .text("audit", "refusal")
        .text("route", route)
        .number("status", u64::from(status))
        .text("code", code);
    match sub {
        Some(sub) => line.text("sub", sub),
        None => line,
    }
    .finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::utc_datetime;

    #[test]
    fn lines_are_one_json_object_each() {
        let grant = Grant {
            route: "uploads",
            method: "PUT",
            key: "uploads/alice/0b7e0c2a-0000-4000-8000-000000000000/a.png",
            max_bytes: Some(5),
            content_type: Some("image/png"),
            sub: Some("alice"),
            expires_at: Some(utc_datetime!(2026-11-24 12:10)),
        };
        assert_eq!(
            grant.to_line(),
            r#"{"audit":"grant","route":"uploads","method":"PUT","key":"uploads/alice/0b7e0c2a-0000-4000-8000-000000000000/a.png","max_bytes":5,"content_type":"image/png","sub":"alice","expires_at":"2026-11-24T12:10:00Z"}"#
        );
        let bare = Grant {
            sub: None,
            max_bytes: None,
            content_type: None,
            expires_at: None,
            ..grant
        };
        assert!(!bare.to_line().contains("sub"));
        assert_eq!(
            refusal_line("uploads", 413, "file_too_large", None),
            r#"{"audit":"refusal","route":"uploads","status":413,"code":"file_too_large"}"#
        );
    }
}
