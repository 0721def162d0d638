//! Verifying an HS256 and an RS256 token inside the wasm component: cold
//! (`verify-token`: signature and claims, what the host's cache saves) and
//! cached (a cache hit, then `plan` with the claims, which checks exp/nbf/iat
//! and aud; compare with `plan` without a token).
//!
//! cargo bench --bench jwt -- --warm-up-time 1 --measurement-time 3

use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use pgrest_host::component::{Compiled, Generation, wit};
use pgrest_host::settings::resolve_config;
use pgrest_host::token_cache::TokenCache;
use serde_json::json;

mod common;

const SECRET: &str = "an HMAC secret of at least 32 characters";
const RSA_PEM: &[u8] = include_bytes!("../translator/src/auth/test_keys/rsa.pem");
const RSA_N: &str = "t2z8RUpzd5wGvM_iKUAFU9JTrbPnT2WXWkmxCvmt0af9fjCBOgKjcgfCIzER9tP-d627Xkjz448D0m0iR1p3C6hIkgYbqNIjzMx4TDYCqUJUpPq2RbzvasddkXoBebqiikRE1NYcUZH9_78URkSShjPuwoqYVkWy50rWqfTZsoW2hzPgB8Gqh_QaTk6RisvTeKPjQAP13dFeXHtKZocl4Y8Za-XEI2zUKCWi0C3oaW9WaIKNBt0fgJfOqLIRuTIvUbF_1RjnmoTOKQDvePKw6BRWO8ISaiRYGYlXShs9GkXDy5PN1ldwVt2WCLw5_e3CIDgMYS0yPcdsnBGUyQ_qyw";
/// One table `public.items(a int)`, as the introspection returns it.
const TABLES: &str = r#"[{"schema":"public","name":"items","is_view":false,"insertable":true,
  "updatable":true,"deletable":true,"description":null,"primary_key":["a"],
  "columns":[{"name":"a","data_type":"integer","nullable":false,"default":null,"description":null}]}]"#;
const NOW: i64 = 1_700_000_000;

fn verifying(c: &mut Criterion) {
    // Both key types in one JWKS: each token is tried against its own kind.
    let jwks = json!({"keys": [
        {"kty": "oct", "k": URL_SAFE_NO_PAD.encode(SECRET)},
        {"kty": "RSA", "n": RSA_N, "e": "AQAB"},
    ]});
    let env = [
        ("PGRST_DB_ANON_ROLE", "anon"),
        ("PGRST_JWT_SECRET", &jwks.to_string()),
        ("PGRST_JWT_AUD", "api"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let compiled = Compiled::new().expect("component");
    let resolved = resolve_config(&compiled, None, &env, &[]).expect("config");
    let introspection = common::introspection(&resolved.config, &[TABLES]);
    let generation = Generation::new(compiled, resolved, introspection).expect("component engine");
    let request = wit::HttpRequest {
        method: "GET".into(),
        path: "/items".into(),
        query: "select=a&a=eq.1".into(),
        headers: vec![("accept".into(), "*/*".into())],
        body: Vec::new(),
    };
    let claims = json!({"role": "web_user", "sub": "42", "aud": "api", "exp": NOW + 3600});
    let tokens = [
        (
            "hs256",
            Algorithm::HS256,
            EncodingKey::from_secret(SECRET.as_bytes()),
        ),
        (
            "rs256",
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(RSA_PEM).expect("RSA key"),
        ),
    ];

    c.bench_function("jwt/none/plan", |b| {
        b.iter(|| {
            generation
                .with_instance(|i| i.plan(black_box(&request), None, NOW))
                .expect("plans")
        })
    });
    for (name, alg, key) in tokens {
        let token = jsonwebtoken::encode(&Header::new(alg), &claims, &key).expect("signs");
        let authorization = format!("Bearer {token}");
        let verify = || match generation.with_instance(|i| i.verify_token(&authorization)) {
            Ok(wit::TokenCheck::Valid(v)) => v,
            other => panic!("{name} token refused: {other:?}"),
        };
        let cache = TokenCache::new(1000);
        cache.insert(&authorization, verify(), NOW, cache.epoch());
        let Ok(wit::Outcome::Run(_)) = generation
            .with_instance(|i| i.plan(&request, cache.get(&authorization, NOW).as_deref(), NOW))
        else {
            panic!("{name} claims refused by plan")
        };

        c.bench_function(&format!("jwt/{name}/cold-verify"), |b| {
            b.iter(|| black_box(verify()))
        });
        c.bench_function(&format!("jwt/{name}/cached-plan"), |b| {
            b.iter(|| {
                let claims = cache.get(black_box(&authorization), NOW);
                generation
                    .with_instance(|i| i.plan(&request, claims.as_deref(), NOW))
                    .expect("plans")
            })
        });
    }
}

criterion_group!(benches, verifying);
criterion_main!(benches);
