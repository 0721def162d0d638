//! Paging and counting: `limit`/`offset`, the `Range` header, `Prefer:
//! count=`, `Content-Range` with 206 and 416, and the headers every read
//! carries (`Content-Location`, `Preference-Applied`).

use serde_json::json;

use crate::harness::{client, get, get_with, send, shared};

#[tokio::test]
async fn exact_count_makes_a_partial_page_206() {
    let r = get_with(
        "/items?select=id&limit=2&order=id",
        &[("Prefer", "count=exact")],
    )
    .await;
    assert_eq!(r.status, 206, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 1}, {"id": 2}]));
    assert_eq!(r.header("content-range"), Some("0-1/5"));
    assert_eq!(r.header("preference-applied"), Some("count=exact"));
    assert_eq!(
        r.header("content-location"),
        Some("/items?limit=2&order=id&select=id")
    );

    // The whole set is a 200 with the total.
    let r = get_with("/items?select=id&id=lt.3", &[("Prefer", "count=exact")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-range"), Some("0-1/2"));
    // Filters are counted too; an empty result has no range.
    let r = get_with("/items?select=id&id=gt.100", &[("Prefer", "count=exact")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-range"), Some("*/0"));
}

#[tokio::test]
async fn range_header_pages_like_limit_and_offset() {
    let r = get_with(
        "/items?select=id&order=id",
        &[
            ("Range-Unit", "items"),
            ("Range", "1-2"),
            ("Prefer", "count=exact"),
        ],
    )
    .await;
    assert_eq!(r.status, 206, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 2}, {"id": 3}]));
    assert_eq!(r.header("content-range"), Some("1-2/5"));

    // Open-ended, and intersected with the query's limit.
    let r = get_with("/items?select=id&order=id", &[("Range", "3-")]).await;
    assert_eq!(r.body, json!([{"id": 4}, {"id": 5}]));
    assert_eq!(r.header("content-range"), Some("3-4/*"));
    let r = get_with("/items?select=id&order=id&limit=2", &[("Range", "1-3")]).await;
    assert_eq!(r.body, json!([{"id": 2}]));
    // Disjoint ranges are unsatisfiable, as in PostgREST.
    let r = get_with("/items?select=id&order=id&limit=1", &[("Range", "1-3")]).await;
    assert_eq!(r.status, 416, "{}", r.text);

    // A Range header that does not parse is ignored (RFC 9110).
    let r = get_with("/items?select=id&order=id", &[("Range", "bytes=oops")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_array().map(Vec::len), Some(5));
}

#[tokio::test]
async fn unsatisfiable_ranges_are_416() {
    let r = get_with("/items?select=id&offset=10", &[("Prefer", "count=exact")]).await;
    assert_eq!(r.status, 416, "{}", r.text);
    assert_eq!(r.header("content-range"), Some("*/5"));
    assert_eq!(
        r.body,
        json!({
            "code": "PGRST103",
            "message": "Requested range not satisfiable",
            "details": "An offset of 10 was requested, but there are only 5 rows.",
            "hint": null,
        })
    );
    // Lower bound above the upper one.
    let r = get_with("/items", &[("Range", "5-2")]).await;
    assert_eq!(r.status, 416, "{}", r.text);
    assert_eq!(r.body["code"], "PGRST103");
    // A negative limit.
    let r = get("/items?limit=-1").await;
    assert_eq!(r.status, 416, "{}", r.text);
}

#[tokio::test]
async fn planned_and_estimated_counts_use_the_planner() {
    for count in ["planned", "estimated"] {
        let r = get_with(
            "/items?select=id&limit=1&order=id",
            &[("Prefer", &format!("count={count}"))],
        )
        .await;
        assert!(matches!(r.status, 200 | 206), "{count}: {}", r.text);
        assert_eq!(r.body, json!([{"id": 1}]));
        let range = r.header("content-range").unwrap_or_default();
        let total: i64 = range
            .strip_prefix("0-0/")
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("{count}: {range}"));
        assert!(total >= 1, "{count}: {range}");
        assert_eq!(
            r.header("preference-applied"),
            Some(format!("count={count}").as_str())
        );
    }
}

#[tokio::test]
async fn head_reports_the_count_without_a_body() {
    let r = send(
        client()
            .head(shared().url("/items?limit=1"))
            .header("Prefer", "count=exact"),
    )
    .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.text, "");
    assert_eq!(r.header("content-range"), Some("0-0/5"));
}

#[tokio::test]
async fn preferences_are_echoed_and_checked_under_strict_handling() {
    let r = get_with(
        "/items?select=id&id=eq.1",
        &[("Prefer", "count=exact, tx=commit, unknown=1")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The shared server allows overriding the transaction end.
    assert_eq!(
        r.header("preference-applied"),
        Some("count=exact, tx=commit")
    );

    let r = get_with(
        "/items?select=id",
        &[
            ("Prefer", "handling=strict"),
            ("Prefer", "count=exact, foo=bar"),
        ],
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body,
        json!({
            "code": "PGRST122",
            "message": "Invalid preferences given with handling=strict",
            "details": "Invalid preferences: foo=bar",
            "hint": null,
        })
    );
}

#[tokio::test]
async fn db_max_rows_caps_every_page_and_bounds_estimated_counts() {
    let mut env = crate::harness::base_env();
    env.push(("PGRST_DB_MAX_ROWS".into(), "2".into()));
    let server = crate::harness::Server::start(env);
    let get_capped = |query: &str, prefer: &str| {
        send(
            client()
                .get(server.url(&format!("/items?select=id&order=id{query}")))
                .header("Prefer", prefer),
        )
    };
    let r = get_capped("", "count=exact").await;
    assert_eq!(r.status, 206, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 1}, {"id": 2}]));
    assert_eq!(r.header("content-range"), Some("0-1/5"));
    // A smaller limit stays; a larger one is capped.
    let r = get_capped("&limit=1&offset=3", "handling=lenient").await;
    assert_eq!(r.body, json!([{"id": 4}]));
    let r = get_capped("&limit=10&offset=1", "handling=lenient").await;
    assert_eq!(r.body, json!([{"id": 2}, {"id": 3}]));
    // Estimated: past db-max-rows the planner's estimate is used, never
    // below the rows counted (max + 1).
    let r = get_capped("", "count=estimated").await;
    let range = r.header("content-range").unwrap_or_default().to_string();
    let total: i64 = range
        .strip_prefix("0-1/")
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("{range}"));
    assert!(total >= 3, "{range}");
}
