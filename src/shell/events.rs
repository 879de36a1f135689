//! Verified completion (`POST /uploads/complete`) and `upload.completed` events: the HEAD and
//! DELETE it sends, the event handed to the queue (or, without one, sent once after the
//! answer), and the queue's consumer, which signs and POSTs each event and retries with
//! backoff. The decisions are in `crate::completion` and `crate::event`.

use js_sys::{Array, Promise};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use crate::audit;
use crate::auth::Caller;
use crate::completion;
use crate::error::{ApiError, ErrorCode};
use crate::event::{self, Message, UploadEvent, Webhook};
use crate::key::IssuedKey;
use crate::presign::Presigner;
use crate::s3::head_object::{read_head, StoredObject};

use super::env::{isolate_state, Env};
use super::{body, net, now, Call, Json};

#[wasm_bindgen]
extern "C" {
    /// A Cloudflare Queue's producer binding.
    pub type Queue;

    /// `[[queues.producers]]` binding `UPLOAD_EVENTS`, when there is one.
    #[wasm_bindgen(method, getter, js_name = UPLOAD_EVENTS)]
    fn events_queue(this: &Env) -> Option<Queue>;

    #[wasm_bindgen(method, catch)]
    fn send(this: &Queue, body: &JsValue) -> Result<Promise, JsValue>;

    /// What the consumer is handed: `batch.messages`.
    pub type MessageBatch;

    #[wasm_bindgen(method, getter)]
    fn messages(this: &MessageBatch) -> Array;

    pub type QueueMessage;

    #[wasm_bindgen(method, getter)]
    fn body(this: &QueueMessage) -> JsValue;

    /// 1 on the first delivery, counting up with each retry.
    #[wasm_bindgen(method, getter)]
    fn attempts(this: &QueueMessage) -> f64;

    #[wasm_bindgen(method)]
    fn ack(this: &QueueMessage);

    #[wasm_bindgen(method)]
    fn retry(this: &QueueMessage, options: &JsValue);

    /// The handler's `ctx`.
    pub type ExecutionContext;

    #[wasm_bindgen(method, js_name = waitUntil)]
    fn wait_until(this: &ExecutionContext, promise: &Promise);
}

fn log(line: &str) {
    web_sys::console::log_1(&JsValue::from_str(line));
}

/// `POST /uploads/complete`: the object under a key issued to this caller, checked against
/// what was declared and what the settings allow, then announced.
pub(crate) async fn complete(call: &Call, caller: Option<&Caller>) -> Result<Json, ApiError> {
    let request = completion::parse_complete_request(&body::read_json(call).await?)?;
    let presigner = call.presigner()?;
    let key = presigner.check_key(&request.key, caller)?;
    let rules = completion::rules_for(presigner, &key, caller);
    let with_checksum = request.declared.checksum_sha256.is_some();
    let stored = head(presigner, &key, with_checksum).await?;
    if let Err(refusal) = completion::verify(&stored, &request.declared, &rules) {
        let delete = refusal.deletes(&rules, caller.is_some());
        return Err(refuse(presigner, &key, &stored.etag, delete, refusal.into()).await);
    }
    let sub = caller.map(Caller::sub);
    let event = completion::event_for(&key, &stored, &rules, sub, now()?);
    call.audit(&audit::Grant {
        route: "uploads/complete",
        method: "HeadObject",
        key: key.as_str(),
        max_bytes: Some(stored.size),
        content_type: Some(&event.content_type),
        sub,
        expires_at: None,
    });
    let id = match rules.events {
        true => announce(call, &event).await,
        false => None,
    };
    Ok(Json::ok(completion::verified_answer(&event, id.as_deref())))
}

/// What the store holds under `key`: 404 `object_not_found` when nothing.
async fn head(
    presigner: &Presigner,
    key: &IssuedKey,
    with_checksum: bool,
) -> Result<StoredObject, ApiError> {
    let signer = presigner.signer(now()?);
    let request = match with_checksum {
        true => signer.head_object_with_checksum(key),
        false => signer.head_object(key),
    };
    let answer = net::s3_call(&request).await?;
    read_head(|name| answer.header(name)).ok_or_else(|| {
        ApiError::new(
            ErrorCode::StorageError,
            "the storage service's answer could not be read",
        )
    })
}

/// The refusal, after deleting the object (exactly the one refused: `etag`) when `delete`.
async fn refuse(
    presigner: &Presigner,
    key: &IssuedKey,
    etag: &str,
    delete: bool,
    mut error: ApiError,
) -> ApiError {
    if delete {
        let deleted = match now() {
            Ok(now) => {
                let request = presigner.signer(now).delete_object(key, etag);
                net::send(&request).await.is_ok_and(|a| a.is_success())
            }
            Err(_) => false,
        };
        error.message.push_str(match deleted {
            true => "; the object was deleted",
            false => "; deleting the object failed",
        });
    }
    error
}

