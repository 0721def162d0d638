//! Who the request runs as. No token: the anonymous role, or PGRST302 when
//! there is none. [`jwt`] verifies tokens; until the configuration carries
//! its settings, [`verify_token`] refuses every token (never downgraded to
//! anonymous).

pub mod jwt;
#[cfg(test)]
mod jwt_tests;
mod keys;
pub mod role_claim;

use crate::config::Config;
use crate::contract::TokenCheck;
use crate::error::ApiError;

/// The role and claims a request's transaction runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResult {
    pub role: String,
    /// The claims as a JSON object, exposed as `request.jwt.claims`.
    pub claims_json: String,
}

/// Checks an Authorization header value. No secret can be configured yet, so
/// this answers as PostgREST does without a JWT secret.
pub fn verify_token(_config: &Config, _authorization: &str) -> TokenCheck {
    TokenCheck::Invalid(ApiError::JwtSecretMissing.to_response())
}

/// The role for a request that carried no token.
pub fn anonymous(config: &Config) -> Result<AuthResult, ApiError> {
    let role = config
        .db_anon_role
        .clone()
        .ok_or(ApiError::AnonymousDisabled)?;
    let claims_json = serde_json::json!({ "role": role }).to_string();
    Ok(AuthResult { role, claims_json })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_needs_an_anon_role() {
        let mut config = Config::default();
        assert_eq!(anonymous(&config), Err(ApiError::AnonymousDisabled));
        config.db_anon_role = Some("web \"anon\"".into());
        let auth = anonymous(&config).unwrap();
        assert_eq!(auth.role, "web \"anon\"");
        assert_eq!(auth.claims_json, r#"{"role":"web \"anon\""}"#);
    }

    #[test]
    fn tokens_are_refused_without_a_secret() {
        let TokenCheck::Invalid(resp) = verify_token(&Config::default(), "Bearer x.y.z") else {
            panic!("token accepted");
        };
        assert_eq!(resp.status, 500);
    }
}
