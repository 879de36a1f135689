//! The only code that touches the Workers runtime: the `fetch` entry, the route table applied
//! to every request (CORS, settings, auth, rate limit), and one door every answer leaves by.
//! Handlers are `async fn`s that return a JSON answer or an `ApiError`, with `?`.

mod auth;
mod body;
mod cors;
mod crypto;
mod env;
mod events;
mod handlers;
mod multipart;
mod net;
mod rate_limit;
mod uppy;

use std::future::Future;
use std::pin::Pin;

use js_sys::Promise;
use time::UtcDateTime;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsValue, UnwrapThrowExt};
use web_sys::{Headers, Request, Response, ResponseInit};

use crate::api;
use crate::audit;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::origin::split_request_url;
use crate::presign::Presigner;
use crate::routes::Route;

use cors::CorsVerdict;
use env::{isolate_state, Env, State};
pub use events::queue;

const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Trap the instance, or throw a JS exception out of Rust, only where the setting
/// `EDGE_PRESIGN_TEST_TRAP` is `true` (tests).
const TEST_TRAP_PATH: &str = "/__trap";
const TEST_THROW_PATH: &str = "/__throw";
/// 2020-01-01T00:00:00Z in milliseconds: a clock reading before it is no clock at all.
const EARLIEST_PLAUSIBLE_MILLIS: f64 = 1_577_836_800_000.0;

/// The Workers `fetch` handler (`scripts/worker-entry.mjs` calls it). Every request goes
/// through the async route table: a path for `POST /uploads` without the executor was
/// measured at under 3 % of its throughput for 1.3 KiB of wasm, and dropped (docs/measured.md).
#[wasm_bindgen]
pub fn fetch(req: Request, env: Env, ctx: JsValue) -> Promise {
    let mut call = Call::new(req, env);
    // Kept for `waitUntil`: an event sent after the answer without a queue.
    call.ctx = ctx;
    wasm_bindgen_futures::future_to_promise(async move { Ok(handle(call).await.into()) })
}

/// The answer to a request a trap cut short (the entry calls it on a fresh instance): the
/// JSON 500 every other error gets, with its CORS.
#[wasm_bindgen]
pub fn internal_error(req: Request, env: Env) -> Response {
    let call = Call::new(req, env);
    let error = ApiError::new(
        crate::error::ErrorCode::InternalError,
        "the request could not be handled; try again",
    );
    call.respond("unknown", None, Err(error))
}

async fn handle(call: Call) -> Response {
    let test_failure = [TEST_TRAP_PATH, TEST_THROW_PATH].contains(&call.path());
    if test_failure && env::test_trap_enabled(&call.env) {
        // The end-to-end tests' way to make the instance fail, as a bug would: a trap (a
        // panic), or an exception such as a failed `unwrap_throw` raises.
        if call.path() == TEST_THROW_PATH {
            wasm_bindgen::throw_str("test exception");
        }
        core::arch::wasm32::unreachable();
    }
    let base_path = call
        .state
        .presigner
        .as_ref()
        .map_or(String::new(), |p| p.config().base_path.clone());
    let Some(route) = Route::parse(call.path(), &base_path) else {
        return call.respond("unknown", None, Err(ApiError::not_found()));
    };
    let mut caller = None;
    let result = serve(&call, route, &mut caller).await;
    call.respond(route.name(), caller.as_ref(), result)
}

/// The route table's rules, the same for every route: methods, preflights, then for the
/// routes that sign: usable settings, an allowed origin, the caller and the rate limit.
async fn serve(
    call: &Call,
    route: Route<'_>,
    caller: &mut Option<Caller>,
) -> Result<Reply, ApiError> {
    let method = call.method.as_str();
    if method == "OPTIONS" && route.signs() {
        return call.preflight(route.allow());
    }
    if !route.takes(method) {
        // A path that is no file and no endpoint is not found, whatever the method.
        let known =
            route != Route::Static || matches!(call.path(), "/" | "/client.js" | "/client.d.ts");
        return Err(if known {
            ApiError::method_not_allowed(route.allow())
        } else {
            ApiError::not_found()
        });
    }
    match route {
        Route::Health => Ok(Reply::Json(handlers::health(call))),
        Route::Static => apart(handlers::static_asset(call, &route_path(call))).await,
        _ if route.self_authorising(call.query()) => {
            // A worker URL a browser calls without a token: its own signature, checked by
            // the handler, is the authority (and its caller the one it was issued to).
            call.admit()?;
            apart(rate_limit::check(call, None)).await?;
            match route {
                Route::CompanionComplete(id) => apart(multipart::complete_signed(call, id)).await,
                Route::SignedCreated(id) => multipart::created(call, id),
                _ => Err(ApiError::not_found()),
            }
        }
        _ => {
            call.admit()?;
            *caller = apart(auth::caller(call)).await?;
            apart(rate_limit::check(call, caller.as_ref())).await?;
            apart(signing(call, route, caller.as_ref())).await
        }
    }
}

