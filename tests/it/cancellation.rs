//! A client that hangs up mid-request must not leave its pooled connection
//! inside a transaction (with the anonymous role set).

use std::time::Duration;

use serde_json::json;

use crate::harness::{Server, base_env, client, eventually, send, superuser};

#[tokio::test]
async fn disconnect_mid_request_leaves_no_open_transaction() {
    // One pooled connection, so the next request must reuse it.
    let mut env = base_env();
    env.push(("PGRST_DB_POOL".into(), "1".into()));
    env.push(("PGRST_DB_TX_END".into(), "commit".into()));
    let server = Server::start(env);

    let hung_up = client()
        .get(server.url("/slow"))
        .timeout(Duration::from_millis(100))
        .send()
        .await;
    assert!(
        hung_up.is_err(),
        "the slow request should have been cut off"
    );

    let db = superuser().await;
    let settled = eventually(Duration::from_secs(10), || async {
        let rows = db
            .query(
                "SELECT state FROM pg_stat_activity WHERE usename = 'Authenticator' AND state <> 'idle'",
                &[],
            )
            .await
            .expect("pg_stat_activity");
        rows.is_empty()
    })
    .await;
    assert!(settled, "the connection stayed busy or idle in transaction");

    let r = send(client().get(server.url("/tx_info?select=role,read_only"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"role": "Web Anon", "read_only": "on"}]));
}
