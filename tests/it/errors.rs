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

#[tokio::test]
async fn undecodable_urls_are_client_errors() {
    // Percent-encoded invalid UTF-8 decodes to U+FFFD, as in PostgREST.
    let r = get("/items?select=id&name=eq.%FF").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([]));
    let r = get("/%FF%FE").await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.body["code"], "PGRST205");
}

/// The status line of a raw HTTP/1.1 exchange.
async fn raw_status(request: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(shared().addr)
        .await
        .expect("connect");
    stream.write_all(&request).await.expect("request written");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("answer read");
    let answer = String::from_utf8_lossy(&answer);
    answer.lines().next().unwrap_or_default().to_string()
}

#[tokio::test]
async fn malformed_request_lines_get_an_answer_not_a_reset() {
    // Raw bytes that are not a valid URI, and a URI past hyper's limit, are
    // refused by the HTTP parser itself before any handler runs.
    let invalid = b"GET /items?x=\xff HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".to_vec();
    assert_eq!(raw_status(invalid).await, "HTTP/1.1 400 Bad Request");
    let long = format!(
        "GET /items?name=eq.{} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        "a".repeat(70_000)
    );
    assert_eq!(
        raw_status(long.into_bytes()).await,
        "HTTP/1.1 414 URI Too Long"
    );
}

#[tokio::test]
async fn sqlstates_raised_while_reading_map_to_statuses() {
    // PTxyz: the status is xyz, the rest is the raised error.
    let r = get("/payment_required").await;
    assert_eq!(r.status, 402, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"code": "PT402", "message": "Pay first", "details": "raised by a view", "hint": "read the docs"})
    );
    // Division by zero (22012) is a client-visible 400.
    let r = get("/division").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["code"], "22012");
    assert_eq!(r.body["message"], "division by zero");
}

#[tokio::test]
async fn pool_exhaustion_is_pgrst003() {
    let mut env = base_env();
    env.push(("PGRST_DB_POOL".into(), "1".into()));
    env.push(("PGRST_DB_POOL_ACQUISITION_TIMEOUT".into(), "1".into()));
    let server = Server::start(env);
    // Each request holds the only connection for 0.5 s, so the fourth waits
    // at least 1.5 s for it.
    let requests = (0..4).map(|_| send(client().get(server.url("/slow"))));
    let replies = futures_util::future::join_all(requests).await;
    let timed_out: Vec<_> = replies.iter().filter(|r| r.status == 504).collect();
    assert!(!timed_out.is_empty(), "no request timed out");
    for r in &replies {
        assert!(matches!(r.status, 200 | 504), "{} {}", r.status, r.text);
    }
    assert_eq!(
        timed_out[0].body,
        json!({
            "code": "PGRST003",
            "message": "Timed out acquiring connection from connection pool.",
            "details": null,
            "hint": null,
        })
    );
}

#[tokio::test]
async fn a_database_that_goes_away_is_503() {
    let cluster = pgrest_host::throwaway_pg::Cluster::start().expect("own cluster");
    cluster
        .psql_exec("CREATE TABLE public.t (id int); INSERT INTO public.t VALUES (1);")
        .expect("schema");
    let env = vec![
        (
            "PGRST_DB_URI".into(),
            cluster.conninfo("postgres", "postgres"),
        ),
        ("PGRST_DB_SCHEMAS".into(), "public".into()),
        ("PGRST_DB_ANON_ROLE".into(), "postgres".into()),
        ("PGRST_SERVER_HOST".into(), "127.0.0.1".into()),
        ("PGRST_SERVER_PORT".into(), "0".into()),
    ];
    let server = Server::start(env);
    let r = send(client().get(server.url("/t"))).await;
    assert_eq!((r.status, r.body.clone()), (200, json!([{"id": 1}])));

    drop(cluster);
    // The pooled connection breaks (PGRST001) or a new one cannot be made
    // (PGRST000); both are 503, and the server keeps answering.
    for _ in 0..2 {
        let r = send(client().get(server.url("/t"))).await;
        assert_eq!(r.status, 503, "{}", r.text);
        let code = r.body["code"].as_str().unwrap_or_default().to_string();
        assert!(code == "PGRST000" || code == "PGRST001", "{}", r.text);
        assert_eq!(
            r.header("proxy-status"),
            Some(format!("PostgREST; error={code}").as_str())
        );
    }
}
