//! Which relations are endpoints: tables, views, materialized views, foreign
//! and partitioned tables of the exposed schemas, never their partitions.

use serde_json::{Value, json};

use crate::harness::get;

#[tokio::test]
async fn every_kind_of_relation_is_readable() {
    let r = get("/item_names?id=lt.3&order=id").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!([{"id": 1, "name": "apple"}, {"id": 2, "name": "a,b"}])
    );

    let r = get("/events?order=id").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!([{"id": 1, "year": 2024, "title": "old"}, {"id": 2, "year": 2025, "title": "new"}])
    );

    let r = get("/remote_rows?label=eq.two").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 2, "label": "two"}]));
}

#[tokio::test]
async fn partitions_are_not_endpoints() {
    let r = get("/events_2024").await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.body["code"], "PGRST205");
    // "events" is not 3/4 similar to "events_2024": PostgREST 16 names no
    // table (the partition's existence is not revealed either).
    assert_eq!(r.body["hint"], Value::Null, "{}", r.text);
}
