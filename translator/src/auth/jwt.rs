//! JWT verification as PostgREST 16 does it, with the clock passed in.
//!
//! A request's `Authorization: Bearer <token>` is decoded and its signature
//! checked against the configured keys ([`decode`], cacheable: it does not
//! depend on the time), then `exp`/`nbf`/`iat` are checked against `now` with
//! PostgREST's 30-second skew, and `aud` against `jwt-aud` ([`check_claims`],
//! on every request, in PostgREST's order). [`verify`] does both.
//!
//! jsonwebtoken only checks signatures here: the token's parts, header and
//! key selection follow PostgREST's JOSE library (jose-jwt) and its JSON is
//! read and written as aeson does (`aeson_json`), so each failure is the
//! one PostgREST reports, in the same order.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use super::aeson_json;
use super::keys::{self, JwsAlg, Key, SecretError};
use super::role_claim::{RoleClaimKey, RoleClaimKeyError};
use crate::config::Config;
use crate::contract::{AudienceClaim, TimeClaim, Verified};
use crate::error::{ApiError, JwtClaimsError, JwtDecodeError};

/// Seconds a time claim may be off (PostgREST's `allowedSkewSeconds`).
const ALLOWED_SKEW_SECONDS: i64 = 30;

/// Why the JWT options give no [`JwtSettings`]; the message stops the
/// start-up or a reload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtConfigError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    RoleClaimKey(#[from] RoleClaimKeyError),
}

/// For the configuration and engine code, whose errors are still text.
/// The JWT part of the configuration, built once from its settings.
#[derive(Debug, Clone, Default)]
pub struct JwtSettings {
    /// `None`: no `jwt-secret`, every token is refused with PGRST300.
    keys: Option<Vec<Key>>,
    /// The JWKS keys skipped, for the operator.
    warnings: Vec<String>,
    audience: Option<String>,
    role_claim_key: RoleClaimKey,
}

impl JwtSettings {
    /// From `jwt-secret` (contents, not an `@file` path), `jwt-secret-is-base64`,
    /// `jwt-aud` and `jwt-role-claim-key` (`None`: `$.role`).
    pub fn new(
        secret: Option<&str>,
        secret_is_base64: bool,
        audience: Option<&str>,
        role_claim_key: Option<&str>,
    ) -> Result<JwtSettings, JwtConfigError> {
        let secret = match secret {
            None => None,
            Some(secret) if secret_is_base64 => {
                Some(keys::parse_secret(&keys::decode_base64_secret(secret)?)?)
            }
            Some(secret) => Some(keys::parse_secret(secret.as_bytes())?),
        };
        let (keys, warnings) = match secret {
            Some(secret) => (Some(secret.keys), secret.warnings),
            None => (None, Vec::new()),
        };
        Ok(JwtSettings {
            keys,
            warnings,
            audience: audience.map(str::to_string),
            role_claim_key: role_claim_key
                .map(RoleClaimKey::parse)
                .transpose()?
                .unwrap_or_default(),
        })
    }

    /// From a resolved configuration whose `jwt-secret` holds the secret
    /// itself (the host has read an `@file`).
    pub fn from_config(config: &Config) -> Result<JwtSettings, JwtConfigError> {
        JwtSettings::new(
            config.jwt_secret.as_deref(),
            config.jwt_secret_is_base64,
            config.jwt_aud.as_deref(),
            Some(&config.jwt_role_claim_key),
        )
    }

    /// What the operator should know about `jwt-secret`: the keys of its
    /// JWKS that were skipped.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The role claim: a string as is, any other JSON value as its JSON
    /// text; `None` when the path selects nothing.
    pub fn role(&self, claims: &Map<String, Value>) -> Option<String> {
        // The path's root is the claims object; select takes a Value.
        let root = Value::Object(claims.clone());
        self.role_claim_key.select(&root).map(|role| match role {
            Value::String(role) => role.clone(),
            other => aeson_json::to_string(other),
        })
    }
}

