//! Media types: JSON by default, CSV, the singular object, stripped nulls,
//! q-values and wildcards, and 406 for what cannot be produced. Every body
//! is built by PostgreSQL.

use serde_json::json;

use crate::harness::get_with;

#[tokio::test]
async fn csv_has_a_header_row_and_quotes_like_postgresql() {
    let r = get_with(
        "/items?select=id,name,price&id=lt.4&order=id",
        &[("Accept", "text/csv")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(
        r.text,
        "id,name,price\n1,apple,1.50\n2,\"a,b\",2.00\n3,\"c\"\"d\",3.25"
    );
    assert_eq!(r.header("content-range"), Some("0-2/*"));
    // No rows: a lone newline.
    let r = get_with("/items?id=eq.999", &[("Accept", "text/csv")]).await;
    assert_eq!((r.status, r.text.as_str()), (200, "\n"));
}

#[tokio::test]
async fn singular_object_needs_exactly_one_row() {
    let object = [("Accept", "application/vnd.pgrst.object+json")];
    let r = get_with("/items?select=id,name&id=eq.1", &object).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"id": 1, "name": "apple"}));
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.pgrst.object+json; charset=utf-8")
    );
    for (query, rows) in [("id=lt.3", 2), ("id=eq.999", 0)] {
        let r = get_with(&format!("/items?{query}"), &object).await;
        assert_eq!(r.status, 406, "{query}: {}", r.text);
        assert_eq!(
            r.body,
            json!({
                "code": "PGRST116",
                "message": "Cannot coerce the result to a single JSON object",
                "details": format!("The result contains {rows} rows"),
                "hint": null,
            })
        );
        assert_eq!(
            r.header("content-type"),
            Some("application/json; charset=utf-8")
        );
    }
}

#[tokio::test]
async fn nulls_can_be_stripped() {
    let r = get_with(
        "/items?select=id,name,price&id=gt.3&order=id",
        &[("Accept", "application/vnd.pgrst.array+json;nulls=stripped")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!([{"id": 4, "name": "pear.(x)"}, {"id": 5, "price": 9.99}])
    );
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.pgrst.array+json;nulls=stripped; charset=utf-8")
    );
    let r = get_with(
        "/items?select=id,name&id=eq.5",
        &[("Accept", "application/vnd.pgrst.object+json;nulls=stripped")],
    )
    .await;
    assert_eq!(r.body, json!({"id": 5}));
}

#[tokio::test]
async fn negotiation_follows_q_values_and_wildcards() {
    let cases = [
        (
            "application/json;q=0.5, text/csv",
            "text/csv; charset=utf-8",
        ),
        (
            "text/csv;q=0.2, application/json",
            "application/json; charset=utf-8",
        ),
        ("image/png, */*;q=0.1", "application/json; charset=utf-8"),
        ("application/*", "application/json; charset=utf-8"),
        ("text/*", "text/csv; charset=utf-8"),
        ("APPLICATION/JSON", "application/json; charset=utf-8"),
    ];
    for (accept, content_type) in cases {
        let r = get_with("/items?select=id&id=eq.1", &[("Accept", accept)]).await;
        assert_eq!(r.status, 200, "{accept}: {}", r.text);
        assert_eq!(r.header("content-type"), Some(content_type), "{accept}");
    }
}

#[tokio::test]
async fn unproducible_media_types_are_406() {
    let r = get_with("/items", &[("Accept", "text/html, image/*")]).await;
    assert_eq!(r.status, 406, "{}", r.text);
    assert_eq!(
        r.body,
        json!({
            "code": "PGRST107",
            "message": "None of these media types are available: text/html, image/*",
            "details": null,
            "hint": null,
        })
    );
}
