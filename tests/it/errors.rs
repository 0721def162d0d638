//! Client mistakes and database errors answered the PostgREST way.

use serde_json::json;

use crate::harness::{Reply, Server, base_env, client, get, own_cluster_env, send, shared};

#[tokio::test]
async fn unknown_table_is_pgrst205() {
    let r = get("/xyzzy_qwv").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({
            "code": "PGRST205",
            "message": "Could not find the table 'test.xyzzy_qwv' in the schema cache",
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
async fn every_error_body_has_its_length() {
    for path in [
        "/itemz",
        "/items?id=eqq.1",
        "/items?select=nope(*)",
        "/rpc/nope",
        "/items?order=nope.desc",
    ] {
        let r = get(path).await;
        assert!(r.status >= 400, "{path}: {}", r.status);
        assert_eq!(
            r.header("content-length"),
            Some(r.text.len().to_string().as_str()),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_table_hint_needs_a_close_name() {
    // PostgREST 16 reveals a table name only at 3/4 similarity: "itms" is
    // (1 - 1/5), "tms" is not (1 - 2/5), though it shares grams with "items".
    let r = get("/ITMS").await;
    assert_eq!(r.body["hint"], "Perhaps you meant the table 'test.items'");
    let r = get("/tms").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["code"], "PGRST205");
    assert_eq!(r.body["hint"], serde_json::Value::Null, "{}", r.text);
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

/// Everything the shared server answers to raw bytes, until it closes.
async fn raw_answer(request: &[u8]) -> String {
    raw_answer_from(shared().addr, request).await
}

/// Everything the server at `addr` answers to raw bytes, until it closes.
pub(crate) async fn raw_answer_from(
    addr: impl tokio::net::ToSocketAddrs,
    request: &[u8],
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("request written");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("answer read");
    String::from_utf8_lossy(&answer).into_owned()
}

/// The status line and JSON body of a raw HTTP/1.1 exchange.
async fn raw_exchange(request: Vec<u8>) -> (String, serde_json::Value) {
    let answer = raw_answer(&request).await;
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head");
    assert!(
        head.contains("content-type: application/json; charset=utf-8"),
        "{head}"
    );
    let status = head.lines().next().unwrap_or_default().to_string();
    (status, serde_json::from_str(body).expect("a JSON body"))
}

#[tokio::test]
async fn malformed_request_lines_get_a_json_error_not_a_reset() {
    // A space in the target (Warp refuses it too), and a URI past hyper's
    // limit, are refused by the HTTP parser itself before any handler runs;
    // the answer still is an error object.
    let invalid = b"GET /items?x=a b HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".to_vec();
    let (status, body) = raw_exchange(invalid).await;
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    assert_eq!(body["code"], "PGRSTX01");
    assert_eq!(body["message"], "The request is not valid HTTP/1.1");
    let long = format!(
        "GET /items?name=eq.{} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        "a".repeat(70_000)
    );
    let (status, body) = raw_exchange(long.into_bytes()).await;
    assert_eq!(status, "HTTP/1.1 414 URI Too Long");
    assert_eq!(
        body["message"],
        "The request URI is longer than 65534 bytes"
    );
    // A keep-alive connection: a good request first, then a broken one.
    let answer = raw_answer(b"GET /items?id=eq.1&select=id HTTP/1.1\r\nHost: t\r\n\r\nGET /a b HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let (first, second) = answer
        .split_once("HTTP/1.1 400 Bad Request\r\n")
        .expect("{answer}");
    assert!(first.starts_with("HTTP/1.1 200 OK\r\n"), "{first}");
    assert!(first.ends_with("[{\"id\":1}]"), "{first}");
    assert!(second.contains("\"code\":\"PGRSTX01\""), "{second}");
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
    let replies = exhausted_pool(&[]).await;
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

/// The replies to four concurrent `GET /slow` on a server with one pooled
/// connection, a 1 s acquisition timeout and `extra` settings: each request
/// holds the connection for 0.5 s, so the fourth waits at least 1.5 s.
async fn exhausted_pool(extra: &[(&str, &str)]) -> Vec<Reply> {
    let mut env = base_env();
    env.push(("PGRST_DB_POOL".into(), "1".into()));
    env.push(("PGRST_DB_POOL_ACQUISITION_TIMEOUT".into(), "1".into()));
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let server = Server::start(env);
    let requests = (0..4).map(|_| send(client().get(server.url("/slow"))));
    futures_util::future::join_all(requests).await
}

#[tokio::test]
async fn a_database_that_goes_away_is_503_until_it_comes_back() {
    let mut cluster = pgrest_throwaway_pg::Cluster::start().expect("own cluster");
    cluster
        .psql_exec("CREATE TABLE public.t (id int); INSERT INTO public.t VALUES (1);")
        .expect("schema");
    let server = Server::start(own_cluster_env(&cluster, &[]));
    let r = send(client().get(server.url("/t"))).await;
    assert_eq!((r.status, r.body.clone()), (200, json!([{"id": 1}])));
    assert_eq!(r.header("retry-after"), None);

    cluster.stop();
    // The pooled connection breaks (PGRST001) or a new one cannot be made
    // (PGRST000); both are 503 with the seconds to the next reconnection
    // attempt, and the server keeps answering.
    for _ in 0..2 {
        let r = send(client().get(server.url("/t"))).await;
        assert_eq!(r.status, 503, "{}", r.text);
        let code = r.body["code"].as_str().unwrap_or_default().to_string();
        assert!(code == "PGRST000" || code == "PGRST001", "{}", r.text);
        assert_eq!(
            r.header("proxy-status"),
            Some(format!("PostgREST; error={code}").as_str())
        );
        let retry: u64 = r
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!((1..=32).contains(&retry), "{retry}");
    }

    // Back up, with a table made meanwhile: the recovery loop reconnects
    // and reloads the schema cache, so it is served without a restart.
    cluster.restart().expect("restart");
    cluster
        .psql_exec("CREATE TABLE public.t2 (id int); INSERT INTO public.t2 VALUES (2);")
        .expect("schema");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let r = loop {
        let r = send(client().get(server.url("/t2"))).await;
        if r.status == 200 || std::time::Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(
        (r.status, r.body.clone()),
        (200, json!([{"id": 2}])),
        "{}",
        r.text
    );
    assert_eq!(r.header("retry-after"), None);
}

/// `client-error-verbosity = minimal`: every error body keeps only `code`
/// and `message`, whoever found the error (the planner, PostgreSQL, the
/// range check after the query, the JWT check).
#[tokio::test]
async fn minimal_verbosity_drops_details_and_hint() {
    let mut env = base_env();
    env.push(("PGRST_CLIENT_ERROR_VERBOSITY".into(), "minimal".into()));
    env.push(("PGRST_SERVER_MAX_BODY_BYTES".into(), "1048576".into()));
    env.push(("PGRST_SERVER_BODY_BYTES_IN_FLIGHT".into(), "1048576".into()));
    env.push((
        "PGRST_JWT_SECRET".into(),
        "reallyreallyreallyreallyverysafe".into(),
    ));
    let server = Server::start(env);
    let get = |path: &str, headers: &[(&'static str, &'static str)]| {
        let mut req = client().get(server.url(path));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        send(req)
    };
    // The verbose answer has a hint (the shared server, by default)...
    let verbose = crate::harness::get("/itemz").await;
    assert_eq!(
        verbose.body["hint"],
        json!("Perhaps you meant the table 'test.items'")
    );
    // ...the minimal one neither details nor hint.
    let r = get("/itemz", &[]).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({
            "code": "PGRST205",
            "message": "Could not find the table 'test.itemz' in the schema cache",
        })
    );
    assert_eq!(r.header("proxy-status"), Some("PostgREST; error=PGRST205"));
    // A database error.
    let r = get("/items?id=eq.x", &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"code": "22P02", "message": "invalid input syntax for type integer: \"x\""})
    );
    // A range found unsatisfiable after the query.
    let r = get("/items?offset=10", &[("Prefer", "count=exact")]).await;
    assert_eq!(r.status, 416);
    assert_eq!(
        r.body,
        json!({"code": "PGRST103", "message": "Requested range not satisfiable"})
    );
    // A token that does not verify.
    let r = get("/items", &[("Authorization", "Bearer a.b.c")]).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body.as_object().map(|o| o.len()), Some(2), "{}", r.text);
    assert_eq!(r.body["code"], json!("PGRST301"));
    // A body the host refuses (pgrest's own PGRSTX codes): over the 1 MiB
    // `server-max-body-bytes` of this server.
    let r = send(
        client()
            .post(server.url("/items"))
            .header("content-type", "application/json")
            .body(vec![b' '; 2 << 20]),
    )
    .await;
    assert_eq!(r.status, 413, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"code": "PGRSTX02", "message": "The request body is too large"})
    );
    // A request line hyper refuses, answered on the socket outside hyper.
    let answer = raw_answer_from(server.addr, b"GET /a b HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head");
    assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(body).expect("JSON"),
        json!({"code": "PGRSTX01", "message": "The request is not valid HTTP/1.1"})
    );
}

/// `client-error-verbosity = minimal` also shapes the errors the host finds
/// itself (PGRST000–003): only `code` and `message`.
#[tokio::test]
async fn minimal_verbosity_applies_to_host_errors() {
    let replies = exhausted_pool(&[("PGRST_CLIENT_ERROR_VERBOSITY", "minimal")]).await;
    let timed_out = replies
        .iter()
        .find(|r| r.status == 504)
        .expect("a request timed out");
    assert_eq!(
        timed_out.body,
        json!({
            "code": "PGRST003",
            "message": "Timed out acquiring connection from connection pool.",
        })
    );
}