/// The token in an Authorization header value: the scheme `Bearer` in any
/// case, then everything after the blanks that follow it (possibly empty).
/// `None` for any other scheme: the request is anonymous.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let is_blank = |b: u8| b == b' ' || (b'\t'..=b'\r').contains(&b);
    let bytes = authorization.as_bytes();
    let end = bytes
        .iter()
        .position(|&b| is_blank(b))
        .unwrap_or(bytes.len());
    if !authorization[..end].eq_ignore_ascii_case("bearer") {
        return None;
    }
    Some(authorization[end..].trim_start_matches(|c: char| c.is_ascii() && is_blank(c as u8)))
}

/// Checks an Authorization header value at `now` (seconds since the epoch).
/// `Ok(None)`: not a bearer token, the request is anonymous.
pub fn verify(
    settings: &JwtSettings,
    authorization: &str,
    now_epoch_seconds: i64,
) -> Result<Option<Verified>, ApiError> {
    let Some(token) = bearer_token(authorization) else {
        return Ok(None);
    };
    let verified = decode(settings, token)?;
    check_claims(settings, &verified, now_epoch_seconds)?;
    Ok(Some(verified))
}

/// Everything that does not depend on the time: signature, claims shape, role.
pub fn decode(settings: &JwtSettings, token: &str) -> Result<Verified, ApiError> {
    let keys = settings.keys.as_ref().ok_or(ApiError::JwtSecretMissing)?;
    let claims = verified_payload(keys, token)?;
    let mut claims = match aeson_json::from_slice(&claims) {
        Ok(Value::Object(claims)) => claims,
        _ => return Err(JwtClaimsError::ParsingFailed.into()),
    };
    let time = |name| match claims.get(name) {
        None | Some(Value::Null) => TimeClaim::Absent,
        Some(Value::Number(at)) => TimeClaim::At(seconds(at)),
        Some(_) => TimeClaim::NotANumber,
    };
    let (exp, nbf, iat) = (time("exp"), time("nbf"), time("iat"));
    let aud = match claims.get("aud") {
        None | Some(Value::Null) => AudienceClaim::Absent,
        Some(Value::String(aud)) => AudienceClaim::Values(vec![aud.clone()]),
        Some(Value::Array(auds)) => auds
            .iter()
            .map(|a| a.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map_or(AudienceClaim::Invalid, AudienceClaim::Values),
        Some(_) => AudienceClaim::Invalid,
    };
    let role = settings.role(&claims);
    if let Some(role) = &role {
        claims.insert("role".into(), Value::String(role.clone()));
    }
    Ok(Verified {
        role,
        claims_json: aeson_json::to_string(&Value::Object(claims)),
        exp,
        nbf,
        iat,
        aud,
    })
}

/// `exp`, `nbf` and `iat` at `now`, each allowed 30 s of skew, then `aud`;
/// the first failure is the error. An absent or null claim passes; a
/// non-numeric time is refused.
pub fn check_claims(
    settings: &JwtSettings,
    verified: &Verified,
    now_epoch_seconds: i64,
) -> Result<(), ApiError> {
    check_time(verified, now_epoch_seconds)?;
    Ok(check_audience(&verified.aud, settings.audience.as_deref())?)
}

fn check_time(verified: &Verified, now_epoch_seconds: i64) -> Result<(), JwtClaimsError> {
    let earliest = now_epoch_seconds.saturating_sub(ALLOWED_SKEW_SECONDS);
    let latest = now_epoch_seconds.saturating_add(ALLOWED_SKEW_SECONDS);
    let checks = [
        (
            verified.exp,
            JwtClaimsError::ExpNotNumber,
            JwtClaimsError::Expired,
        ),
        (
            verified.nbf,
            JwtClaimsError::NbfNotNumber,
            JwtClaimsError::NotYetValid,
        ),
        (
            verified.iat,
            JwtClaimsError::IatNotNumber,
            JwtClaimsError::IssuedAtFuture,
        ),
    ];
    for (claim, not_number, failed) in checks {
        let at = match claim {
            TimeClaim::Absent => continue,
            TimeClaim::At(at) => at,
            TimeClaim::NotANumber => return Err(not_number),
        };
        let valid = if matches!(failed, JwtClaimsError::Expired) {
            at >= earliest
        } else {
            at <= latest
        };
        if !valid {
            return Err(failed);
        }
    }
    Ok(())
}

/// A time claim as PostgREST reads it: a whole number that fits in 64 bits,
/// anything else (fractions, huge values) counting as 0.
fn seconds(n: &serde_json::Number) -> i64 {
    if let Some(i) = n.as_i64() {
        return i;
    }
    match n.as_f64() {
        Some(f)
            if n.as_u64().is_none()
                && f.fract() == 0.0
                && f >= -(2f64.powi(63))
                && f < 2f64.powi(63) =>
        {
            f as i64
        }
        _ => 0,
    }
}

/// `aud` must be a string or an array of strings; with `jwt-aud` set, the
/// string or one array element must equal it (an empty array passes).
fn check_audience(aud: &AudienceClaim, audience: Option<&str>) -> Result<(), JwtClaimsError> {
    let matches = |aud: &String| audience.is_none_or(|expected| expected == aud);
    let valid = match aud {
        AudienceClaim::Absent => true,
        AudienceClaim::Values(auds) => auds.is_empty() || auds.iter().any(matches),
        AudienceClaim::Invalid => return Err(JwtClaimsError::AudNotStringOrArray),
    };
    if valid {
        Ok(())
    } else {
        Err(JwtClaimsError::NotInAudience)
    }
}

/// base64url as PostgREST's JOSE library reads it: no padding, and the
/// unused low bits of a last partial group ignored.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// The payload bytes of a token one of `keys` signed, checked in JOSE's
/// order: the parts (each must decode, the header must be a JWS header of a
/// known `alg`; `alg: none` is refused once its payload decodes), then the
/// keys that fit the `alg` and `kid`, then their signatures.
fn verified_payload(keys: &[Key], token: &str) -> Result<Vec<u8>, JwtDecodeError> {
    if token.is_empty() {
        return Err(JwtDecodeError::EmptyAuthHeader);
    }
    let parts: Vec<&str> = token.split('.').collect();
    let &[header_b64, payload_b64, signature_b64] = parts.as_slice() else {
        return Err(JwtDecodeError::UnexpectedParts(parts.len()));
    };
    let decode = |part: &str| {
        BASE64URL
            .decode(part)
            .map_err(|_| JwtDecodeError::BadCrypto)
    };
    let Ok(Value::Object(header)) = aeson_json::from_slice(&decode(header_b64)?) else {
        return Err(JwtDecodeError::BadCrypto);
    };
    if header.get("alg").and_then(Value::as_str) == Some("none") {
        decode(payload_b64)?;
        return Err(JwtDecodeError::Unsecured);
    }
    let (alg, kid) = read_header(&header)?;
    let payload = decode(payload_b64)?;
    let signature = decode(signature_b64)?;

    let signed = &token[..header_b64.len() + 1 + payload_b64.len()];
    let mut candidates = keys.iter().filter(|k| k.can_verify(alg, kid)).peekable();
    if candidates.peek().is_none() {
        return Err(JwtDecodeError::NoSuitableKey);
    }
    if candidates.any(|k| k.verifies(alg, signed.as_bytes(), &signature)) {
        Ok(payload)
    } else {
        Err(JwtDecodeError::NoKeyVerifies)
    }
}

/// `alg` and `kid` from a JWS header, read as JOSE reads it: `alg` one it
/// knows, `kid`, `typ` and `cty` strings or null. A header with `enc` is a
/// JWE's, which never fits in three parts.
fn read_header(header: &Map<String, Value>) -> Result<(JwsAlg, Option<&str>), JwtDecodeError> {
    let text = |name| match header.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(JwtDecodeError::BadCrypto),
    };
    if header.contains_key("enc") {
        return Err(JwtDecodeError::BadCrypto);
    }
    text("typ")?;
    text("cty")?;
    let alg = text("alg")?
        .and_then(JwsAlg::from_name)
        .ok_or(JwtDecodeError::BadCrypto)?;
    Ok((alg, text("kid")?))
}
