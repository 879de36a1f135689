//! Reading a request body of the type its route takes, never more than the route allows.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStream, ReadableStreamDefaultReader, Request};

use crate::api::{self, MAX_BODY_BYTES};
use crate::error::ApiError;

use super::Call;

/// The body of a JSON request, at most `MAX_BODY_BYTES`.
pub(crate) async fn read_json(call: &Call) -> Result<Vec<u8>, ApiError> {
    read_json_up_to(call, MAX_BODY_BYTES).await
}

/// The body of a JSON request, at most `limit` bytes. Type and declared length are checked
/// before anything is read; a declared length is read in one call, a chunked body chunk by
/// chunk up to the limit.
pub(crate) async fn read_json_up_to(call: &Call, limit: usize) -> Result<Vec<u8>, ApiError> {
    read_up_to(call, limit, api::is_json_content_type).await
}

/// The body of a request whose `Content-Type` passes `takes`, at most `limit` bytes.
pub(crate) async fn read_up_to(
    call: &Call,
    limit: usize,
    takes: fn(Option<&str>) -> bool,
) -> Result<Vec<u8>, ApiError> {
    if !takes(call.header("Content-Type").as_deref()) {
        return Err(ApiError::unsupported_media_type());
    }
    let declared = call
        .header("Content-Length")
        .and_then(|n| n.parse::<usize>().ok());
    match declared {
        Some(length) if length > limit => Err(ApiError::body_too_large(limit)),
        Some(_) => read_whole(&call.req, limit).await,
        None => read_chunked(&call.req, limit).await,
    }
}

async fn read_whole(req: &Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    let read = req
        .array_buffer()
        .map_err(|_| ApiError::body_unreadable())?;
    let buffer = JsFuture::from(read)
        .await
        .map_err(|_| ApiError::body_unreadable())?;
    let bytes = Uint8Array::new(&buffer);
    // The runtime holds the body to its declared length; check it anyway.
    if bytes.length() as usize > limit {
        return Err(ApiError::body_too_large(limit));
    }
    Ok(bytes.to_vec())
}

async fn read_chunked(req: &Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    // No body at all (a bare POST) has no stream: an empty body, so `invalid_json`.
    let Some(stream) = req.body() else {
        return Ok(Vec::new());
    };
    read_stream(stream, limit).await.map_err(|e| match e {
        StreamError::TooLarge => ApiError::body_too_large(limit),
        StreamError::Unreadable => ApiError::body_unreadable(),
    })
}

/// Why a stream was not read to its end.
pub(crate) enum StreamError {
    /// More than the limit: reading stopped at the chunk that passed it.
    TooLarge,
    Unreadable,
}

/// A stream's bytes, chunk by chunk, cancelled as soon as they pass `limit`: no more than the
/// limit and one chunk is ever held, whatever the sender declared or sends.
pub(crate) async fn read_stream(
    stream: ReadableStream,
    limit: usize,
) -> Result<Vec<u8>, StreamError> {
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut body = Vec::new();
    loop {
        let step = JsFuture::from(reader.read())
            .await
            .map_err(|_| StreamError::Unreadable)?;
        let field = |name: &str| Reflect::get(&step, &JsValue::from_str(name)).ok();
        match field("done").and_then(|done| done.as_bool()) {
            Some(true) => return Ok(body),
            Some(false) => {
                let chunk = Uint8Array::new(&field("value").unwrap_or_default());
                if body.len() + chunk.length() as usize > limit {
                    let _ = reader.cancel();
                    return Err(StreamError::TooLarge);
                }
                body.extend_from_slice(&chunk.to_vec());
            }
            None => return Err(StreamError::Unreadable),
        }
    }
}
