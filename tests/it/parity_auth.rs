//! PostgREST 16's answers to tokens, over real HTTP: every JWT error's body
//! and `WWW-Authenticate` header, the order in which checks fail, the `aud`
//! rules for each form of `jwt-aud`, and claims that reach SQL whole
//! (fixtures: tests/fixtures/91_parity_auth.sql).

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};

use crate::auth::{SECRET, hs256, now, server_with};
use crate::harness::{Reply, Server, base_env, client, send, shared};

const AUD_URI: &str = "https://api.example.com/v1";

/// `jwt-aud` a plain string, the role in a claim named by a URI (the
/// pre-16 key syntax PostgREST 16.2 still reads).
fn aud_server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        server_with(&[
            ("PGRST_JWT_SECRET", SECRET),
            ("PGRST_JWT_AUD", "api"),
            ("PGRST_JWT_ROLE_CLAIM_KEY", r#"."https://x.io/claims".role"#),
        ])
    })
}

/// `jwt-aud` a URI, the role key a JSONPath into a claim with dots in its name.
fn uri_server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        server_with(&[
            ("PGRST_JWT_SECRET", SECRET),
            ("PGRST_JWT_AUD", AUD_URI),
            ("PGRST_JWT_ROLE_CLAIM_KEY", r#"$["app.meta"]["role.name"]"#),
        ])
    })
}

/// No `jwt-aud`, the default role key.
fn open_server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| server_with(&[("PGRST_JWT_SECRET", SECRET)]))
}

async fn with_authorization(server: &Server, authorization: &str) -> Reply {
    send(
        client()
            .get(server.url("/rpc/parity_auth_claims"))
            .header("Authorization", authorization),
    )
    .await
}

async fn with_token(server: &Server, token: &str) -> Reply {
    with_authorization(server, &format!("Bearer {token}")).await
}

