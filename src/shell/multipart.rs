//! Multipart uploads, as the Companion routes, `signRequest` and `client.js` drive them: the
//! worker starts each upload itself, hands out upload handles, signs parts, lists them, aborts,
//! and completes only what the limit allows. The rules are in `crate::multipart` and
//! `crate::upload_handle`, the wire formats in `crate::uppy` and `crate::s3`; here are the S3
//! calls between.

use crate::api::{self, MAX_COMPLETE_BODY_BYTES};
use crate::audit;
use crate::auth::{self, Caller};
use crate::error::{ApiError, ErrorCode};
use crate::key::IssuedKey;
use crate::multipart;
use crate::s3::complete_multipart_upload as complete;
use crate::s3::create_multipart_upload as create;
use crate::s3::list_parts::{self, NextPage, Part};
use crate::s3::UploadId;
use crate::upload_handle::{Handle, HandleError, Purpose, UrlGrant};
use crate::uppy;

use super::{body, crypto, net, now, Call, Json, Reply};

fn unreadable_answer() -> ApiError {
    ApiError::new(
        ErrorCode::StorageError,
        "the storage service's answer could not be read",
    )
}

/// The key a route on an existing upload names, if it is one this caller was issued.
pub(super) fn issued_key(
    call: &Call,
    raw: &str,
    caller: Option<&Caller>,
) -> Result<IssuedKey, ApiError> {
    Ok(call.presigner()?.check_key(raw, caller)?)
}

/// The handle in a route's path and the key in its query, of an upload this caller started.
fn existing_upload(
    call: &Call,
    id: &str,
    caller: Option<&Caller>,
) -> Result<(Handle, IssuedKey), ApiError> {
    let handle = uppy::upload_id(id)?;
    let key = issued_key(call, &uppy::key_param(call.query())?, caller)?;
    Ok((handle, key))
}

/// `POST /s3/multipart`: the worker chooses the key and starts the upload itself.
pub(crate) async fn create(call: &Call, caller: Option<&Caller>) -> Result<Json, ApiError> {
    let file = uppy::create_request(&body::read_json(call).await?)?;
    let (key, handle) = start(call, &file, "s3/multipart", caller).await?;
    let bucket = &call.presigner()?.config().bucket;
    Ok(Json::ok(uppy::created_answer(
        key.as_str(),
        &handle,
        bucket,
    )))
}

/// Starts a multipart upload for `file` (the worker calls CreateMultipartUpload itself, in
/// both modes) and answers the handle that stands for S3's upload ID.
pub(super) async fn start(
    call: &Call,
    file: &uppy::NewFile,
    route: &str,
    caller: Option<&Caller>,
) -> Result<(IssuedKey, Handle), ApiError> {
    let (random, now) = (crypto::random_id()?, now()?);
    let presigner = call.presigner()?;
    let request = file.upload_request(None);
    let (key, request) = presigner.start_multipart(&request, caller, now, random)?;
    let limit = presigner.multipart_limit(&key, caller);
    if let Some(size) = file.size {
        multipart::check_total(size, limit)?;
    }
    let answer = net::s3_call(&request).await?;
    let id = create::read_upload_id(&answer.body).ok_or_else(unreadable_answer)?;
    let handle = call.presigner()?.issue_handle(&id, &key, caller, now);
    let handle = Handle::parse(&handle).ok_or_else(unreadable_answer)?;
    let sub = caller.map(Caller::sub);
    call.audit(&multipart_grant(
        route,
        "CreateMultipartUpload",
        &key,
        Some(limit),
        sub,
    ));
    Ok((key, handle))
}

/// S3's upload ID behind `handle`, if it names an upload of `key` for this caller.
pub(super) fn open(
    call: &Call,
    handle: &Handle,
    key: &IssuedKey,
    sub: Option<&str>,
) -> Result<UploadId, ApiError> {
    let now = now()?;
    call.presigner()?
        .open_handle(handle.as_str(), key, sub, now)
}

/// Like [`open`], but an expired handle still names its upload: aborting must stay possible.
pub(super) fn open_to_abort(
    call: &Call,
    handle: &Handle,
    key: &IssuedKey,
    sub: Option<&str>,
) -> Result<UploadId, ApiError> {
    call.presigner()?
        .open_handle_to_abort(handle.as_str(), key, sub)
}

fn multipart_grant<'a>(
    route: &'a str,
    method: &'a str,
    key: &'a IssuedKey,
    max_bytes: Option<u64>,
    sub: Option<&'a str>,
) -> audit::Grant<'a> {
    audit::Grant {
        route,
        method,
        key: key.as_str(),
        max_bytes,
        content_type: None,
        sub,
        expires_at: None,
    }
}

