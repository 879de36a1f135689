//! Bearer tokens (JWT, compact JWS): parsing, HS256 verification, claim checks, the choice of a
//! JWKS key, and the caller's key segment. Plain Rust: the shell fetches the JWKS and runs
//! WebCrypto for RS256/ES256; time is an argument (Unix seconds).
//!
//! Rules, for every token:
//! - `Authorization: Bearer <JWT>`, at most [`MAX_TOKEN_BYTES`]; three base64url segments
//!   without padding; header and payload are JSON objects.
//! - `alg` is `HS256` (verified here with the shared secret, in constant time) or `RS256` /
//!   `ES256` (verified by the shell with the JWK the header's `kid` names). `none` and every
//!   other algorithm are refused, and a token's `alg` must match its key.
//! - A header with `crit` is refused: it names extensions the token's issuer requires us to
//!   understand (RFC 7515, 4.1.11), and this worker understands none.
//! - `exp` and `sub` are required. `exp`, `nbf` and `iat` are NumericDates (JSON numbers);
//!   each is honoured with at most [`CLOCK_SKEW_SECONDS`] of skew.
//! - `iss` must equal `UPLOAD_AUTH_ISSUER` and `aud` (a string or an array) must contain
//!   `UPLOAD_AUTH_AUDIENCE`, each when set, whichever key verified the token (a JWKS requires
//!   both: an identity provider signs tokens for every app of its tenant).
//!
//! The caller's key segment ([`user_segment`]) encodes `sub` injectively: bytes `a`–`z`,
//! `0`–`9` and `-` stay as they are; every other byte of its UTF-8 (uppercase letters, `_`,
//! `.`, `/`, `|`, anything non-ASCII) becomes `_` and two lowercase hex digits. So `Alice` is
//! `_41lice`, `user|42` is `user_7c42`, `../alice` is `_2e_2e_2falice`, and two different
//! subjects never share a segment. A `sub` that is empty or longer than [`MAX_SUB_BYTES`] is
//! refused.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{ApiError, ErrorCode};
use crate::json::{self, Members as _, Object, Value};
use crate::media_type::{MediaRange, MediaType};
use crate::origin::{Origin, Scheme};
use crate::sigv4::Secret;

/// Longest token accepted; identity providers' tokens are 1–2 KB.
pub(crate) const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Tolerated difference between the issuer's clock and ours, for `exp`, `nbf` and `iat`.
pub(crate) const CLOCK_SKEW_SECONDS: i64 = 60;
/// Longest `sub`: its encoded segment (at most 3 bytes per byte) must leave room in S3's
/// 1,024-byte keys for the prefix, the UUID and the file name.
pub(crate) const MAX_SUB_BYTES: usize = 96;
/// Largest JWKS document read: real ones are a few KB; a bigger answer is refused (the keys
/// count as unavailable) after reading at most this much.
pub(crate) const MAX_JWKS_BYTES: usize = 64 * 1024;
/// Bounds on how long a fetched JWKS is kept (its `Cache-Control: max-age`, clamped).
pub(crate) const JWKS_MIN_TTL_SECONDS: i64 = 300;
pub(crate) const JWKS_MAX_TTL_SECONDS: i64 = 86_400;
/// An unknown `kid` refetches the JWKS at most this often.
pub(crate) const JWKS_REFETCH_SECONDS: i64 = 60;
/// After a failed fetch, no other for this long: requests get 503 at once rather than each
/// asking an identity provider that is down (tokens cost nothing to send).
pub(crate) const JWKS_RETRY_SECONDS: i64 = 10;

/// Why a request is not authenticated. The message says which check failed; it never quotes
/// the token or any part of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthError {
    MissingToken,
    NotBearer,
    TooLong,
    Malformed(&'static str),
    /// `none`, `HS512` and anything else outside HS256, RS256 and ES256.
    UnsupportedAlgorithm,
    /// HS256 with no secret configured, or RS256/ES256 with no JWKS configured.
    AlgorithmNotConfigured,
    /// No key in the JWKS has this `kid` (and algorithm).
    UnknownKey,
    BadSignature,
    Expired,
    NotYetValid,
    IssuedInTheFuture,
    MissingClaim(&'static str),
    InvalidClaim(&'static str),
    WrongIssuer,
    WrongAudience,
    /// The header has `crit`: extensions we would have to understand, and do not.
    CriticalExtension,
    /// The JWKS could not be fetched or parsed: nothing can be verified (503, not 401).
    KeysUnavailable,
}

impl AuthError {
    /// True when the fault is ours (the JWKS), not the caller's token.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::KeysUnavailable)
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::MissingToken => "an Authorization: Bearer token is required",
            Self::NotBearer => "the Authorization header must be 'Bearer <token>'",
            Self::TooLong => "the token is too long",
            Self::Malformed(what) => return write!(f, "the token is malformed: {what}"),
            Self::UnsupportedAlgorithm => "the token's alg is not accepted (HS256, RS256, ES256)",
            Self::AlgorithmNotConfigured => "no key is configured for the token's alg",
            Self::UnknownKey => "no key matches the token's kid",
            Self::BadSignature => "the token's signature does not verify",
            Self::Expired => "the token has expired",
            Self::NotYetValid => "the token is not valid yet (nbf)",
            Self::IssuedInTheFuture => "the token was issued in the future (iat)",
            Self::MissingClaim(claim) => return write!(f, "the token has no {claim} claim"),
            Self::InvalidClaim(claim) => return write!(f, "the token's {claim} claim is invalid"),
            Self::WrongIssuer => "the token's issuer (iss) is not accepted",
            Self::WrongAudience => "the token's audience (aud) is not accepted",
            Self::CriticalExtension => "the token's header has crit: no extension is supported",
            Self::KeysUnavailable => "the identity provider's keys are unavailable; try again",
        };
        f.write_str(text)
    }
}

impl std::error::Error for AuthError {}

/// The signature algorithms a token may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Hs256,
    Rs256,
    Es256,
}

impl Algorithm {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "HS256" => Some(Self::Hs256),
            "RS256" => Some(Self::Rs256),
            "ES256" => Some(Self::Es256),
            _ => None,
        }
    }
}

/// A JSON NumericDate: whole seconds since the epoch (a fraction is cut). A string, or a
/// number of 9e15 seconds or more either way (near 2^53, where f64 stops holding every whole
/// number; 285 million years), is not one: no `exp` may mean "never".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NumericDate(pub i64);

fn numeric_date(claims: &Value, name: &'static str) -> Result<Option<NumericDate>, AuthError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(number @ Value::Number(_)) => {
            let seconds = match json::int(number) {
                Some(n) => Some(n),
                // A fraction is cut (`as` saturates; the bound below holds either way).
                None => number.as_f64().map(|f| f.trunc() as i64),
            };
            seconds
                .filter(|n| n.unsigned_abs() < 9_000_000_000_000_000)
                .map(|n| Some(NumericDate(n)))
                .ok_or(AuthError::InvalidClaim(name))
        }
        Some(_) => Err(AuthError::InvalidClaim(name)),
    }
}

/// The claims this worker reads; others are ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Claims {
    pub sub: Option<String>,
    pub exp: Option<NumericDate>,
    pub nbf: Option<NumericDate>,
    pub iat: Option<NumericDate>,
    pub iss: Option<String>,
    /// `aud`: one string or an array of strings.
    pub aud: Option<Vec<String>>,
    /// Narrows `UPLOAD_MAX_BYTES` for this caller.
    pub max_bytes: Option<u64>,
    /// Narrows `UPLOAD_ALLOWED_TYPES` for this caller.
    pub content_types: Option<Vec<String>>,
    /// The upload profiles this caller may use (`UPLOAD_PROFILES`; `default` for the
    /// settings' own); absent: all.
    pub profiles: Option<Vec<String>>,
}

