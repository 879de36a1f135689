//! edge-presign: a Cloudflare Worker that signs S3 POST forms so browsers upload straight to
//! a bucket. The modules below are plain Rust, tested natively; the `shell` at the bottom is
//! the only code that touches the Workers runtime (and only exists on wasm32).

pub mod api;
pub mod config;
pub mod form;
pub mod key;
pub mod media_type;
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

#[cfg(target_arch = "wasm32")]
mod shell {
    use std::cell::RefCell;

    use futures_util::StreamExt;
    use time::OffsetDateTime;
    use worker::js_sys::{Array, Reflect};
    use worker::wasm_bindgen::JsValue;
    use worker::{
        console_log, event, Context, Cors, Env, Method, Request, Response, ResponseBuilder, Result,
        RouteContext, Router,
    };

    use crate::api::{self, ApiError, MAX_BODY_BYTES};
    use crate::config::{Config, ConfigError, Setting};
    use crate::presign::Presigner;

    const VERSION: &str = env!("CARGO_PKG_VERSION");
    const DEMO_PAGE: &str = include_str!("../web/index.html");
    const CLIENT_JS: &str = include_str!("../web/client.js");
    const PREFLIGHT_MAX_AGE_SECONDS: u32 = 86_400;

    type State = std::result::Result<Presigner, ConfigError>;

    thread_local! {
        /// Settings parsed once per isolate (as the seed's Lambda keeps its boto3 client), with
        /// the day's signing key inside. Env only changes with a deploy, which starts new isolates.
        static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
    }

    /// Runs `f` on the isolate's state, reading the settings on first use. No `await` happens
    /// inside, so the borrow never spans two requests.
    fn with_state<T>(env: &Env, f: impl FnOnce(&mut State) -> T) -> T {
        STATE.with(|cell| {
            let mut slot = cell.borrow_mut();
            let state = slot.get_or_insert_with(|| {
                Config::from_settings(|name| read_setting(env, name)).map(Presigner::new)
            });
            f(state)
        })
    }

    /// `misconfigured` (naming the variables) when the settings cannot be used.
    fn settings_usable(env: &Env) -> std::result::Result<(), ApiError> {
        with_state(env, |state| {
            state.as_ref().map(|_| ()).map_err(ApiError::misconfigured)
        })
    }

    /// A `[vars]` value or secret as text. TOML numbers, booleans and lists of strings mean what
    /// they plainly say (`UPLOAD_MAX_BYTES = 1048576`, `UPLOAD_ALLOWED_TYPES = ["image/png"]`);
    /// anything else is reported by name rather than silently replaced by the default.
    fn read_setting(env: &Env, name: &str) -> Setting {
        let Ok(value) = Reflect::get(env, &JsValue::from_str(name)) else {
            return Setting::Unset;
        };
        if value.is_undefined() || value.is_null() {
            Setting::Unset
        } else if let Some(text) = value.as_string() {
            Setting::Text(text)
        } else if let Some(flag) = value.as_bool() {
            Setting::Text(flag.to_string())
        } else if let Some(number) = value.as_f64() {
            // JSON numbers arrive as f64; whole ones print without a fraction.
            let whole = number.fract() == 0.0 && number.abs() < 9.0e15;
            Setting::Text(if whole {
                format!("{number:.0}")
            } else {
                number.to_string()
            })
        } else if Array::is_array(&value) {
            let items: Option<Vec<String>> =
                Array::from(&value).iter().map(|v| v.as_string()).collect();
            items.map_or(Setting::NotText, |items| Setting::Text(items.join(",")))
        } else {
            Setting::NotText
        }
    }