/// `GET /s3/multipart/{uploadId}/{partNumber}?key=`: a presigned UploadPart.
pub(crate) fn part(
    call: &Call,
    id: &str,
    number: &str,
    caller: Option<&Caller>,
) -> Result<Json, ApiError> {
    let number = uppy::part_number(number)?;
    let (handle, key) = existing_upload(call, id, caller)?;
    let size = uppy::part_size(call.query())?;
    let id = open(call, &handle, &key, caller.map(Caller::sub))?;
    let now = now()?;
    let presigner = call.presigner()?;
    let signed = presigner.presign_part(&key, &id, number, size, caller, now)?;
    let expires = presigner.profile_of(&key).expires_seconds;
    Ok(Json::ok(uppy::part_answer(&signed.url, expires)))
}

/// `GET /s3/multipart/{uploadId}?key=`: every uploaded part, all pages.
pub(crate) async fn list(call: &Call, id: &str, caller: Option<&Caller>) -> Result<Json, ApiError> {
    let (handle, key) = existing_upload(call, id, caller)?;
    let id = open(call, &handle, &key, caller.map(Caller::sub))?;
    let parts = list_parts(call, &key, &id).await?;
    Ok(Json::ok(uppy::parts_answer(&parts)))
}

/// Every part (the stopping rules are `list_parts::next_page`'s).
async fn list_parts(call: &Call, key: &IssuedKey, id: &UploadId) -> Result<Vec<Part>, ApiError> {
    let now = now()?;
    let (mut parts, mut marker, mut pages) = (Vec::new(), None, 0);
    loop {
        let request = call.presigner()?.signer(now).list_parts(key, id, marker);
        let answer = net::s3_call(&request).await?;
        let page = list_parts::parse_list_parts(&answer.body).ok_or_else(unreadable_answer)?;
        pages += 1;
        let step = list_parts::next_page(pages, marker, page.next_marker);
        parts.extend(page.parts);
        match step {
            NextPage::Done => return Ok(parts),
            NextPage::From(next) => marker = Some(next),
            NextPage::Stuck => return Err(unreadable_answer()),
        }
    }
}

/// `DELETE /s3/multipart/{uploadId}?key=`: AbortMultipartUpload, answering `{}`.
pub(crate) async fn abort(
    call: &Call,
    id: &str,
    caller: Option<&Caller>,
) -> Result<Json, ApiError> {
    let (handle, key) = existing_upload(call, id, caller)?;
    let id = open_to_abort(call, &handle, &key, caller.map(Caller::sub))?;
    abort_upload(call, &key, &id).await?;
    Ok(Json::ok("{}".into()))
}

async fn abort_upload(call: &Call, key: &IssuedKey, id: &UploadId) -> Result<(), ApiError> {
    let now = now()?;
    let request = call
        .presigner()?
        .signer(now)
        .abort_multipart_upload(key, id);
    net::s3_call(&request).await.map(|_| ())
}

/// The most a multipart upload of `key` may hold: its profile's limit, or less if the
/// caller's token says so.
pub(super) fn multipart_limit(
    call: &Call,
    key: &IssuedKey,
    caller: Option<&Caller>,
) -> Result<u64, ApiError> {
    Ok(call.presigner()?.multipart_limit(key, caller))
}

/// Over the limit (`refusal`): the upload is aborted (its parts are deleted) and refused.
async fn refuse_oversized(
    call: &Call,
    key: &IssuedKey,
    id: &UploadId,
    mut refusal: ApiError,
) -> ApiError {
    // Refused either way; an abort that fails leaves parts for the bucket's lifecycle rule.
    let _ = abort_upload(call, key, id).await;
    refusal.message.push_str("; it was aborted");
    refusal
}

/// `POST /s3/multipart/{uploadId}/complete?key=` with the caller's token (Companion mode).
pub(crate) async fn complete(
    call: &Call,
    id: &str,
    caller: Option<&Caller>,
) -> Result<Reply, ApiError> {
    let (handle, key) = existing_upload(call, id, caller)?;
    let limit = multipart_limit(call, &key, caller)?;
    complete_upload(call, &handle, key, caller.map(Caller::sub), limit).await
}

/// The same route as the self-authorising URL `/s3/sign` handed out: its signature stands
/// for the token, and its terms (limit, caller) are those of the caller it was issued to.
pub(crate) async fn complete_signed(call: &Call, id: &str) -> Result<Reply, ApiError> {
    let handle = uppy::upload_id(id)?;
    let (key, grant) = signed_terms(call, Purpose::Complete, &handle)?;
    // The limit signed then, or today's setting if an operator has lowered it since.
    let limit = grant.limit.min(multipart_limit(call, &key, None)?);
    complete_upload(call, &handle, key, grant.sub.as_deref(), limit).await
}