/// The path below `BASE_PATH`.
fn route_path(call: &Call) -> String {
    let base = call
        .state
        .presigner
        .as_ref()
        .map_or("", |p| p.config().base_path.as_str());
    call.path()
        .strip_prefix(base)
        .unwrap_or_default()
        .to_owned()
}

async fn signing(
    call: &Call,
    route: Route<'_>,
    caller: Option<&Caller>,
) -> Result<Reply, ApiError> {
    let json = match route {
        Route::Uploads => apart(handlers::uploads(call, caller)).await,
        Route::UploadsComplete => apart(events::complete(call, caller)).await,
        Route::UploadLimits => handlers::limits(call, caller),
        Route::Download(key) => apart(handlers::download(call, key, caller)).await,
        Route::CompanionParams => uppy::params(call, caller),
        Route::CompanionCreate => apart(multipart::create(call, caller)).await,
        Route::CompanionUpload(id) if call.method == "DELETE" => {
            apart(multipart::abort(call, id, caller)).await
        }
        Route::CompanionUpload(id) => apart(multipart::list(call, id, caller)).await,
        Route::CompanionPart(id, number) => multipart::part(call, id, number, caller),
        Route::CompanionComplete(id) => return apart(multipart::complete(call, id, caller)).await,
        Route::Sign => apart(uppy::sign(call, caller)).await,
        // Only ever reached through its signature (`serve`).
        Route::SignedCreated(_) | Route::Health | Route::Static => Err(ApiError::not_found()),
    };
    json.map(Reply::Json)
}

/// A route's future behind a pointer, so its state machine is its own wasm function instead
/// of one inlined into a single 42 KB function for every route: V8 compiles a wasm function
/// on its first call, and a cold start then compiles only the routes its request runs.
fn apart<'a, T>(future: impl Future<Output = T> + 'a) -> Pin<Box<dyn Future<Output = T> + 'a>> {
    Box::pin(future)
}

/// A JSON answer that is not an error.
pub(crate) struct Json {
    pub status: u16,
    pub body: String,
}

impl Json {
    pub(crate) fn ok(body: String) -> Self {
        Self { status: 200, body }
    }
}

/// What a route answers: JSON, S3's XML to an S3 client, or a response made elsewhere (a
/// static file).
pub(crate) enum Reply {
    Json(Json),
    Xml(String),
    Response(Response),
}

/// One request, with what every route needs to know about it, worked out once.
pub(crate) struct Call {
    pub req: Request,
    pub env: Env,
    pub state: &'static State,
    pub method: String,
    /// The `Origin` header, if any.
    pub origin: Option<String>,
    pub cors: CorsVerdict,
    /// The handler's `ctx` (for `waitUntil`); undefined where there is none.
    pub ctx: JsValue,
    headers: Headers,
    url: String,
    /// Where `url`'s origin ends and its path ends.
    origin_end: usize,
    path_end: usize,
}

impl Call {
    fn new(req: Request, env: Env) -> Self {
        let state = isolate_state(&env);
        let url = req.url();
        let (own_origin, path) = split_request_url(&url);
        let (origin_end, path_end) = (own_origin.len(), own_origin.len() + path.len());
        let headers = req.headers();
        let origin = headers.get("Origin").ok().flatten();
        let cors = CorsVerdict::new(origin.as_deref(), own_origin, state);
        Self {
            method: req.method(),
            req,
            env,
            state,
            origin,
            cors,
            ctx: JsValue::UNDEFINED,
            headers,
            url,
            origin_end,
            path_end,
        }
    }

    /// `scheme://host[:port]` of the worker itself, as this request reached it.
    pub(crate) fn own_origin(&self) -> &str {
        &self.url[..self.origin_end]
    }

    pub(crate) fn path(&self) -> &str {
        let path = &self.url[self.origin_end..self.path_end];
        if path.is_empty() {
            "/"
        } else {
            path
        }
    }