    #[event(fetch)]
    async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
        // `Router::run` consumes the router, so workers-rs builds it per request; it is a few
        // route inserts, small next to the signing.
        Router::new()
            .on_async("/uploads", uploads)
            .on("/healthz", healthz)
            .on("/", demo_page)
            .on("/client.js", client_js)
            .or_else_any_method("/*path", |req, ctx| {
                let grant = grant_for(&req, &ctx.env);
                Ok(finish(&req, &grant, Err(ApiError::not_found())))
            })
            .run(req, env)
            .await
    }

    async fn uploads(mut req: Request, ctx: RouteContext<()>) -> Result<Response> {
        let env = &ctx.env;
        let grant = grant_for(&req, env);
        let result = match req.method() {
            Method::Options => return Ok(preflight(&grant, env)),
            Method::Post => match read_upload_body(&mut req, &grant, env).await {
                Ok(body) => sign_uploads(&body, env),
                Err(e) => Err(e),
            },
            _ => Err(ApiError::method_not_allowed("POST, OPTIONS")),
        };
        // Forms and errors alike leave through `finish`, which adds CORS for allowed origins.
        Ok(finish(&req, &grant, result))
    }

    /// Checks settings, origin, media type and size before reading at most `MAX_BODY_BYTES`.
    async fn read_upload_body(
        req: &mut Request,
        grant: &Grant,
        env: &Env,
    ) -> std::result::Result<Vec<u8>, ApiError> {
        settings_usable(env)?;
        if matches!(grant, Grant::Refused) {
            return Err(ApiError::origin_not_allowed());
        }
        let content_type = req.headers().get("Content-Type").ok().flatten();
        if !api::is_json_content_type(content_type.as_deref()) {
            return Err(ApiError::unsupported_media_type());
        }
        let declared = req.headers().get("Content-Length").ok().flatten();
        if declared
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| n > MAX_BODY_BYTES)
        {
            return Err(ApiError::body_too_large());
        }
        let mut body = Vec::new();
        // No body at all (a bare POST) has no stream: it is an empty body, so `invalid_json`.
        let Ok(mut stream) = req.stream() else {
            return Ok(body);
        };
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| {
                ApiError::new(400, "invalid_json", "request body could not be read")
            })?;
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(ApiError::body_too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn sign_uploads(body: &[u8], env: &Env) -> std::result::Result<String, ApiError> {
        let now = now();
        with_state(env, |state| match state {
            Err(e) => Err(ApiError::misconfigured(e)),
            Ok(presigner) => {
                api::handle_uploads(presigner, body, now, || uuid::Uuid::new_v4().into_bytes())
            }
        })
    }

    fn result_response(result: std::result::Result<String, ApiError>) -> Response {
        match result {
            Ok(body) => json_response(200, body),
            Err(e) => {
                // Status and code only: messages may quote user input, and nothing here may
                // ever carry a secret or a signed policy into the logs.
                console_log!("error {} {}", e.status, e.code);
                json_response(e.status, e.to_json())
            }
        }
    }

    fn preflight(grant: &Grant, env: &Env) -> Response {
        if let Err(e) = settings_usable(env) {
            return result_response(Err(e));
        }
        match grant {
            Grant::CrossOrigin(origin) => {
                let cors = Cors::new()
                    .with_origins([origin])
                    .with_methods([Method::Post, Method::Options])
                    .with_allowed_headers(["Content-Type"])
                    .with_max_age(PREFLIGHT_MAX_AGE_SECONDS);
                ResponseBuilder::new()
                    .with_status(204)
                    .with_cors(&cors)
                    .and_then(|b| b.with_header("Vary", "Origin"))
                    .map(|b| b.empty())
                    .unwrap_or_else(|_| json_response(500, "{}".into()))
            }
            // Same origin or no Origin: nothing to grant.
            Grant::NotNeeded => ResponseBuilder::new().with_status(204).empty(),
            Grant::Refused => result_response(Err(ApiError::origin_not_allowed())),
        }
    }

    fn healthz(req: Request, ctx: RouteContext<()>) -> Result<Response> {
        let grant = grant_for(&req, &ctx.env);
        if !matches!(req.method(), Method::Get | Method::Head) {
            let refused = Err(ApiError::method_not_allowed("GET, HEAD"));
            return Ok(finish(&req, &grant, refused));
        }
        let (status, body) = with_state(&ctx.env, |state| {
            api::health(state.as_ref().map(|_| ()), VERSION)
        });
        Ok(with_cors(&grant, json_response(status, body)))
    }

    fn demo_page(req: Request, ctx: RouteContext<()>) -> Result<Response> {
        let grant = grant_for(&req, &ctx.env);
        let enabled = with_state(&ctx.env, |s| s.as_ref().is_ok_and(|p| p.config().demo_page));
        if !enabled {
            return Ok(finish(&req, &grant, Err(ApiError::not_found())));
        }
        static_asset(&req, &grant, DEMO_PAGE, "text/html; charset=utf-8")
    }

    fn client_js(req: Request, ctx: RouteContext<()>) -> Result<Response> {
        let grant = grant_for(&req, &ctx.env);
        static_asset(&req, &grant, CLIENT_JS, "text/javascript; charset=utf-8")
    }

    fn static_asset(
        req: &Request,
        grant: &Grant,
        body: &'static str,
        content_type: &str,
    ) -> Result<Response> {
        if !matches!(req.method(), Method::Get | Method::Head) {
            let refused = Err(ApiError::method_not_allowed("GET, HEAD"));
            return Ok(finish(req, grant, refused));
        }
        let response = ResponseBuilder::new()
            .with_header("Content-Type", content_type)?
            .with_header("Cache-Control", "no-cache")?
            .fixed(body.as_bytes().to_vec());
        Ok(with_cors(grant, response))
    }

    /// Turns a handler's answer into a JSON response with `Allow` on 405 and CORS when due.
    fn finish(
        req: &Request,
        grant: &Grant,
        result: std::result::Result<String, ApiError>,
    ) -> Response {
        let mut response = result_response(result);
        if response.status_code() == 405 {
            let allow = if req.path() == "/uploads" {
                "POST, OPTIONS"
            } else {
                "GET, HEAD"
            };
            let _ = response.headers_mut().set("Allow", allow);
        }
        with_cors(grant, response)
    }

    /// What CORS allows for this request, worked out once per request.
    enum Grant {
        /// No `Origin` header, the worker's own origin, or settings too broken to say.
        NotNeeded,
        CrossOrigin(String),
        Refused,
    }

    fn grant_for(req: &Request, env: &Env) -> Grant {
        let Some(origin) = req.headers().get("Origin").ok().flatten() else {
            return Grant::NotNeeded;
        };
        let own = req.url().map(|u| u.origin().ascii_serialization());
        if own.is_ok_and(|own| own.eq_ignore_ascii_case(&origin)) {
            return Grant::NotNeeded;
        }
        with_state(env, |state| match state {
            Ok(p) if p.config().allowed_origins.allows(&origin) => Grant::CrossOrigin(origin),
            Ok(_) => Grant::Refused,
            Err(_) => Grant::NotNeeded,
        })
    }

    /// Adds `Access-Control-Allow-Origin` (the caller's origin only: `Cors` would join every
    /// configured origin into one header, which browsers reject).
    fn with_cors(grant: &Grant, mut response: Response) -> Response {
        if let Grant::CrossOrigin(origin) = grant {
            let _ = Cors::new()
                .with_origins([origin])
                .apply_headers(response.headers_mut());
            let _ = response.headers_mut().append("Vary", "Origin");
        }
        response
    }

    fn json_response(status: u16, body: String) -> Response {
        let mut response = ResponseBuilder::new()
            .with_status(status)
            .fixed(body.into_bytes());
        let headers = response.headers_mut();
        let _ = headers.set("Content-Type", "application/json; charset=utf-8");
        // A signed form is a short-lived credential: never cache it.
        let _ = headers.set("Cache-Control", "no-store");
        response
    }

    fn now() -> OffsetDateTime {
        let millis = worker::Date::now().as_millis();
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}
