//! The guarded path of `POST /uploads`: who is calling (bearer tokens, HS256 here and
//! RS256/ES256 through WebCrypto with the identity provider's JWKS) and how often (the
//! `UPLOAD_RATE_LIMITER` binding). The rules live in `crate::auth`; this is only the I/O.

use std::cell::RefCell;

use worker::js_sys::{self, Array, Function, Object, Reflect, Uint8Array, JSON};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{self, CryptoKey};
use worker::Env;

use crate::api::ApiError;
use crate::auth::{self, Algorithm, AuthError, Caller, Jwk, JwksAction, JwksCache, Token};
use crate::config::JwksSettings;

/// The binding `[[ratelimits]]` in wrangler.toml declares.
const RATE_LIMITER_BINDING: &str = "UPLOAD_RATE_LIMITER";
/// The binding's window; a refused caller may try again after it.
const RATE_LIMIT_PERIOD: &str = "60";

thread_local! {
    /// The identity provider's keys, kept per isolate for their `max-age`.
    static JWKS: RefCell<JwksCache> = RefCell::new(JwksCache::default());
    /// Keys already imported into WebCrypto, by their public JWK.
    static IMPORTED: RefCell<Vec<(String, CryptoKey)>> = const { RefCell::new(Vec::new()) };
    /// Whether the missing-binding notice was logged in this isolate.
    static UNLIMITED_LOGGED: RefCell<bool> = const { RefCell::new(false) };
}

/// The caller a request's `Authorization` header proves, or `None` when auth is off.
pub async fn authenticate(
    authorization: Option<&str>,
    hs256: Option<&auth::HmacKey>,
    jwks: Option<&JwksSettings>,
    now: i64,
) -> Result<Option<Caller>, ApiError> {
    if hs256.is_none() && jwks.is_none() {
        return Ok(None);
    }
    let token = auth::parse_token(auth::bearer_token(authorization)?)?;
    let caller = match token.algorithm {
        Algorithm::Hs256 => {
            let key = hs256.ok_or(AuthError::AlgorithmNotConfigured)?;
            key.verify(&token)?;
            auth::check_claims(&token.claims, now, None)?
        }
        Algorithm::Rs256 | Algorithm::Es256 => {
            let settings = jwks.ok_or(AuthError::AlgorithmNotConfigured)?;
            verify_with_jwks(&token, settings, now).await?;
            auth::check_claims(&token.claims, now, Some(&settings.rules))?
        }
    };
    Ok(Some(caller))
}

async fn verify_with_jwks(
    token: &Token<'_>,
    settings: &JwksSettings,
    now: i64,
) -> Result<(), AuthError> {
    let action = JWKS.with(|cache| cache.borrow().action_for(token, now));
    if action == JwksAction::Fetch {
        JWKS.with(|cache| cache.borrow_mut().note_fetch(now));
        match fetch_jwks(&settings.url).await {
            Ok((keys, ttl)) => {
                JWKS.with(|cache| cache.borrow_mut().store(keys, now, ttl));
                IMPORTED.with(|imported| imported.borrow_mut().clear());
            }
            // Without fresh keys nothing is verified: 503, never a pass.
            Err(_) if !JWKS.with(|cache| cache.borrow().is_fresh(now)) => {
                return Err(AuthError::KeysUnavailable)
            }
            // A refetch for an unknown kid failed; the fresh cache still decides.
            Err(_) => {}
        }
    }
    let jwk = JWKS.with(|cache| auth::select_key(cache.borrow().keys(), token).cloned())?;
    let signature = auth::webcrypto_signature(token)?;
    let subtle = subtle().ok_or(AuthError::KeysUnavailable)?;
    let key = imported_key(&subtle, &jwk).await?;
    let (verify_params, _) = webcrypto_params(jwk.algorithm);
    let verified = subtle
        .verify_with_object_and_u8_array_and_u8_array(
            &verify_params,
            &key,
            signature,
            token.signing_input.as_bytes(),
        )
        .map_err(|_| AuthError::BadSignature)?;
    let verified = JsFuture::from(verified)
        .await
        .map_err(|_| AuthError::BadSignature)?;
    if verified.as_bool() == Some(true) {
        Ok(())
    } else {
        Err(AuthError::BadSignature)
    }
}

/// `(verify params, import params)` for WebCrypto.
fn webcrypto_params(algorithm: Algorithm) -> (Object, Object) {
    let (verify, import) = match algorithm {
        Algorithm::Es256 => (
            r#"{"name":"ECDSA","hash":"SHA-256"}"#,
            r#"{"name":"ECDSA","namedCurve":"P-256"}"#,
        ),
        _ => (
            r#"{"name":"RSASSA-PKCS1-v1_5"}"#,
            r#"{"name":"RSASSA-PKCS1-v1_5","hash":"SHA-256"}"#,
        ),
    };
    let parse = |json: &str| {
        JSON::parse(json)
            .map(JsCast::unchecked_into)
            .unwrap_or_default()
    };
    (parse(verify), parse(import))
}

