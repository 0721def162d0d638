//! The JWT parser and checks. An input starting with `.` is an
//! `Authorization` value as sent; any other is a token payload, signed here
//! with the secret so the claims checks (exp, nbf, iat, aud, the role claim)
//! are reached past the signature. Also the input as `jwt-role-claim-key`.
#![no_main]

use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use libfuzzer_sys::fuzz_target;
use pgrest_translator::auth::jwt::{JwtSettings, verify};
use pgrest_translator::auth::role_claim::RoleClaimKey;

const SECRET: &str = "reallyreallyreallyreallyverysafe";
const NOW: i64 = 1_700_000_000;

static SETTINGS: LazyLock<JwtSettings> = LazyLock::new(|| {
    JwtSettings::new(Some(SECRET), false, Some("pgrest"), Some("$.role")).expect("settings")
});

fn signed(payload: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let message = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256).expect("HS256");
    format!("Bearer {message}.{signature}")
}

fuzz_target!(|input: &str| {
    let authorization = match input.strip_prefix('.') {
        Some(header) => header.to_string(),
        None => signed(input.as_bytes()),
    };
    // Decoding reads the role and the time and audience claims too.
    let _ = verify(&SETTINGS, &authorization, NOW);
    if let Ok(key) = RoleClaimKey::parse(input) {
        let claims = serde_json::json!({"role": "a", "roles": ["b", {"c": 1}], "x": {"y": null}});
        let _ = key.select(&claims);
    }
});
