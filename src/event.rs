//! `upload.completed` events, signed as the Standard Webhooks specification says
//! (<https://www.standardwebhooks.com>): `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the
//! base64 part of a `whsec_…` secret. Also what travels through the queue between the route
//! that learns of an upload and the consumer that delivers it, and what an R2 event
//! notification says. Plain Rust: the shell sends and receives.

use std::fmt;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use time::UtcDateTime;

use crate::json::{self, Members, Object, Value};
use crate::origin::{Origin, Scheme};
use crate::s3::head_object::unquoted_etag;
use crate::sigv4::iso_date_time;

/// The spec's secrets are 24 to 64 random bytes.
const MIN_KEY_BYTES: usize = 24;
const MAX_KEY_BYTES: usize = 64;
const SECRET_PREFIX: &str = "whsec_";
/// How long the consumer waits before a retry at most (Queues allow up to 12 hours).
const MAX_RETRY_DELAY_SECONDS: u32 = 3600;

/// The signing key of `UPLOAD_WEBHOOK_SECRET`. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct WebhookKey(Vec<u8>);

impl fmt::Debug for WebhookKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookKey(<redacted>)")
    }
}

impl WebhookKey {
    /// `whsec_` and the standard base64 of 24 to 64 bytes, as the spec's libraries make them.
    pub(crate) fn parse(secret: &str) -> Option<Self> {
        let encoded = secret.strip_prefix(SECRET_PREFIX)?;
        let key = STANDARD.decode(encoded).ok()?;
        (MIN_KEY_BYTES..=MAX_KEY_BYTES)
            .contains(&key.len())
            .then_some(Self(key))
    }

    /// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`: the `webhook-signature` value.
    pub(crate) fn sign(&self, id: &str, timestamp: i64, body: &str) -> String {
        let Some(mac) = self.mac(&[format!("{id}.{timestamp}.").as_bytes(), body.as_bytes()])
        else {
            return String::new();
        };
        ["v1,", &STANDARD.encode(mac.finalize().into_bytes())].concat()
    }

    /// The MAC a queue message of this worker's carries over its id and body, so the consumer
    /// signs only events this worker made (any other producer on the queue cannot have a body
    /// of its choosing signed). Its input starts with `edge-presign-queue.`, which no
    /// `webhook-id` (`msg_…`) does: it is never a webhook signature.
    fn message_mac(&self, id: &str, body: &str) -> Option<Hmac<Sha256>> {
        self.mac(&[b"edge-presign-queue.", id.as_bytes(), b".", body.as_bytes()])
    }

    /// HMAC-SHA256 of `parts` under the key (HMAC takes a key of any length: never `None`).
    fn mac(&self, parts: &[&[u8]]) -> Option<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).ok()?;
        for part in parts {
            mac.update(part);
        }
        Some(mac)
    }
}

/// Where events go (`UPLOAD_WEBHOOK_URL`) and the key they are signed with.
#[derive(Clone, Debug)]
pub(crate) struct Webhook {
    pub url: String,
    pub key: WebhookKey,
}

/// A receiver's URL: https, or http on a loopback host (local development).
pub(crate) fn is_webhook_url(raw: &str) -> bool {
    Origin::parse_url(raw)
        .is_some_and(|(origin, _)| origin.scheme() == Scheme::Https || origin.is_loopback())
}

/// The `webhook-id` of the event for the object `key` holds with `etag`: the same for every
/// report of the same object (a second `complete`, the multipart route, an R2 notification)
/// and for every retry, so a receiver deduplicates on it.
pub(crate) fn event_id(key: &str, etag: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(key.as_bytes());
    // A separator no key or ETag holds, so ("a", "bc") and ("ab", "c") differ.
    hash.update(b"\n");
    hash.update(unquoted_etag(etag).as_bytes());
    ["msg_", &hex::encode(&hash.finalize()[..16])].concat()
}

/// One verified upload, as its event tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UploadEvent {
    pub key: String,
    pub size: u64,
    pub content_type: String,
    pub etag: String,
    pub checksum_sha256: Option<String>,
    /// The caller's `sub`, when auth is on.
    pub sub: Option<String>,
    pub profile: String,
    pub file_name: String,
    /// When the worker verified it.
    pub time: UtcDateTime,
}

