//! Domain representations (tests/fixtures/85_domain_representations.sql):
//! `test.dr_color` is an integer domain whose implicit casts present it as
//! `"#rrggbb"` in JSON (domain -> json), parse it in filters (text ->
//! domain) and in bodies (json -> domain).

use reqwest::Method;
use serde_json::json;

use crate::harness::{get, request};

#[tokio::test]
async fn reads_format_the_domain_through_its_json_cast() {
    let r = get("/dr_paints?order=id").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!([
            {"id": 1, "name": "red", "color": "#ff0000"},
            {"id": 2, "name": "lime", "color": "#00ff00"},
            {"id": 3, "name": "navy", "color": "#000080"},
        ])
    );
    // A selected column keeps its name; an explicit cast reads the stored value.
    let r = get("/dr_paints?select=color,raw:color::int&id=eq.3").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"color": "#000080", "raw": 128}]));
    // A function's rows too.
    let r = get("/rpc/dr_paints_darker_than?level=70000&select=name,color").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!([{"name": "lime", "color": "#00ff00"}, {"name": "navy", "color": "#000080"}])
    );
}

#[tokio::test]
async fn filters_parse_values_through_the_text_cast() {
    let r = get("/dr_paints?select=name&color=eq.%2300ff00").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"name": "lime"}]));
    let r = get("/dr_paints?select=name&color=in.(%23ff0000,%23000080)&order=id").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"name": "red"}, {"name": "navy"}]));
    let r = get("/dr_paints?select=name&color=gt.%2300ff00").await;
    assert_eq!(r.body, json!([{"name": "red"}]));
    let r = get("/dr_paints?select=name&color=not.eq.%23ff0000&order=id").await;
    assert_eq!(r.body, json!([{"name": "lime"}, {"name": "navy"}]));
}

#[tokio::test]
async fn writes_parse_body_values_through_the_json_cast() {
    let prefer = [
        ("Content-Type", "application/json"),
        ("Prefer", "return=representation"),
    ];
    let r = request(
        Method::POST,
        "/dr_paints?select=id,color,raw:color::int",
        &prefer,
        r##"{"id": 4, "name": "teal", "color": "#008080"}"##,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 4, "color": "#008080", "raw": 32896}]));
    let r = request(
        Method::PATCH,
        "/dr_paints?id=eq.1&select=color,raw:color::int",
        &prefer,
        r##"{"color": "#0000ff"}"##,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"color": "#0000ff", "raw": 255}]));
}
