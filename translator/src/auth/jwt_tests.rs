//! Tokens signed here with known keys (`test_keys/`, generated for these
//! tests only) and checked the way PostgREST 16 checks them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::jwt::{JwtConfigError, JwtSettings, bearer_token, check_claims, decode, verify};
use super::keys::SecretError;
use crate::contract::{TimeClaim, Verified};
use crate::error::{ApiError, JwtClaimsError, JwtDecodeError};

const SECRET: &str = "reallyreallyreallyreallyverysafe";
const NOW: i64 = 1_700_000_000;

const EC_PEM: &[u8] = include_bytes!("test_keys/ec.pem");
const EC_X: &str = "A-Fp_bYfG1yHIclKjmQMvxnzbnxTSfkwJcnBCR3Tf-A";
const EC_Y: &str = "GPiYE4JXg2bSV6OJeqEJSlC4q4fOPxCSfmt5mTfEQJo";
const ED_PEM: &[u8] = include_bytes!("test_keys/ed.pem");
const ED_X: &str = "tkNqX8MEzFUtyLR4psX7Zdn-9BNWRqCSa3DBKsdRssE";
const RSA_PEM: &[u8] = include_bytes!("test_keys/rsa.pem");
const RSA_N: &str = "t2z8RUpzd5wGvM_iKUAFU9JTrbPnT2WXWkmxCvmt0af9fjCBOgKjcgfCIzER9tP-d627Xkjz448D0m0iR1p3C6hIkgYbqNIjzMx4TDYCqUJUpPq2RbzvasddkXoBebqiikRE1NYcUZH9_78URkSShjPuwoqYVkWy50rWqfTZsoW2hzPgB8Gqh_QaTk6RisvTeKPjQAP13dFeXHtKZocl4Y8Za-XEI2zUKCWi0C3oaW9WaIKNBt0fgJfOqLIRuTIvUbF_1RjnmoTOKQDvePKw6BRWO8ISaiRYGYlXShs9GkXDy5PN1ldwVt2WCLw5_e3CIDgMYS0yPcdsnBGUyQ_qyw";

fn settings(secret: &str) -> JwtSettings {
    JwtSettings::new(Some(secret), false, None, None).unwrap()
}

