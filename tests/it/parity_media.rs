//! Media type handlers as PostgREST 16 negotiates them
//! (tests/fixtures/95_parity_media.sql): a function returning a domain named
//! after a media type answers its raw value for that type (`*/*`: for every
//! type, as `application/octet-stream` unless the function sets another
//! `Content-Type`), overriding the built-in `application/json`; other types
//! fall back to the built-in handlers; `anyelement` aggregates take a
//! function's scalars; the `vnd.pgrst` types are never overridden.

use serde_json::json;

use crate::harness::{client, get_with, shared};

/// A GET answered as raw bytes: status, Content-Type, Content-Length, body.
async fn raw(path: &str, accept: Option<&str>) -> (u16, String, String, Vec<u8>) {
    let mut req = client().get(shared().url(path));
    if let Some(accept) = accept {
        req = req.header("Accept", accept);
    }
    let r = req.send().await.expect("request sent");
    let header = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default()
    };
    let (content_type, length) = (header("content-type"), header("content-length"));
    let status = r.status().as_u16();
    let body = r.bytes().await.expect("body read").to_vec();
    (status, content_type, length, body)
}

fn answer(content_type: &str, body: &[u8]) -> (u16, String, String, Vec<u8>) {
    (
        200,
        content_type.to_string(),
        body.len().to_string(),
        body.to_vec(),
    )
}

#[tokio::test]
async fn an_any_domain_function_answers_every_type_raw() {
    let octets = answer("application/octet-stream", b"\x00\xff\x7b");
    for accept in [
        None,
        Some("*/*"),
        Some("app/bingo"),
        Some("application/json"),
        Some("application/octet-stream"),
        Some("text/csv"),
    ] {
        assert_eq!(raw("/rpc/mp95_any", accept).await, octets, "{accept:?}");
    }
    // The vendored types keep their built-in JSON.
    let r = get_with(
        "/rpc/mp95_any",
        &[("Accept", "application/vnd.pgrst.object")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.pgrst.object+json; charset=utf-8")
    );
    assert_eq!(r.body, json!("\\x00ff7b"));
}

#[tokio::test]
async fn an_any_domain_function_may_set_its_content_type() {
    assert_eq!(
        raw("/rpc/mp95_some", Some("*/*")).await,
        answer("app/groucho", b"groucho")
    );
    assert_eq!(
        raw("/rpc/mp95_some", Some("app/chico")).await,
        answer("app/chico", b"chico")
    );
}

#[tokio::test]
async fn a_media_domain_function_answers_its_type_raw_and_others_as_json() {
    assert_eq!(
        raw("/rpc/mp95_octets", Some("application/octet-stream")).await,
        answer("application/octet-stream", b"\x01\x02")
    );
    // `*/*` is the built-in JSON handler's: the bytea as JSON.
    let json_answer = answer("application/json; charset=utf-8", br#""\\x0102""#);
    for accept in ["*/*", "application/json"] {
        assert_eq!(raw("/rpc/mp95_octets", Some(accept)).await, json_answer);
    }
    // No value: an empty body of that type.
    assert_eq!(
        raw("/rpc/mp95_nothing", Some("application/octet-stream")).await,
        answer("application/octet-stream", b"")
    );
}

#[tokio::test]
async fn an_application_json_domain_overrides_the_builtin_json() {
    let raw_json = answer("application/json; charset=utf-8", br#"{"raw": true}"#);
    assert_eq!(
        raw("/rpc/mp95_json", Some("application/json")).await,
        raw_json
    );
    // `*/*` is still the built-in handler's: JSON of the bytes.
    assert_eq!(
        raw("/rpc/mp95_json", Some("*/*")).await,
        answer(
            "application/json; charset=utf-8",
            br#""\\x7b22726177223a20747275657d""#
        )
    );
}

#[tokio::test]
async fn anyelement_handlers_take_a_functions_scalars() {
    let count = Some("text/x-count");
    assert_eq!(
        raw("/rpc/mp95_number", count).await,
        answer("text/x-count", b"1 rows")
    );
    assert_eq!(
        raw("/rpc/mp95_numbers", count).await,
        answer("text/x-count", b"3 rows")
    );
    assert_eq!(
        raw("/rpc/mp95_numbers?limit=2", count).await,
        answer("text/x-count", b"2 rows")
    );
}

#[tokio::test]
async fn a_set_of_media_typed_values_has_no_handler() {
    let (status, content_type, length, body) =
        raw("/rpc/mp95_plain_twice", Some("text/plain")).await;
    let want = br#"{"code":"PGRST107","details":null,"hint":null,"message":"None of these media types are available: text/plain"}"#;
    assert_eq!(
        (status, content_type.as_str(), length.as_str(), &body[..]),
        (406, "application/json; charset=utf-8", "110", &want[..])
    );
    let r = get_with("/rpc/mp95_plain_twice", &[]).await;
    assert_eq!(r.body, json!(["one", "two"]));
}

#[tokio::test]
async fn a_catch_all_handler_leaves_the_singular_object_to_postgrest() {
    let object = [("Accept", "application/vnd.pgrst.object+json")];
    let r = get_with("/mh_blobs", &object).await;
    assert_eq!(r.status, 406, "{}", r.text);
    assert_eq!(
        r.text,
        r#"{"code":"PGRST116","details":"The result contains 2 rows","hint":null,"message":"Cannot coerce the result to a single JSON object"}"#
    );
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let r = get_with("/mh_blobs?id=eq.1", &object).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"id": 1, "data": "\\x0102"}));
}
