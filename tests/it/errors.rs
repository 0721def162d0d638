//! Client mistakes and database errors answered the PostgREST way.

use serde_json::json;

use crate::harness::{Server, base_env, client, get, send, shared};

#[tokio::test]
async fn unknown_table_is_pgrst205() {
    let r = get("/nope").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({
            "code": "PGRST205",
            "message": "Could not find the table 'test.nope' in the schema cache",
            "details": null,
            "hint": null,
        })
    );
    assert_eq!(r.header("proxy-status"), Some("PostgREST; error=PGRST205"));
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
}

#[tokio::test]
async fn unknown_table_close_to_a_real_one_gets_a_hint() {
    let r = get("/itemz").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["code"], "PGRST205");
    assert_eq!(r.body["hint"], "Perhaps you meant the table 'test.items'");
}

#[tokio::test]
async fn table_in_another_schema_is_not_exposed() {
    // pg_catalog tables exist but are outside db-schemas.
    let r = get("/pg_class").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["code"], "PGRST205");
}

#[tokio::test]
async fn malformed_filter_is_pgrst100() {
    let r = get("/items?id=eqq.1").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["code"], "PGRST100");
    assert_eq!(r.header("proxy-status"), Some("PostgREST; error=PGRST100"));
}

#[tokio::test]
async fn invalid_value_is_the_database_error() {
    let r = get("/items?id=eq.abc").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({
            "code": "22P02",
            "message": "invalid input syntax for type integer: \"abc\"",
            "details": null,
            "hint": null,
        })
    );
}

#[tokio::test]
async fn unknown_column_is_the_database_error() {
    let r = get("/items?select=nope").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["code"], "42703");
    assert_eq!(r.body["message"], "column items.nope does not exist");
}

#[tokio::test]
async fn permission_denied_for_anonymous_is_401() {
    let r = get("/secrets").await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(
        r.body,
        json!({
            "code": "42501",
            "message": "permission denied for table secrets",
            "details": null,
            "hint": null,
        })
    );
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn authorization_header_is_refused_without_a_jwt_secret() {
    let r = send(client().get(shared().url("/tx_info")).bearer_auth("a.b.c")).await;
    assert_eq!(r.status, 500, "{}", r.text);
    assert_eq!(
        r.body,
        json!({
            "code": "PGRST300",
            "message": "Server lacks JWT secret",
            "details": null,
            "hint": null,
        })
    );
}

#[tokio::test]
async fn unknown_method_is_pgrst117() {
    let method = reqwest::Method::from_bytes(b"BREW").unwrap();
    let r = send(client().request(method, shared().url("/items"))).await;
    assert_eq!(r.status, 405, "{}", r.text);
    assert_eq!(r.body["code"], "PGRST117");
}

#[tokio::test]
async fn nested_path_is_pgrst125() {
    let r = get("/items/1").await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.body["code"], "PGRST125");
}

#[tokio::test]
async fn without_anon_role_anonymous_requests_are_pgrst302() {
    let env = base_env()
        .into_iter()
        .filter(|(k, _)| k != "PGRST_DB_ANON_ROLE")
        .collect();
    let server = Server::start(env);
    let r = send(client().get(server.url("/items"))).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(
        r.body,
        json!({
            "code": "PGRST302",
            "message": "Anonymous access is disabled",
            "details": null,
            "hint": null,
        })
    );
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
}
