//! Pooled connections: one the server closed while it sat in the pool is
//! replaced before a request gets it, and a pipeline cut short by a failure
//! leaves its connection usable.

use serde_json::json;

use crate::harness::{Server, backends_of, client, one_connection, send, superuser};

fn server(name: &str) -> Server {
    one_connection(name, &[])
}

async fn backends(name: &str) -> Vec<i32> {
    backends_of(name)
        .await
        .into_iter()
        .map(|(pid, _)| pid)
        .collect()
}

#[tokio::test]
async fn a_connection_terminated_while_idle_is_replaced() {
    let server = server("pgrest_terminated");
    let r = send(client().get(server.url("/items?id=eq.1&select=id"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let before = backends("pgrest_terminated").await;
    assert_eq!(before.len(), 1, "{before:?}");

    let db = superuser().await;
    db.execute("SELECT pg_terminate_backend($1)", &[&before[0]])
        .await
        .expect("terminated");
    let gone = crate::harness::eventually(std::time::Duration::from_secs(5), || async {
        !backends("pgrest_terminated").await.contains(&before[0])
    })
    .await;
    assert!(gone, "the backend did not exit");

    // Not a 503: the pool notices the closed connection and opens another.
    let r = send(client().get(server.url("/items?id=eq.1&select=id"))).await;
    assert_eq!((r.status, r.body), (200, json!([{"id": 1}])));
    let after = backends("pgrest_terminated").await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_ne!(after, before);
}

#[tokio::test]
async fn a_failed_statement_ends_its_transaction_before_the_next_request() {
    let server = server("pgrest_failed_pipeline");
    // The read fails after BEGIN and the settings ran: the server skips
    // the rest of the pipeline (COMMIT) and the transaction is rolled back.
    let r = send(client().get(server.url("/items?id=eq.one"))).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["code"], "22P02");
    let r = send(client().get(server.url("/tx_info?select=role,read_only"))).await;
    assert_eq!(r.body, json!([{"role": "Web Anon", "read_only": "on"}]));
    let state = superuser()
        .await
        .query(
            "SELECT state FROM pg_stat_activity WHERE application_name = 'pgrest_failed_pipeline'",
            &[],
        )
        .await
        .expect("pg_stat_activity");
    let states: Vec<String> = state.iter().map(|row| row.get(0)).collect();
    assert_eq!(states, ["idle"]);
}
