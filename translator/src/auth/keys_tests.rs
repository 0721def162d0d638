//! `parse_secret`: which texts give which keys, which JWKS keys are skipped
//! with a warning, and which texts stop the start-up.

use serde_json::{Value, json};

use super::{JwsAlg, Secret, SecretError, parse_secret};

const RSA_N: &str = "t2z8RUpzd5wGvM_iKUAFU9JTrbPnT2WXWkmxCvmt0af9fjCBOgKjcgfCIzER9tP-d627Xkjz448D0m0iR1p3C6hIkgYbqNIjzMx4TDYCqUJUpPq2RbzvasddkXoBebqiikRE1NYcUZH9_78URkSShjPuwoqYVkWy50rWqfTZsoW2hzPgB8Gqh_QaTk6RisvTeKPjQAP13dFeXHtKZocl4Y8Za-XEI2zUKCWi0C3oaW9WaIKNBt0fgJfOqLIRuTIvUbF_1RjnmoTOKQDvePKw6BRWO8ISaiRYGYlXShs9GkXDy5PN1ldwVt2WCLw5_e3CIDgMYS0yPcdsnBGUyQ_qyw";
const EC_X: &str = "A-Fp_bYfG1yHIclKjmQMvxnzbnxTSfkwJcnBCR3Tf-A";
const EC_Y: &str = "GPiYE4JXg2bSV6OJeqEJSlC4q4fOPxCSfmt5mTfEQJo";

fn rsa(kid: &str) -> Value {
    json!({"kty": "RSA", "n": RSA_N, "e": "AQAB", "kid": kid})
}

/// The keys of a JSON secret, or the message of its error.
fn parse(doc: &Value) -> Result<Secret, String> {
    parse_secret(doc.to_string().as_bytes()).map_err(|e| e.to_string())
}

/// The kids of the keys kept.
fn verifiers(secret: &Secret, alg: JwsAlg, kids: &[&str]) -> Vec<bool> {
    kids.iter()
        .map(|kid| secret.keys.iter().any(|k| k.can_verify(alg, Some(kid))))
        .collect()
}

#[test]
fn text_that_is_not_json_is_an_hs256_secret_of_32_bytes_or_more() {
    let secret = parse_secret(b"reallyreallyreallyreallyverysafe").unwrap();
    assert_eq!(secret.keys.len(), 1);
    assert!(secret.keys[0].can_verify(JwsAlg::Hs256, None));
    assert!(!secret.keys[0].can_verify(JwsAlg::Hs512, None));
    assert!(secret.warnings.is_empty());
    assert_eq!(parse_secret(b"short").unwrap_err(), SecretError::TooShort);
    assert_eq!(
        SecretError::TooShort.to_string(),
        "The JWT secret must be at least 32 characters long."
    );
    // Looks like JSON, is not: still a secret.
    assert!(parse_secret(b"{not json at all, just a long secret text}").is_ok());
}

#[test]
fn json_that_is_neither_a_jwk_nor_a_jwks_is_refused() {
    let texts: [&[u8]; 5] = [
        br#""a JSON string that is long enough to be a secret""#,
        b"123456789012345678901234567890123456",
        br#"[{"kty": "oct", "k": "c2VjcmV0"}]"#,
        br#"{"secret": "reallyreallyreallyreallyverysafe"}"#,
        b" null ",
    ];
    for text in texts {
        let err = parse_secret(text).expect_err("refused");
        assert_eq!(err, SecretError::NeitherJwkNorJwks);
    }
    let err = parse(&json!({"keys": rsa("a")})).err().unwrap();
    assert_eq!(err, "jwt-secret is a JWKS whose \"keys\" is not an array");
}

#[test]
fn a_single_jwk_is_the_one_key_or_an_error() {
    let secret = parse(&rsa("a")).unwrap();
    assert_eq!(verifiers(&secret, JwsAlg::Rs256, &["a"]), [true]);
    assert!(secret.warnings.is_empty());
    let err = parse(&json!({"kty": "RSA", "n": RSA_N, "e": "AQAB", "use": "enc"}))
        .err()
        .unwrap();
    assert_eq!(
        err,
        "jwt-secret: the JWK has use \"enc\", which pgrest does not support"
    );
    let err = parse(&json!({"kty": "RSA", "e": "AQAB"})).err().unwrap();
    assert_eq!(err, "jwt-secret: invalid JWK: no \"n\"");
}

