//! What fails one request stays with that request: a statement that cannot
//! be encoded is that request's error, and the server does not start
//! recovering (no `Retry-After`, no 503) as it does when the database itself
//! goes away.

use serde_json::json;

use crate::harness::{Reply, Server, base_env, client, send};

fn assert_no_recovery(r: &Reply) {
    assert_ne!(r.status, 503, "{}", r.text);
    assert_eq!(r.header("retry-after"), None, "{}", r.text);
}

#[tokio::test]
async fn a_nul_byte_is_a_client_error() {
    let server = Server::start(base_env());
    // A quoted column name holding a NUL byte.
    let r = send(client().get(server.url("/items?select=%22a%00%22"))).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_no_recovery(&r);
    let r = send(client().get(server.url("/items?id=eq.1&select=id"))).await;
    assert_eq!((r.status, r.body), (200, json!([{"id": 1}])));
}
