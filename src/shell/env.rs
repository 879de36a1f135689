//! The worker's bindings, typed, and the state kept per isolate.

use std::cell::{OnceCell, RefCell};

use js_sys::{Array, Promise, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

use crate::auth::JwksCache;
use crate::config::{Config, ConfigError, Setting};
use crate::presign::Presigner;

#[wasm_bindgen]
extern "C" {
    /// The worker's `env`: `[vars]` and secrets by name, and the bindings below.
    pub type Env;

    /// Workers Static Assets (`[assets]` in wrangler.toml): serves `web/`.
    #[wasm_bindgen(method, getter, js_name = ASSETS)]
    pub fn assets(this: &Env) -> Option<Fetcher>;

    /// The rate-limiting binding (`[[ratelimits]]` in wrangler.toml), when there is one.
    #[wasm_bindgen(method, getter, js_name = UPLOAD_RATE_LIMITER)]
    pub fn rate_limiter(this: &Env) -> Option<RateLimiter>;

    pub type Fetcher;

    #[wasm_bindgen(method, catch)]
    pub fn fetch(this: &Fetcher, request: &web_sys::Request) -> Result<Promise, JsValue>;

    pub type RateLimiter;

    /// `limit({key})`, resolving to `{success}`.
    #[wasm_bindgen(method, catch)]
    pub fn limit(this: &RateLimiter, options: &JsValue) -> Result<Promise, JsValue>;
}

/// What an isolate keeps between requests: the settings with the day's signing key (as the
/// seed's Lambda keeps its boto3 client), and the identity provider's keys. Env only changes
/// with a deploy, which starts new isolates, so the settings are read-only once parsed; the
/// day's signing key and the JWKS sit in their own small cells (no borrow held across an
/// `await`).
pub(crate) struct State {
    pub presigner: Result<Presigner, ConfigError>,
    pub jwks: RefCell<Jwks>,
}

/// The JWKS and, beside each of its keys, the key as WebCrypto imported it.
#[derive(Default)]
pub(crate) struct Jwks {
    pub cache: JwksCache,
    pub imported: Vec<Option<web_sys::CryptoKey>>,
    /// Counts fetched sets, so a key imported for an old set is not kept beside a new one.
    pub generation: u64,
}

thread_local! {
    static STATE: OnceCell<&'static State> = const { OnceCell::new() };
}

/// The isolate's state, read from the settings on first use and kept for the isolate's life
/// (hence leaked once).
pub(crate) fn isolate_state(env: &Env) -> &'static State {
    STATE.with(|cell| {
        *cell.get_or_init(|| {
            let presigner =
                Config::from_settings(|name| read_setting(env, name)).map(Presigner::new);
            Box::leak(Box::new(State {
                presigner,
                jwks: RefCell::default(),
            }))
        })
    })
}

/// A `[vars]` value or secret. TOML numbers, booleans and lists of strings mean what they
/// plainly say (`UPLOAD_MAX_BYTES = 1048576`, `UPLOAD_ALLOWED_TYPES = ["image/png"]`), a table
/// is its JSON (only `UPLOAD_PROFILES` takes one); anything else (a fraction) is reported by
/// name rather than silently replaced by the default.
fn read_setting(env: &Env, name: &str) -> Setting {
    let Ok(value) = Reflect::get(env, &JsValue::from_str(name)) else {
        return Setting::Unset;
    };
    if value.is_undefined() || value.is_null() {
        Setting::Unset
    } else if let Some(text) = value.as_string() {
        Setting::Text(text)
    } else if let Some(flag) = value.as_bool() {
        Setting::Text(if flag { "true" } else { "false" }.into())
    } else if let Some(number) = value.as_f64() {
        // Every numeric setting is a whole number; printing it as an integer also keeps
        // float formatting (14 KB of wasm) out of the build.
        let whole = number.fract() == 0.0 && number.abs() < 9.0e15;
        if whole {
            Setting::Text((number as i64).to_string())
        } else {
            Setting::NotText
        }
    } else if Array::is_array(&value) {
        let items: Option<Vec<String>> =
            Array::from(&value).iter().map(|i| i.as_string()).collect();
        items.map_or(Setting::NotText, Setting::List)
    } else if value.is_object() {
        // A TOML table (`[vars.UPLOAD_PROFILES]`): read as the JSON it arrives as.
        js_sys::JSON::stringify(&value)
            .ok()
            .and_then(|json| json.as_string())
            .map_or(Setting::NotText, Setting::Json)
    } else {
        Setting::NotText
    }
}

/// True where the end-to-end tests switched their trap route on; never set in production.
pub(crate) fn test_trap_enabled(env: &Env) -> bool {
    Reflect::get(env, &JsValue::from_str("EDGE_PRESIGN_TEST_TRAP"))
        .ok()
        .and_then(|v| v.as_string())
        .is_some_and(|v| v == "true")
}
