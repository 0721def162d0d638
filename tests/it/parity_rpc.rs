//! `/rpc/` as PostgREST 16 calls functions: variadic arguments,
//! `character(n)`/`bit(n)` arguments, single unnamed arguments and the empty
//! argument name, overload resolution and its errors, `?columns=` with array
//! bodies, and the request settings a function reads.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Reply, get, get_with, request};

async fn post(path: &str, content_type: &str, body: &[u8]) -> Reply {
    let body = String::from_utf8_lossy(body).into_owned();
    request(Method::POST, path, &[("content-type", content_type)], &body).await
}

async fn post_json(path: &str, body: &str) -> Reply {
    post(path, "application/json", body.as_bytes()).await
}

const FORM: &str = "application/x-www-form-urlencoded";

fn pgrst202(message: &str, details: &str, hint: Option<&str>) -> Value {
    json!({"code": "PGRST202", "message": message, "details": details, "hint": hint})
}

#[tokio::test]
async fn variadic_arguments_by_array_repetition_and_form() {
    let ok = |r: Reply, want: Value| {
        assert_eq!((r.status, &r.body), (200, &want), "{}", r.text);
    };
    ok(
        post_json("/rpc/rpc92_variadic", r#"{"v": ["hi", "there"]}"#).await,
        json!(["hi", "there"]),
    );
    ok(get("/rpc/rpc92_variadic").await, json!([]));
    ok(get("/rpc/rpc92_variadic?v=hi").await, json!(["hi"]));
    ok(
        get("/rpc/rpc92_variadic?v=hi&v=there&v=a%2Cb%22c").await,
        json!(["hi", "there", "a,b\"c"]),
    );
    ok(post("/rpc/rpc92_variadic", FORM, b"").await, json!([]));
    ok(
        post("/rpc/rpc92_variadic", FORM, b"v=hi&v=there").await,
        json!(["hi", "there"]),
    );
    // A repeated name that is not the variadic one: its last value.
    ok(
        get("/rpc/rpc92_hello?name=ignored&name=world&v=unused").await,
        json!("Hello, world 1"),
    );
    // A JSON scalar for the variadic array is PostgreSQL's to refuse.
    let r = post_json("/rpc/rpc92_variadic", r#"{"v": "hi"}"#).await;
    assert_eq!(
        (r.status, &r.body["code"]),
        (400, &json!("22P02")),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn a_lone_unnamed_variadic_argument_is_not_callable() {
    let r = post_json("/rpc/rpc92_unnamed_variadic", r#"{"": [1, 2]}"#).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        pgrst202(
            "Could not find the function test.rpc92_unnamed_variadic() in the schema cache",
            "Searched for the function test.rpc92_unnamed_variadic with parameter  or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.",
            None
        )
    );
}

#[tokio::test]
async fn character_and_bit_arguments_take_any_length() {
    let want = json!("abcd|ab,cde|1011|10,111");
    let r = get("/rpc/rpc92_fixed?c=abcd&cs=%7Bab,cde%7D&b=1011&bs=%7B10,111%7D").await;
    assert_eq!((r.status, &r.body), (200, &want), "{}", r.text);
    let r = post_json(
        "/rpc/rpc92_fixed",
        r#"{"c": "abcd", "cs": ["ab", "cde"], "b": "1011", "bs": ["10", "111"]}"#,
    )
    .await;
    assert_eq!((r.status, &r.body), (200, &want), "{}", r.text);
    // Domains keep their length, as in PostgREST.
    let r = get("/rpc/rpc92_fixed_domains?c=abc&b=101").await;
    assert_eq!((r.status, &r.body), (200, &json!("abc|101")), "{}", r.text);
    let r = get("/rpc/rpc92_fixed_domains?c=abcd&b=101").await;
    assert_eq!(
        (r.status, &r.body["code"]),
        (400, &json!("22001")),
        "{}",
        r.text
    );
    let r = post_json("/rpc/rpc92_fixed_domains", r#"{"c": "abc", "b": "1011"}"#).await;
    assert_eq!(
        (r.status, &r.body["code"]),
        (400, &json!("22026")),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn a_single_unnamed_argument_takes_the_body_by_content_type() {
    let r = post_json("/rpc/rpc92_json", r#"{"a": [1, "x"]}"#).await;
    assert_eq!(
        (r.status, &r.body),
        (200, &json!({"a": [1, "x"]})),
        "{}",
        r.text
    );
    let r = post_json("/rpc/rpc92_jsonb", r#"[{"a": 1}, {"a": 2}]"#).await;
    assert_eq!(
        (r.status, &r.body),
        (200, &json!([{"a": 1}, {"a": 2}])),
        "{}",
        r.text
    );
    // The body is still checked as rows are: an array of non-objects is
    // PGRST102, another JSON scalar becomes `[]`.
    let r = post_json("/rpc/rpc92_jsonb", "[1, 2]").await;
    assert_eq!(
        (r.status, &r.body["code"]),
        (400, &json!("PGRST102")),
        "{}",
        r.text
    );
    let r = post_json("/rpc/rpc92_jsonb", r#""text""#).await;
    assert_eq!((r.status, &r.body), (200, &json!([])), "{}", r.text);
    let r = post("/rpc/rpc92_text", "text/plain", b"plain words").await;
    assert_eq!(
        (r.status, &r.body),
        (200, &json!("text:plain words")),
        "{}",
        r.text
    );
    let r = post("/rpc/rpc92_xml", "text/xml", b"<a>1</a>").await;
    assert_eq!(
        (r.status, &r.body),
        (200, &json!("xml:<a>1</a>")),
        "{}",
        r.text
    );
    let r = post("/rpc/rpc92_bytea", "application/octet-stream", b"\x01AB").await;
    assert_eq!((r.status, &r.body), (200, &json!("014142")), "{}", r.text);
    // Another body type finds none.
    let r = post("/rpc/rpc92_json", "text/plain", b"{}").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        pgrst202(
            "Could not find the function test.rpc92_json in the schema cache",
            "Searched for the function test.rpc92_json with a single unnamed text parameter, but no matches were found in the schema cache.",
            None
        )
    );
    // GET never passes a body.
    assert_eq!(get("/rpc/rpc92_json").await.status, 404);
}

#[tokio::test]
async fn a_single_unnamed_argument_of_another_type_is_not_callable() {
    for (name, body) in [("rpc92_int", r#"{"": 1}"#), ("rpc92_two", "{}")] {
        let r = post_json(&format!("/rpc/{name}"), body).await;
        assert_eq!(r.status, 404, "{}", r.text);
        assert_eq!(r.body["code"], "PGRST202");
        assert_eq!(r.body["hint"], Value::Null);
    }
    let r = post("/rpc/rpc92_int", "text/plain", b"1").await;
    assert_eq!(
        r.body,
        pgrst202(
            "Could not find the function test.rpc92_int in the schema cache",
            "Searched for the function test.rpc92_int with a single unnamed text parameter, but no matches were found in the schema cache.",
            None
        )
    );
}

/// postgrest-js's `rpc(fn, {'': value})`: the empty name is the unnamed
/// argument, which takes the whole body.
#[tokio::test]
async fn the_empty_argument_name_passes_the_whole_body() {
    let r = post_json("/rpc/rpc92_json", r#"{"": {"k": 1}}"#).await;
    assert_eq!(
        (r.status, &r.body),
        (200, &json!({"": {"k": 1}})),
        "{}",
        r.text
    );
    let r = post_json("/rpc/rpc92_mixed", r#"{"": 5}"#).await;
    assert_eq!(
        (r.status, &r.body),
        (200, &json!("json {\"\": 5}")),
        "{}",
        r.text
    );
    let r = post_json("/rpc/rpc92_default", r#"{"": 5}"#).await;
    assert_eq!((r.status, &r.body), (200, &json!({"": 5})), "{}", r.text);
    // No argument matches the optional unnamed one: an empty object is
    // passed, not the default.
    let r = post_json("/rpc/rpc92_default", "").await;
    assert_eq!((r.status, &r.body), (200, &json!({})), "{}", r.text);
    let r = get("/rpc/rpc92_default").await;
    assert_eq!((r.status, &r.body), (200, &json!({})), "{}", r.text);
}

#[tokio::test]
async fn overloads_resolve_as_postgrest_resolves_them() {
    let hint = "Try renaming the parameters or the function itself in the database so function overloading can be resolved";
    let ambiguous = json!({"code": "PGRST203",
        "message": "Could not choose the best candidate function between: test.rpc92_over( => json), test.rpc92_over( => jsonb)",
        "details": null, "hint": hint});
    for body in [r#"{"a": 1}"#, r#"{"": 1}"#] {
        let r = post_json("/rpc/rpc92_over", body).await;
        assert_eq!((r.status, &r.body), (300, &ambiguous), "{}", r.text);
    }
    // A named overload wins over the whole-body one.
    let r = post_json("/rpc/rpc92_mixed", r#"{"x": 1}"#).await;
    assert_eq!((r.status, &r.body), (200, &json!("x 1")), "{}", r.text);
    let r = post_json("/rpc/rpc92_mixed", r#"{"y": 1}"#).await;
    assert_eq!(
        (r.status, &r.body),
        (200, &json!("json {\"y\": 1}")),
        "{}",
        r.text
    );
    assert_eq!(get("/rpc/rpc92_mixed?x=2").await.body, json!("x 2"));
    // Overloads told apart by a default only.
    let r = get("/rpc/rpc92_defs?a=1").await;
    assert_eq!(r.status, 300);
    assert_eq!(
        r.body,
        json!({"code": "PGRST203",
               "message": "Could not choose the best candidate function between: test.rpc92_defs(a => integer), test.rpc92_defs(a => integer, b => integer)",
               "details": null, "hint": hint})
    );
    assert_eq!(get("/rpc/rpc92_defs?a=1&b=3").await.body, json!("two 13"));
}

#[tokio::test]
async fn unknown_arguments_are_pgrst202_with_postgrest_hints() {
    let r = get("/rpc/rpc92_add?a=1&zz=2").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        pgrst202(
            "Could not find the function test.rpc92_add(a, zz) in the schema cache",
            "Searched for the function test.rpc92_add with parameters a, zz, but no matches were found in the schema cache.",
            Some("Perhaps you meant to call the function test.rpc92_add(a, b)")
        )
    );
    let r = post_json("/rpc/rpc92_add", r#"{"qqqqqqqq": 1}"#).await;
    assert_eq!(
        r.body,
        pgrst202(
            "Could not find the function test.rpc92_add(qqqqqqqq) in the schema cache",
            "Searched for the function test.rpc92_add with parameter qqqqqqqq or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.",
            None
        )
    );
    // A function name is suggested only when it is at least 3/4 similar.
    let r = get("/rpc/rpc92_ad?a=1").await;
    assert_eq!(
        r.body["hint"],
        "Perhaps you meant to call the function test.rpc92_add"
    );
    let r = get("/rpc/rpc92_zzz").await;
    assert_eq!(
        r.body,
        pgrst202(
            "Could not find the function test.rpc92_zzz without parameters in the schema cache",
            "Searched for the function test.rpc92_zzz without parameters, but no matches were found in the schema cache.",
            None
        )
    );
}

#[tokio::test]
async fn query_string_values_are_cast_to_the_argument_type() {
    let r = get("/rpc/rpc92_obj?j=%7B%22a%22:%5B1%5D%7D").await;
    assert_eq!((r.status, &r.body), (200, &json!({"a": [1]})), "{}", r.text);
    let r = post("/rpc/rpc92_obj", FORM, b"j=%7B%22a%22:2%7D").await;
    assert_eq!((r.status, &r.body), (200, &json!({"a": 2})), "{}", r.text);
}

#[tokio::test]
async fn columns_name_the_arguments_read_from_the_first_element() {
    let r = post_json(
        "/rpc/rpc92_add?columns=a",
        r#"[{"a": 1, "b": 5}, {"a": 2}]"#,
    )
    .await;
    assert_eq!((r.status, &r.body), (200, &json!(11)), "{}", r.text);
    // A named column the element lacks is NULL, not the default.
    let r = post_json("/rpc/rpc92_add?columns=a,b", r#"[{"a": 1}]"#).await;
    assert_eq!((r.status, &r.body), (200, &json!(1001)), "{}", r.text);
    let r = post_json("/rpc/rpc92_add", r#"[{"a": 1, "b": 5}, {"a": 2, "b": 6}]"#).await;
    assert_eq!((r.status, &r.body), (200, &json!(6)), "{}", r.text);
    // The function runs once, for the first element.
    let r = post_json(
        "/rpc/rpc92_record?columns=a&select=a",
        r#"[{"a": 7}, {"a": 8}]"#,
    )
    .await;
    assert_eq!((r.status, &r.body), (200, &json!([{"a": 7}])), "{}", r.text);
    // An empty array: no call.
    let r = post_json("/rpc/rpc92_record?columns=a", "[]").await;
    assert_eq!((r.status, &r.body), (200, &json!([])), "{}", r.text);
    let r = post_json("/rpc/rpc92_add?columns=zz", r#"{"a": 1}"#).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body["message"],
        "Could not find the function test.rpc92_add(zz) in the schema cache"
    );
}

#[tokio::test]
async fn request_settings_read_back_in_a_function() {
    let r = get_with(
        "/rpc/rpc92_gucs",
        &[("x-parity", "yes"), ("cookie", "flavour=choc; size=2")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = &r.body;
    assert_eq!(b["method"], "GET");
    assert_eq!(b["path"], "/rpc/rpc92_gucs");
    assert_eq!(b["headers"]["x-parity"], "yes");
    // Cookies are only in `request.cookies`.
    assert_eq!(b["headers"]["cookie"], Value::Null);
    assert_eq!(b["cookies"], json!({"flavour": "choc", "size": "2"}));
    assert_eq!(b["claims"], json!({"role": "Web Anon"}));
    assert_eq!(b["role"], "Web Anon");
    assert_eq!(b["search_path"], "\"test\", \"public\"");
    let r = post_json("/rpc/rpc92_gucs", "{}").await;
    assert_eq!(
        (r.body["method"].as_str(), r.body["path"].as_str()),
        (Some("POST"), Some("/rpc/rpc92_gucs"))
    );
}