impl Claims {
    /// Reads a payload object, checking each claim's JSON type.
    pub(crate) fn from_json(payload: &[u8]) -> Result<Self, AuthError> {
        let claims = parse_object(payload, "the payload is not a JSON object of claims")?;
        let text = |name: &'static str| {
            claims
                .text(name)
                .map(|t| t.map(str::to_owned))
                .map_err(|_| AuthError::InvalidClaim(name))
        };
        let strings = |name: &'static str, one_allowed: bool| match claims.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(one)) if one_allowed => Ok(Some(vec![one.clone()])),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(text) => Ok(text.clone()),
                    _ => Err(AuthError::InvalidClaim(name)),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(AuthError::InvalidClaim(name)),
        };
        let max_bytes = match claims.get("max_bytes") {
            None | Some(Value::Null) => None,
            Some(n) if json::whole(n).is_some_and(|n| n > 0) => json::whole(n),
            Some(_) => return Err(AuthError::InvalidClaim("max_bytes")),
        };
        Ok(Self {
            sub: text("sub")?,
            exp: numeric_date(&claims, "exp")?,
            nbf: numeric_date(&claims, "nbf")?,
            iat: numeric_date(&claims, "iat")?,
            iss: text("iss")?,
            aud: strings("aud", true)?,
            max_bytes,
            content_types: strings("content_types", false)?,
            profiles: strings("profiles", false)?,
        })
    }
}

/// A token as it arrived: split, decoded and read, but not verified. Its claims cannot be
/// read from outside this module: the only ways on are [`HmacKey::verify`] and
/// [`Jwk::accept`], which give a [`VerifiedToken`].
pub struct UntrustedToken<'a> {
    algorithm: Algorithm,
    kid: Option<String>,
    claims: Claims,
    /// `header.payload`, the bytes the signature covers.
    signing_input: &'a str,
    signature: Vec<u8>,
}

impl fmt::Debug for UntrustedToken<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A caller's token is a credential: only its algorithm and key id are shown.
        f.debug_struct("UntrustedToken")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl<'a> UntrustedToken<'a> {
    /// Splits and decodes a compact JWS. Nothing is trusted yet.
    pub fn parse(token: &'a str) -> Result<Self, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::TooLong);
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::Malformed(
                "it must have three dot-separated parts",
            ));
        };
        let header_json = decode_segment(header, "the header is not base64url")?;
        let payload_json = decode_segment(payload, "the payload is not base64url")?;
        let signature = decode_segment(signature, "the signature is not base64url")?;
        let signing_input = &token[..header.len() + 1 + payload.len()];
        let header = parse_object(&header_json, "the header is not a JSON object")?;
        let malformed_header = |_| AuthError::Malformed("the header's alg or kid is not a string");
        let alg = header.text("alg").map_err(malformed_header)?;
        let algorithm = alg
            .and_then(Algorithm::from_name)
            .ok_or(AuthError::UnsupportedAlgorithm)?;
        let kid = header
            .text("kid")
            .map_err(malformed_header)?
            .map(str::to_owned);
        if header.get("crit").is_some() {
            return Err(AuthError::CriticalExtension);
        }
        let claims = Claims::from_json(&payload_json)?;
        Ok(Self {
            algorithm,
            kid,
            claims,
            signing_input,
            signature,
        })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// What the signature covers, for WebCrypto's `verify`.
    pub fn signing_input(&self) -> &[u8] {
        self.signing_input.as_bytes()
    }

    /// The signature in the form WebCrypto verifies: RSASSA-PKCS1-v1_5 takes it as is; ECDSA
    /// takes the JWS form (`r || s`, 64 bytes for P-256) too, and nothing else.
    pub fn webcrypto_signature(&self) -> Result<&[u8], AuthError> {
        match self.algorithm {
            Algorithm::Es256 if self.signature.len() != 64 => Err(AuthError::BadSignature),
            Algorithm::Hs256 => Err(AuthError::UnsupportedAlgorithm),
            _ => Ok(&self.signature),
        }
    }
}

/// The token out of an `Authorization` header value.
pub(crate) fn bearer_token(authorization: Option<&str>) -> Result<&str, AuthError> {
    let value = authorization.ok_or(AuthError::MissingToken)?.trim();
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::NotBearer)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::NotBearer);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::MissingToken);
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::TooLong);
    }
    Ok(token)
}

/// The caller's token: the `Authorization: Bearer` header when there is one, otherwise the
/// cookie `cookie_name` from a `Cookie` header (the shell passes one only where a cookie may
/// authenticate: a request from the worker's own origin).
pub(crate) fn request_token<'a>(
    authorization: Option<&'a str>,
    cookies: Option<&'a str>,
    cookie_name: Option<&str>,
) -> Result<&'a str, AuthError> {
    if authorization.is_some() {
        return bearer_token(authorization);
    }
    let (Some(cookies), Some(name)) = (cookies, cookie_name) else {
        return Err(AuthError::MissingToken);
    };
    let mut values = cookies.split(';').filter_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key.trim() == name).then(|| value.trim().trim_matches('"'))
    });
    let value = values.next();
    if values.next().is_some() {
        // Two cookies of that name: one may have been planted by a sibling subdomain (cookie
        // tossing). Which one is the caller's cannot be told, so neither is taken.
        return Err(AuthError::Malformed("its cookie was sent more than once"));
    }
    match value {
        Some(token) if token.len() > MAX_TOKEN_BYTES => Err(AuthError::TooLong),
        Some(token) if !token.is_empty() => Ok(token),
        _ => Err(AuthError::MissingToken),
    }
}

/// A JWS segment: URL-safe base64 without padding, strictly (one spelling per value).
fn decode_segment(segment: &str, what: &'static str) -> Result<Vec<u8>, AuthError> {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| AuthError::Malformed(what))
}

/// A JSON object, or `Malformed(what)`.
fn parse_object(json: &[u8], what: &'static str) -> Result<Value, AuthError> {
    match json::parse(json) {
        Ok(object @ Value::Object(_)) => Ok(object),
        _ => Err(AuthError::Malformed(what)),
    }
}

/// A token whose signature verified. Its claims are still unchecked: [`VerifiedToken::caller`]
/// checks them at a given moment.
#[derive(Debug)]
pub struct VerifiedToken {
    claims: Claims,
}

impl VerifiedToken {
    /// The caller, if the claims hold at `now` (Unix seconds) and under `rules`.
    pub fn caller(self, now: i64, rules: &IssuerRules) -> Result<Caller, AuthError> {
        check_claims(&self.claims, now, rules)
    }
}

/// The shared secret, with its HMAC state keyed once.
#[derive(Clone)]
pub struct HmacKey(Hmac<Sha256>);

impl HmacKey {
    pub fn new(secret: &Secret) -> Self {
        Self(
            Hmac::new_from_slice(secret.expose().as_bytes())
                .expect("HMAC accepts keys of any length"),
        )
    }

    /// HS256 only: the HMAC of the signing input, compared in constant time.
    pub fn verify(&self, token: UntrustedToken<'_>) -> Result<VerifiedToken, AuthError> {
        if token.algorithm != Algorithm::Hs256 {
            return Err(AuthError::UnsupportedAlgorithm);
        }
        let mut mac = self.0.clone();
        mac.update(token.signing_input.as_bytes());
        mac.verify_slice(&token.signature)
            .map_err(|_| AuthError::BadSignature)?;
        Ok(VerifiedToken {
            claims: token.claims,
        })
    }
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacKey(<redacted>)")
    }
}

/// What every token must also say (`UPLOAD_AUTH_ISSUER`, `UPLOAD_AUTH_AUDIENCE`), each when
/// set. A shared secret may sign for several services too, so HS256 is held to them as well.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IssuerRules {
    pub issuer: Option<String>,
    pub audience: Option<String>,
}

/// A JWKS address: https, or plain http on a loopback host (for tests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwksUrl(String);