fn subtle() -> Option<web_sys::SubtleCrypto> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).ok()?;
    crypto
        .is_object()
        .then(|| crypto.unchecked_into::<web_sys::Crypto>().subtle())
}

async fn imported_key(subtle: &web_sys::SubtleCrypto, jwk: &Jwk) -> Result<CryptoKey, AuthError> {
    let cached = IMPORTED.with(|imported| {
        imported
            .borrow()
            .iter()
            .find(|(public, _)| *public == jwk.public_json)
            .map(|(_, key)| key.clone())
    });
    if let Some(key) = cached {
        return Ok(key);
    }
    let unusable = |_| AuthError::KeysUnavailable;
    let key_data: Object = JSON::parse(&jwk.public_json)
        .map_err(unusable)?
        .unchecked_into();
    let (_, import_params) = webcrypto_params(jwk.algorithm);
    let usages = Array::of1(&JsValue::from_str("verify"));
    let promise = subtle
        .import_key_with_object("jwk", &key_data, &import_params, false, &usages)
        .map_err(unusable)?;
    let key: CryptoKey = JsFuture::from(promise)
        .await
        .map_err(unusable)?
        .unchecked_into();
    IMPORTED.with(|imported| {
        imported
            .borrow_mut()
            .push((jwk.public_json.clone(), key.clone()))
    });
    Ok(key)
}

/// GETs the JWKS: its usable keys and how long to keep them.
async fn fetch_jwks(url: &str) -> Result<(Vec<Jwk>, i64), AuthError> {
    let unavailable = |_| AuthError::KeysUnavailable;
    let global = js_sys::global();
    let fetch: Function = Reflect::get(&global, &JsValue::from_str("fetch"))
        .map_err(unavailable)?
        .dyn_into()
        .map_err(|_| AuthError::KeysUnavailable)?;
    let pending: js_sys::Promise = fetch
        .call1(&global, &JsValue::from_str(url))
        .map_err(unavailable)?
        .unchecked_into();
    let response: web_sys::Response = JsFuture::from(pending)
        .await
        .map_err(unavailable)?
        .unchecked_into();
    if !response.ok() {
        return Err(AuthError::KeysUnavailable);
    }
    let cache_control = response.headers().get("Cache-Control").ok().flatten();
    let body = JsFuture::from(response.array_buffer().map_err(unavailable)?)
        .await
        .map_err(unavailable)?;
    let keys = auth::parse_jwks(&Uint8Array::new(&body).to_vec())?;
    Ok((keys, auth::jwks_ttl(cache_control.as_deref())))
}

/// The isolate's rate limiter binding, if deployed with one.
fn rate_limiter(env: &Env) -> Option<JsValue> {
    let limiter = Reflect::get(env, &JsValue::from_str(RATE_LIMITER_BINDING)).ok()?;
    if limiter.is_object() {
        return Some(limiter);
    }
    UNLIMITED_LOGGED.with(|logged| {
        if !logged.replace(true) {
            web_sys::console::log_1(&JsValue::from_str(
                "no UPLOAD_RATE_LIMITER binding: requests are not rate limited",
            ));
        }
    });
    None
}

/// True when this isolate has a rate limiter (so requests take the guarded path).
pub fn has_rate_limiter(env: &Env) -> bool {
    rate_limiter(env).is_some()
}

/// One request against the caller's budget: keyed by the token's subject when there is one,
/// else by the client IP. A limiter that fails lets the request through (and says so in the
/// log): an outage of the limiter must not become an outage of uploads.
pub async fn check_rate_limit(env: &Env, key: &str) -> Result<(), ApiError> {
    let Some(limiter) = rate_limiter(env) else {
        return Ok(());
    };
    let outcome = async {
        let limit: Function = Reflect::get(&limiter, &JsValue::from_str("limit"))?.dyn_into()?;
        let options = Object::new();
        Reflect::set(&options, &JsValue::from_str("key"), &JsValue::from_str(key))?;
        let pending: js_sys::Promise = limit.call1(&limiter, &options)?.unchecked_into();
        let outcome = JsFuture::from(pending).await?;
        Reflect::get(&outcome, &JsValue::from_str("success"))
    }
    .await;
    match outcome.map(|success| success.as_bool()) {
        Ok(Some(false)) => Err(ApiError::rate_limited(RATE_LIMIT_PERIOD)),
        Ok(_) => Ok(()),
        Err(_) => {
            web_sys::console::log_1(&JsValue::from_str("rate limiter failed; request allowed"));
            Ok(())
        }
    }
}