fn sign_with(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn hs(alg: Algorithm, secret: &str, claims: Value) -> String {
    sign_with(
        alg,
        None,
        &EncodingKey::from_secret(secret.as_bytes()),
        &claims,
    )
}

fn hs256(claims: Value) -> String {
    hs(Algorithm::HS256, SECRET, claims)
}

fn es256(kid: Option<&str>, claims: Value) -> String {
    sign_with(
        Algorithm::ES256,
        kid,
        &EncodingKey::from_ec_pem(EC_PEM).unwrap(),
        &claims,
    )
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn check(settings: &JwtSettings, token: &str) -> Result<Verified, ApiError> {
    verify(settings, &bearer(token), NOW).map(|v| v.expect("a bearer token"))
}

fn check_err(settings: &JwtSettings, token: &str) -> ApiError {
    check(settings, token).expect_err("token accepted")
}

fn no_suitable_key() -> ApiError {
    ApiError::JwtDecode(JwtDecodeError::NoSuitableKey)
}

fn no_key_verifies() -> ApiError {
    ApiError::JwtDecode(JwtDecodeError::NoKeyVerifies)
}

fn bad_crypto() -> ApiError {
    ApiError::JwtDecode(JwtDecodeError::BadCrypto)
}

fn claims_err(e: JwtClaimsError) -> ApiError {
    ApiError::JwtClaims(e)
}

/// A token with this header and payload and a meaningless signature.
fn raw_token(header: &str, payload: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode("sig")
    )
}

#[test]
fn hs256_token_gives_claims_and_role() {
    let claims = json!({"role": "web_user", "sub": "42", "exp": NOW + 60, "n": [1, {"b": null}]});
    let v = check(&settings(SECRET), &hs256(claims.clone())).unwrap();
    assert_eq!(v.role.as_deref(), Some("web_user"));
    assert_eq!(v.exp, TimeClaim::At(NOW + 60));
    assert_eq!(
        serde_json::from_str::<Value>(&v.claims_json).unwrap(),
        claims
    );
}

#[test]
fn no_role_claim_means_anonymous_and_other_values_are_json_text() {
    let s = settings(SECRET);
    let v = check(&s, &hs256(json!({"sub": "x"}))).unwrap();
    assert_eq!(v.role, None);
    assert_eq!(v.exp, TimeClaim::Absent);
    for (role, expected) in [
        (json!(42), "42"),
        (json!(true), "true"),
        (json!(null), "null"),
        (json!({"a": 1}), r#"{"a":1}"#),
        (json!("web \"user\""), "web \"user\""),
    ] {
        let v = check(&s, &hs256(json!({ "role": role }))).unwrap();
        assert_eq!(v.role.as_deref(), Some(expected));
    }
}

#[test]
fn the_role_claim_key_is_configurable() {
    let s = JwtSettings::new(Some(SECRET), false, None, Some("$.app.roles[1]")).unwrap();
    let v = check(
        &s,
        &hs256(json!({"role": "ignored", "app": {"roles": ["a", "b"]}})),
    )
    .unwrap();
    assert_eq!(v.role.as_deref(), Some("b"));
    let v = check(&s, &hs256(json!({"role": "ignored"}))).unwrap();
    assert_eq!(v.role, None);
    let legacy = JwtSettings::new(Some(SECRET), false, None, Some(r#"."x-y".r"#)).unwrap();
    let v = check(&legacy, &hs256(json!({"x-y": {"r": "legacy"}}))).unwrap();
    assert_eq!(v.role.as_deref(), Some("legacy"));
    assert_eq!(
        JwtSettings::new(Some(SECRET), false, None, Some("role"))
            .unwrap_err()
            .to_string(),
        "failed to parse role-claim-key value (role)"
    );
}

#[test]
fn bearer_scheme_rules() {
    assert_eq!(bearer_token("Bearer a.b.c"), Some("a.b.c"));
    assert_eq!(bearer_token("bearer a.b.c"), Some("a.b.c"));
    assert_eq!(bearer_token("BEARER \t a.b.c"), Some("a.b.c"));
    assert_eq!(bearer_token("Bearer a.b.c "), Some("a.b.c "));
    assert_eq!(bearer_token("Bearer"), Some(""));
    assert_eq!(bearer_token("Bearer   "), Some(""));
    assert_eq!(bearer_token("Basic dXNlcjpwYXNz"), None);
    assert_eq!(bearer_token("Bearer-x a.b.c"), None);
    assert_eq!(bearer_token(""), None);
    assert_eq!(verify(&settings(SECRET), "Basic x", NOW), Ok(None));
    // Another scheme is anonymous even without a secret.
    assert_eq!(verify(&JwtSettings::default(), "Basic x", NOW), Ok(None));
}

#[test]
fn tokens_without_a_secret_are_pgrst300() {
    let s = JwtSettings::default();
    assert_eq!(check_err(&s, &hs256(json!({}))), ApiError::JwtSecretMissing);
    assert_eq!(verify(&s, "Bearer", NOW), Err(ApiError::JwtSecretMissing));
}

#[test]
fn malformed_tokens() {
    let s = settings(SECRET);
    assert_eq!(
        verify(&s, "Bearer ", NOW),
        Err(ApiError::JwtDecode(JwtDecodeError::EmptyAuthHeader))
    );
    for (token, parts) in [
        ("abc", 1),
        ("a.b", 2),
        ("a.b.c.d", 4),
        ("a.b.c.d.e", 5),
        ("a b", 1),
    ] {
        assert_eq!(
            check_err(&s, token),
            ApiError::JwtDecode(JwtDecodeError::UnexpectedParts(parts)),
            "{token}"
        );
    }
    let good = hs256(json!({"role": "x"}));
    let (head, rest) = good.split_once('.').unwrap();
    let (payload, sig) = rest.split_once('.').unwrap();
    for token in [
        format!("!!.{payload}.{sig}"),
        format!("{head}.{payload}.{sig} "),
        format!("{head}.{payload}=.{sig}"),
        format!("{head}.***.{sig}"),
        raw_token("not json", "{}"),
        raw_token(r#"["alg"]"#, "{}"),
        raw_token(r#"{"typ":"JWT"}"#, "{}"),
        raw_token(r#"{"alg":"HS999"}"#, "{}"),
        raw_token(r#"{"alg":7}"#, "{}"),
        raw_token(r#"{"alg":"HS256","kid":7}"#, "{}"),
        raw_token(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#, "{}"),
    ] {
        assert_eq!(check_err(&s, &token), bad_crypto(), "{token}");
    }
}

#[test]
fn alg_none_is_always_refused() {
    let token = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(r#"{"role":"postgres"}"#)
    );
    assert_eq!(
        check_err(&settings(SECRET), &token),
        ApiError::JwtDecode(JwtDecodeError::Unsecured)
    );
}

#[test]
fn wrong_signature_or_key() {
    let s = settings(SECRET);
    let other = hs(
        Algorithm::HS256,
        "some-other-secret-of-32-characters",
        json!({}),
    );
    assert_eq!(check_err(&s, &other), no_key_verifies());
    // A signature from another token.
    let (a, b) = (
        hs256(json!({"role": "a"})),
        hs256(json!({"role": "postgres"})),
    );
    let forged = format!(
        "{}.{}",
        b.rsplit_once('.').unwrap().0,
        a.rsplit_once('.').unwrap().1
    );
    assert_eq!(check_err(&s, &forged), no_key_verifies());
    // A text secret is an HS256 key: other algorithms find no key.
    assert_eq!(
        check_err(&s, &hs(Algorithm::HS512, SECRET, json!({}))),
        no_suitable_key()
    );
    assert_eq!(check_err(&s, &es256(None, json!({}))), no_suitable_key());
    // PostgREST's keys without a `kid` never match a token that names one.
    let with_kid = sign_with(
        Algorithm::HS256,
        Some("k1"),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        &json!({}),
    );
    assert_eq!(check_err(&s, &with_kid), no_suitable_key());
}

#[test]
fn algorithm_confusion_is_refused() {
    // An HS256 token whose secret is the public key's JWK text must not
    // verify against that public key.
    let jwk = json!({"kty": "EC", "crv": "P-256", "x": EC_X, "y": EC_Y}).to_string();
    let s = settings(&jwk);
    let confused = hs(Algorithm::HS256, &jwk, json!({"role": "postgres"}));
    assert_eq!(check_err(&s, &confused), no_suitable_key());
    assert!(check(&s, &es256(None, json!({"role": "ok"}))).is_ok());
}

#[test]
fn payload_must_be_a_json_object() {
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#);
    for payload in ["[1]", "\"x\"", "not json"] {
        let signed = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
        let sig = jsonwebtoken::crypto::sign(signed.as_bytes(), &key, Algorithm::HS256).unwrap();
        assert_eq!(
            check_err(&settings(SECRET), &format!("{signed}.{sig}")),
            claims_err(JwtClaimsError::ParsingFailed),
            "{payload}"
        );
    }
}

#[test]
fn time_claims_with_30_seconds_of_skew() {
    let s = settings(SECRET);
    let at = |claims: Value| check(&s, &hs256(claims)).map(|_| ());
    assert_eq!(at(json!({"exp": NOW - 30})), Ok(()));
    assert_eq!(
        at(json!({"exp": NOW - 31})),
        Err(claims_err(JwtClaimsError::Expired))
    );
    assert_eq!(at(json!({"nbf": NOW + 30})), Ok(()));
    assert_eq!(
        at(json!({"nbf": NOW + 31})),
        Err(claims_err(JwtClaimsError::NotYetValid))
    );
    assert_eq!(at(json!({"iat": NOW + 30})), Ok(()));
    assert_eq!(
        at(json!({"iat": NOW + 31})),
        Err(claims_err(JwtClaimsError::IssuedAtFuture))
    );
    assert_eq!(at(json!({"exp": null, "nbf": null, "iat": null})), Ok(()));
    // Whole numbers written as decimals count; fractions and huge values read as 0.
    assert_eq!(at(json!({"exp": (NOW + 5) as f64})), Ok(()));
    assert_eq!(
        at(json!({"exp": NOW as f64 + 0.5})),
        Err(claims_err(JwtClaimsError::Expired))
    );
    assert_eq!(
        at(json!({"exp": u64::MAX})),
        Err(claims_err(JwtClaimsError::Expired))
    );
    assert_eq!(at(json!({"nbf": 1e30})), Ok(()));
    // exp is checked first.
    assert_eq!(
        at(json!({"exp": 0, "nbf": NOW + 100})),
        Err(claims_err(JwtClaimsError::Expired))
    );
    for (name, err) in [
        ("exp", JwtClaimsError::ExpNotNumber),
        ("nbf", JwtClaimsError::NbfNotNumber),
        ("iat", JwtClaimsError::IatNotNumber),
    ] {
        assert_eq!(
            at(json!({ name: "1700000000" })),
            Err(claims_err(err.clone()))
        );
        assert_eq!(at(json!({ name: [1] })), Err(claims_err(err)));
    }
    // The same token is fine earlier and expired later: time is only `now`.
    let token = hs256(json!({"exp": NOW}));
    let v = decode(&s, &token).unwrap();
    assert_eq!(check_claims(&s, &v, NOW + 30), Ok(()));
    assert_eq!(
        check_claims(&s, &v, NOW + 31),
        Err(claims_err(JwtClaimsError::Expired))
    );
}

#[test]
fn audience_as_string_or_array() {
    let s = JwtSettings::new(Some(SECRET), false, Some("api"), None).unwrap();
    let at = |aud: Value| check(&s, &hs256(json!({ "aud": aud }))).map(|_| ());
    let not_in = Err(claims_err(JwtClaimsError::NotInAudience));
    let bad_type = Err(claims_err(JwtClaimsError::AudNotStringOrArray));
    assert_eq!(at(json!("api")), Ok(()));
    assert_eq!(at(json!("other")), not_in);
    assert_eq!(at(json!(["other", "api"])), Ok(()));
    assert_eq!(at(json!(["other"])), not_in);
    assert_eq!(at(json!([])), Ok(()));
    assert_eq!(at(json!(null)), Ok(()));
    assert_eq!(at(json!(1)), bad_type);
    assert_eq!(at(json!({"a": "api"})), bad_type);
    assert_eq!(at(json!(["api", 1])), bad_type);
    assert!(check(&s, &hs256(json!({}))).is_ok(), "no aud claim passes");
    // Without jwt-aud any audience passes, but its type is still checked.
    let open = settings(SECRET);
    assert!(check(&open, &hs256(json!({"aud": "x"}))).is_ok());
    assert_eq!(
        check(&open, &hs256(json!({"aud": 5}))).map(|_| ()),
        bad_type
    );
}

#[test]
fn jwk_and_jwks_secrets() {
    let ec = json!({"kty": "EC", "crv": "P-256", "x": EC_X, "y": EC_Y, "kid": "ec1"});
    let ed = json!({"kty": "OKP", "crv": "Ed25519", "x": ED_X, "kid": "ed1"});
    let oct = json!({"kty": "oct", "k": URL_SAFE_NO_PAD.encode(SECRET), "kid": "hs"});
    let jwks = json!({"keys": [oct, ec, ed]}).to_string();
    let s = settings(&jwks);
    let ed_token = |kid: Option<&str>| {
        sign_with(
            Algorithm::EdDSA,
            kid,
            &EncodingKey::from_ed_pem(ED_PEM).unwrap(),
            &json!({"role": "ed"}),
        )
    };
    assert_eq!(
        check(&s, &es256(Some("ec1"), json!({"role": "ec"})))
            .unwrap()
            .role
            .as_deref(),
        Some("ec")
    );
    assert_eq!(
        check(&s, &es256(None, json!({"role": "ec"})))
            .unwrap()
            .role
            .as_deref(),
        Some("ec")
    );
    assert_eq!(
        check(&s, &ed_token(Some("ed1"))).unwrap().role.as_deref(),
        Some("ed")
    );
    assert_eq!(
        check(&s, &ed_token(None)).unwrap().role.as_deref(),
        Some("ed")
    );
    // A JWK `oct` key without `alg` takes any HMAC algorithm.
    let hs512 = sign_with(
        Algorithm::HS512,
        Some("hs"),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        &json!({}),
    );
    assert!(check(&s, &hs512).is_ok());
    // kid selects: an unknown kid, or a kid naming a key of another type.
    assert_eq!(
        check_err(&s, &es256(Some("nope"), json!({}))),
        no_suitable_key()
    );
    assert_eq!(
        check_err(&s, &es256(Some("ed1"), json!({}))),
        no_suitable_key()
    );
    // A single JWK, and a key whose alg or use rules it out.
    let single = settings(&json!({"kty": "OKP", "crv": "Ed25519", "x": ED_X}).to_string());
    assert!(check(&single, &ed_token(None)).is_ok());
    let es384_only = settings(
        &json!({"kty": "EC", "crv": "P-256", "x": EC_X, "y": EC_Y, "alg": "ES384"}).to_string(),
    );
    assert_eq!(
        check_err(&es384_only, &es256(None, json!({}))),
        no_suitable_key()
    );
    // A key whose kty or alg pgrest cannot use is skipped, the rest serve.
    let skipping = settings(
        &json!({"keys": [{"kty": "XYZ"}, {"kty": "EC", "crv": "P-256", "x": EC_X, "y": EC_Y, "alg": "XX1"}, ec]})
            .to_string(),
    );
    assert_eq!(skipping.warnings().len(), 2);
    assert!(check(&skipping, &es256(Some("ec1"), json!({}))).is_ok());
}

#[test]
fn rsa_keys_verify_rs256_and_ps256() {
    let s = settings(&json!({"kty": "RSA", "n": RSA_N, "e": "AQAB"}).to_string());
    let key = EncodingKey::from_rsa_pem(RSA_PEM).unwrap();
    for alg in [Algorithm::RS256, Algorithm::PS256] {
        let v = check(&s, &sign_with(alg, None, &key, &json!({"role": "rsa"}))).unwrap();
        assert_eq!(v.role.as_deref(), Some("rsa"));
    }
    // The same key pair's signature over another payload.
    let good = sign_with(Algorithm::RS256, None, &key, &json!({"role": "a"}));
    let other = sign_with(Algorithm::RS256, None, &key, &json!({"role": "postgres"}));
    let forged = format!(
        "{}.{}",
        other.rsplit_once('.').unwrap().0,
        good.rsplit_once('.').unwrap().1
    );
    assert_eq!(check_err(&s, &forged), no_key_verifies());
}

#[test]
fn secret_forms_and_startup_errors() {
    assert_eq!(
        JwtSettings::new(Some("short"), false, None, None).unwrap_err(),
        JwtConfigError::Secret(SecretError::TooShort)
    );
    // base64, with URL-safe characters and blanks tolerated.
    let raw: Vec<u8> = (0u8..40).map(|i| i.wrapping_mul(77)).collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&raw);
    let url_style = encoded
        .replace('+', "-")
        .replace('/', "_")
        .replace('=', ".");
    for text in [encoded.clone(), format!(" {url_style}\n")] {
        let s = JwtSettings::new(Some(&text), true, None, None).unwrap();
        let token = sign_with(
            Algorithm::HS256,
            None,
            &EncodingKey::from_secret(&raw),
            &json!({"role": "b64"}),
        );
        assert_eq!(check(&s, &token).unwrap().role.as_deref(), Some("b64"));
    }
    assert!(JwtSettings::new(Some("not base64!"), true, None, None).is_err());
    // A base64 secret too short once decoded.
    assert!(JwtSettings::new(Some("c2hvcnQ="), true, None, None).is_err());
    // A JWKS whose only key pgrest cannot use stops the start-up; its text
    // is never an HMAC secret (PostgREST falls back to one).
    let bad_jwks =
        json!({"keys": [{"kty": "EC", "crv": "P-999", "x": EC_X, "y": EC_Y}]}).to_string();
    assert_eq!(
        JwtSettings::new(Some(&bad_jwks), false, None, None)
            .unwrap_err()
            .to_string(),
        "jwt-secret: the JWKS holds no key pgrest can verify tokens with; skipped the \
         JWKS's key 1: it has crv \"P-999\", which pgrest does not support"
    );
}

#[test]
fn the_text_of_a_jwks_does_not_sign_tokens() {
    let rsa = json!({"kty": "RSA", "n": RSA_N, "e": "AQAB", "kid": "good"});
    let jwks = json!({"keys": [rsa, {"kty": "RSA", "n": RSA_N, "e": "AQAB", "use": "verify"}]})
        .to_string();
    let s = settings(&jwks);
    assert_eq!(s.warnings().len(), 1);
    let key = EncodingKey::from_rsa_pem(RSA_PEM).unwrap();
    let good = sign_with(Algorithm::RS256, None, &key, &json!({"role": "rsa"}));
    assert_eq!(check(&s, &good).unwrap().role.as_deref(), Some("rsa"));
    assert_eq!(
        check_err(
            &s,
            &hs(Algorithm::HS256, &jwks, json!({"role": "postgres"}))
        ),
        no_suitable_key()
    );
}

/// `header` and `payload` (JSON texts) signed with `SECRET` under HS256,
/// whatever the header says.
fn signed_raw(header: &str, payload: &str) -> String {
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let sig = jsonwebtoken::crypto::sign(signed.as_bytes(), &key, Algorithm::HS256).unwrap();
    format!("{signed}.{sig}")
}

#[test]
fn headers_are_read_as_jose_reads_them() {
    let s = settings(SECRET);
    // `alg: none` wins over `enc` and ignores the signature, once the
    // payload decodes.
    let unsecured = Err(ApiError::JwtDecode(JwtDecodeError::Unsecured));
    let none = |header: &str, payload: &str, sig: &str| {
        let token = format!("{}.{payload}.{sig}", URL_SAFE_NO_PAD.encode(header));
        check(&s, &token).map(|_| ())
    };
    let payload = URL_SAFE_NO_PAD.encode(r#"{"role":"postgres"}"#);
    assert_eq!(none(r#"{"alg":"none"}"#, &payload, "!!"), unsecured);
    assert_eq!(
        none(r#"{"alg":"none","enc":"A256GCM"}"#, &payload, ""),
        unsecured
    );
    assert_eq!(
        none(r#"{"alg":"none"}"#, "***", ""),
        Err(bad_crypto()),
        "an undecodable payload fails first"
    );
    // typ, cty and kid are strings or null; other members are ignored.
    for header in [
        r#"{"alg":"HS256","typ":null,"cty":null,"kid":null}"#,
        r#"{"alg":"HS256","typ":"JWT","cty":"JWT","x5u":7}"#,
    ] {
        assert!(check(&s, &signed_raw(header, "{}")).is_ok(), "{header}");
    }
    for header in [
        r#"{"alg":"HS256","typ":1}"#,
        r#"{"alg":"HS256","cty":{}}"#,
        r#"{"alg":null}"#,
        r#"{"alg":"HS256","enc":null}"#,
    ] {
        assert_eq!(
            check_err(&s, &signed_raw(header, "{}")),
            bad_crypto(),
            "{header}"
        );
    }
}

#[test]
fn base64url_ignores_the_unused_bits_of_a_last_group() {
    // An HS256 signature is 32 bytes: 43 characters, the last carrying 4
    // bits and 2 unused ones. JOSE ignores those; padding is refused.
    let s = settings(SECRET);
    let token = hs256(json!({"role": "x"}));
    let (signed, sig) = token.rsplit_once('.').unwrap();
    let last = sig.chars().last().unwrap();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.iter().position(|&c| c == last as u8).unwrap();
    let sloppy = format!("{}{}", &sig[..42], alphabet[index ^ 1] as char);
    assert_ne!(sloppy, sig);
    let v = check(&s, &format!("{signed}.{sloppy}")).expect("same signature bytes");
    assert_eq!(v.role.as_deref(), Some("x"));
    assert_eq!(check_err(&s, &format!("{token}=")), bad_crypto());
}

#[test]
fn checks_run_in_postgrest_order() {
    let s = JwtSettings::new(Some(SECRET), false, Some("api"), None).unwrap();
    let other_key = |claims: Value| {
        hs(
            Algorithm::HS256,
            "another secret of 32 characters..",
            claims,
        )
    };
    // No secret comes before everything, the empty token before the parts.
    assert_eq!(
        verify(&JwtSettings::default(), "Bearer  ", NOW),
        Err(ApiError::JwtSecretMissing)
    );
    assert_eq!(
        check_err(&s, "a.b"),
        ApiError::JwtDecode(JwtDecodeError::UnexpectedParts(2))
    );
    // The signature before any claim: expired, not a number, wrong
    // audience or not an object, a bad signature is what is reported.
    for claims in [
        json!({"exp": 1}),
        json!({"exp": "soon", "aud": 5}),
        json!({"aud": "other"}),
        json!([1]),
    ] {
        assert_eq!(
            check_err(&s, &other_key(claims.clone())),
            no_key_verifies(),
            "{claims}"
        );
    }
    // Then exp, nbf, iat and aud, the first that fails.
    let first = |claims: Value| check_err(&s, &hs256(claims));
    for (claims, err) in [
        (json!({"exp": 1, "aud": "other"}), JwtClaimsError::Expired),
        (json!({"exp": 1, "nbf": "x"}), JwtClaimsError::Expired),
        (json!({"nbf": "x", "exp": 1}), JwtClaimsError::Expired),
        (
            json!({"exp": "x", "nbf": NOW + 99}),
            JwtClaimsError::ExpNotNumber,
        ),
        (
            json!({"nbf": NOW + 99, "iat": "x"}),
            JwtClaimsError::NotYetValid,
        ),
        (
            json!({"iat": NOW + 99, "aud": 5}),
            JwtClaimsError::IssuedAtFuture,
        ),
        (
            json!({"iat": "x", "aud": "other"}),
            JwtClaimsError::IatNotNumber,
        ),
        (
            json!({"aud": ["other"], "role": 5}),
            JwtClaimsError::NotInAudience,
        ),
    ] {
        assert_eq!(first(claims.clone()), claims_err(err), "{claims}");
    }
}

#[test]
fn repeated_claims_and_header_members_keep_the_first() {
    let s = settings(SECRET);
    let token = signed_raw(
        r#"{"alg":"HS256","alg":"none"}"#,
        r#"{"role":"first","exp":1,"role":"postgres","exp":null}"#,
    );
    let v = decode(&s, &token).unwrap();
    assert_eq!(v.role.as_deref(), Some("first"));
    assert_eq!(v.exp, TimeClaim::At(1));
    assert_eq!(v.claims_json, r#"{"exp":1,"role":"first"}"#);
}
