//! The strict query grammar: values that do not parse whole, control
//! characters in names, non-integer `limit`/`offset`, and NUL in values,
//! answered 400 by the translator before any statement runs.

use pgrest_throwaway_pg::Cluster;
use reqwest::Method;
use serde_json::{Value, json};

use crate::errors::raw_answer_from;
use crate::harness::{Reply, Server, base_env, client, get, own_cluster_env, request, send};
use crate::observe::spawn;

/// Each GET of `cases` (path, message, details) is that PGRST100.
async fn parse_errors(cases: &[(&str, &str, &str)]) {
    for (path, message, details) in cases {
        let r = get(path).await;
        assert_eq!(
            (r.status, r.body),
            (
                400,
                json!({"code": "PGRST100", "message": message, "details": details, "hint": null})
            ),
            "{path}"
        );
    }
}

/// Each GET of `paths` is a PGRST100.
async fn pgrst100(paths: &[&str]) {
    for path in paths {
        let r = get(path).await;
        assert_eq!(
            (r.status, &r.body["code"]),
            (400, &json!("PGRST100")),
            "{path}"
        );
    }
}

/// PostgreSQL's answer to NUL in a text value.
fn nul_refused(r: &Reply) {
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body,
        json!({
            "code": "22021",
            "message": "invalid byte sequence for encoding \"UTF8\": 0x00",
            "details": null,
            "hint": null,
        })
    );
}

/// A NUL in a quoted name once reached the database client, whose encoder
/// refused the SQL text, and the host took that for a lost connection
/// (503 and a recovery). It is a parse error now, and the server stays
/// healthy.
#[tokio::test]
async fn nul_in_a_name_is_pgrst100_and_the_server_stays_healthy() {
    let (mut child, err, base) = spawn(base_env());
    let addr = base.trim_start_matches("http://").to_string();
    let answer = raw_answer_from(
        addr.as_str(),
        b"GET /items?select=%22a%00%22 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .await;
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head");
    assert!(head.starts_with("HTTP/1.1 400 "), "{answer}");
    let body: Value = serde_json::from_str(body).expect("a JSON body");
    assert_eq!(
        body,
        json!({
            "code": "PGRST100",
            "message": "\"failed to parse select parameter (\"a\u{0}\")\" (line 1, column 3)",
            "details": "unexpected \"\\NUL\" expecting \"\\\\\" or \"\\\"\"",
            "hint": null,
        })
    );
    let r = send(client().get(format!("{base}/items?select=id&id=eq.1"))).await;
    assert_eq!((r.status, r.body), (200, json!([{"id": 1}])));
    let _ = child.kill();
    let _ = child.wait();
    let said: Vec<String> = err.try_iter().collect();
    assert!(
        !said
            .iter()
            .any(|l| l.contains("connection lost") || l.contains("recovery")),
        "{said:?}"
    );
}

#[tokio::test]
async fn control_characters_in_names_are_pgrst100() {
    pgrst100(&[
        "/items?select=a%01b",
        "/items?select=data->%22k%1F%22",
        "/items?order=%22id%7F%22",
        "/items?%22id%00%22=eq.1",
        "/items?or=(%22id%0A%22.eq.1)",
    ])
    .await;
}

/// `%3B` is part of a value; a raw `;` separates pairs, as in PostgREST.
#[tokio::test]
async fn select_order_and_filters_must_parse_whole() {
    parse_errors(&[
        (
            "/items?select=id%3Bdrop%20table%20x",
            "\"failed to parse select parameter (id;drop table x)\" (line 1, column 3)",
            "unexpected ';' expecting \"->>\", \"->\", \"::\", \".\", \")\", \",\" or end of input",
        ),
        (
            "/items?order=id%3Bdesc",
            "\"failed to parse order (id;desc)\" (line 1, column 3)",
            "unexpected ';' expecting \"->>\", \"->\", delimiter (.), \",\" or end of input",
        ),
        (
            "/items?select=id,name)x",
            "\"failed to parse select parameter (id,name)x)\" (line 1, column 8)",
            "unexpected ')' expecting \"->>\", \"->\", \"::\", \".\", \",\" or end of input",
        ),
        (
            "/items?id=in.(1)x",
            "\"failed to parse filter (in.(1)x)\" (line 1, column 7)",
            "unexpected 'x' expecting end of input",
        ),
        (
            "/items?or=(id.eq.1)x",
            "\"failed to parse logic tree ((id.eq.1)x)\" (line 1, column 12)",
            "unexpected 'x' expecting end of input",
        ),
    ])
    .await;
    // PostgREST ends the tree at the value's `)` and ignores the last one
    pgrst100(&["/items?i(d=eq.1", "/items?or=(id.eq.1,name.like.*(x))"]).await;
    let r = get("/items?select=id;desc&id=eq.1").await;
    assert_eq!((r.status, r.body), (200, json!([{"id": 1}])));
}

/// PostgREST ignores a `limit`/`offset` it cannot read as an integer.
#[tokio::test]
async fn limit_and_offset_must_be_integers() {
    parse_errors(&[
        (
            "/items?limit=ten",
            "\"failed to parse limit parameter (ten)\" (line 1, column 1)",
            "unexpected \"t\" expecting \"-\" or digit",
        ),
        (
            "/items?offset=1.5",
            "\"failed to parse offset parameter (1.5)\" (line 1, column 2)",
            "unexpected '.' expecting digit or end of input",
        ),
    ])
    .await;
    pgrst100(&["/items?select=id&limit=", "/items?x.limit=2x"]).await;
    let r = get("/items?select=id&order=id&limit=1&offset=1").await;
    assert_eq!((r.status, r.body), (200, json!([{"id": 2}])));
}

/// NUL in a value is answered as PostgreSQL answers it, by the translator:
/// here the database is down and the answer is still 400, not 503.
#[tokio::test]
async fn nul_in_a_value_is_22021_without_the_database() {
    let mut cluster = Cluster::start().expect("own cluster");
    cluster
        .psql_exec("CREATE TABLE public.t (id int, name text);")
        .expect("schema");
    let server = Server::start(own_cluster_env(
        &cluster,
        &[("PGRST_DB_CHANNEL_ENABLED", "false")],
    ));
    let r = send(client().get(server.url("/t"))).await;
    assert_eq!((r.status, r.body), (200, json!([])));
    cluster.stop();
    for path in [
        "/t?name=eq.a%00b",
        "/t?name=in.(x,a%00b)",
        "/t?or=(name.eq.a%00b)",
    ] {
        nul_refused(&send(client().get(server.url(path))).await);
    }
    let r = send(client().get(server.url("/t?name=eq.ab"))).await;
    assert_eq!(r.status, 503, "{}", r.text);
}

/// JSON escapes NUL as `\u0000`, which PostgreSQL refuses as text itself
/// (22P05); a raw NUL in a text body gets the translator's 22021.
#[tokio::test]
async fn nul_in_bodies_is_a_client_error() {
    for (media_type, body) in [
        ("application/json", r#"{"name":"a\u0000b"}"#),
        ("text/csv", "name\na\u{0}b"),
    ] {
        let r = request(
            Method::POST,
            "/w_errors",
            &[("Content-Type", media_type)],
            body,
        )
        .await;
        assert_eq!(
            (r.status, &r.body["code"]),
            (400, &json!("22P05")),
            "{}",
            r.text
        );
    }
    let text = [("Content-Type", "text/plain")];
    nul_refused(&request(Method::POST, "/rpc/r_text", &text, "a\u{0}b").await);
}