impl UploadEvent {
    pub(crate) fn id(&self) -> String {
        event_id(&self.key, &self.etag)
    }

    /// `{"type": "upload.completed", "timestamp", "data": {…}}`.
    pub(crate) fn body(&self) -> String {
        let mut data = Object::new()
            .text("key", &self.key)
            .number("size", self.size)
            .text("content_type", &self.content_type)
            .text("etag", &self.etag);
        if let Some(checksum) = &self.checksum_sha256 {
            data = data.text("checksum_sha256", checksum);
        }
        if let Some(sub) = &self.sub {
            data = data.text("sub", sub);
        }
        let time = iso_date_time(self.time);
        let data = data
            .text("profile", &self.profile)
            .text("file_name", &self.file_name)
            .text("time", &time)
            .finish();
        Object::new()
            .text("type", "upload.completed")
            .text("timestamp", &time)
            .raw("data", &data)
            .finish()
    }

    /// The queue message: the id and the body, fixed once, so every delivery of it carries
    /// the same `webhook-id` and the same bytes, and their MAC under `key`.
    pub(crate) fn message(&self, key: &WebhookKey) -> String {
        let (id, body) = (self.id(), self.body());
        let mac = key
            .message_mac(&id, &body)
            .map(|mac| hex::encode(mac.finalize().into_bytes()))
            .unwrap_or_default();
        Object::new()
            .text("id", &id)
            .text("body", &body)
            .text("mac", &mac)
            .finish()
    }
}

/// A queue message, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Message {
    /// An event this worker made (its MAC checked): deliver `body` as `id`.
    Event { id: String, body: String },
    /// An R2 event notification of a new object: the consumer learns the rest with a HEAD.
    StoredObject { key: String, etag: String },
    /// An R2 notification of something that is no new object (a deletion), or a message
    /// that is not one of these: nothing to deliver.
    Ignored,
}

/// What R2 calls the actions that leave a new object (its event notifications' `action`).
const R2_NEW_OBJECT_ACTIONS: [&str; 3] = ["PutObject", "CompleteMultipartUpload", "CopyObject"];

/// Reads a queue message's body (JSON text: this worker's own, whose MAC must be `key`'s, or
/// an R2 notification's `{"account", "action", "bucket", "object": {"key", "size", "eTag"},
/// "eventTime"}`).
pub(crate) fn read_message(text: &str, key: &WebhookKey) -> Message {
    let Ok(value) = json::parse(text.as_bytes()) else {
        return Message::Ignored;
    };
    if let (Ok(Some(id)), Ok(Some(body))) = (value.text("id"), value.text("body")) {
        let mac = value
            .text("mac")
            .ok()
            .flatten()
            .and_then(|m| hex::decode(m).ok());
        let expected = key.message_mac(id, body);
        let genuine = mac
            .zip(expected)
            .is_some_and(|(mac, expected)| expected.verify_slice(&mac).is_ok());
        return match genuine {
            true => Message::Event {
                id: id.to_owned(),
                body: body.to_owned(),
            },
            false => Message::Ignored,
        };
    }
    let action = value.text("action").ok().flatten().unwrap_or_default();
    let object = value.get("object").unwrap_or(&Value::Null);
    match (object.text("key"), object.text("eTag")) {
        (Ok(Some(key)), Ok(Some(etag))) if R2_NEW_OBJECT_ACTIONS.contains(&action) => {
            Message::StoredObject {
                key: key.to_owned(),
                etag: etag.to_owned(),
            }
        }
        _ => Message::Ignored,
    }
}

