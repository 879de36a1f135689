//! `@uppy/aws-s3`'s own entry points: Companion's `GET /s3/params` (a POST form) and
//! `signRequest`'s `POST /s3/sign`, which signs what it can for the bucket and sends the rest
//! (a multipart upload's start and completion) through the worker's own routes. The contract
//! (what comes in, what goes out) is in `crate::uppy`; the multipart calls in `super::multipart`.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::presign::{SignedUpload, UploadRequest};
use crate::sigv4::Method;
use crate::upload_handle::Purpose;
use crate::uppy::{self, SignOp};

use super::handlers::upload_grant;
use super::multipart::{issued_key, open, open_to_abort, start, worker_url};
use super::{body, crypto, now, Call, Json};

/// `GET /s3/params`: a POST form, as `/uploads` signs it.
pub(crate) fn params(call: &Call, caller: Option<&Caller>) -> Result<Json, ApiError> {
    let file = uppy::params_request(call.query())?;
    let (random, now) = (crypto::random_id()?, now()?);
    let presigner = call.presigner()?;
    let request = file.upload_request(Some(Method::Post));
    let upload = presigner.presign_as(&request, caller, now, random)?;
    let expires = presigner.profile_of(&upload.key).expires_seconds;
    let json = uppy::params_answer(&upload, expires);
    call.audit(&upload_grant("s3/params", &upload, caller));
    Ok(Json::ok(json))
}

/// `POST /s3/sign`: Uppy's `signRequest`. New files get keys the worker chooses; every other
/// request must name a key this caller was issued, and the handle of an upload of that key.
pub(crate) async fn sign(call: &Call, caller: Option<&Caller>) -> Result<Json, ApiError> {
    let op = uppy::sign_request(&body::read_json(call).await?)?;
    let (method, key, handle) = match op {
        SignOp::PutObject(file) => {
            return sign_put_object(call, &file.upload_request(None), caller)
        }
        SignOp::CreateMultipart(file) => {
            let (key, handle) = start(call, &file, "s3/sign", caller).await?;
            let url = worker_url(call, Purpose::Created, &handle, &key, caller)?;
            return Ok(Json::ok(uppy::signed_answer(
                &url,
                Some(key.as_str()),
                &[],
                None,
            )));
        }
        SignOp::UploadPart { key, id, part } => {
            let key = issued_key(call, &key, caller)?;
            let id = open(call, &id, &key, caller.map(Caller::sub))?;
            let now = now()?;
            let signed = call
                .presigner()?
                .presign_part(&key, &id, part, None, caller, now)?;
            return Ok(Json::ok(uppy::signed_answer(&signed.url, None, &[], None)));
        }
        SignOp::ListParts { key, id } => (Method::Get, key, id),
        SignOp::Complete { key, id } => (Method::Post, key, id),
        SignOp::Abort { key, id } => (Method::Delete, key, id),
    };
    let key = issued_key(call, &key, caller)?;
    let sub = caller.map(Caller::sub);
    let id = match method {
        Method::Delete => open_to_abort(call, &handle, &key, sub)?,
        _ => open(call, &handle, &key, sub)?,
    };
    if method == Method::Post {
        // Never a presigned completion: the browser could upload more parts after the total
        // was checked. The browser sends its completion to the worker, which completes it.
        let url = worker_url(call, Purpose::Complete, &handle, &key, caller)?;
        return Ok(Json::ok(uppy::signed_answer(&url, None, &[], None)));
    }
    let now = now()?;
    let signed = call.presigner()?.presign_multipart(method, &key, &id, now);
    Ok(Json::ok(uppy::signed_answer(&signed.url, None, &[], None)))
}

/// A whole file for `signRequest`: the POST form `/uploads` signs (`fields`), or on a store
/// without POST (R2) a presigned PUT, which needs the size Uppy does not send: use multipart.
fn sign_put_object(
    call: &Call,
    request: &UploadRequest,
    caller: Option<&Caller>,
) -> Result<Json, ApiError> {
    let (random, now) = (crypto::random_id()?, now()?);
    let upload = call.presigner()?.presign_as(request, caller, now, random)?;
    call.audit(&upload_grant("s3/sign", &upload, caller));
    let key = Some(upload.key.as_str());
    let answer = match &upload.signed {
        SignedUpload::Form(form) => uppy::signed_answer(&form.url, key, &[], Some(&form.fields)),
        SignedUpload::Put(put) => uppy::signed_answer(&put.url, key, &put.headers, None),
    };
    Ok(Json::ok(answer))
}