    /// The query, without its `?`.
    pub(crate) fn query(&self) -> &str {
        let rest = &self.url[self.path_end..];
        let rest = rest.strip_prefix('?').unwrap_or_default();
        rest.split('#').next().unwrap_or_default()
    }

    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).ok().flatten()
    }

    /// An S3 client's request (XML body): its errors also carry S3's `x-amz-error-code`.
    pub(crate) fn sends_xml(&self) -> bool {
        api::is_xml_content_type(self.header("Content-Type").as_deref())
    }

    /// Usable settings and an allowed origin: what every signing route needs first.
    fn admit(&self) -> Result<(), ApiError> {
        self.presigner()?;
        if matches!(self.cors, CorsVerdict::Refused) {
            return Err(ApiError::origin_not_allowed());
        }
        Ok(())
    }

    /// The isolate's presigner, or its settings' problems as 500 `misconfigured`.
    pub(crate) fn presigner(&self) -> Result<&'static Presigner, ApiError> {
        self.state
            .presigner
            .as_ref()
            .map_err(ApiError::misconfigured)
    }

    fn preflight(&self, methods: &str) -> Result<Reply, ApiError> {
        self.presigner()?;
        if matches!(self.cors, CorsVerdict::Refused) {
            return Err(ApiError::origin_not_allowed());
        }
        let headers = new_headers();
        self.cors.preflight_headers(methods, &headers);
        Ok(Reply::Response(respond(204, &headers, None)))
    }

    /// Logs one audit line for an object granted.
    pub(crate) fn audit(&self, grant: &audit::Grant<'_>) {
        if self.audit_on() {
            web_sys::console::log_1(&JsValue::from_str(&grant.to_line()));
        }
    }

    /// `AUDIT_LOG`: each line is a `console.log`, whose cost `bench/run` measures.
    fn audit_on(&self) -> bool {
        self.state
            .presigner
            .as_ref()
            .map_or(true, |p| p.config().audit_log)
    }

    /// The one door every answer leaves by: JSON with CORS, errors as
    /// `{"error": {"code", "message"}}` with their status and header, refusals logged. An S3
    /// client also finds the code where it looks for S3's, in `x-amz-error-code`.
    fn respond(
        &self,
        route: &str,
        caller: Option<&Caller>,
        result: Result<Reply, ApiError>,
    ) -> Response {
        match result {
            Ok(Reply::Json(Json { status, body })) => self.json(status, body, &[]),
            Ok(Reply::Xml(body)) => {
                let headers = json_headers();
                let _ = headers.set("Content-Type", "application/xml");
                self.cors.apply(&headers);
                respond(200, &headers, Some(&mut body.into_bytes()))
            }
            Ok(Reply::Response(response)) => response,
            Err(error) => {
                // Status and code only: messages may quote user input, and nothing here may
                // ever carry a secret, a token or a signature into the logs.
                let sub = caller.map(Caller::sub);
                if self.audit_on() {
                    let code = error.code.as_str();
                    let line = audit::refusal_line(route, error.status(), code, sub);
                    web_sys::console::log_1(&JsValue::from_str(&line));
                }
                let mut extra = Vec::with_capacity(2);
                if let Some((name, value)) = &error.header {
                    extra.push((*name, value.as_str()));
                }
                if self.sends_xml() {
                    extra.push(("x-amz-error-code", error.code.as_str()));
                }
                self.json(error.status(), error.to_json(), &extra)
            }
        }
    }

    /// The one place a JSON answer is built: its headers all at once, CORS when granted.
    fn json(&self, status: u16, body: String, extra: &[(&str, &str)]) -> Response {
        let mut body = body.into_bytes();
        if status == 200 && matches!(self.cors, CorsVerdict::NotNeeded) {
            // The common answer: its status and headers never change, so they are built once
            // per isolate (the runtime copies them into each response).
            thread_local! {
                static PLAIN_200: ResponseInit = {
                    let init = ResponseInit::new();
                    init.set_status(200);
                    let headers = json_headers();
                    CorsVerdict::NotNeeded.apply(&headers);
                    init.set_headers(&headers);
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
        self.cors.apply(&headers);
        for (name, value) in extra {
            let _ = headers.set(name, value);
        }
        respond(status, &headers, Some(&mut body))
    }
}

fn new_headers() -> Headers {
    Headers::new().ok().unwrap_throw()
}

fn json_headers() -> Headers {
    let headers = new_headers();
    let _ = headers.set("Content-Type", "application/json; charset=utf-8");
    // A signed form is a short-lived credential: never cache it.
    let _ = headers.set("Cache-Control", "no-store");
    headers
}

/// The body goes over as bytes (the runtime copies them), not as a JS string that would be
/// decoded from UTF-8 only to be encoded again.
fn respond(status: u16, headers: &Headers, body: Option<&mut [u8]>) -> Response {
    let init = ResponseInit::new();
    init.set_status(status);
    init.set_headers(headers);
    Response::new_with_opt_u8_array_and_init(body, &init)
        .ok()
        .unwrap_throw()
}

/// The signing time. A clock that reads before 2020 is not one: answer 500 rather than sign
/// for 1970.
pub(crate) fn now() -> Result<UtcDateTime, ApiError> {
    let millis = js_sys::Date::now();
    if millis.is_nan() || millis < EARLIEST_PLAUSIBLE_MILLIS {
        return Err(ApiError::clock_unavailable());
    }
    let seconds = (millis / 1000.0) as i64;
    UtcDateTime::from_unix_timestamp(seconds).map_err(|_| ApiError::clock_unavailable())
}