/// `POST /s3/multipart/{uploadId}/created?…&signature=`: S3's answer to the
/// CreateMultipartUpload `/s3/sign` made, with the handle as its upload ID.
pub(crate) fn created(call: &Call, id: &str) -> Result<Reply, ApiError> {
    let handle = uppy::upload_id(id)?;
    let (key, _) = signed_terms(call, Purpose::Created, &handle)?;
    let bucket = &call.presigner()?.config().bucket;
    Ok(Reply::Xml(create::initiate_result(
        bucket,
        key.as_str(),
        handle.as_str(),
    )))
}

/// The key and terms of a worker URL, if its signature is this worker's and in date.
fn signed_terms(
    call: &Call,
    purpose: Purpose,
    handle: &Handle,
) -> Result<(IssuedKey, UrlGrant), ApiError> {
    let (grant, signature) = uppy::url_grant(call.query())?;
    let raw = uppy::key_param(call.query())?;
    let now = now()?;
    call.presigner()?
        .check_url(purpose, handle.as_str(), &raw, &grant, &signature, now)?;
    // The worker issued these terms, so the key sits in the segment of the caller they name.
    let segment = match &grant.sub {
        Some(sub) => Some(auth::user_segment(sub).map_err(|_| HandleError::Malformed)?),
        None => None,
    };
    let key = call.presigner()?.check_key_in(&raw, segment.as_deref())?;
    Ok((key, grant))
}

/// Completes the upload `handle` names: the parts are listed first, and an upload whose named
/// parts add up to more than `limit` is aborted and refused with 413. Companion mode sends
/// JSON; `signRequest` mode sends S3's own XML here (see [`sign`]) and gets S3's answer back.
async fn complete_upload(
    call: &Call,
    handle: &Handle,
    key: IssuedKey,
    sub: Option<&str>,
    limit: u64,
) -> Result<Reply, ApiError> {
    let id = open(call, handle, &key, sub)?;
    let s3_client = call.sends_xml();
    type Reader = fn(&[u8]) -> Result<Vec<(u16, String)>, ApiError>;
    let (takes, read): (fn(Option<&str>) -> bool, Reader) = match s3_client {
        true => (api::is_xml_content_type, uppy::complete_request_xml),
        false => (api::is_json_content_type, uppy::complete_request),
    };
    let named = read(&body::read_up_to(call, MAX_COMPLETE_BODY_BYTES, takes).await?)?;
    let listed = list_parts(call, &key, &id).await?;
    // The object will be exactly these parts: S3 refuses a completion whose ETags differ.
    let parts = complete::named_parts(&named, &listed).map_err(|number| {
        ApiError::invalid_parts(format!("part {number} is not in the upload with that ETag"))
    })?;
    let total = list_parts::total_bytes(parts.iter().copied());
    if let Err(refusal) = multipart::check_total(total, limit) {
        return Err(refuse_oversized(call, &key, &id, refusal).await);
    }
    let now = now()?;
    let parts: Vec<(u16, &str)> = parts.iter().map(|p| (p.number, p.etag.as_str())).collect();
    let presigner = call.presigner()?;
    let create_only = !presigner.config().allow_overwrite;
    let request = presigner
        .signer(now)
        .complete_multipart_upload(&key, &id, &parts, create_only);
    let etag = complete::read_complete(&net::s3_call(&request).await?.body)?;
    // The completed object's `upload.completed` event, as `POST /uploads/complete` sends it.
    super::events::announce_completed(call, &key, sub).await;
    let route = "s3/multipart/complete";
    call.audit(&multipart_grant(
        route,
        "CompleteMultipartUpload",
        &key,
        Some(total),
        sub,
    ));
    let config = call.presigner()?.config();
    let (location, bucket) = (config.location.object_url(key.as_str()), &config.bucket);
    Ok(if s3_client {
        let etag = etag.as_deref();
        Reply::Xml(complete::complete_result(
            &location,
            bucket,
            key.as_str(),
            etag,
        ))
    } else {
        Reply::Json(Json::ok(uppy::completed_answer(
            &location,
            key.as_str(),
            bucket,
        )))
    })
}

/// A self-authorising worker URL for `purpose` on the upload, issued to `caller`.
pub(super) fn worker_url(
    call: &Call,
    purpose: Purpose,
    handle: &Handle,
    key: &IssuedKey,
    caller: Option<&Caller>,
) -> Result<String, ApiError> {
    let now = now()?;
    let presigner = call.presigner()?;
    let (grant, signature) = presigner.grant_url(purpose, handle.as_str(), key, caller, now);
    let worker = [call.own_origin(), &presigner.config().base_path].concat();
    let action = match purpose {
        Purpose::Created => "created",
        Purpose::Complete => "complete",
    };
    let key = key.as_str();
    Ok(uppy::worker_url(
        &worker, handle, action, key, &grant, &signature,
    ))
}
