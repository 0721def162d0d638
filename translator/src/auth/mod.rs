//! Who the request runs as. [`verify_token`] checks an Authorization header
//! (the cacheable part); [`authenticate`] runs on every request with the
//! verified claims and the host's clock: time and audience checks, then the
//! role from `jwt-role-claim-key`, else `db-anon-role`, else PGRST302.

mod aeson_json;
pub mod jwt;
#[cfg(test)]
mod jwt_tests;
mod keys;
pub mod role_claim;

pub use keys::SecretError;

use crate::config::Config;
use crate::contract::{TokenCheck, Verified};
use crate::error::ApiError;
use jwt::JwtSettings;

/// The role and claims a request's transaction runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResult {
    pub role: String,
    /// The claims as a JSON object, exposed as `request.jwt.claims`, with
    /// `role` the request's role as PostgREST sets it (`{"role":…}` alone
    /// without a token).
    pub claims_json: String,
    /// The role is not `db-anon-role` (42501 is then 403, not 401).
    pub authenticated: bool,
}

/// `claims` as JSON text, with `role` set to `role`.
fn with_role(mut claims: serde_json::Map<String, serde_json::Value>, role: &str) -> String {
    claims.insert("role".into(), role.into());
    aeson_json::to_string(&serde_json::Value::Object(claims))
}

/// Checks an Authorization header value: signature and key, not time or
/// audience. A scheme other than Bearer leaves the request anonymous.
pub fn verify_token(settings: &JwtSettings, authorization: &str) -> TokenCheck {
    let Some(token) = jwt::bearer_token(authorization) else {
        return TokenCheck::Anonymous;
    };
    match jwt::decode(settings, token) {
        Ok(v) => TokenCheck::Valid(v),
        Err(err) => TokenCheck::Invalid(err.to_response()),
    }
}

/// The request's role and claims at `now`, from `verify-token`'s claims
/// (`None`: no bearer token).
pub fn authenticate(
    config: &Config,
    settings: &JwtSettings,
    claims: Option<&Verified>,
    now_epoch_seconds: i64,
) -> Result<AuthResult, ApiError> {
    if let Some(claims) = claims {
        jwt::check_claims(settings, claims, now_epoch_seconds)?;
    }
    let role = claims
        .and_then(|c| c.role.clone())
        .or_else(|| config.db_anon_role.clone())
        .ok_or(ApiError::AnonymousDisabled)?;
    Ok(AuthResult {
        authenticated: config.db_anon_role.as_ref() != Some(&role),
        claims_json: match claims {
            // `decode` already wrote the role it found into the claims.
            Some(c) if c.role.is_some() => c.claims_json.clone(),
            Some(c) => match aeson_json::from_slice(c.claims_json.as_bytes()) {
                Ok(serde_json::Value::Object(claims)) => with_role(claims, &role),
                _ => with_role(serde_json::Map::new(), &role),
            },
            // The anonymous request, the hot path: nothing to parse.
            None => with_role(serde_json::Map::new(), &role),
        },
        role,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::JwtClaimsError;
    use serde_json::{Value, json};

    const SECRET: &str = "reallyreallyreallyreallyverysafe";
    const NOW: i64 = 1_700_000_000;

    fn settings() -> JwtSettings {
        JwtSettings::new(Some(SECRET), false, Some("api"), None).unwrap()
    }

    fn token(claims: Value) -> String {
        let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
    }

    fn verified(claims: Value) -> Verified {
        match verify_token(&settings(), &format!("Bearer {}", token(claims))) {
            TokenCheck::Valid(v) => v,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_token_is_the_anonymous_role_or_pgrst302() {
        let mut config = Config::default();
        let s = settings();
        assert_eq!(
            authenticate(&config, &s, None, NOW),
            Err(ApiError::AnonymousDisabled)
        );
        config.db_anon_role = Some("web \"anon\"".into());
        let auth = authenticate(&config, &s, None, NOW).unwrap();
        assert_eq!(auth.role, "web \"anon\"");
        assert_eq!(auth.claims_json, r#"{"role":"web \"anon\""}"#);
        assert!(!auth.authenticated);
    }

    #[test]
    fn other_schemes_are_anonymous_and_bad_tokens_answer_401() {
        assert_eq!(
            verify_token(&settings(), "Basic dXNlcjpwYXNz"),
            TokenCheck::Anonymous
        );
        let TokenCheck::Invalid(resp) = verify_token(&settings(), "Bearer x.y.z") else {
            panic!("token accepted");
        };
        assert_eq!(resp.status, 401);
        let TokenCheck::Invalid(resp) = verify_token(&JwtSettings::default(), "Bearer x.y.z")
        else {
            panic!("token accepted");
        };
        assert_eq!(resp.status, 500, "PGRST300 without a secret");
    }

    #[test]
    fn claims_give_the_role_and_are_checked_at_now() {
        let mut config = Config::default();
        let s = settings();
        let claims = verified(json!({"role": "alice", "exp": NOW + 10, "aud": "api"}));
        let auth = authenticate(&config, &s, Some(&claims), NOW).unwrap();
        assert_eq!(auth.role, "alice");
        assert!(auth.authenticated);
        assert_eq!(auth.claims_json, claims.claims_json);
        // Verified once, expired later: the cached claims fail at a later now.
        assert_eq!(
            authenticate(&config, &s, Some(&claims), NOW + 41),
            Err(ApiError::JwtClaims(JwtClaimsError::Expired))
        );
        // The audience is checked after the times, as PostgREST does.
        let wrong_aud = verified(json!({"role": "a", "aud": "other", "exp": 1}));
        assert_eq!(
            authenticate(&config, &s, Some(&wrong_aud), NOW),
            Err(ApiError::JwtClaims(JwtClaimsError::Expired))
        );
        // No role claim: the anonymous role, or PGRST302 without one.
        let no_role = verified(json!({"sub": "1"}));
        assert_eq!(
            authenticate(&config, &s, Some(&no_role), NOW),
            Err(ApiError::AnonymousDisabled)
        );
        config.db_anon_role = Some("alice".into());
        let auth = authenticate(&config, &s, Some(&no_role), NOW).unwrap();
        assert_eq!((auth.role.as_str(), auth.authenticated), ("alice", false));
        assert_eq!(auth.claims_json, r#"{"role":"alice","sub":"1"}"#);
    }
}