/// After the worker's own CompleteMultipartUpload: the object's event, learnt with a HEAD.
/// Nothing when no receiver is configured; a failure is logged, never the uploader's error.
pub(crate) async fn announce_completed(call: &Call, key: &IssuedKey, sub: Option<&str>) {
    let Ok(presigner) = call.presigner() else {
        return;
    };
    if presigner.config().webhook.is_none() {
        return;
    }
    let rules = completion::rules_for(presigner, key, None);
    if !rules.events {
        return;
    }
    let event = match (head(presigner, key, false).await, now()) {
        (Ok(stored), Ok(now)) => completion::event_for(key, &stored, &rules, sub, now),
        _ => return log(r#"{"event":"upload.completed","outcome":"not_sent","reason":"head"}"#),
    };
    announce(call, &event).await;
}

/// Hands `event` to the queue, or without one sends it once after the answer. Its id, when a
/// receiver is configured (the event is then on its way, or logged as lost).
async fn announce(call: &Call, event: &UploadEvent) -> Option<String> {
    let webhook = call.presigner().ok()?.config().webhook.as_ref()?;
    let id = event.id();
    let message = event.message(&webhook.key);
    if let Some(queue) = call.env.events_queue() {
        let sent = match queue.send(&JsValue::from_str(&message)) {
            Ok(promise) => JsFuture::from(promise).await.is_ok(),
            Err(_) => false,
        };
        if sent {
            return Some(id);
        }
        log(&event::delivery_line(&id, "queue_failed", None, 0));
    }
    // No queue (or it refused): one attempt, kept alive past the answer by waitUntil.
    let body = event.body();
    let (attempt_id, webhook) = (id.clone(), webhook.clone());
    let attempt = future_to_promise(async move {
        let status = deliver(&webhook, &attempt_id, &body).await;
        let outcome = if is_delivered(status) {
            "delivered"
        } else {
            "lost"
        };
        log(&event::delivery_line(&attempt_id, outcome, status, 1));
        Ok(JsValue::UNDEFINED)
    });
    match call.ctx.dyn_ref::<ExecutionContext>() {
        Some(ctx) if !call.ctx.is_undefined() => ctx.wait_until(&attempt),
        _ => log(&event::delivery_line(&id, "not_kept_alive", None, 1)),
    }
    Some(id)
}

fn is_delivered(status: Option<u16>) -> bool {
    status.is_some_and(|s| (200..300).contains(&s))
}

/// One signed POST of `body` as event `id`, stamped now.
async fn deliver(webhook: &Webhook, id: &str, body: &str) -> Option<u16> {
    let stamp = now().ok()?.unix_timestamp();
    let signed = event::delivery_headers(&webhook.key, id, body, stamp);
    let mut headers = vec![("content-type", "application/json")];
    headers.extend(signed.iter().map(|(name, value)| (*name, value.as_str())));
    net::post(&webhook.url, &headers, body).await
}

/// The Queues consumer (`scripts/worker-entry.mjs` calls it for `queue(batch, env, ctx)`):
/// each message delivered, acknowledged on a 2xx and retried with a growing delay otherwise.
#[wasm_bindgen]
pub fn queue(batch: MessageBatch, env: Env, _ctx: JsValue) -> Promise {
    future_to_promise(async move {
        let presigner = isolate_state(&env).presigner.as_ref().ok();
        for message in batch.messages().iter() {
            let message: QueueMessage = message.unchecked_into();
            consume(presigner, &message).await;
        }
        Ok(JsValue::UNDEFINED)
    })
}

async fn consume(presigner: Option<&'static Presigner>, message: &QueueMessage) {
    let attempt = message.attempts().max(1.0) as u32;
    let Some(presigner) = presigner else {
        // Unusable settings are fixed by a deploy: keep the event until then.
        log(r#"{"event":"upload.completed","outcome":"retry","reason":"misconfigured"}"#);
        return retry(message, attempt);
    };
    let Some(webhook) = presigner.config().webhook.as_ref() else {
        log(r#"{"event":"upload.completed","outcome":"dropped","reason":"no UPLOAD_WEBHOOK_URL"}"#);
        return message.ack();
    };
    let (id, body) = match event::read_message(&message_text(message), &webhook.key) {
        Message::Event { id, body } => (id, body),
        Message::StoredObject { key, .. } => match notified_event(presigner, &key).await {
            Ok(Some(event)) => (event.id(), event.body()),
            Ok(None) => return message.ack(),
            Err(()) => return retry(message, attempt),
        },
        Message::Ignored => return message.ack(),
    };
    let status = deliver(webhook, &id, &body).await;
    if is_delivered(status) {
        log(&event::delivery_line(&id, "delivered", status, attempt));
        message.ack();
    } else {
        log(&event::delivery_line(&id, "retry", status, attempt));
        retry(message, attempt);
    }
}

fn retry(message: &QueueMessage, attempt: u32) {
    let options = js_sys::Object::new();
    let delay = JsValue::from(event::retry_delay_seconds(attempt));
    let _ = js_sys::Reflect::set(&options, &JsValue::from_str("delaySeconds"), &delay);
    message.retry(&options);
}

/// This worker's messages are JSON text; R2's notifications arrive as objects.
fn message_text(message: &QueueMessage) -> String {
    let body = message.body();
    body.as_string().unwrap_or_else(|| {
        js_sys::JSON::stringify(&body)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default()
    })
}

/// The event for an object an R2 notification reports: `Ok(None)` for a key this worker did
/// not issue or an object the rules refuse (logged, not retried); `Err` when the store could
/// not be asked (retried).
async fn notified_event(presigner: &Presigner, key: &str) -> Result<Option<UploadEvent>, ()> {
    let Some(key) = presigner.check_key_of_anyone(key) else {
        log(r#"{"event":"upload.completed","outcome":"dropped","reason":"key not issued"}"#);
        return Ok(None);
    };
    let rules = completion::rules_for(presigner, &key, None);
    if !rules.events {
        return Ok(None);
    }
    let stored = match head(presigner, &key, true).await {
        Ok(stored) => stored,
        Err(e) if e.code == ErrorCode::ObjectNotFound => return Ok(None),
        Err(_) => return Err(()),
    };
    if completion::verify(&stored, &completion::Declared::default(), &rules).is_err() {
        log(r#"{"event":"upload.completed","outcome":"dropped","reason":"refused by the rules"}"#);
        return Ok(None);
    }
    let now = now().map_err(|_| ())?;
    Ok(Some(completion::event_for(
        &key, &stored, &rules, None, now,
    )))
}