#[test]
fn jwks_keys_pgrest_cannot_use_are_skipped_with_a_warning() {
    let doc = json!({"keys": [
        rsa("good"),
        {"kty": "RSA", "n": RSA_N, "e": "AQAB", "kid": "verify", "use": "verify"},
        {"kty": "RSA", "n": RSA_N, "e": "AQAB", "use": "enc"},
        {"kty": "XYZ", "kid": "xyz"},
        {"kty": "EC", "crv": "P-521", "x": EC_X, "y": EC_Y, "kid": "p521"},
        {"kty": "OKP", "crv": "Ed448", "x": EC_X, "kid": "ed448"},
        {"kty": "EC", "crv": "P-256", "x": EC_X, "y": EC_Y, "alg": "ES512", "kid": "es512"},
        {"kty": "RSA", "n": RSA_N, "e": "AQAB", "alg": "RSA-OAEP", "kid": "oaep"},
        {"kty": "EC", "crv": "P-256", "x": EC_X, "y": EC_Y, "alg": "ES256", "kid": "ec"},
    ]});
    let secret = parse(&doc).unwrap();
    assert_eq!(secret.keys.len(), 2);
    assert_eq!(
        verifiers(&secret, JwsAlg::Rs256, &["good", "verify", "oaep"]),
        [true, false, false]
    );
    assert_eq!(verifiers(&secret, JwsAlg::Es256, &["ec"]), [true]);
    assert_eq!(
        secret.warnings,
        [
            "jwt-secret: skipped the JWKS's key 2 (kid \"verify\"): it has use \"verify\", which pgrest does not support",
            "jwt-secret: skipped the JWKS's key 3: it has use \"enc\", which pgrest does not support",
            "jwt-secret: skipped the JWKS's key 4 (kid \"xyz\"): it has kty \"XYZ\", which pgrest does not support",
            "jwt-secret: skipped the JWKS's key 5 (kid \"p521\"): it has crv \"P-521\", which pgrest does not support",
            "jwt-secret: skipped the JWKS's key 6 (kid \"ed448\"): it has crv \"Ed448\", which pgrest does not support",
            "jwt-secret: skipped the JWKS's key 7 (kid \"es512\"): it has alg \"ES512\", which pgrest does not support",
            "jwt-secret: skipped the JWKS's key 8 (kid \"oaep\"): it has alg \"RSA-OAEP\", which pgrest does not support",
        ]
    );
}

#[test]
fn a_jwks_left_without_keys_is_refused() {
    let err = parse(&json!({"keys": []})).err().unwrap();
    assert_eq!(
        err,
        "jwt-secret: the JWKS holds no key pgrest can verify tokens with"
    );
    let err = parse(&json!({"keys": [{"kty": "XYZ"}, {"kty": "RSA", "n": RSA_N, "e": "AQAB", "use": "verify"}]}))
        .err()
        .unwrap();
    assert_eq!(
        err,
        "jwt-secret: the JWKS holds no key pgrest can verify tokens with; \
         skipped the JWKS's key 1: it has kty \"XYZ\", which pgrest does not support; \
         skipped the JWKS's key 2: it has use \"verify\", which pgrest does not support"
    );
}

#[test]
fn a_malformed_jwks_key_is_refused() {
    for (key, why) in [
        (json!({"kty": "RSA", "e": "AQAB", "kid": "k"}), "no \"n\""),
        (
            json!({"kty": "RSA", "n": "*", "e": "AQAB", "kid": "k"}),
            "\"n\" is not base64url",
        ),
        (
            json!({"kty": "RSA", "n": RSA_N, "e": "AQAB", "kid": 7}),
            "\"kid\" is not a string",
        ),
        (
            json!({"kty": "EC", "x": EC_X, "y": EC_Y, "kid": "k"}),
            "no \"crv\"",
        ),
        (json!({"n": RSA_N, "e": "AQAB", "kid": "k"}), "no \"kty\""),
        (
            json!({"kty": "RSA", "n": RSA_N, "e": "AQAB", "use": 1, "kid": "k"}),
            "\"use\" is not a string",
        ),
    ] {
        let err = parse(&json!({"keys": [rsa("good"), key]})).err().unwrap();
        let label = if key["kid"].is_string() {
            "key 2 (kid \"k\")"
        } else {
            "key 2"
        };
        assert_eq!(
            err,
            format!("jwt-secret: the JWKS's {label} is invalid: {why}")
        );
    }
    let err = parse(&json!({"keys": [rsa("good"), "text"]}))
        .err()
        .unwrap();
    assert_eq!(
        err,
        "jwt-secret: the JWKS's key 2 is invalid: not a JSON object"
    );
}
