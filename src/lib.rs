//! edge-presign: a Cloudflare Worker that signs S3 POST forms so browsers upload straight to
//! a bucket. The modules below are plain Rust, tested natively; the `shell` at the bottom is
//! the only code that touches the Workers runtime (and only exists on wasm32).

pub mod api;
pub mod auth;
pub mod config;
pub mod form;
pub mod json;
pub mod key;
pub mod media_type;
// Not wired into a route yet; built natively only so it cannot sway the wasm's codegen (it
// did, by 0.1 KiB, through inlining decisions) until a route uses it.
#[cfg(not(target_arch = "wasm32"))]
pub mod multipart;
pub mod object_url;
pub mod policy;
pub mod presign;
pub mod sigv4;

/// Cases per property test: 2,000 by default; `FUZZ_CASES=200000 cargo test --release` fuzzes
/// the request parser and key sanitiser for minutes instead of seconds.
#[cfg(all(test, not(target_arch = "wasm32")))]
fn fuzz_cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000)
}

// Single-threaded wasm (no `atomics`), as the Workers runtime runs it.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(target_arch = "wasm32")]
mod shell {
    use std::cell::{OnceCell, RefCell};

    use js_sys::{Array, ArrayBuffer, Function, Promise, Reflect, Uint8Array};
    use time::UtcDateTime;
    use wasm_bindgen::prelude::{wasm_bindgen, Closure};
    use wasm_bindgen::{JsCast, JsValue, UnwrapThrowExt};
    use web_sys::{Headers, Response, ResponseInit};

    use crate::api::{self, ApiError, MAX_BODY_BYTES};
    use crate::config::{Config, ConfigError, Setting};
    use crate::presign::Presigner;

    /// The worker's bindings (`[vars]`, secrets, `ASSETS`): a plain JS object.
    type Env = JsValue;

    const VERSION: &str = env!("CARGO_PKG_VERSION");
    const PREFLIGHT_MAX_AGE_SECONDS: &str = "86400";
    const ALLOW_UPLOADS: &str = "POST, OPTIONS";
    const ALLOW_DOWNLOADS: &str = "GET, OPTIONS";
    /// `GET /downloads/{key}`, the key percent-encoded as in any URL path.
    const DOWNLOADS_PATH: &str = "/downloads/";
    const ALLOW_READ: &str = "GET, HEAD";
    /// The Workers Static Assets binding that serves `web/` (wrangler.toml `[assets]`).
    const ASSETS_BINDING: &str = "ASSETS";
    /// 2020-01-01T00:00:00Z in milliseconds: a clock reading before it is no clock at all.
    const EARLIEST_PLAUSIBLE_MILLIS: f64 = 1_577_836_800_000.0;

    /// Settings parsed once per isolate (as the seed's Lambda keeps its boto3 client), with
    /// the day's signing key inside. Env only changes with a deploy, which starts new isolates.
    type State = RefCell<Result<Presigner, ConfigError>>;

    thread_local! {
        static STATE: OnceCell<&'static State> = const { OnceCell::new() };
    }

