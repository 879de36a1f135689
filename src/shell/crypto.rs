//! The runtime's cryptography: its CSPRNG for keys, and WebCrypto for RS256 and ES256 tokens
//! (so no RSA or ECDSA code lands in the wasm).

use js_sys::{Array, Object, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::CryptoKey;

use crate::auth::{Algorithm, Jwk};
use crate::error::ApiError;

/// The runtime's `crypto`, looked up once per isolate.
fn crypto() -> Option<web_sys::Crypto> {
    thread_local! {
        static CRYPTO: Option<web_sys::Crypto> =
            Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
                .ok()
                .filter(JsValue::is_object)
                .map(JsCast::unchecked_into);
    }
    CRYPTO.with(Clone::clone)
}

/// 16 fresh bytes for a key's UUID, from the runtime's CSPRNG through `getrandom`. A failed
/// draw is an error, never weaker randomness.
pub(crate) fn random_id() -> Result<[u8; 16], ApiError> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|_| ApiError::entropy_unavailable())?;
    Ok(id)
}

/// WebCrypto's name for the algorithm, for `importKey` and for `verify`.
fn parameters(algorithm: Algorithm) -> (&'static str, &'static str) {
    match algorithm {
        Algorithm::Es256 => (
            r#"{"name":"ECDSA","namedCurve":"P-256"}"#,
            r#"{"name":"ECDSA","hash":"SHA-256"}"#,
        ),
        _ => (
            r#"{"name":"RSASSA-PKCS1-v1_5","hash":"SHA-256"}"#,
            r#"{"name":"RSASSA-PKCS1-v1_5"}"#,
        ),
    }
}

fn object(json: &str) -> Result<Object, JsValue> {
    Ok(JSON::parse(json)?.unchecked_into())
}

/// The JWK's public key, imported for `verify` only.
pub(crate) async fn import(jwk: &Jwk) -> Result<CryptoKey, JsValue> {
    let subtle = crypto().ok_or(JsValue::NULL)?.subtle();
    let usages = Array::of1(&JsValue::from_str("verify"));
    let promise = subtle.import_key_with_object(
        "jwk",
        &object(&jwk.public_json)?,
        &object(parameters(jwk.algorithm).0)?,
        false,
        &usages,
    )?;
    Ok(JsFuture::from(promise).await?.unchecked_into())
}

/// WebCrypto's verdict on `signature` over `data`.
pub(crate) async fn verify(
    key: &CryptoKey,
    algorithm: Algorithm,
    signature: &[u8],
    data: &[u8],
) -> Result<bool, JsValue> {
    let subtle = crypto().ok_or(JsValue::NULL)?.subtle();
    let promise = subtle.verify_with_object_and_u8_array_and_u8_array(
        &object(parameters(algorithm).1)?,
        key,
        signature,
        data,
    )?;
    Ok(JsFuture::from(promise).await?.as_bool() == Some(true))
}