impl JwksUrl {
    pub fn parse(raw: &str) -> Option<Self> {
        let (origin, _) = Origin::parse_url(raw)?;
        let secure = origin.scheme() == Scheme::Https || origin.is_loopback();
        secure.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How callers are authenticated, when they are: by an HS256 secret, by an identity
/// provider's JWKS, or by either.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    pub secret: Option<HmacKey>,
    pub jwks: Option<JwksUrl>,
    /// Checked on every token, however verified.
    pub rules: IssuerRules,
    /// A cookie that may carry the token on requests from the worker's own origin.
    pub cookie: Option<String>,
}

/// The limits an authenticated caller's uploads get. Only a [`VerifiedToken`] whose claims
/// hold makes one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    sub: String,
    /// `sub`, encoded for one key segment (see the module documentation).
    segment: String,
    /// Narrower than `UPLOAD_MAX_BYTES`, when the token says so.
    max_bytes: Option<u64>,
    /// Types this caller may upload, on top of `UPLOAD_ALLOWED_TYPES`.
    content_types: Option<Vec<MediaRange>>,
    /// The upload profiles this caller may use, when the token lists them.
    profiles: Option<Vec<String>>,
}

impl Caller {
    /// The token's subject (for rate limits and the audit log: an id, not a credential).
    pub fn sub(&self) -> &str {
        &self.sub
    }

    /// The caller's key segment: every key it gets or may name sits under it.
    pub fn segment(&self) -> &str {
        &self.segment
    }

    /// The caller's own size limit, if the token narrows `UPLOAD_MAX_BYTES`.
    pub fn max_bytes(&self) -> Option<u64> {
        self.max_bytes
    }

    /// True when the token lists the types this caller may upload.
    pub fn restricts_types(&self) -> bool {
        self.content_types.is_some()
    }

    /// True when the token's `profiles` (if any) list `profile`.
    pub(crate) fn may_use_profile(&self, profile: &str) -> bool {
        self.profiles
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == profile))
    }

    /// The types the token lists (`content_types`), if it narrows them.
    pub(crate) fn content_types(&self) -> Option<&[MediaRange]> {
        self.content_types.as_deref()
    }

    /// True when the token's `content_types` (if any) allow `media_type`.
    pub fn allows_type(&self, media_type: &MediaType) -> bool {
        self.content_types
            .as_ref()
            .is_none_or(|ranges| ranges.iter().any(|r| r.matches(media_type)))
    }

    /// The same caller, limited to `profiles` (as a token's `profiles` claim does).
    #[cfg(test)]
    pub(crate) fn with_profiles(self, profiles: &[&str]) -> Self {
        Self {
            profiles: Some(profiles.iter().map(|p| (*p).to_owned()).collect()),
            ..self
        }
    }

    /// A caller for tests elsewhere in the crate.
    #[cfg(test)]
    pub(crate) fn for_tests(
        sub: &str,
        max_bytes: Option<u64>,
        content_types: Option<Vec<MediaRange>>,
    ) -> Self {
        Self {
            sub: sub.to_owned(),
            segment: user_segment(sub).unwrap(),
            max_bytes,
            content_types,
            profiles: None,
        }
    }
}

/// Checks a verified token's claims at `now` (Unix seconds).
fn check_claims(claims: &Claims, now: i64, rules: &IssuerRules) -> Result<Caller, AuthError> {
    let exp = claims.exp.ok_or(AuthError::MissingClaim("exp"))?;
    if now >= exp.0.saturating_add(CLOCK_SKEW_SECONDS) {
        return Err(AuthError::Expired);
    }
    if claims
        .nbf
        .is_some_and(|nbf| nbf.0 > now.saturating_add(CLOCK_SKEW_SECONDS))
    {
        return Err(AuthError::NotYetValid);
    }
    if claims
        .iat
        .is_some_and(|iat| iat.0 > now.saturating_add(CLOCK_SKEW_SECONDS))
    {
        return Err(AuthError::IssuedInTheFuture);
    }
    check_issuer(claims, rules)?;
    let sub = claims
        .sub
        .as_deref()
        .ok_or(AuthError::MissingClaim("sub"))?;
    let segment = user_segment(sub)?;
    let content_types = match &claims.content_types {
        None => None,
        Some(list) => Some(
            list.iter()
                .map(|t| MediaRange::parse(t))
                .collect::<Option<Vec<_>>>()
                .ok_or(AuthError::InvalidClaim("content_types"))?,
        ),
    };
    Ok(Caller {
        sub: sub.to_owned(),
        segment,
        max_bytes: claims.max_bytes,
        content_types,
        profiles: claims.profiles.clone(),
    })
}

/// `iss` and `aud` against the rules that are set.
fn check_issuer(claims: &Claims, rules: &IssuerRules) -> Result<(), AuthError> {
    if rules
        .issuer
        .as_ref()
        .is_some_and(|issuer| claims.iss.as_ref() != Some(issuer))
    {
        return Err(AuthError::WrongIssuer);
    }
    if let Some(audience) = &rules.audience {
        let listed = claims
            .aud
            .as_ref()
            .is_some_and(|aud| aud.iter().any(|a| a == audience));
        if !listed {
            return Err(AuthError::WrongAudience);
        }
    }
    Ok(())
}

/// `sub` as one key segment, injectively (rule in the module documentation).
pub(crate) fn user_segment(sub: &str) -> Result<String, AuthError> {
    if sub.is_empty() || sub.len() > MAX_SUB_BYTES {
        return Err(AuthError::InvalidClaim("sub"));
    }
    let mut segment = String::with_capacity(sub.len() * 3);
    for byte in sub.bytes() {
        if byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' {
            segment.push(char::from(byte));
        } else {
            segment.push('_');
            segment.push_str(&hex::encode([byte]));
        }
    }
    Ok(segment)
}

/// One public key from a JWKS, as WebCrypto will import it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Jwk {
    pub kid: Option<String>,
    pub algorithm: Algorithm,
    /// The public members only (`kty`, `n`, `e` or `crv`, `x`, `y`), as JSON for
    /// `crypto.subtle.importKey("jwk", ...)`.
    pub public_json: String,
}

impl Jwk {
    /// The token, verified: `signature_valid` is WebCrypto's `verify` of the token's
    /// [`UntrustedToken::webcrypto_signature`] over its signing input with this key. The
    /// token's algorithm must be this key's (no HS256 "signed" with a public key).
    pub(crate) fn accept(
        &self,
        token: UntrustedToken<'_>,
        signature_valid: bool,
    ) -> Result<VerifiedToken, AuthError> {
        if token.algorithm != self.algorithm {
            return Err(AuthError::UnknownKey);
        }
        if !signature_valid {
            return Err(AuthError::BadSignature);
        }
        Ok(VerifiedToken {
            claims: token.claims,
        })
    }
}

/// The usable signing keys of a JWKS document: RSA keys for RS256 and P-256 keys for ES256
/// (encryption keys, other curves and algorithms are skipped). A document that is not a JWKS,
/// or has no usable key, is [`AuthError::KeysUnavailable`].
pub(crate) fn parse_jwks(document: &[u8]) -> Result<Vec<Jwk>, AuthError> {
    let set = parse_object(document, "JWKS").map_err(|_| AuthError::KeysUnavailable)?;
    let Some(Value::Array(raw_keys)) = set.get("keys") else {
        return Err(AuthError::KeysUnavailable);
    };
    let mut keys = Vec::new();
    for raw in raw_keys {
        let member = |name: &str| raw.text(name).ok().flatten();
        if member("use").is_some_and(|usage| usage != "sig") {
            continue;
        }
        let alg = member("alg");
        // Only the public members, so WebCrypto imports a public key even if the set
        // carelessly publishes a private one.
        let public = Object::new();
        let (algorithm, public) = match (member("kty"), member("crv")) {
            (Some("RSA"), _) if alg.is_none_or(|a| a == "RS256") => {
                match (member("n"), member("e")) {
                    (Some(n), Some(e)) => (
                        Algorithm::Rs256,
                        public.text("kty", "RSA").text("n", n).text("e", e),
                    ),
                    _ => continue,
                }
            }
            (Some("EC"), Some(crv @ "P-256")) if alg.is_none_or(|a| a == "ES256") => {
                match (member("x"), member("y")) {
                    (Some(x), Some(y)) => (
                        Algorithm::Es256,
                        public
                            .text("kty", "EC")
                            .text("crv", crv)
                            .text("x", x)
                            .text("y", y),
                    ),
                    _ => continue,
                }
            }
            _ => continue,
        };
        keys.push(Jwk {
            kid: member("kid").map(str::to_owned),
            algorithm,
            public_json: public.finish(),
        });
    }
    if keys.is_empty() {
        return Err(AuthError::KeysUnavailable);
    }
    Ok(keys)
}

