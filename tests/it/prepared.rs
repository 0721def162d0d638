//! `db-prepared-statements`: a request's statements are prepared once per
//! connection, inside the transaction (after the role is set), and a
//! statement that fails to parse leaves the connection clean.

use serde_json::json;

use crate::harness::{Server, base_env, client, send};

fn server(extra: &[(&str, &str)]) -> Server {
    let mut env = base_env();
    env.push(("PGRST_DB_POOL".into(), "1".into()));
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Server::start(env)
}

async fn prepared_here(server: &Server) -> serde_json::Value {
    let r = send(client().get(server.url("/prepared_here"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

#[tokio::test]
async fn statements_are_prepared_once_per_connection() {
    let server = server(&[]);
    // BEGIN, the settings statement and this read's main statement (its
    // COMMIT comes after the count).
    assert_eq!(prepared_here(&server).await, json!([{"statements": 3}]));
    // The same request again reuses them; the first one's COMMIT is there now.
    assert_eq!(prepared_here(&server).await, json!([{"statements": 4}]));
    assert_eq!(prepared_here(&server).await, json!([{"statements": 4}]));

    // A statement that does not parse: the database's error, no statement
    // kept, and the connection (the only one) is clean for the next request.
    let r = send(client().get(server.url("/items?select=nope"))).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["code"], "42703");
    let r = send(client().get(server.url("/tx_info?select=role,read_only"))).await;
    assert_eq!(r.body, json!([{"role": "Web Anon", "read_only": "on"}]));
    // BEGIN, settings, prepared_here, COMMIT and tx_info.
    assert_eq!(prepared_here(&server).await, json!([{"statements": 5}]));
}

#[tokio::test]
async fn without_prepared_statements_nothing_is_prepared() {
    let server = server(&[("PGRST_DB_PREPARED_STATEMENTS", "false")]);
    assert_eq!(prepared_here(&server).await, json!([{"statements": 0}]));
    assert_eq!(prepared_here(&server).await, json!([{"statements": 0}]));
}

#[tokio::test]
async fn the_statement_cache_is_bounded() {
    let server = server(&[]);
    // Each alias makes a statement of its own (filter values are
    // parameters, they would not): past 256 the connection closes what it
    // prepared and starts over, so about 50 are left after 300.
    for i in 0..300 {
        let r = send(client().get(server.url(&format!("/items?select=a{i}:id&id=eq.1")))).await;
        assert_eq!(r.body, json!([{format!("a{i}"): 1}]));
    }
    let count = prepared_here(&server).await[0]["statements"]
        .as_i64()
        .unwrap();
    assert!((3..100).contains(&count), "{count} statements prepared");
    let r = send(client().get(server.url("/items?select=id&id=eq.1"))).await;
    assert_eq!(r.body, json!([{"id": 1}]));
}