/// The three headers of one delivery attempt at `now` (unix seconds).
pub(crate) fn delivery_headers(
    key: &WebhookKey,
    id: &str,
    body: &str,
    now: i64,
) -> [(&'static str, String); 3] {
    [
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", now.to_string()),
        ("webhook-signature", key.sign(id, now, body)),
    ]
}

/// The log line of one delivery attempt: the event's id, what became of it and the
/// receiver's status. Never the URL (it may carry a token), the secret or a signature.
pub(crate) fn delivery_line(id: &str, outcome: &str, status: Option<u16>, attempt: u32) -> String {
    let line = Object::new()
        .text("event", "upload.completed")
        .text("id", id)
        .text("outcome", outcome)
        .number("attempt", u64::from(attempt));
    match status {
        Some(status) => line.number("status", u64::from(status)),
        None => line.text("status", "unreachable"),
    }
    .finish()
}

/// How long to wait before attempt `attempts + 1`: doubling from 2 s, up to an hour.
pub(crate) fn retry_delay_seconds(attempts: u32) -> u32 {
    2u32.saturating_pow(attempts.clamp(1, 31))
        .min(MAX_RETRY_DELAY_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::utc_datetime;

    // The Standard Webhooks specification's published test vector (its libraries' tests and
    // Svix's "verifying payloads manually" page use the same).
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: i64 = 1_614_265_330;
    const SPEC_BODY: &str = r#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signatures_match_the_specs_test_vector() {
        let key = WebhookKey::parse(SPEC_SECRET).unwrap();
        assert_eq!(key.sign(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY), SPEC_SIGNATURE);
        let headers = delivery_headers(&key, SPEC_ID, SPEC_BODY, SPEC_TIMESTAMP);
        assert_eq!(
            headers,
            [
                ("webhook-id", SPEC_ID.to_owned()),
                ("webhook-timestamp", "1614265330".to_owned()),
                ("webhook-signature", SPEC_SIGNATURE.to_owned()),
            ]
        );
        assert_ne!(
            key.sign(SPEC_ID, SPEC_TIMESTAMP + 1, SPEC_BODY),
            SPEC_SIGNATURE
        );
    }

    #[test]
    fn secrets_are_whsec_base64_of_24_to_64_bytes() {
        for bad in [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_",
            "whsec_not base64!",
            "whsec_c2hvcnQ=",
            &["whsec_", &STANDARD.encode([7u8; 65])].concat(),
        ] {
            assert_eq!(WebhookKey::parse(bad), None, "{bad}");
        }
        assert!(WebhookKey::parse(&["whsec_", &STANDARD.encode([7u8; 64])].concat()).is_some());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = WebhookKey::parse(SPEC_SECRET).unwrap();
        let webhook = Webhook {
            url: "https://example.com/hooks".into(),
            key,
        };
        let shown = format!("{webhook:?}");
        assert!(shown.contains("<redacted>"), "{shown}");
        assert!(
            !shown.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            "{shown}"
        );
        let bytes = STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert!(!shown.contains(&format!("{bytes:?}")[1..20]), "{shown}");
    }

    #[test]
    fn receivers_are_https_or_loopback_http() {
        assert!(is_webhook_url("https://hooks.example.com/uploads"));
        assert!(is_webhook_url("http://127.0.0.1:8790/"));
        assert!(is_webhook_url("http://localhost:8790/hooks"));
        assert!(!is_webhook_url("http://hooks.example.com/uploads"));
        assert!(!is_webhook_url("ftp://example.com/"));
        assert!(!is_webhook_url("hooks.example.com"));
    }

    fn event() -> UploadEvent {
        UploadEvent {
            key: "uploads/0b7e0c2a-0000-4000-8000-000000000000/cat.png".into(),
            size: 48_213,
            content_type: "image/png".into(),
            etag: "\"9b2cf535f27731c974343645a3985328\"".into(),
            checksum_sha256: None,
            sub: Some("user-42".into()),
            profile: "default".into(),
            file_name: "Cat (1).png".into(),
            time: utc_datetime!(2026-11-24 12:00:05),
        }
    }

    #[test]
    fn the_event_body_says_what_was_verified() {
        let body: serde_json::Value = serde_json::from_str(&event().body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "type": "upload.completed",
                "timestamp": "2026-11-24T12:00:05Z",
                "data": {
                    "key": "uploads/0b7e0c2a-0000-4000-8000-000000000000/cat.png",
                    "size": 48213,
                    "content_type": "image/png",
                    "etag": "\"9b2cf535f27731c974343645a3985328\"",
                    "sub": "user-42",
                    "profile": "default",
                    "file_name": "Cat (1).png",
                    "time": "2026-11-24T12:00:05Z",
                }
            })
        );
        let with_checksum = UploadEvent {
            checksum_sha256: Some("n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=".into()),
            sub: None,
            ..event()
        };
        let body: serde_json::Value = serde_json::from_str(&with_checksum.body()).unwrap();
        assert!(body["data"].get("sub").is_none());
        assert_eq!(
            body["data"]["checksum_sha256"],
            "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
        );
    }

    #[test]
    fn one_object_has_one_id_whoever_reports_it() {
        let first = event();
        let again = UploadEvent {
            time: utc_datetime!(2026-11-24 12:09),
            sub: None,
            ..event()
        };
        assert_eq!(first.id(), again.id(), "a second report of the same object");
        assert_eq!(
            first.id(),
            event_id(&first.key, "9b2cf535f27731c974343645a3985328"),
            "R2 notifications carry the ETag without quotes"
        );
        assert!(first.id().starts_with("msg_") && first.id().len() == 4 + 32);
        let replaced = UploadEvent {
            etag: "\"0000\"".into(),
            ..event()
        };
        assert_ne!(first.id(), replaced.id(), "other bytes are another event");
        assert_ne!(event_id("ab", "c"), event_id("a", "bc"));
    }

    #[test]
    fn queue_messages_carry_id_and_body_and_r2_notifications_are_read() {
        let key = WebhookKey::parse(SPEC_SECRET).unwrap();
        let read = |text: &str| read_message(text, &key);
        let message = event().message(&key);
        assert_eq!(
            read(&message),
            Message::Event {
                id: event().id(),
                body: event().body()
            }
        );
        // Only this worker's own messages are signed: another producer on the queue, a changed
        // body, a message under another deployment's secret or without a MAC is dropped.
        let value: serde_json::Value = serde_json::from_str(&message).unwrap();
        let forged = serde_json::json!({"id": value["id"], "body": "{}", "mac": value["mac"]});
        assert_eq!(read(&forged.to_string()), Message::Ignored);
        let bare = serde_json::json!({"id": value["id"], "body": value["body"]});
        assert_eq!(read(&bare.to_string()), Message::Ignored);
        let other = WebhookKey::parse(&["whsec_", &STANDARD.encode([7u8; 32])].concat()).unwrap();
        assert_eq!(read_message(&message, &other), Message::Ignored);
        let bad_hex = serde_json::json!({"id": value["id"], "body": value["body"], "mac": "zz"});
        assert_eq!(read(&bad_hex.to_string()), Message::Ignored);
        // Cloudflare's R2 event notification message, as its documentation shows one.
        let r2 = r#"{"account":"3f4b7e3dcab231cbfdaa90a6a28bd548","action":"PutObject","bucket":"my-bucket","object":{"key":"my-new-object","size":65536,"eTag":"c846ff7a18f28c2e262116d6e8719ef0"},"eventTime":"2024-05-24T19:36:44.379Z"}"#;
        assert_eq!(
            read(r2),
            Message::StoredObject {
                key: "my-new-object".into(),
                etag: "c846ff7a18f28c2e262116d6e8719ef0".into()
            }
        );
        let deleted = r2.replace("PutObject", "DeleteObject");
        assert_eq!(read(&deleted), Message::Ignored);
        assert_eq!(read("not json"), Message::Ignored);
        assert_eq!(read(r#"{"id": 5, "body": "x"}"#), Message::Ignored);
    }

    #[test]
    fn delivery_lines_name_the_event_never_the_secret() {
        let line = delivery_line("msg_1", "retry", Some(500), 2);
        assert_eq!(
            line,
            r#"{"event":"upload.completed","id":"msg_1","outcome":"retry","attempt":2,"status":500}"#
        );
        let line = delivery_line("msg_1", "retry", None, 1);
        assert!(line.ends_with(r#""status":"unreachable"}"#), "{line}");
    }

    #[test]
    fn retries_back_off_doubling_up_to_an_hour() {
        let delays: Vec<u32> = (1..=5).map(retry_delay_seconds).collect();
        assert_eq!(delays, [2, 4, 8, 16, 32]);
        assert_eq!(retry_delay_seconds(0), 2);
        assert_eq!(retry_delay_seconds(40), MAX_RETRY_DELAY_SECONDS);
    }
}