/// The key a token names, with its place in the set: same `kid` and same algorithm. A token
/// without `kid` may use the set's only key of its algorithm.
pub(crate) fn select_key<'k>(
    keys: &'k [Jwk],
    token: &UntrustedToken<'_>,
) -> Result<(usize, &'k Jwk), AuthError> {
    let mut candidates = keys
        .iter()
        .enumerate()
        .filter(|(_, k)| k.algorithm == token.algorithm);
    let chosen = match &token.kid {
        Some(kid) => candidates.find(|(_, k)| k.kid.as_deref() == Some(kid.as_str())),
        None => match (candidates.next(), candidates.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        },
    };
    chosen.ok_or(AuthError::UnknownKey)
}

/// How long to keep a fetched JWKS: its `max-age`, within
/// [`JWKS_MIN_TTL_SECONDS`]..=[`JWKS_MAX_TTL_SECONDS`]; the minimum when none is given.
pub(crate) fn jwks_ttl(cache_control: Option<&str>) -> i64 {
    let max_age = cache_control.and_then(|header| {
        header.split(',').find_map(|directive| {
            let (name, value) = directive.trim().split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("max-age")
                .then(|| value.trim().trim_matches('"').parse::<i64>().ok())
                .flatten()
        })
    });
    max_age
        .unwrap_or(JWKS_MIN_TTL_SECONDS)
        .clamp(JWKS_MIN_TTL_SECONDS, JWKS_MAX_TTL_SECONDS)
}

/// The JWKS an isolate holds, and when it may fetch again.
#[derive(Clone, Debug, Default)]
pub(crate) struct JwksCache {
    keys: Vec<Jwk>,
    fresh_until: i64,
    last_fetch: Option<i64>,
    failed_at: Option<i64>,
}

/// What to do about the JWKS for one token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JwksAction {
    /// The cached keys will do.
    UseCached,
    /// Fetch (none cached, expired, or an unknown `kid` and no fetch in the last minute).
    Fetch,
    /// No usable keys, and the last fetch failed moments ago: no verdict, no fetch.
    Unavailable,
}

impl JwksCache {
    pub(crate) fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// True while the cached keys are within their TTL.
    pub(crate) fn is_fresh(&self, now: i64) -> bool {
        !self.keys.is_empty() && now < self.fresh_until
    }

    /// Whether the cached set can verify this token at `now`.
    pub(crate) fn action_for(&self, token: &UntrustedToken<'_>, now: i64) -> JwksAction {
        if self.keys.is_empty() || now >= self.fresh_until {
            let backing_off = self
                .failed_at
                .is_some_and(|at| now < at + JWKS_RETRY_SECONDS);
            return match backing_off {
                true => JwksAction::Unavailable,
                false => JwksAction::Fetch,
            };
        }
        let known = select_key(&self.keys, token).is_ok();
        let may_refetch = self
            .last_fetch
            .is_none_or(|last| now >= last + JWKS_REFETCH_SECONDS);
        if known || !may_refetch {
            JwksAction::UseCached
        } else {
            JwksAction::Fetch
        }
    }

    /// Notes that a fetch is starting (so concurrent unknown `kid`s wait their minute).
    pub(crate) fn note_fetch(&mut self, now: i64) {
        self.last_fetch = Some(now);
    }

    /// Notes that a fetch failed (no answer, an error status, no usable keys).
    pub(crate) fn note_failure(&mut self, now: i64) {
        self.failed_at = Some(now);
    }

    /// Keeps a freshly fetched set for its TTL.
    pub(crate) fn store(&mut self, keys: Vec<Jwk>, now: i64, ttl: i64) {
        self.keys = keys;
        self.fresh_until = now + ttl;
        self.last_fetch = Some(now);
        self.failed_at = None;
    }
}

