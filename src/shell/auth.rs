//! Who is calling: the bearer token (or cookie) verified into a `Caller`.

use crate::auth::{
    self, select_key, AuthError, Caller, IssuerRules, JwksAction, JwksUrl, UntrustedToken,
    VerifiedToken,
};
use crate::error::ApiError;

use super::cors::is_same_origin;
use super::env::State;
use super::{crypto, net, Call};

/// What is left to do once the settings have been read (no borrow survives an `await`).
enum Plan<'t> {
    Done(Result<Caller, AuthError>),
    Jwks(UntrustedToken<'t>, JwksUrl, IssuerRules),
}

fn auth_on(call: &Call) -> bool {
    call.state
        .presigner
        .as_ref()
        .is_ok_and(|p| p.config().auth.is_some())
}

/// The caller, when auth is on (`None` when it is off); 401 or 503 otherwise.
pub(crate) async fn caller(call: &Call) -> Result<Option<Caller>, ApiError> {
    if !auth_on(call) {
        return Ok(None);
    }
    let now = super::now()?.unix_timestamp();
    let (authorization, cookies) = (call.header("Authorization"), call.header("Cookie"));
    let caller = match plan(call, now, authorization.as_deref(), cookies.as_deref()) {
        Plan::Done(caller) => caller,
        Plan::Jwks(token, url, rules) => verify_with_jwks(call.state, &url, token, now)
            .await
            .and_then(|t| t.caller(now, &rules)),
    };
    Ok(Some(caller?))
}

/// What the token says: a verdict now (HS256, or a refusal), or the JWKS to wait for.
fn plan<'t>(
    call: &Call,
    now: i64,
    authorization: Option<&'t str>,
    cookies: Option<&'t str>,
) -> Plan<'t> {
    let presigner = call.state.presigner.as_ref().ok();
    let Some(settings) = presigner.and_then(|p| p.config().auth.as_ref()) else {
        return Plan::Done(Err(AuthError::AlgorithmNotConfigured));
    };
    let same_origin = is_same_origin(
        call.origin.as_deref(),
        call.own_origin(),
        call.header("Sec-Fetch-Site").as_deref(),
    );
    let cookie_name = settings.cookie.as_deref().filter(|_| same_origin);
    let token =
        auth::request_token(authorization, cookies, cookie_name).and_then(UntrustedToken::parse);
    match token {
        Err(e) => Plan::Done(Err(e)),
        Ok(token) if token.algorithm() == auth::Algorithm::Hs256 => {
            Plan::Done(match &settings.secret {
                Some(key) => key
                    .verify(token)
                    .and_then(|t| t.caller(now, &settings.rules)),
                None => Err(AuthError::AlgorithmNotConfigured),
            })
        }
        Ok(token) => match &settings.jwks {
            Some(url) => Plan::Jwks(token, url.clone(), settings.rules.clone()),
            None => Plan::Done(Err(AuthError::AlgorithmNotConfigured)),
        },
    }
}

/// RS256 or ES256: the key the token names, from the JWKS this isolate keeps (fetched when
/// missing or stale, at most once a minute for an unknown `kid`, and not again for a few
/// seconds after a fetch failed), verified by WebCrypto.
async fn verify_with_jwks(
    state: &State,
    url: &JwksUrl,
    token: UntrustedToken<'_>,
    now: i64,
) -> Result<VerifiedToken, AuthError> {
    let action = state.jwks.borrow().cache.action_for(&token, now);
    if action == JwksAction::Unavailable {
        return Err(AuthError::KeysUnavailable);
    }
    if action == JwksAction::Fetch {
        state.jwks.borrow_mut().cache.note_fetch(now);
        let fetched = fetch_jwks(url).await;
        let mut jwks = state.jwks.borrow_mut();
        match fetched {
            Some((keys, ttl)) => {
                jwks.imported = vec![None; keys.len()];
                jwks.generation += 1;
                jwks.cache.store(keys, now, ttl);
            }
            // Keys still within their lifetime carry on; none at all means no verdict.
            None if jwks.cache.is_fresh(now) => {}
            None => {
                // Timed from the failure, not from the start of a fetch that took seconds.
                let failed_at = super::now().map_or(now, |t| t.unix_timestamp());
                jwks.cache.note_failure(failed_at);
                return Err(AuthError::KeysUnavailable);
            }
        }
    }
    let (index, jwk, imported, generation) = {
        let jwks = state.jwks.borrow();
        let (index, jwk) = select_key(jwks.cache.keys(), &token)?;
        let imported = jwks.imported.get(index).cloned().flatten();
        (index, jwk.clone(), imported, jwks.generation)
    };
    let key = match imported {
        Some(key) => key,
        None => {
            let key = crypto::import(&jwk)
                .await
                .map_err(|_| AuthError::KeysUnavailable)?;
            let mut jwks = state.jwks.borrow_mut();
            if jwks.generation == generation {
                jwks.imported[index] = Some(key.clone());
            }
            key
        }
    };
    let signature = token.webcrypto_signature()?;
    let valid = crypto::verify(&key, jwk.algorithm, signature, token.signing_input())
        .await
        .unwrap_or(false);
    jwk.accept(token, valid)
}

/// The usable keys of the JWKS and how long to keep them; `None` if it cannot be had.
async fn fetch_jwks(url: &JwksUrl) -> Option<(Vec<auth::Jwk>, i64)> {
    let (headers, body) = net::get(url.as_str(), auth::MAX_JWKS_BYTES).await?;
    let keys = auth::parse_jwks(&body).ok()?;
    let cache_control = headers.get("Cache-Control").ok().flatten();
    Some((keys, auth::jwks_ttl(cache_control.as_deref())))
}
