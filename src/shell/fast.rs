//! `POST /uploads` without the executor, when nothing on its way waits but the body: auth off
//! or an HS256 token, and no rate limiter binding. The body's promise gets one `then`, and
//! the answer is made in its callback. `bench/run` measured the executor's cost on this route
//! (README, "Measured"); every other request, and this one with a JWKS token or the rate
//! limiter, goes through the async route table.

use js_sys::{ArrayBuffer, Promise, Uint8Array};
use wasm_bindgen::prelude::{wasm_bindgen, Closure};
use wasm_bindgen::{JsCast, JsValue};

use crate::api::{self, ApiError, MAX_BODY_BYTES};

use super::cors::Grant;
use super::{auth, handlers, Call, Reply};

#[wasm_bindgen]
extern "C" {
    /// A promise seen only for its `then`.
    type Thenable;

    /// `promise.then(settled, settled)`: one callback for both outcomes, so the one-shot
    /// closure behind it is always called, and so always freed.
    #[wasm_bindgen(method, js_name = then)]
    fn then_settled(this: &Thenable, on_fulfilled: &JsValue, on_rejected: &JsValue) -> Promise;
}

/// The answer's promise, or the call back when the route table must handle it.
pub fn uploads(call: Call, is_uploads: bool) -> Result<Promise, Call> {
    let quick = is_uploads
        && call.method == "POST"
        && !matches!(call.grant, Grant::Refused)
        && call.state.presigner.borrow().is_ok()
        && auth::rate_limiter(&call).is_none();
    let declared = call
        .header("Content-Length")
        .and_then(|n| n.parse::<usize>().ok());
    let json = api::is_json_content_type(call.header("Content-Type").as_deref());
    if !quick || !json || declared.is_none_or(|length| length > MAX_BODY_BYTES) {
        return Err(call);
    }
    let Some(caller) = auth::caller_now(&call) else {
        return Err(call);
    };
    let caller = match caller {
        Ok(caller) => caller,
        Err(error) => return Ok(answer(&call, None, Err(error))),
    };
    let Ok(read) = call.req.array_buffer() else {
        return Ok(answer(
            &call,
            caller.as_ref(),
            Err(ApiError::body_unreadable()),
        ));
    };
    let settled = Closure::once_into_js(move |value: JsValue| -> JsValue {
        let body = match value.dyn_ref::<ArrayBuffer>() {
            Some(buffer) if buffer.byte_length() as usize <= MAX_BODY_BYTES => {
                Ok(Uint8Array::new(buffer).to_vec())
            }
            Some(_) => Err(ApiError::body_too_large(MAX_BODY_BYTES)),
            None => Err(ApiError::body_unreadable()),
        };
        let result = body.and_then(|body| handlers::sign_uploads(&call, caller.as_ref(), &body));
        call.respond("uploads", caller.as_ref(), result.map(Reply::Json))
            .into()
    });
    let read: &Thenable = read.unchecked_ref();
    Ok(read.then_settled(&settled, &settled))
}

fn answer(
    call: &Call,
    caller: Option<&crate::auth::Caller>,
    result: Result<super::Json, ApiError>,
) -> Promise {
    let response = call.respond("uploads", caller, result.map(Reply::Json));
    Promise::resolve(&JsValue::from(response))
}
