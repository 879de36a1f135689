//! The rate limit: the `UPLOAD_RATE_LIMITER` binding asked about each signing request. Whose
//! count a request is (`crate::rate_limit::key`) is decided in the core.

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::rate_limit;

use super::env::RateLimiter;
use super::Call;

/// The `UPLOAD_RATE_LIMITER` binding's verdict, keyed by the token's `sub`, else by the
/// client's address (an IPv6 one by its /64: [`rate_limit::key`]). It counts per Cloudflare
/// location and approximately: it slows a burst, it is no quota. Without the binding (or if it fails) the worker runs unlimited.
pub(crate) async fn check(call: &Call, caller: Option<&Caller>) -> Result<(), ApiError> {
    let Some(limiter) = rate_limiter(call) else {
        return Ok(());
    };
    let client_ip = call.header("CF-Connecting-IP");
    let key = rate_limit::key(caller.map(Caller::sub), client_ip.as_deref());
    let options = Object::new();
    let _ = Reflect::set(
        &options,
        &JsValue::from_str("key"),
        &JsValue::from_str(&key),
    );
    let Ok(pending) = limiter.limit(&options) else {
        return Ok(());
    };
    let outcome = JsFuture::from(pending).await.unwrap_or_default();
    let allowed = Reflect::get(&outcome, &JsValue::from_str("success")).ok();
    if allowed.and_then(|v| v.as_bool()) == Some(false) {
        let period = call
            .state
            .presigner
            .as_ref()
            .map_or(60, |p| p.config().rate_limit_period);
        return Err(ApiError::rate_limited(period));
    }
    Ok(())
}

/// The binding, if the worker has one: looked for once per isolate (bindings change only with
/// a deploy), and its absence logged once.
fn rate_limiter(call: &Call) -> Option<RateLimiter> {
    thread_local! {
        static PRESENT: std::cell::OnceCell<bool> = const { std::cell::OnceCell::new() };
    }
    let present = PRESENT.with(|present| {
        *present.get_or_init(|| {
            let found = call.env.rate_limiter().is_some();
            if !found {
                web_sys::console::warn_1(&JsValue::from_str(
                    "edge-presign: no UPLOAD_RATE_LIMITER binding; requests are not rate limited",
                ));
            }
            found
        })
    });
    present.then(|| call.env.rate_limiter()).flatten()
}