    /// The isolate's state, read from the settings on first use. Kept for the isolate's life
    /// (hence leaked once). No borrow of it is ever held across an `await`.
    fn isolate_state(env: &Env) -> &'static State {
        STATE.with(|cell| {
            *cell.get_or_init(|| {
                let state =
                    Config::from_settings(|name| read_setting(env, name)).map(Presigner::new);
                Box::leak(Box::new(RefCell::new(state)))
            })
        })
    }

    /// A `[vars]` value or secret as text. TOML numbers, booleans and lists of strings mean what
    /// they plainly say (`UPLOAD_MAX_BYTES = 1048576`, `UPLOAD_ALLOWED_TYPES = ["image/png"]`);
    /// anything else (a table, a fraction) is reported by name rather than silently replaced
    /// by the default.
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
            let mut list = String::new();
            for item in Array::from(&value).iter() {
                let Some(item) = item.as_string() else {
                    return Setting::NotText;
                };
                if !list.is_empty() {
                    list.push(',');
                }
                list.push_str(&item);
            }
            Setting::Text(list)
        } else {
            Setting::NotText
        }
    }

    /// The Workers `fetch` handler (`scripts/worker-entry.mjs` calls it). It is not an
    /// `async fn`: most answers are ready at once, and `POST /uploads` needs one await (the
    /// body), done as a single `then` on the runtime's own promise, with no Rust executor.
    #[wasm_bindgen]
    pub fn fetch(req: web_sys::Request, env: Env, _ctx: JsValue) -> Promise {
        match handle(req, env) {
            Reply::Now(response) => Promise::resolve(&JsValue::from(response)),
            Reply::Later(promise) => promise,
        }
    }

    #[wasm_bindgen]
    extern "C" {
        /// A promise seen only for its `then`.
        type Thenable;

        /// `promise.then(settled, settled)`: one callback for both outcomes, so the one-shot
        /// closure behind it is always called, and so always freed.
        #[wasm_bindgen(method, js_name = then)]
        fn then_settled(this: &Thenable, on_fulfilled: &JsValue, on_rejected: &JsValue) -> Promise;
    }

    /// A response now, or a promise of one.
    enum Reply {
        Now(Response),
        Later(Promise),
    }

    fn handle(req: web_sys::Request, env: Env) -> Reply {
        let state = isolate_state(&env);
        let url = req.url();
        let (origin, path) = split_url(&url);
        let headers = req.headers();
        let grant = grant_for(&headers, origin, state);
        let method = req.method();
        let answer = match path {
            "/uploads" => match method.as_str() {
                "POST" => return uploads(req, &headers, grant, state),
                "OPTIONS" => return Reply::Now(preflight(&grant, state, ALLOW_UPLOADS)),
                _ => Err(ApiError::method_not_allowed(ALLOW_UPLOADS)),
            },
            _ if path.starts_with(DOWNLOADS_PATH) => match method.as_str() {
                "GET" => download(&path[DOWNLOADS_PATH.len()..], &grant, state),
                "OPTIONS" => return Reply::Now(preflight(&grant, state, ALLOW_DOWNLOADS)),
                _ => Err(ApiError::method_not_allowed(ALLOW_DOWNLOADS)),
            },
            "/healthz" => match method.as_str() {
                "GET" | "HEAD" => {
                    let (status, body) = api::health(state.borrow().as_ref().map(|_| ()), VERSION);
                    Ok(Json { status, body })
                }
                _ => Err(ApiError::method_not_allowed(ALLOW_READ)),
            },
            // The client module and its types always (pages on other origins import them);
            // everything else in web/ (the demo page, examples) only when DEMO_PAGE is on.
            _ if method == "GET" || method == "HEAD" => {
                let public = matches!(path, "/client.js" | "/client.d.ts");
                let demo_on = state.borrow().as_ref().is_ok_and(|p| p.config().demo_page);
                if public || demo_on {
                    return static_asset(&req, &env, grant);
                }
                Err(ApiError::not_found())
            }
            _ => Err(ApiError::not_found()),
        };
        Reply::Now(answer_response(answer, &grant))
    }

    fn answer_response(answer: Result<Json, ApiError>, grant: &Grant) -> Response {
        match answer {
            Ok(Json { status, body }) => json_response(status, body, grant, None),
            Err(error) => error_response(&error, grant),
        }
    }

    /// `scheme://host[:port]` and the path of the request URL, without parsing it (the `url`
    /// crate costs about 60 KB of wasm): the runtime hands us a WHATWG serialisation, whose
    /// authority ends at the first `/` after `://` (default ports omitted, as in `Origin`)
    /// and whose path ends at `?` or `#`.
    fn split_url(url: &str) -> (&str, &str) {
        // (A WHATWG URL's scheme has no ':', and `://` follows it for http and https.)
        let authority_start = url.find(':').map_or(0, |i| i + 3).min(url.len());
        let path_start = url[authority_start..]
            .find('/')
            .map_or(url.len(), |i| authority_start + i);
        let (origin, rest) = url.split_at(path_start);
        let path = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
        (origin, if path.is_empty() { "/" } else { path })
    }

    fn header(headers: &Headers, name: &str) -> Option<String> {
        headers.get(name).ok().flatten()
    }

    /// A JSON answer that is not an error.
    struct Json {
        status: u16,
        body: String,
    }

    /// `POST /uploads`: settings, origin, media type and size are checked before the body is
    /// read. A declared length is read in one call; a chunked body is streamed up to the limit.
    fn uploads(
        req: web_sys::Request,
        headers: &Headers,
        grant: Grant,
        state: &'static State,
    ) -> Reply {
        let declared = match check_upload_request(headers, &grant, state) {
            Ok(declared) => declared,
            Err(e) => return Reply::Now(error_response(&e, &grant)),
        };
        match declared {
            Some(length) if length > MAX_BODY_BYTES => {
                Reply::Now(error_response(&ApiError::body_too_large(), &grant))
            }
            Some(_) => {
                let Ok(read) = req.array_buffer() else {
                    return Reply::Now(error_response(&ApiError::body_unreadable(), &grant));
                };
                // The isolate's one finisher, bound to this request's CORS grant.
                let origin = match &grant {
                    Grant::CrossOrigin(origin) => JsValue::from_str(origin),
                    _ => JsValue::UNDEFINED,
                };
                let settled: JsValue = upload_finisher().bind1(&JsValue::NULL, &origin).into();
                let read: &Thenable = read.unchecked_ref();
                Reply::Later(read.then_settled(&settled, &settled))
            }
            // No body at all (a bare POST) has no stream: an empty body, so `invalid_json`.
            None => match req.body() {
                None => Reply::Now(answer_response(sign_uploads(&[], state), &grant)),
                Some(stream) => Reply::Later(read_chunks(StreamedUpload {
                    reader: stream.get_reader().unchecked_into(),
                    body: Vec::new(),
                    grant,
                    state,
                })),
            },
        }
    }

    /// Finishes `POST /uploads` once its body has settled: `(origin or undefined, body or
    /// error) -> Response`. One closure for the isolate, bound per request: a closure per
    /// request would cost an allocation, a finalizer registration and garbage every time.
    fn upload_finisher() -> Function {
        thread_local! {
            static FINISH: Closure<dyn FnMut(JsValue, JsValue) -> JsValue> =
                Closure::new(|origin: JsValue, value: JsValue| -> JsValue {
                    let grant = origin.as_string().map_or(Grant::NotNeeded, Grant::CrossOrigin);
                    // The runtime holds the body to its declared length; check it anyway.
                    let body = match value.dyn_ref::<ArrayBuffer>() {
                        Some(buffer) if buffer.byte_length() as usize <= MAX_BODY_BYTES => {
                            Ok(Uint8Array::new(buffer).to_vec())
                        }
                        Some(_) => Err(ApiError::body_too_large()),
                        None => Err(ApiError::body_unreadable()),
                    };
                    // The state exists: this request read it before its body was awaited.
                    let state = STATE.with(|cell| cell.get().copied());
                    let answer = match (body, state) {
                        (Ok(body), Some(state)) => sign_uploads(&body, state),
                        (Err(e), _) => Err(e),
                        (Ok(_), None) => Err(ApiError::body_unreadable()),
                    };
                    answer_response(answer, &grant).into()
                });
        }
        FINISH.with(|finish| finish.as_ref().unchecked_ref::<Function>().clone())
    }

    /// Usable settings and an allowed origin: what every signing route needs first.
    fn admit(grant: &Grant, state: &State) -> Result<(), ApiError> {
        if let Err(e) = state.borrow().as_ref() {
            return Err(ApiError::misconfigured(e));
        }
        if matches!(grant, Grant::Refused) {
            return Err(ApiError::origin_not_allowed());
        }
        Ok(())
    }

    /// `GET /downloads/{key}`: a presigned GET, only for keys under the prefix.
    fn download(encoded_key: &str, grant: &Grant, state: &State) -> Result<Json, ApiError> {
        admit(grant, state)?;
        // The runtime's own decoder: it refuses malformed escapes and invalid UTF-8.
        let key = js_sys::decode_uri_component(encoded_key)
            .ok()
            .and_then(|key| key.as_string())
            .ok_or_else(ApiError::invalid_key)?;
        let now = now()?;
        let mut state = state.borrow_mut();
        let presigner = state.as_mut().map_err(|e| ApiError::misconfigured(e))?;
        let body = api::handle_download(presigner, &key, now)?;
        Ok(Json { status: 200, body })
    }

    /// Everything that can be refused before the body is read; the declared length, if any.
    fn check_upload_request(
        headers: &Headers,
        grant: &Grant,
        state: &State,
    ) -> Result<Option<usize>, ApiError> {
        admit(grant, state)?;
        let content_type = header(headers, "Content-Type");
        if !api::is_json_content_type(content_type.as_deref()) {
            return Err(ApiError::unsupported_media_type());
        }
        Ok(header(headers, "Content-Length").and_then(|n| n.parse::<usize>().ok()))
    }

    /// One borrow of the isolate's state signs every form of the request.
    fn sign_uploads(body: &[u8], state: &State) -> Result<Json, ApiError> {
        let now = now()?;
        let crypto = crypto();
        // 16 fresh bytes per key. `getRandomValues` reports failure as a value, never a
        // throw, so nothing unwinds while the state is borrowed; a failed draw voids the answer.
        let mut entropy_failed = false;
        let mut state = state.borrow_mut();
        let presigner = state.as_mut().map_err(|e| ApiError::misconfigured(e))?;
        let body = api::handle_uploads(presigner, body, now, || {
            let mut id = [0u8; 16];
            let drawn = crypto
                .as_ref()
                .is_some_and(|c| c.get_random_values_with_u8_array(&mut id).is_ok());
            entropy_failed |= !drawn;
            id
        });
        if entropy_failed {
            return Err(ApiError::entropy_unavailable());
        }
        Ok(Json {
            status: 200,
            body: body?,
        })
    }

    /// A body without a declared length, read chunk by chunk.
    struct StreamedUpload {
        reader: web_sys::ReadableStreamDefaultReader,
        body: Vec<u8>,
        grant: Grant,
        state: &'static State,
    }

    /// Reads the next chunk; signs at the end, refuses once past `MAX_BODY_BYTES`.
    fn read_chunks(mut upload: StreamedUpload) -> Promise {
        let step: Thenable = upload.reader.read().unchecked_into();
        let settled = Closure::once_into_js(move |step: JsValue| -> JsValue {
            let field = |name: &str| Reflect::get(&step, &JsValue::from_str(name)).ok();
            // A read result has a boolean `done`; a rejection settles with an error, which has
            // none (and must end the loop, not read again from a failed stream).
            let answer = match field("done").and_then(|done| done.as_bool()) {
                Some(true) => sign_uploads(&upload.body, upload.state),
                Some(false) => {
                    let chunk = Uint8Array::new(&field("value").unwrap_or_default());
                    if upload.body.len() + chunk.length() as usize > MAX_BODY_BYTES {
                        let _ = upload.reader.cancel();
                        Err(ApiError::body_too_large())
                    } else {
                        upload.body.extend_from_slice(&chunk.to_vec());
                        // A promise returned from `then` is chained: read on.
                        return read_chunks(upload).into();
                    }
                }
                _ => Err(ApiError::body_unreadable()),
            };
            answer_response(answer, &upload.grant).into()
        });
        step.then_settled(&settled, &settled)
    }

    fn preflight(grant: &Grant, state: &State, methods: &str) -> Response {
        if let Err(e) = state.borrow().as_ref() {
            return error_response(&ApiError::misconfigured(e), grant);
        }
        match grant {
            Grant::CrossOrigin(origin) => {
                let headers = headers(&[
                    ("Access-Control-Allow-Origin", origin),
                    ("Access-Control-Allow-Methods", methods),
                    ("Access-Control-Allow-Headers", "Content-Type"),
                    ("Access-Control-Max-Age", PREFLIGHT_MAX_AGE_SECONDS),
                    ("Vary", "Origin"),
                ]);
                respond(204, &headers, None)
            }
            // Same origin or no Origin: nothing to grant.
            Grant::NotNeeded => respond(204, &headers(&[]), None),
            Grant::Refused => error_response(&ApiError::origin_not_allowed(), grant),
        }
    }

    /// `web/` through the Static Assets binding (its `fetch`, called directly), with CORS
    /// for allowed origins added.
    fn static_asset(req: &web_sys::Request, env: &Env, grant: Grant) -> Reply {
        let missing = || {
            ApiError::new(
                api::ErrorCode::NotFound,
                "static files are not deployed with this worker ([assets] in wrangler.toml)",
            )
        };
        let Ok(fetched) = fetch_asset(req, env) else {
            return Reply::Now(error_response(&missing(), &grant));
        };
        let settled = Closure::once_into_js(move |value: JsValue| -> JsValue {
            let Ok(response) = value.dyn_into::<Response>() else {
                return error_response(&missing(), &grant).into();
            };
            if response.status() == 404 {
                return error_response(&ApiError::not_found(), &grant).into();
            }
            let Grant::CrossOrigin(origin) = &grant else {
                return response.into();
            };
            // A fetched response's headers are immutable: answer with a copy.
            let Ok(copy) = Headers::new_with_headers(&response.headers()) else {
                return response.into();
            };
            let _ = copy.set("Access-Control-Allow-Origin", origin);
            let _ = copy.append("Vary", "Origin");
            let init = ResponseInit::new();
            init.set_status(response.status());
            init.set_headers(&copy);
            Response::new_with_opt_readable_stream_and_init(response.body().as_ref(), &init)
                .unwrap_or(response)
                .into()
        });
        Reply::Later(fetched.then_settled(&settled, &settled))
    }

    fn fetch_asset(req: &web_sys::Request, env: &Env) -> Result<Thenable, JsValue> {
        let assets = Reflect::get(env, &JsValue::from_str(ASSETS_BINDING))?;
        let fetch: Function = Reflect::get(&assets, &JsValue::from_str("fetch"))?.dyn_into()?;
        Ok(fetch.call1(&assets, req)?.unchecked_into())
    }

    fn error_response(error: &ApiError, grant: &Grant) -> Response {
        // Status and code only: messages may quote user input, and nothing here may ever
        // carry a secret or a signed policy into the logs.
        web_sys::console::log_3(
            &JsValue::from_str("error"),
            &JsValue::from(error.status()),
            &JsValue::from_str(error.code.as_str()),
        );
        json_response(error.status(), error.to_json(), grant, error.header)
    }

    /// The one place a JSON answer is built: its headers all at once, CORS when granted.
    fn json_response(
        status: u16,
        body: String,
        grant: &Grant,
        extra: Option<(&str, &str)>,
    ) -> Response {
        let mut body = body.into_bytes();
        if status == 200 && extra.is_none() && matches!(grant, Grant::NotNeeded) {
            // The common answer: its status and headers never change, so they are built once
            // per isolate (the runtime copies them into each response).
            thread_local! {
                static PLAIN_200: ResponseInit = {
                    let init = ResponseInit::new();
                    init.set_status(200);
                    init.set_headers(&json_headers());
                    init
                };
            }
            return PLAIN_200.with(|init| {
                Response::new_with_opt_u8_array_and_init(Some(&mut body), init)
                    .ok()
                    .unwrap_throw()
            });
        }
        let headers = json_headers();
        if let Grant::CrossOrigin(origin) = grant {
            let _ = headers.set("Access-Control-Allow-Origin", origin);
            let _ = headers.set("Vary", "Origin");
        }
        if let Some((name, value)) = extra {
            let _ = headers.set(name, value);
        }
        respond(status, &headers, Some(&mut body))
    }

    fn json_headers() -> Headers {
        headers(&[
            ("Content-Type", "application/json; charset=utf-8"),
            // A signed form is a short-lived credential: never cache it.
            ("Cache-Control", "no-store"),
        ])
    }

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        let headers = Headers::new().ok().unwrap_throw();
        for (name, value) in pairs {
            let _ = headers.set(name, value);
        }
        headers
    }

    /// The body goes over as bytes (the runtime copies them), not as a JS string that would
    /// be decoded from UTF-8 only to be encoded again.
    fn respond(status: u16, headers: &Headers, body: Option<&mut [u8]>) -> Response {
        let init = ResponseInit::new();
        init.set_status(status);
        init.set_headers(headers);
        Response::new_with_opt_u8_array_and_init(body, &init)
            .ok()
            .unwrap_throw()
    }

    /// What CORS allows for this request, worked out once per request.
    enum Grant {
        /// No `Origin` header, the worker's own origin, or settings too broken to say.
        NotNeeded,
        CrossOrigin(String),
        Refused,
    }

    fn grant_for(headers: &Headers, own_origin: &str, state: &State) -> Grant {
        let Some(origin) = header(headers, "Origin") else {
            return Grant::NotNeeded;
        };
        if own_origin.eq_ignore_ascii_case(&origin) {
            return Grant::NotNeeded;
        }
        match state.borrow().as_ref() {
            Ok(p) if p.config().allowed_origins.allows(&origin) => Grant::CrossOrigin(origin),
            Ok(_) => Grant::Refused,
            Err(_) => Grant::NotNeeded,
        }
    }

    /// The runtime's `crypto` (its CSPRNG), looked up once per isolate.
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

    /// The signing time. A clock that reads before 2020 is not one: answer 500 rather than
    /// sign for 1970.
    fn now() -> Result<UtcDateTime, ApiError> {
        let millis = js_sys::Date::now();
        if millis.is_nan() || millis < EARLIEST_PLAUSIBLE_MILLIS {
            return Err(ApiError::clock_unavailable());
        }
        let seconds = (millis / 1000.0) as i64;
        UtcDateTime::from_unix_timestamp(seconds).map_err(|_| ApiError::clock_unavailable())
    }
}