impl From<AuthError> for ApiError {
    /// 401 with `WWW-Authenticate` (RFC 6750: no error code when no token came at all), or
    /// 503 when the identity provider's keys cannot be had. The message names the check that
    /// failed and never quotes the token.
    fn from(error: AuthError) -> Self {
        if error.is_unavailable() {
            return Self::new(ErrorCode::AuthUnavailable, error.to_string());
        }
        let challenge = match error {
            AuthError::MissingToken => "Bearer",
            _ => "Bearer error=\"invalid_token\"",
        };
        Self {
            header: Some(("WWW-Authenticate", challenge.to_owned())),
            ..Self::new(ErrorCode::Unauthorized, error.to_string())
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};

    pub(crate) const SECRET: &str = "a-test-secret-of-32-bytes-length";
    const NOW: i64 = 1_795_000_000;

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A token signed with `secret` (HS256 unless the header says otherwise).
    pub(crate) fn sign_hs256(header: &str, payload: &str, secret: &str) -> String {
        let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(input.as_bytes());
        format!("{input}.{}", b64(&mac.finalize().into_bytes()))
    }

    fn valid_payload() -> String {
        format!(r#"{{"sub":"alice","exp":{},"iat":{}}}"#, NOW + 600, NOW)
    }

    fn verify(token: &str) -> Result<Caller, AuthError> {
        let key = HmacKey::new(&Secret::new(SECRET));
        let parsed = UntrustedToken::parse(token)?;
        key.verify(parsed)?.caller(NOW, &IssuerRules::default())
    }

    const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

    #[test]
    fn a_valid_hs256_token_gives_the_callers_segment() {
        let caller = verify(&sign_hs256(HS256, &valid_payload(), SECRET)).unwrap();
        assert_eq!((caller.segment(), caller.sub()), ("alice", "alice"));
        assert_eq!(caller.max_bytes(), None);
    }

    #[test]
    fn rfc7515_hs256_example_verifies() {
        // RFC 7515, appendix A.1: its key, header, payload and signature.
        let key = URL_SAFE_NO_PAD
            .decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
            .unwrap();
        let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let mac = HmacKey(Hmac::new_from_slice(&key).unwrap());
        let verified = mac.verify(UntrustedToken::parse(token).unwrap()).unwrap();
        assert_eq!(verified.claims.exp, Some(NumericDate(1_300_819_380)));
        assert_eq!(verified.claims.iss.as_deref(), Some("joe"));
        // It has no sub, and expired in 2011.
        assert_eq!(
            check_claims(&verified.claims, 1_300_819_000, &IssuerRules::default()),
            Err(AuthError::MissingClaim("sub"))
        );
        assert_eq!(
            verified.caller(NOW, &IssuerRules::default()),
            Err(AuthError::Expired)
        );
    }

    #[test]
    fn every_failure_has_its_own_reason() {
        let tamper = |token: String| {
            let mut parts: Vec<String> = token.split('.').map(String::from).collect();
            parts[1] = b64(format!(r#"{{"sub":"mallory","exp":{}}}"#, NOW + 600).as_bytes());
            parts.join(".")
        };
        let table: Vec<(&str, String, AuthError)> = vec![
            (
                "expired",
                sign_hs256(
                    HS256,
                    &format!(r#"{{"sub":"a","exp":{}}}"#, NOW - 61),
                    SECRET,
                ),
                AuthError::Expired,
            ),
            (
                "nbf in the future",
                sign_hs256(
                    HS256,
                    &format!(r#"{{"sub":"a","exp":{},"nbf":{}}}"#, NOW + 600, NOW + 120),
                    SECRET,
                ),
                AuthError::NotYetValid,
            ),
            (
                "iat in the future",
                sign_hs256(
                    HS256,
                    &format!(r#"{{"sub":"a","exp":{},"iat":{}}}"#, NOW + 600, NOW + 120),
                    SECRET,
                ),
                AuthError::IssuedInTheFuture,
            ),
            (
                "wrong secret",
                sign_hs256(HS256, &valid_payload(), "another-secret"),
                AuthError::BadSignature,
            ),
            (
                "alg none",
                format!(
                    "{}.{}.",
                    b64(br#"{"alg":"none"}"#),
                    b64(valid_payload().as_bytes())
                ),
                AuthError::UnsupportedAlgorithm,
            ),
            (
                "alg HS512",
                sign_hs256(r#"{"alg":"HS512"}"#, &valid_payload(), SECRET),
                AuthError::UnsupportedAlgorithm,
            ),
            (
                "tampered payload",
                tamper(sign_hs256(HS256, &valid_payload(), SECRET)),
                AuthError::BadSignature,
            ),
            (
                "no exp",
                sign_hs256(HS256, r#"{"sub":"a"}"#, SECRET),
                AuthError::MissingClaim("exp"),
            ),
            (
                "no sub",
                sign_hs256(HS256, &format!(r#"{{"exp":{}}}"#, NOW + 600), SECRET),
                AuthError::MissingClaim("sub"),
            ),
            (
                "exp as a string",
                sign_hs256(HS256, r#"{"sub":"a","exp":"2030-01-01"}"#, SECRET),
                AuthError::InvalidClaim("exp"),
            ),
            (
                "exp as 1e300",
                sign_hs256(HS256, r#"{"sub":"a","exp":1e300}"#, SECRET),
                AuthError::InvalidClaim("exp"),
            ),
            (
                // No f64 holds it: serde_json refuses the payload as JSON.
                "exp as 1e400",
                sign_hs256(HS256, r#"{"sub":"a","exp":1e400}"#, SECRET),
                AuthError::Malformed("the payload is not a JSON object of claims"),
            ),
            (
                "payload an array",
                sign_hs256(HS256, r#"["a", 1]"#, SECRET),
                AuthError::Malformed("the payload is not a JSON object of claims"),
            ),
            (
                "payload not JSON",
                sign_hs256(HS256, "hello", SECRET),
                AuthError::Malformed("the payload is not a JSON object of claims"),
            ),
            (
                "segments not base64url",
                "a+b.c/d.e=f".to_owned(),
                AuthError::Malformed("the header is not base64url"),
            ),
            (
                "padded segments",
                format!("{}=.{}.x", b64(HS256.as_bytes()), b64(b"{}")),
                AuthError::Malformed("the header is not base64url"),
            ),
            (
                "two parts",
                "abc.def".to_owned(),
                AuthError::Malformed("it must have three dot-separated parts"),
            ),
            ("16 KiB", "a".repeat(16 * 1024), AuthError::TooLong),
            (
                "sub a number",
                sign_hs256(
                    HS256,
                    &format!(r#"{{"sub":42,"exp":{}}}"#, NOW + 600),
                    SECRET,
                ),
                AuthError::InvalidClaim("sub"),
            ),
            (
                "max_bytes zero",
                sign_hs256(
                    HS256,
                    &format!(r#"{{"sub":"a","exp":{},"max_bytes":0}}"#, NOW + 600),
                    SECRET,
                ),
                AuthError::InvalidClaim("max_bytes"),
            ),
            (
                "content_types malformed",
                sign_hs256(
                    HS256,
                    &format!(
                        r#"{{"sub":"a","exp":{},"content_types":["nope"]}}"#,
                        NOW + 600
                    ),
                    SECRET,
                ),
                AuthError::InvalidClaim("content_types"),
            ),
        ];
        for (name, token, expected) in table {
            let got = verify(&token).map(|_| ());
            assert_eq!(got, Err(expected.clone()), "{name}");
            let message = expected.to_string();
            assert!(
                !message.contains(&token),
                "{name}: message quotes the token"
            );
        }
    }

    #[test]
    fn claim_types_are_checked_one_by_one() {
        let read = |json: &str| Claims::from_json(json.as_bytes());
        assert_eq!(read(r#"{"aud":7}"#), Err(AuthError::InvalidClaim("aud")));
        assert_eq!(
            read(r#"{"aud":["a",1]}"#),
            Err(AuthError::InvalidClaim("aud"))
        );
        assert_eq!(read(r#"{"iss":{}}"#), Err(AuthError::InvalidClaim("iss")));
        assert_eq!(read(r#"{"nbf":true}"#), Err(AuthError::InvalidClaim("nbf")));
        assert_eq!(
            read(r#"{"exp":1e300}"#),
            Err(AuthError::InvalidClaim("exp"))
        );
        assert_eq!(
            read(r#"{"max_bytes":-1}"#),
            Err(AuthError::InvalidClaim("max_bytes"))
        );
        assert_eq!(
            read(r#"{"max_bytes":1.5}"#),
            Err(AuthError::InvalidClaim("max_bytes"))
        );
        assert_eq!(
            read(r#"{"content_types":"image/png"}"#),
            Err(AuthError::InvalidClaim("content_types"))
        );
        assert_eq!(
            read(r#"{"profiles":"avatar"}"#),
            Err(AuthError::InvalidClaim("profiles"))
        );
        assert_eq!(
            read(r#"{"profiles":["avatar",1]}"#),
            Err(AuthError::InvalidClaim("profiles"))
        );
        assert_eq!(
            read(r#"{"profiles":["avatar"]}"#).map(|c| c.profiles),
            Ok(Some(vec!["avatar".to_owned()]))
        );
        let ok = read(r#"{"sub":"a","sub":"b","aud":"x","exp":null,"extra":[1,{"y":2}]}"#).unwrap();
        assert_eq!(
            ok.sub.as_deref(),
            Some("b"),
            "the last of repeated members, as JSON.parse"
        );
        assert_eq!(ok.aud, Some(vec!["x".to_owned()]));
        assert_eq!(ok.exp, None);
    }

    #[test]
    fn skew_is_at_most_a_minute() {
        let at = |exp: i64, nbf: i64| {
            sign_hs256(
                HS256,
                &format!(r#"{{"sub":"a","exp":{exp},"nbf":{nbf}}}"#),
                SECRET,
            )
        };
        assert!(verify(&at(NOW - 59, NOW)).is_ok(), "exp 59 s ago");
        assert_eq!(verify(&at(NOW - 60, NOW)), Err(AuthError::Expired));
        assert!(
            verify(&at(NOW + 600, NOW + 60)).is_ok(),
            "nbf a minute ahead"
        );
        assert_eq!(
            verify(&at(NOW + 600, NOW + 61)),
            Err(AuthError::NotYetValid)
        );
        let fraction = sign_hs256(
            HS256,
            &format!(r#"{{"sub":"a","exp":{}.75}}"#, NOW + 5),
            SECRET,
        );
        assert!(verify(&fraction).is_ok());
    }

    #[test]
    fn bearer_header_is_required_and_bounded() {
        assert_eq!(bearer_token(None), Err(AuthError::MissingToken));
        assert_eq!(bearer_token(Some("Basic abc")), Err(AuthError::NotBearer));
        assert_eq!(bearer_token(Some("Bearer ")), Err(AuthError::NotBearer));
        assert_eq!(bearer_token(Some("bearer  x.y.z ")), Ok("x.y.z"));
        let long = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES + 1));
        assert_eq!(bearer_token(Some(&long)), Err(AuthError::TooLong));
    }

    #[test]
    fn issuer_and_audience_rules_apply_to_jwks_tokens() {
        let rules = IssuerRules {
            issuer: Some("https://id.example.com/".into()),
            audience: Some("uploads".into()),
        };
        let claims = |iss: &str, aud: &str| -> Claims {
            Claims::from_json(
                format!(
                    r#"{{"sub":"a","exp":{},"iss":"{iss}","aud":{aud}}}"#,
                    NOW + 600
                )
                .as_bytes(),
            )
            .unwrap()
        };
        let ok = claims("https://id.example.com/", r#""uploads""#);
        assert!(check_claims(&ok, NOW, &rules).is_ok());
        let in_list = claims("https://id.example.com/", r#"["api","uploads"]"#);
        assert!(check_claims(&in_list, NOW, &rules).is_ok());
        let wrong_iss = claims("https://id.example.com", r#""uploads""#);
        assert_eq!(
            check_claims(&wrong_iss, NOW, &rules),
            Err(AuthError::WrongIssuer)
        );
        let wrong_aud = claims("https://id.example.com/", r#"["api"]"#);
        assert_eq!(
            check_claims(&wrong_aud, NOW, &rules),
            Err(AuthError::WrongAudience)
        );
    }

    #[test]
    fn claims_narrow_the_upload() {
        let claims = Claims::from_json(
            format!(
                r#"{{"sub":"a","exp":{},"max_bytes":1000,"content_types":["image/*"]}}"#,
                NOW + 600
            )
            .as_bytes(),
        )
        .unwrap();
        let caller = check_claims(&claims, NOW, &IssuerRules::default()).unwrap();
        assert_eq!(caller.max_bytes(), Some(1000));
        assert!(caller.allows_type(&MediaType::parse("image/png").unwrap()));
        assert!(!caller.allows_type(&MediaType::parse("text/html").unwrap()));
    }

    #[test]
    fn segments_are_encoded_injectively() {
        let table = [
            ("alice", "alice"),
            ("Alice", "_41lice"),
            ("user|42", "user_7c42"),
            ("../alice", "_2e_2e_2falice"),
            ("alice/x", "alice_2fx"),
            ("a_b", "a_5fb"),
            ("аlice", "_d0_b0lice"),
            ("google-oauth2|1234", "google-oauth2_7c1234"),
        ];
        for (sub, segment) in table {
            assert_eq!(user_segment(sub).unwrap(), segment, "{sub}");
        }
        assert!(user_segment("").is_err());
        assert!(user_segment(&"a".repeat(MAX_SUB_BYTES + 1)).is_err());
        assert!(user_segment(&"a".repeat(MAX_SUB_BYTES)).is_ok());
    }

    const RSA_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

    fn jwks() -> Vec<Jwk> {
        let document = format!(
            r#"{{"keys":[
                {{"kty":"RSA","kid":"rsa-1","use":"sig","alg":"RS256","n":"{RSA_N}","e":"AQAB","d":"PRIVATE"}},
                {{"kty":"EC","kid":"ec-1","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}},
                {{"kty":"RSA","kid":"enc-1","use":"enc","n":"{RSA_N}","e":"AQAB"}},
                {{"kty":"EC","kid":"p384","crv":"P-384","x":"a","y":"b"}},
                {{"kty":"oct","kid":"hmac","k":"c2VjcmV0"}}
            ]}}"#
        );
        parse_jwks(document.as_bytes()).unwrap()
    }

    #[test]
    fn jwks_keys_for_other_algorithms_are_skipped() {
        let document = format!(
            r#"{{"keys":[
                {{"kty":"RSA","kid":"ps","alg":"PS256","n":"{RSA_N}","e":"AQAB"}},
                {{"kty":"EC","kid":"es384","alg":"ES384","crv":"P-256","x":"a","y":"b"}},
                {{"kty":"EC","kid":"es","alg":"ES256","crv":"P-256","x":"a","y":"b"}}
            ]}}"#
        );
        let keys = parse_jwks(document.as_bytes()).unwrap();
        let kids: Vec<_> = keys.iter().map(|k| k.kid.as_deref().unwrap()).collect();
        assert_eq!(kids, ["es"]);
    }

    #[test]
    fn jwks_keeps_public_signing_keys_only() {
        let keys = jwks();
        let kids: Vec<_> = keys.iter().map(|k| k.kid.as_deref().unwrap()).collect();
        assert_eq!(kids, ["rsa-1", "ec-1"]);
        assert_eq!(keys[0].algorithm, Algorithm::Rs256);
        assert_eq!(keys[1].algorithm, Algorithm::Es256);
        assert!(
            !keys[0].public_json.contains("PRIVATE"),
            "never a private member"
        );
        assert_eq!(
            keys[0].public_json,
            format!(r#"{{"kty":"RSA","n":"{RSA_N}","e":"AQAB"}}"#)
        );
        assert!(keys[1]
            .public_json
            .starts_with(r#"{"kty":"EC","crv":"P-256","x":"#));
        assert_eq!(parse_jwks(b"[]"), Err(AuthError::KeysUnavailable));
        assert_eq!(
            parse_jwks(b"{\"keys\":[]}"),
            Err(AuthError::KeysUnavailable)
        );
        assert_eq!(parse_jwks(b"<html>"), Err(AuthError::KeysUnavailable));
    }

    fn token_with(header: &str) -> String {
        format!(
            "{}.{}.{}",
            b64(header.as_bytes()),
            b64(valid_payload().as_bytes()),
            b64(&[1u8; 64])
        )
    }

    #[test]
    fn keys_are_chosen_by_kid_and_algorithm() {
        let keys = jwks();
        let pick = |header: &str| {
            let token = token_with(header);
            let parsed = UntrustedToken::parse(&token).unwrap();
            select_key(&keys, &parsed).map(|(_, k)| k.kid.clone().unwrap())
        };
        assert_eq!(pick(r#"{"alg":"RS256","kid":"rsa-1"}"#), Ok("rsa-1".into()));
        assert_eq!(pick(r#"{"alg":"ES256","kid":"ec-1"}"#), Ok("ec-1".into()));
        assert_eq!(
            pick(r#"{"alg":"ES256"}"#),
            Ok("ec-1".into()),
            "the only EC key"
        );
        assert_eq!(
            pick(r#"{"alg":"RS256","kid":"ec-1"}"#),
            Err(AuthError::UnknownKey),
            "alg must match the key"
        );
        assert_eq!(
            pick(r#"{"alg":"RS256","kid":"nope"}"#),
            Err(AuthError::UnknownKey)
        );
        assert_eq!(
            pick(r#"{"alg":"RS256","kid":"enc-1"}"#),
            Err(AuthError::UnknownKey)
        );
        let es = token_with(r#"{"alg":"ES256","kid":"ec-1"}"#);
        assert!(UntrustedToken::parse(&es)
            .unwrap()
            .webcrypto_signature()
            .is_ok());
        let short = format!(
            "{}.{}.{}",
            b64(br#"{"alg":"ES256"}"#),
            b64(valid_payload().as_bytes()),
            b64(&[1u8; 70])
        );
        assert_eq!(
            UntrustedToken::parse(&short)
                .unwrap()
                .webcrypto_signature()
                .map(|_| ()),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn jwks_cache_keeps_its_ttl_and_refetches_at_most_once_a_minute() {
        assert_eq!(jwks_ttl(None), 300);
        assert_eq!(jwks_ttl(Some("public, max-age=3600")), 3600);
        assert_eq!(jwks_ttl(Some("max-age=10")), 300);
        assert_eq!(jwks_ttl(Some("max-age=999999")), 86_400);
        assert_eq!(jwks_ttl(Some("no-store")), 300);
        assert_eq!(jwks_ttl(Some("max-age=abc")), 300);

        let known = token_with(r#"{"alg":"RS256","kid":"rsa-1"}"#);
        let unknown = token_with(r#"{"alg":"RS256","kid":"rotated"}"#);
        let (known, unknown) = (
            UntrustedToken::parse(&known).unwrap(),
            UntrustedToken::parse(&unknown).unwrap(),
        );
        let mut cache = JwksCache::default();
        assert_eq!(cache.action_for(&known, NOW), JwksAction::Fetch, "empty");
        assert!(!cache.is_fresh(NOW) && cache.keys().is_empty());
        cache.store(jwks(), NOW, 3600);
        assert_eq!(cache.keys(), jwks());
        assert!(cache.is_fresh(NOW) && cache.is_fresh(NOW + 3599));
        assert!(
            !cache.is_fresh(NOW + 3600),
            "kept for its TTL, not a second more"
        );
        assert_eq!(cache.action_for(&known, NOW + 10), JwksAction::UseCached);
        assert_eq!(
            cache.action_for(&unknown, NOW + 10),
            JwksAction::UseCached,
            "fetched 10 s ago"
        );
        assert_eq!(cache.action_for(&unknown, NOW + 60), JwksAction::Fetch);
        cache.note_fetch(NOW + 60);
        assert_eq!(cache.action_for(&unknown, NOW + 90), JwksAction::UseCached);
        assert_eq!(
            cache.action_for(&known, NOW + 3600),
            JwksAction::Fetch,
            "expired"
        );
        // The identity provider is down: one fetch, then none for JWKS_RETRY_SECONDS.
        cache.note_failure(NOW + 3600);
        assert_eq!(
            cache.action_for(&known, NOW + 3600),
            JwksAction::Unavailable
        );
        assert_eq!(
            cache.action_for(&known, NOW + 3609),
            JwksAction::Unavailable
        );
        assert_eq!(cache.action_for(&known, NOW + 3610), JwksAction::Fetch);
        let mut empty = JwksCache::default();
        empty.note_failure(NOW);
        assert_eq!(empty.action_for(&known, NOW + 1), JwksAction::Unavailable);
        // A success ends the back-off; a failure while keys are fresh changes nothing.
        empty.store(jwks(), NOW + 2, 300);
        assert_eq!(empty.action_for(&known, NOW + 3), JwksAction::UseCached);
        empty.note_failure(NOW + 4);
        assert_eq!(empty.action_for(&known, NOW + 5), JwksAction::UseCached);
        assert_eq!(
            empty.action_for(&known, NOW + 302),
            JwksAction::Fetch,
            "back-off over"
        );
    }

    #[test]
    fn jwks_urls_are_https_or_loopback_http() {
        for ok in [
            "https://id.example.com/.well-known/jwks.json",
            "http://127.0.0.1:8123/jwks",
            "http://localhost/jwks",
            "http://[::1]:9000/jwks",
        ] {
            assert!(JwksUrl::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "http://id.example.com/jwks",
            "ftp://127.0.0.1/jwks",
            "http://127.0.0.1.evil.com/jwks",
            "http://127.evil.example.com/jwks",
            "http://localhost.evil.com/jwks",
            "https://user@id.example.com/jwks",
            "https:///jwks",
            "jwks.json",
        ] {
            assert!(JwksUrl::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_jwks_key_accepts_only_its_own_algorithm_and_a_valid_signature() {
        let keys = jwks();
        let rs = token_with(r#"{"alg":"RS256","kid":"rsa-1"}"#);
        let parse = || UntrustedToken::parse(&rs).unwrap();
        let verified = keys[0].accept(parse(), true).unwrap();
        assert_eq!(verified.claims.sub.as_deref(), Some("alice"));
        assert_eq!(
            keys[0].accept(parse(), false).map(|_| ()),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            keys[1].accept(parse(), true).map(|_| ()),
            Err(AuthError::UnknownKey),
            "an RS256 token against the EC key"
        );
        // Algorithm confusion: an HS256 token "signed" with the RSA key's public PEM is an
        // HS256 token, which only the shared secret may verify.
        let hs = sign_hs256(r#"{"alg":"HS256","kid":"rsa-1"}"#, &valid_payload(), RSA_N);
        let confused = UntrustedToken::parse(&hs).unwrap();
        assert_eq!(
            select_key(&keys, &confused).map(|_| ()),
            Err(AuthError::UnknownKey)
        );
        assert_eq!(
            keys[0]
                .accept(UntrustedToken::parse(&hs).unwrap(), true)
                .map(|_| ()),
            Err(AuthError::UnknownKey)
        );
        assert_eq!(
            HmacKey::new(&Secret::new(SECRET))
                .verify(confused)
                .map(|_| ()),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn segments_are_url_safe_base64_without_padding() {
        assert_eq!(decode_segment("-_8", "x"), Ok(vec![0xfb, 0xff]));
        for bad in ["Zg==", "a+b", "a/b", "Zh", "Z"] {
            assert_eq!(
                decode_segment(bad, "x"),
                Err(AuthError::Malformed("x")),
                "{bad}"
            );
        }
    }

    #[test]
    fn limits_hold_at_their_exact_boundaries() {
        assert_eq!(MAX_JWKS_BYTES, 65_536, "a JWKS is read up to 64 KiB");
        // 8 KiB of token is read (and found malformed); a byte more is too long.
        let at_limit = "a".repeat(MAX_TOKEN_BYTES);
        let over = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(MAX_TOKEN_BYTES, 8192);
        assert!(matches!(
            UntrustedToken::parse(&at_limit),
            Err(AuthError::Malformed(_))
        ));
        assert_eq!(
            UntrustedToken::parse(&over).map(|_| ()),
            Err(AuthError::TooLong)
        );
        assert_eq!(
            bearer_token(Some(&format!("Bearer {at_limit}"))),
            Ok(at_limit.as_str())
        );
        let cookie = format!("s={at_limit}");
        assert_eq!(
            request_token(None, Some(&cookie), Some("s")),
            Ok(at_limit.as_str())
        );
        // `iat` exactly a minute ahead is within the skew; a second more is not.
        let at = |iat: i64| {
            let claims = format!(r#"{{"sub":"a","exp":{},"iat":{iat}}}"#, NOW + 600);
            check_claims(
                &Claims::from_json(claims.as_bytes()).unwrap(),
                NOW,
                &IssuerRules::default(),
            )
            .map(|_| ())
        };
        assert_eq!(at(NOW + 60), Ok(()));
        assert_eq!(at(NOW + 61), Err(AuthError::IssuedInTheFuture));
        // A NumericDate must stay below 9e15 seconds.
        let date = |raw: &str| {
            numeric_date(
                &json::parse(format!(r#"{{"exp":{raw}}}"#).as_bytes()).unwrap(),
                "exp",
            )
        };
        // (serde_json reads a fraction to within one unit in the last place: near 9e15 that
        // is a second, so only the side of the bound is checked there.)
        assert!(date("8999999999999990.0").is_ok());
        assert_eq!(date("1795000000.75"), Ok(Some(NumericDate(1_795_000_000))));
        assert_eq!(date("-2.5"), Ok(Some(NumericDate(-2))));
        assert_eq!(date("1e3"), Ok(Some(NumericDate(1000))));
        assert_eq!(
            date("9000000000000000.0"),
            Err(AuthError::InvalidClaim("exp"))
        );
        assert_eq!(
            date("8999999999999999"),
            Ok(Some(NumericDate(8_999_999_999_999_999)))
        );
        for never in [
            "9000000000000000",
            "-9000000000000000",
            "9223372036854775807",
        ] {
            assert_eq!(date(never), Err(AuthError::InvalidClaim("exp")), "{never}");
        }
        assert_eq!(
            date("-9000000000000000.5"),
            Err(AuthError::InvalidClaim("exp"))
        );
    }

    #[test]
    fn what_the_shell_reads_off_an_untrusted_token() {
        let token = token_with(r#"{"alg":"RS256","kid":"rsa-1"}"#);
        let parsed = UntrustedToken::parse(&token).unwrap();
        assert_eq!(parsed.kid(), Some("rsa-1"));
        assert_eq!(parsed.algorithm(), Algorithm::Rs256);
        let (input, _) = token.rsplit_once('.').unwrap();
        assert_eq!(parsed.signing_input(), input.as_bytes());
        assert_eq!(parsed.webcrypto_signature(), Ok(&[1u8; 64][..]));
        let hs = sign_hs256(HS256, &valid_payload(), SECRET);
        assert_eq!(
            UntrustedToken::parse(&hs).unwrap().webcrypto_signature(),
            Err(AuthError::UnsupportedAlgorithm),
            "an HS256 token never goes to WebCrypto"
        );
        let no_kid = UntrustedToken::parse(&hs).unwrap();
        assert_eq!(no_kid.kid(), None);
        let debug = format!("{parsed:?} {:?}", HmacKey::new(&Secret::new(SECRET)));
        assert!(
            debug.contains("Rs256") && debug.contains("rsa-1"),
            "{debug}"
        );
        assert!(debug.contains("HmacKey(<redacted>)"), "{debug}");
    }

    #[test]
    fn a_caller_restricts_types_only_when_its_token_lists_them() {
        assert!(!Caller::for_tests("a", None, None).restricts_types());
        let images = vec![MediaRange::parse("image/*").unwrap()];
        assert!(Caller::for_tests("a", None, Some(images)).restricts_types());
    }

    #[test]
    fn the_secret_verifies_hs256_tokens_only() {
        // An RS256 header over a valid HMAC of the shared secret: the secret must not vouch
        // for a token that says another algorithm.
        let forged = sign_hs256(r#"{"alg":"RS256","kid":"rsa-1"}"#, &valid_payload(), SECRET);
        let key = HmacKey::new(&Secret::new(SECRET));
        assert_eq!(
            key.verify(UntrustedToken::parse(&forged).unwrap())
                .map(|_| ()),
            Err(AuthError::UnsupportedAlgorithm)
        );
        let es = sign_hs256(r#"{"alg":"ES256"}"#, &valid_payload(), SECRET);
        assert_eq!(
            key.verify(UntrustedToken::parse(&es).unwrap()).map(|_| ()),
            Err(AuthError::UnsupportedAlgorithm)
        );
    }

    #[test]
    fn issuer_rules_apply_to_tokens_verified_by_the_secret_too() {
        let key = HmacKey::new(&Secret::new(SECRET));
        let hs = |payload: &str| {
            let token = sign_hs256(HS256, payload, SECRET);
            key.verify(UntrustedToken::parse(&token).unwrap()).unwrap()
        };
        let exp = NOW + 600;
        let both = IssuerRules {
            issuer: Some("https://id.example.com/".into()),
            audience: Some("uploads".into()),
        };
        let good =
            format!(r#"{{"sub":"a","exp":{exp},"iss":"https://id.example.com/","aud":"uploads"}}"#);
        assert!(hs(&good).caller(NOW, &both).is_ok());
        let other_app = good.replace(r#""aud":"uploads""#, r#""aud":"billing""#);
        assert_eq!(
            hs(&other_app).caller(NOW, &both),
            Err(AuthError::WrongAudience)
        );
        let other_iss = good.replace("id.example.com", "evil.example.com");
        assert_eq!(
            hs(&other_iss).caller(NOW, &both),
            Err(AuthError::WrongIssuer)
        );
        // Each rule on its own: an unset one asks nothing.
        let bare = format!(r#"{{"sub":"a","exp":{exp}}}"#);
        let issuer_only = IssuerRules {
            audience: None,
            ..both.clone()
        };
        let audience_only = IssuerRules {
            issuer: None,
            ..both.clone()
        };
        assert_eq!(
            hs(&bare).caller(NOW, &issuer_only),
            Err(AuthError::WrongIssuer)
        );
        assert_eq!(
            hs(&bare).caller(NOW, &audience_only),
            Err(AuthError::WrongAudience)
        );
        assert!(hs(&other_iss).caller(NOW, &audience_only).is_ok());
        assert!(hs(&other_app).caller(NOW, &issuer_only).is_ok());
        assert!(hs(&bare).caller(NOW, &IssuerRules::default()).is_ok());
    }

    #[test]
    fn a_crit_header_is_refused_whatever_it_lists() {
        for header in [
            r#"{"alg":"HS256","crit":["exp"]}"#,
            r#"{"alg":"HS256","crit":["b64"],"b64":false}"#,
            r#"{"alg":"HS256","crit":[]}"#,
            r#"{"alg":"RS256","kid":"rsa-1","crit":["x-unknown"],"x-unknown":1}"#,
        ] {
            let token = sign_hs256(header, &valid_payload(), SECRET);
            assert_eq!(
                UntrustedToken::parse(&token).map(|_| ()),
                Err(AuthError::CriticalExtension),
                "{header}"
            );
        }
        // Other unknown header members are ignored, as RFC 7515 says.
        let extra = sign_hs256(r#"{"alg":"HS256","x5t":"abc"}"#, &valid_payload(), SECRET);
        assert!(verify(&extra).is_ok());
    }

    #[test]
    fn the_token_comes_from_the_header_or_else_the_named_cookie() {
        let cookies = Some("theme=dark; session=abc.def.ghi; other=1");
        assert_eq!(
            request_token(Some("Bearer x.y.z"), cookies, Some("session")),
            Ok("x.y.z")
        );
        assert_eq!(
            request_token(None, cookies, Some("session")),
            Ok("abc.def.ghi")
        );
        assert_eq!(
            request_token(None, cookies, None),
            Err(AuthError::MissingToken),
            "no cookie is read unless one is named"
        );
        assert_eq!(
            request_token(None, cookies, Some("sess")),
            Err(AuthError::MissingToken)
        );
        assert_eq!(
            request_token(None, None, Some("session")),
            Err(AuthError::MissingToken)
        );
        assert_eq!(
            request_token(None, Some("session="), Some("session")),
            Err(AuthError::MissingToken)
        );
        assert_eq!(
            request_token(
                None,
                Some("session=a.b.c; x=1; session=d.e.f"),
                Some("session")
            ),
            Err(AuthError::Malformed("its cookie was sent more than once")),
            "a second cookie of the name may be another site's"
        );
        let long = format!("session={}", "a".repeat(MAX_TOKEN_BYTES + 1));
        assert_eq!(
            request_token(None, Some(&long), Some("session")),
            Err(AuthError::TooLong)
        );
    }

    #[test]
    fn debug_never_shows_tokens_or_secrets() {
        let token = sign_hs256(HS256, &valid_payload(), SECRET);
        let parsed = UntrustedToken::parse(&token).unwrap();
        let key = HmacKey::new(&Secret::new(SECRET));
        let printed = format!("{parsed:?} {key:?}");
        assert!(
            !printed.contains(&token) && !printed.contains(SECRET),
            "{printed}"
        );
        assert!(!printed.contains(parsed.signing_input));
        let verified = key.verify(parsed).unwrap();
        let caller = verified.caller(NOW, &IssuerRules::default()).unwrap();
        let printed = format!("{caller:?}");
        assert!(!printed.contains(&token), "{printed}");
    }
}

/// Fuzzing: whatever the token, an answer and never a panic; and the segment encoding is
/// injective and always one safe segment.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::fuzz_cases()))]

        #[test]
        fn any_token_gets_an_answer(token in ".{0,300}") {
            let key = HmacKey::new(&Secret::new("k"));
            if let Ok(parsed) = UntrustedToken::parse(&token) {
                let _ = check_claims(&parsed.claims, 0, &IssuerRules::default());
                if let Ok(verified) = key.verify(parsed) {
                    let _ = verified.caller(0, &IssuerRules::default());
                }
            }
        }

        #[test]
        fn segments_are_safe_and_injective(a in ".{1,40}", b in ".{1,40}") {
            let (Ok(sa), Ok(sb)) = (user_segment(&a), user_segment(&b)) else {
                return Ok(());
            };
            prop_assert_eq!(sa == sb, a == b);
            for segment in [&sa, &sb] {
                prop_assert!(segment.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_'));
                prop_assert!(segment != "." && segment != ".." && !segment.is_empty());
            }
        }
    }
}
