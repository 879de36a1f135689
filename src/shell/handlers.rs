//! `POST /uploads`, `GET /uploads/limits`, `GET /downloads/{key}`, `GET /healthz` and the static files.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response, ResponseInit};

use crate::api;
use crate::audit;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};
use crate::presign::{SignedUpload, Upload};
use crate::routes::percent_decode;

use super::{body, crypto, net, now, Call, Json, Reply, VERSION};

/// `POST /uploads`: one form or PUT URL per file, each logged.
pub(crate) async fn uploads(call: &Call, caller: Option<&Caller>) -> Result<Json, ApiError> {
    let body = body::read_json(call).await?;
    let now = now()?;
    // A failed draw voids the whole answer (the core takes its randomness infallibly).
    let mut entropy = Ok(());
    let (json, uploads) = api::handle_uploads_as(call.presigner()?, &body, caller, now, || {
        crypto::random_id().unwrap_or_else(|e| {
            entropy = Err(e);
            [0; 16]
        })
    })?;
    entropy?;
    for upload in &uploads {
        call.audit(&upload_grant("uploads", upload, caller));
    }
    Ok(Json::ok(json))
}

/// `GET /uploads/limits[?profile=]`: what the worker signs for this caller under that upload
/// profile (the core builds it).
pub(crate) fn limits(call: &Call, caller: Option<&Caller>) -> Result<Json, ApiError> {
    let profile = crate::routes::query_param(call.query(), "profile");
    let limits = crate::limits::for_caller(call.presigner()?, profile.as_deref(), caller)?;
    Ok(Json::ok(crate::limits::answer(&limits)))
}

/// The audit line of one signed upload.
pub(crate) fn upload_grant<'a>(
    route: &'a str,
    upload: &'a Upload,
    caller: Option<&'a Caller>,
) -> audit::Grant<'a> {
    let method = match upload.signed {
        SignedUpload::Form(_) => "POST",
        SignedUpload::Put(_) => "PUT",
    };
    audit::Grant {
        route,
        method,
        key: upload.key.as_str(),
        max_bytes: Some(upload.max_bytes),
        content_type: Some(upload.content_type.as_str()),
        sub: caller.map(Caller::sub),
        expires_at: Some(upload.expires_at),
    }
}

/// `GET /downloads/{key}`: only for a key the worker issued (to this caller, with auth), and
/// only for an object that exists. What it is stored as decides how the download answers.
pub(crate) async fn download(
    call: &Call,
    encoded_key: &str,
    caller: Option<&Caller>,
) -> Result<Json, ApiError> {
    let key = percent_decode(encoded_key).ok_or_else(ApiError::invalid_key)?;
    let now = now()?;
    let presigner = call.presigner()?;
    let key = presigner.check_key(&key, caller)?;
    let head = presigner.signer(now).head_object(&key);
    let stored = net::s3_call(&head).await?;
    let content_type = stored.header("Content-Type");
    let disposition = stored.header("Content-Disposition");
    let download =
        presigner.presign_download(&key, content_type.as_deref(), disposition.as_deref(), now);
    call.audit(&audit::Grant {
        route: "downloads",
        method: "GET",
        key: key.as_str(),
        max_bytes: None,
        content_type: content_type.as_deref(),
        sub: caller.map(Caller::sub),
        expires_at: Some(download.expires_at),
    });
    Ok(Json::ok(api::download_answer(&download)))
}

/// `GET /healthz`: whether the settings are usable, naming (never showing) the bad ones.
pub(crate) fn health(call: &Call) -> Json {
    let (status, body) = api::health(call.state.presigner.as_ref().map(|_| ()), VERSION);
    Json { status, body }
}

/// A file from `web/` through the Static Assets binding, with CORS for allowed origins: the
/// client module and its types always (pages on other origins import them), everything else
/// (the demo page, examples) only when `DEMO_PAGE` is on. `path` is below `BASE_PATH`.
pub(crate) async fn static_asset(call: &Call, path: &str) -> Result<Reply, ApiError> {
    let public = matches!(path, "/client.js" | "/client.d.ts");
    let demo_on = call
        .state
        .presigner
        .as_ref()
        .is_ok_and(|p| p.config().demo_page);
    if !public && !demo_on {
        return Err(ApiError::not_found());
    }
    let missing = || {
        ApiError::new(
            ErrorCode::NotFound,
            "static files are not deployed with this worker ([assets] in wrangler.toml)",
        )
    };
    let assets = call.env.assets().ok_or_else(missing)?;
    let request = asset_request(call, path).ok_or_else(missing)?;
    let fetched = assets.fetch(&request).map_err(|_| missing())?;
    let response: Response = JsFuture::from(fetched)
        .await
        .ok()
        .and_then(|r| r.dyn_into().ok())
        .ok_or_else(missing)?;
    if response.status() == 404 {
        return Err(ApiError::not_found());
    }
    // A fetched response's headers are immutable: answer with a copy.
    let headers = Headers::new_with_headers(&response.headers()).map_err(|_| missing())?;
    call.cors.apply(&headers);
    if path.ends_with(".d.ts") {
        let _ = headers.set("Content-Type", "application/typescript; charset=utf-8");
    }
    let init = ResponseInit::new();
    init.set_status(response.status());
    init.set_headers(&headers);
    Response::new_with_opt_readable_stream_and_init(response.body().as_ref(), &init)
        .map(Reply::Response)
        .map_err(|_| missing())
}

/// The request for the asset: the same one, or under `BASE_PATH`, the same with the base
/// path taken off (the assets are stored from `web/`'s root).
fn asset_request(call: &Call, path: &str) -> Option<Request> {
    if path == call.path() {
        return Some(Clone::clone(&call.req));
    }
    let url = [call.own_origin(), path].concat();
    let init = RequestInit::new();
    init.set_method(&call.method);
    init.set_headers(&call.req.headers());
    Request::new_with_str_and_init(&url, &init).ok()
}
