//! Database faults over real HTTP: a backend killed mid-request and a write
//! stopped by `statement_timeout`. Each request cut short writes nothing,
//! leaves no transaction open, and the server answers again afterwards
//! (after recovery, for the killed backend).

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::harness::{
    Server, backends_of, client, eventually, one_connection, request_on, send, superuser,
};

/// One pooled connection; writes commit.
fn server(name: &str) -> Server {
    one_connection(name, &[("PGRST_DB_TX_END", "commit")])
}

/// Child `id`, as rows.
async fn child(server: &Server, id: i32) -> serde_json::Value {
    let path = format!("/df_child?id=eq.{id}&select=id");
    send(client().get(server.url(&path))).await.body
}

/// Until a read answers 200 (recovery done), then: nothing half-written,
/// no transaction left open.
async fn settled(server: &Server, name: &str, id: i32) {
    let answers = eventually(Duration::from_secs(15), || async {
        let r = send(client().get(server.url("/df_child?id=eq.10&select=id"))).await;
        r.status == 200
    })
    .await;
    assert!(answers, "no 200 after the fault");
    assert_eq!(child(server, id).await, json!([]), "half-written");
    let backends = backends_of(name).await;
    assert!(
        !backends
            .iter()
            .any(|(_, s)| s.starts_with("idle in transaction")),
        "{backends:?}"
    );
}

const JSON: (&str, &str) = ("Content-Type", "application/json");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_killed_mid_write() {
    let name = "pgrest_fault_kill";
    let server = server(name);
    let body = json!({"id": 30, "seconds": 30}).to_string();
    let path = "/rpc/df_write_then_sleep";
    let write = tokio::spawn({
        let url = server.url(path);
        async move { send(client().post(url).header(JSON.0, JSON.1).body(body)).await }
    });
    let db = superuser().await;
    let killed = eventually(Duration::from_secs(10), || async {
        let rows = db
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE application_name = $1 AND query LIKE '%df_write_then_sleep%'
                   AND state = 'active'",
                &[&name],
            )
            .await
            .expect("terminate");
        !rows.is_empty()
    })
    .await;
    assert!(killed, "the write never ran");
    let r = write.await.expect("the write answers");
    assert_eq!(r.status, 503, "{}", r.text);
    settled(&server, name, 30).await;
}

#[tokio::test]
async fn a_write_stopped_by_statement_timeout() {
    let name = "pgrest_fault_timeout";
    let server = server(name);
    let body = json!({"id": 31}).to_string();
    let r = request_on(
        &server,
        Method::POST,
        "/rpc/df_write_timed_out",
        &[JSON],
        &body,
    )
    .await;
    assert_eq!(
        (r.status, &r.body["code"]),
        (500, &json!("57014")),
        "{}",
        r.text
    );
    settled(&server, name, 31).await;
}