/// The 401 PostgREST 16 sends for a refused token: its body, and its
/// message again in `WWW-Authenticate`.
#[track_caller]
fn assert_refused(r: &Reply, code: &str, message: &str, details: Option<&str>, case: &str) {
    assert_eq!(r.status, 401, "{case}: {}", r.text);
    assert_eq!(
        r.body,
        json!({"code": code, "message": message, "details": details, "hint": null}),
        "{case}"
    );
    assert_eq!(
        r.header("www-authenticate"),
        Some(format!(r#"Bearer error="invalid_token", error_description="{message}""#).as_str()),
        "{case}"
    );
}

/// A token of these exact header and payload texts, signed with `secret`
/// under HS256 whatever the header says.
fn signed_text(header: &str, payload: &str, secret: &str) -> String {
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let key = EncodingKey::from_secret(secret.as_bytes());
    let sig = jsonwebtoken::crypto::sign(signed.as_bytes(), &key, Algorithm::HS256).unwrap();
    format!("{signed}.{sig}")
}

fn hs256_with(secret: &str, kid: Option<&str>, alg: Algorithm, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

const OTHER_SECRET: &str = "another secret that is 32 characters or more";

#[tokio::test]
async fn each_decode_error_is_pgrst301_with_postgrest_16s_texts() {
    let server = aud_server();
    let empty = "Empty JWT is sent in Authorization header";
    for authorization in ["Bearer", "Bearer ", "Bearer      ", "bearer \t "] {
        let r = with_authorization(server, authorization).await;
        assert_refused(&r, "PGRST301", empty, None, authorization);
    }
    let payload = URL_SAFE_NO_PAD.encode(r#"{"role":"parity_auth_role"}"#);
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#);
    let crypto = "JWT cryptographic operation failed";
    let key = "No suitable key or wrong key type";
    let unsupported = "Wrong or unsupported encoding algorithm";
    let t = now();
    let cases: Vec<(String, &str, Option<&str>)> = vec![
        ("abc".into(), "Expected 3 parts in JWT; got 1", None),
        ("a.b".into(), "Expected 3 parts in JWT; got 2", None),
        ("a.b.c.d".into(), "Expected 3 parts in JWT; got 4", None),
        ("a.b.c.d.e".into(), "Expected 3 parts in JWT; got 5", None),
        // Undecodable parts.
        (format!("!!.{payload}.sig"), crypto, None),
        (format!("{header}.{payload}=.sig"), crypto, None),
        (format!("{header}.{payload}.s*g"), crypto, None),
        (
            format!("{}.{payload}.sig", URL_SAFE_NO_PAD.encode("not json")),
            crypto,
            None,
        ),
        (
            format!(
                "{}.{payload}.sig",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"HS999"}"#)
            ),
            crypto,
            None,
        ),
        (
            signed_text(r#"{"alg":"HS256","typ":1}"#, "{}", SECRET),
            crypto,
            None,
        ),
        (
            format!(
                "{}.{payload}.",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
            ),
            unsupported,
            Some("JWT is unsecured but expected 'alg' was not 'none'"),
        ),
        // No key for the alg or kid, or no key verifies.
        (
            hs256_with(SECRET, None, Algorithm::HS512, &json!({})),
            key,
            Some("No suitable key was found to decode the JWT"),
        ),
        (
            hs256_with(SECRET, Some("k1"), Algorithm::HS256, &json!({})),
            key,
            Some("No suitable key was found to decode the JWT"),
        ),
        (
            hs256_with(OTHER_SECRET, None, Algorithm::HS256, &json!({})),
            key,
            Some("None of the keys was able to decode the JWT"),
        ),
        // A bad signature is reported before any claim.
        (
            hs256_with(
                OTHER_SECRET,
                None,
                Algorithm::HS256,
                &json!({"exp": t - 999, "aud": 5, "nbf": "x"}),
            ),
            key,
            Some("None of the keys was able to decode the JWT"),
        ),
    ];
    for (token, message, details) in cases {
        let r = with_token(server, &token).await;
        assert_refused(&r, "PGRST301", message, details, &token);
    }
}

#[tokio::test]
async fn each_claims_error_is_pgrst303_in_postgrest_16s_order() {
    let server = aud_server();
    let t = now();
    let expired = "JWT expired";
    let cases = [
        (json!({"exp": t - 60}), expired),
        (json!({"nbf": t + 60}), "JWT not yet valid"),
        (json!({"iat": t + 60}), "JWT issued at future"),
        (json!({"aud": "other"}), "JWT not in audience"),
        (
            json!({"exp": "soon"}),
            "The JWT 'exp' claim must be a number",
        ),
        (json!({"nbf": true}), "The JWT 'nbf' claim must be a number"),
        (json!({"iat": [1]}), "The JWT 'iat' claim must be a number"),
        (
            json!({"aud": {"a": 1}}),
            "The JWT 'aud' claim must be a string or an array of strings",
        ),
        // exp, then nbf, then iat, then aud: the first that fails.
        (json!({"exp": t - 60, "aud": "other"}), expired),
        (json!({"exp": t - 60, "nbf": "x", "iat": "x"}), expired),
        (
            json!({"nbf": t + 60, "iat": "x", "aud": 5}),
            "JWT not yet valid",
        ),
        (
            json!({"iat": "x", "aud": "other"}),
            "The JWT 'iat' claim must be a number",
        ),
        // A fractional time reads as 0: long expired.
        (json!({"exp": t as f64 + 0.5}), expired),
    ];
    for (claims, message) in cases {
        let r = with_token(server, &hs256(claims.clone())).await;
        assert_refused(&r, "PGRST303", message, None, &claims.to_string());
    }
    // A payload that is not a JSON object, correctly signed.
    for payload in ["[1]", "\"x\"", "{\"a\":"] {
        let token = signed_text(r#"{"alg":"HS256"}"#, payload, SECRET);
        let r = with_token(server, &token).await;
        assert_refused(&r, "PGRST303", "Parsing claims failed", None, payload);
    }
}

#[tokio::test]
async fn times_are_allowed_30_seconds_of_skew() {
    let server = open_server();
    let t = now();
    // A few seconds' margin either side of the 30 for the test's own pace.
    for claims in [
        json!({"exp": t - 25}),
        json!({"nbf": t + 25}),
        json!({"iat": t + 25}),
        json!({"exp": null, "nbf": null, "iat": null}),
    ] {
        let r = with_token(server, &hs256(claims.clone())).await;
        assert_eq!(r.status, 200, "{claims}: {}", r.text);
    }
    for (claims, message) in [
        (json!({"exp": t - 35}), "JWT expired"),
        (json!({"nbf": t + 35}), "JWT not yet valid"),
        (json!({"iat": t + 35}), "JWT issued at future"),
    ] {
        let r = with_token(server, &hs256(claims.clone())).await;
        assert_refused(&r, "PGRST303", message, None, &claims.to_string());
    }
}

#[tokio::test]
async fn aud_follows_jwt_aud_as_a_string_a_uri_or_unset() {
    let not_in = "JWT not in audience";
    let not_string = "The JWT 'aud' claim must be a string or an array of strings";
    let expect = [
        // jwt-aud = "api": a string equal to it, an array holding it, an
        // empty array, null or no aud pass.
        (aud_server(), json!({"aud": "api"}), None),
        (aud_server(), json!({"aud": ["x", "api"]}), None),
        (aud_server(), json!({"aud": []}), None),
        (aud_server(), json!({"aud": null}), None),
        (aud_server(), json!({}), None),
        (aud_server(), json!({"aud": "API"}), Some(not_in)),
        (aud_server(), json!({"aud": ["x", "y"]}), Some(not_in)),
        (aud_server(), json!({"aud": ["api", 1]}), Some(not_string)),
        // A URI is compared as text: no normalisation.
        (uri_server(), json!({"aud": AUD_URI}), None),
        (uri_server(), json!({"aud": ["api", AUD_URI]}), None),
        (
            uri_server(),
            json!({"aud": format!("{AUD_URI}/")}),
            Some(not_in),
        ),
        (
            uri_server(),
            json!({"aud": "HTTPS://api.example.com/v1"}),
            Some(not_in),
        ),
        // Unset: any audience, but still a string or an array of strings.
        (open_server(), json!({"aud": "anything"}), None),
        (open_server(), json!({"aud": ["a", "b"]}), None),
        (open_server(), json!({"aud": 7}), Some(not_string)),
        (open_server(), json!({"aud": [null]}), Some(not_string)),
    ];
    for (server, claims, refused) in expect {
        let r = with_token(server, &hs256(claims.clone())).await;
        match refused {
            None => assert_eq!(r.status, 200, "{claims}: {}", r.text),
            Some(message) => assert_refused(&r, "PGRST303", message, None, &claims.to_string()),
        }
    }
}

#[test]
fn jwt_aud_with_a_colon_must_be_a_uri() {
    let mut env = base_env();
    env.push(("PGRST_JWT_SECRET".into(), SECRET.into()));
    env.push(("PGRST_JWT_AUD".into(), "urn:a b".into()));
    let err = Server::try_start(env).err().expect("refused at start");
    assert!(
        err.contains("jwt-aud should be a string or a valid URI"),
        "{err}"
    );
}

/// A hundred claims: names that are URIs, hold dots, quotes or non-ASCII,
/// nested objects and arrays, every JSON type.
fn large_claims() -> Map<String, Value> {
    let mut claims = Map::new();
    for i in 0..80 {
        claims.insert(format!("claim_{i:02}"), json!(i));
    }
    let odd = [
        ("https://example.com/roles", json!(["reader", "writer"])),
        (
            "https://x.io/claims",
            json!({"role": "parity_auth_role", "tier": 3}),
        ),
        ("a.b.c", json!("dotted")),
        ("app.meta", json!({"role.name": "parity_auth_role"})),
        ("quote\"d", json!("it's \"quoted\"")),
        ("ünïcødé ✓", json!("naïve ✓")),
        ("nested", json!({"a": {"b": {"c": [1, {"d": null}]}}})),
        ("empty", json!({})),
        ("list", json!([true, false, null, 1.5, -2, "s"])),
        ("null", Value::Null),
        ("sub", json!("user-1")),
        ("space name", json!(" padded ")),
        ("$.role", json!("not the role")),
        ("back\\slash", json!("a\\b")),
        ("newline", json!("line1\nline2\ttab")),
        ("big", json!(9_007_199_254_740_993_i64)),
        ("neg", json!(-1)),
        ("bool", json!(true)),
        ("str_num", json!("42")),
        ("exp", json!(now() + 600)),
    ];
    for (name, value) in odd {
        claims.insert(name.to_string(), value);
    }
    assert_eq!(claims.len(), 100);
    claims
}

#[tokio::test]
async fn every_claim_reaches_request_jwt_claims_unchanged() {
    let claims = large_claims();
    // PostgREST 16 sets `role` in the claims to the role it switched to.
    let mut seen = claims.clone();
    seen.insert("role".into(), json!("parity_auth_role"));
    for server in [aud_server(), uri_server()] {
        let r = with_token(server, &hs256(Value::Object(claims.clone()))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        // The role came from the claim the server's key points into.
        assert_eq!(r.body["role"], "parity_auth_role");
        assert_eq!(r.body["claims"], Value::Object(seen.clone()));
        // As text: the claims as one JSON object, keys in order.
        let text = r.body["text"].as_str().expect("the setting's text");
        assert_eq!(text, Value::Object(seen.clone()).to_string());
    }
}

#[tokio::test]
async fn claims_text_is_the_payload_as_postgrest_writes_it() {
    // PostgREST parses the payload into an object whose keys are ordered
    // and unique (the first of a repeated key wins, the role's too), then
    // writes it with its own number and escape forms.
    let payload = r#"{"z":1,"role":"parity_auth_role","a":{"y":2,"b":3,"y":0},"z":4,
        "role":"postgres","f":0.01,"g":"\f\b","t":1700000000.5,"n":1e+21}"#;
    let token = signed_text(r#"{"alg":"HS256","typ":"JWT"}"#, payload, SECRET);
    let r = with_token(open_server(), &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["role"], "parity_auth_role");
    assert_eq!(
        r.body["text"],
        r#"{"a":{"b":3,"y":2},"f":1.0e-2,"g":"\u000c\u0008","n":1000000000000000000000,"role":"parity_auth_role","t":1.7000000005e9,"z":1}"#
    );
}

#[tokio::test]
async fn without_a_secret_any_bearer_token_is_pgrst300_even_an_empty_one() {
    for authorization in ["Bearer", "Bearer   ", "Bearer a.b", "Bearer a.b.c"] {
        let r = with_authorization(shared(), authorization).await;
        assert_eq!(r.status, 500, "{authorization}: {}", r.text);
        assert_eq!(r.body["code"], "PGRST300", "{authorization}");
        assert_eq!(r.header("www-authenticate"), None, "{authorization}");
    }
    // Another scheme is no token at all.
    let r = with_authorization(shared(), "Basic dXNlcjpwYXNz").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["role"], "Web Anon");
    assert_eq!(r.body["text"], r#"{"role":"Web Anon"}"#);
}

#[tokio::test]
async fn token_errors_come_before_any_error_of_the_request() {
    // PostgREST authenticates before it reads the request: a refused token
    // is the answer even to a request that is wrong in other ways.
    let expired = hs256(json!({"exp": now() - 60}));
    let forged = hs256_with(OTHER_SECRET, None, Algorithm::HS256, &json!({}));
    for (path, token, code) in [
        ("/no_such_table", expired.as_str(), "PGRST303"),
        ("/items?select=id,)x", expired.as_str(), "PGRST303"),
        ("/rpc/no_such_function", forged.as_str(), "PGRST301"),
        ("/items?id=zz.1", forged.as_str(), "PGRST301"),
    ] {
        let r = send(client().get(aud_server().url(path)).bearer_auth(token)).await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (401, Some(code)),
            "{path}: {}",
            r.text
        );
    }
}
