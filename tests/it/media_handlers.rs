//! Media type handlers (tests/fixtures/80_media_handlers.sql): aggregates
//! returning a domain named after a media type build the body of a read when
//! that type is accepted: a table's own ones with the default select (its
//! `*/*` one for every type), then `anyelement` ones for any relation; the
//! `vnd.pgrst` types are never overridden.

use serde_json::json;

use reqwest::Method;

use crate::harness::{client, get_with, request, shared};

#[tokio::test]
async fn a_tables_vendor_type_is_built_by_its_aggregate() {
    let accept = [("Accept", "application/vnd.points+json")];
    let r = get_with("/mh_points?order=id", &accept).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.points+json")
    );
    assert_eq!(r.body, json!({"points": [[10, 20], [30, 40]]}));
    assert_eq!(r.header("content-range"), Some("0-1/*"));
    // Filters and order apply to the rows the aggregate gets.
    let r = get_with("/mh_points?id=eq.2", &accept).await;
    assert_eq!(r.body, json!({"points": [[30, 40]]}));
    // With another select, the table's handlers do not apply: 406.
    let r = get_with("/mh_points?select=x", &accept).await;
    assert_eq!(r.status, 406, "{}", r.text);
    assert_eq!(r.body["code"], json!("PGRST107"));
    // Another table has no such handler.
    let r = get_with("/items", &accept).await;
    assert_eq!(r.status, 406, "{}", r.text);
}

#[tokio::test]
async fn a_handler_overrides_the_builtin_csv_but_not_vnd_pgrst() {
    let csv = [("Accept", "text/csv")];
    let r = get_with("/mh_points?order=id", &csv).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(r.text, "x;y\n10;20\n30;40\n");
    // Not the default select: pgrest's own CSV.
    let r = get_with("/mh_points?select=x,y&order=id", &csv).await;
    assert_eq!(r.text, "x,y\n10,20\n30,40");
    let r = get_with(
        "/mh_points?id=eq.1",
        &[("Accept", "application/vnd.pgrst.object+json")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"id": 1, "x": 10, "y": 20}));
}

#[tokio::test]
async fn an_anyelement_handler_serves_every_relation() {
    let count = [("Accept", "text/x-count")];
    let r = get_with("/items?select=id&id=lt.4", &count).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("text/x-count"));
    assert_eq!(r.text, "3 rows");
    let r = get_with("/mh_points", &count).await;
    assert_eq!(r.text, "2 rows");
}

#[tokio::test]
async fn a_catch_all_handler_answers_every_type() {
    for accept in ["*/*", "application/json", "text/csv"] {
        let r = client()
            .get(shared().url("/mh_blobs?order=id"))
            .header("Accept", accept)
            .send()
            .await
            .expect("request sent");
        assert_eq!(r.status(), 200, "{accept}");
        // The final function's response.headers set the type.
        assert_eq!(
            r.headers().get("content-type").map(|v| v.as_bytes()),
            Some(&b"application/x-blobs"[..]),
            "{accept}"
        );
        let body = r.bytes().await.expect("body read");
        assert_eq!(&body[..], b"\x01\x02\xff", "{accept}");
    }
    // Not the default select: JSON as usual.
    let r = get_with("/mh_blobs?select=id&order=id", &[]).await;
    assert_eq!(r.body, json!([{"id": 1}, {"id": 2}]));
}

#[tokio::test]
async fn writes_and_table_valued_functions_use_the_tables_handlers() {
    let accept = ("Accept", "application/vnd.points+json");
    let r = request(
        Method::POST,
        "/mh_points",
        &[
            accept,
            ("Content-Type", "application/json"),
            ("Prefer", "return=representation"),
        ],
        r#"{"id": 3, "x": 50, "y": 60}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.points+json")
    );
    assert_eq!(r.body, json!({"points": [[50, 60]]}));

    let r = get_with("/rpc/mh_points_from?min=2", &[accept]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"points": [[30, 40]]}));
    let r = get_with("/rpc/mh_points_from?min=1&select=x", &[accept]).await;
    assert_eq!(r.status, 406, "{}", r.text);
}
