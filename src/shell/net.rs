//! Requests the worker sends itself: S3 calls and the identity provider's JWKS.

use js_sys::Promise;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, RequestInit, RequestRedirect, Response};

use super::body::read_stream;

use crate::error::ApiError;
use crate::s3::S3Request;
use crate::sigv4::Method;

#[wasm_bindgen]
extern "C" {
    /// The runtime's global `fetch`.
    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(url: &str, init: &RequestInit) -> Result<Promise, JsValue>;
}

/// An answer, read whole.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: Headers,
    pub body: String,
}

impl Answer {
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).ok().flatten()
    }

    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Sends a signed S3 request; `Err` when S3 cannot be reached at all.
pub(crate) async fn send(request: &S3Request) -> Result<Answer, JsValue> {
    let headers = Headers::new()?;
    for (name, value) in &request.headers {
        headers.set(name, value)?;
    }
    let init = RequestInit::new();
    init.set_method(request.method.as_str());
    init.set_headers(&headers);
    if !request.body.is_empty() {
        init.set_body(&JsValue::from_str(&request.body));
    }
    let read_body = request.method != Method::Head;
    fetch(&request.url, &init, read_body).await
}

/// How long the identity provider has to answer before its keys count as unavailable.
const GET_TIMEOUT_MILLIS: u32 = 5_000;

/// A plain GET (a JWKS document), given up after [`GET_TIMEOUT_MILLIS`]: `None` unless it
/// answers 2xx with at most `limit` bytes, of which no more than `limit` (and one chunk) are
/// read. A redirect is not followed: its own 3xx answer is refused like any other failure, so
/// the document only ever comes from the URL configured (https, or loopback http).
pub(crate) async fn get(url: &str, limit: usize) -> Option<(Headers, Vec<u8>)> {
    let init = RequestInit::new();
    init.set_signal(Some(&AbortSignal::timeout_with_u32(GET_TIMEOUT_MILLIS)));
    // Not "error": workerd refuses it with a TypeError ("use manual and check the status").
    init.set_redirect(RequestRedirect::Manual);
    let pending = global_fetch(url, &init).ok()?;
    let response: Response = JsFuture::from(pending).await.ok()?.dyn_into().ok()?;
    if !(200..300).contains(&response.status()) {
        return None;
    }
    let body = match response.body() {
        Some(stream) => read_stream(stream, limit).await.ok()?,
        None => Vec::new(),
    };
    Some((response.headers(), body))
}

async fn fetch(url: &str, init: &RequestInit, read_body: bool) -> Result<Answer, JsValue> {
    let response: Response = JsFuture::from(global_fetch(url, init)?).await?.dyn_into()?;
    let body = if read_body {
        JsFuture::from(response.text()?)
            .await?
            .as_string()
            .unwrap_or_default()
    } else {
        String::new()
    };
    Ok(Answer {
        status: response.status(),
        headers: response.headers(),
        body,
    })
}

/// How long a webhook receiver has to answer before the delivery counts as failed.
const POST_TIMEOUT_MILLIS: u32 = 10_000;

/// POSTs `body` with `headers` (a webhook delivery): the receiver's status, or `None` when it
/// could not be reached or did not answer in time. A redirect is not followed: a signed
/// event only goes to the URL configured.
pub(crate) async fn post(url: &str, headers: &[(&str, &str)], body: &str) -> Option<u16> {
    let sent = Headers::new().ok()?;
    for (name, value) in headers {
        sent.set(name, value).ok()?;
    }
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&sent);
    init.set_body(&JsValue::from_str(body));
    init.set_signal(Some(&AbortSignal::timeout_with_u32(POST_TIMEOUT_MILLIS)));
    init.set_redirect(RequestRedirect::Manual);
    let pending = global_fetch(url, &init).ok()?;
    let response: Response = JsFuture::from(pending).await.ok()?.dyn_into().ok()?;
    // The body is not needed; cancelling it frees the connection.
    if let Some(stream) = response.body() {
        let _ = stream.cancel();
    }
    Some(response.status())
}

/// An S3 call that must succeed: unreachable is 502 `storage_unavailable`, a refusal its own
/// code (`s3::read_error`). Every S3 call the worker makes goes through it.
pub(crate) async fn s3_call(request: &S3Request) -> Result<Answer, ApiError> {
    let answer = send(request)
        .await
        .map_err(|_| ApiError::storage_unavailable())?;
    if answer.is_success() {
        Ok(answer)
    } else {
        Err(crate::s3::read_error(answer.status, &answer.body).into())
    }
}
