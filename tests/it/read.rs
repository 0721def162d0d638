//! GET and HEAD on tables and views: select, filters, order, paging, and the
//! transaction each request runs in.

use serde_json::json;

use crate::harness::{client, get, send, shared};

#[tokio::test]
async fn selects_columns_with_a_filter() {
    let r = get("/items?select=id,name&id=eq.1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 1, "name": "apple"}]));
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(r.header("content-range"), Some("0-0/*"));
    // For caches: what the answer varies on (PostgREST 14+).
    assert_eq!(r.header("vary"), Some("Accept, Prefer, Range"));
}

/// Planning this allocates more than the component's per-call arena holds
/// (the rest comes from its general allocator): the answer is the same.
#[tokio::test]
async fn a_very_long_in_list_is_planned_whole() {
    let values: Vec<String> = (-7_997..=2).rev().map(|i| i.to_string()).collect();
    let r = get(&format!(
        "/items?select=id&order=id&id=in.({})",
        values.join(",")
    ))
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 1}, {"id": 2}]));
    // The next request on the same instances is planned as usual.
    let r = get("/items?select=id&id=eq.3").await;
    assert_eq!(r.body, json!([{"id": 3}]));
}

#[tokio::test]
async fn sql_can_set_response_headers_and_status() {
    // The view's function sets response.headers and response.status; a
    // header set there replaces PostgREST's own (Vary here).
    let r = get("/response_shaped").await;
    assert_eq!(r.status, 203, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 1}]));
    assert_eq!(r.header("cache-control"), Some("max-age=60"));
    assert_eq!(r.header("vary"), Some("Accept, X-Tenant"));
    assert_eq!(r.header("content-range"), Some("0-0/*"));
}

#[tokio::test]
async fn default_select_is_every_column() {
    let r = get("/items?id=eq.2").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!([{"id": 2, "name": "a,b", "price": 2.00, "tags": ["odd"], "data": {"color": "none"}}])
    );
}

#[tokio::test]
async fn empty_result_is_an_empty_array() {
    let r = get("/items?id=eq.999").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!([]));
    assert_eq!(r.header("content-range"), Some("*/*"));
}

#[tokio::test]
async fn comparison_operators() {
    let ids = |r: &crate::harness::Reply| -> Vec<i64> {
        r.body
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids(&get("/items?select=id&id=gt.3&order=id").await), [4, 5]);
    assert_eq!(
        ids(&get("/items?select=id&id=lte.2&order=id").await),
        [1, 2]
    );
    assert_eq!(
        ids(&get("/items?select=id&id=neq.1&price=gte.3&order=id").await),
        [3, 5]
    );
    assert_eq!(
        ids(&get("/items?select=id&id=not.lt.4&order=id").await),
        [4, 5]
    );
    assert_eq!(ids(&get("/items?select=id&name=is.null").await), [5]);
    assert_eq!(
        ids(&get("/items?select=id&price=is.not_null&id=gt.3").await),
        [5]
    );
    assert_eq!(ids(&get("/items?select=id&name=like.*pl*").await), [1]);
    assert_eq!(ids(&get("/items?select=id&name=ilike.APP*").await), [1]);
    assert_eq!(
        ids(&get("/items?select=id&tags=cs.%7Bfruit%7D&order=id").await),
        [1, 4]
    );
}

#[tokio::test]
async fn in_lists_with_quoted_values() {
    // `in.("a,b","c\"d")`: a comma and a quote inside quoted values.
    let r = get("/items?select=id&order=id&name=in.(%22a,b%22,%22c%5C%22d%22)").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 2}, {"id": 3}]));
    // Dots and parentheses inside a value.
    let r = get("/items?select=id&name=eq.pear.(x)").await;
    assert_eq!(r.body, json!([{"id": 4}]));
    let r = get("/items?select=id&name=in.(%22pear.(x)%22,apple)&order=id").await;
    assert_eq!(r.body, json!([{"id": 1}, {"id": 4}]));
}

#[tokio::test]
async fn logical_trees() {
    let r = get("/items?select=id&or=(id.eq.1,and(price.gt.3,name.is.null))&order=id").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 1}, {"id": 5}]));
    let r = get("/items?select=id&not.or=(id.lt.3,id.gt.4)").await;
    assert_eq!(r.body, json!([{"id": 3}, {"id": 4}]));
}

#[tokio::test]
async fn order_limit_offset_and_content_range() {
    let r = get("/items?select=id&order=price.desc.nullslast&limit=2&offset=1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 3}, {"id": 2}]));
    assert_eq!(r.header("content-range"), Some("1-2/*"));
    let r = get("/items?select=id&order=price.asc.nullsfirst&limit=1").await;
    assert_eq!(r.body, json!([{"id": 4}]));
}

#[tokio::test]
async fn aliases_casts_and_json_paths() {
    let r =
        get("/items?select=key:id,price::text,color:data->>color,cm:data->size->cm&id=eq.1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!([{"key": 1, "price": "1.50", "color": "red", "cm": 8}])
    );
    let r = get("/items?select=id&data->>color=eq.green").await;
    assert_eq!(r.body, json!([{"id": 4}]));
}

#[tokio::test]
async fn quoted_identifiers_reach_sql_quoted() {
    let r =
        get("/Weird%20%22Name%22?select=id,%22a,b%22,%22Mixed%20Case%22&%22Mixed%20Case%22=gt.15")
            .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 2, "a,b": "other", "Mixed Case": 20}]));
}

#[tokio::test]
async fn values_never_become_sql() {
    let r = get("/items?select=id&name=eq.x';%20DROP%20TABLE%20test.items;--").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([]));
    assert_eq!(
        get("/items?select=id&id=eq.1").await.body,
        json!([{"id": 1}])
    );
}

#[tokio::test]
async fn head_has_headers_but_no_body() {
    let r = send(client().head(shared().url("/items?id=lt.3"))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, "");
    assert_eq!(r.header("content-range"), Some("0-1/*"));
    // As PostgREST: neither a length nor a chunked encoding for HEAD.
    assert_eq!(r.header("content-length"), None);
    assert_eq!(r.header("transfer-encoding"), None);
}

#[tokio::test]
async fn runs_as_anonymous_role_in_a_read_only_read_committed_transaction() {
    let r = send(
        client()
            .get(shared().url("/tx_info"))
            .header("X-Test", "hello")
            .header("Cookie", "flavour=choc; other=1"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!([{
            "role": "Web Anon",
            "isolation": "read committed",
            "read_only": "on",
            "search_path": "\"test\", \"public\"",
            "method": "GET",
            "path": "/tx_info",
            "header": "hello",
            "cookie": "choc",
            // No token: request.jwt.claims holds the anonymous role.
            "claims_role": "Web Anon",
        }])
    );
}

#[tokio::test]
async fn json_paths_reach_into_array_columns() {
    let r = get("/items?select=id,first:tags->0,second:tags->>1&id=eq.1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!([{"id": 1, "first": "fruit", "second": "red"}])
    );
    let r = get("/items?select=id&tags->>0=eq.odd").await;
    assert_eq!(r.body, json!([{"id": 2}]));
    let r = get("/items?select=id&tags=not.is.null&order=tags->>0.desc,id").await;
    // DESC puts the NULL of the empty array first, as PostgreSQL does.
    assert_eq!(r.body, json!([{"id": 3}, {"id": 2}, {"id": 1}, {"id": 4}]));
}
