//! A client that hangs up mid-request must not leave its pooled connection
//! inside a transaction (with the anonymous role set), nor its statement
//! running, nor prepared statements the connection no longer knows of.

use std::time::Duration;

use serde_json::json;

use crate::harness::{self, Server, base_env, client, eventually, send, stops_running, superuser};

/// One pooled connection, for which a request waits at most a second.
fn one_connection(name: &str) -> Server {
    harness::one_connection(name, &[("PGRST_DB_POOL_ACQUISITION_TIMEOUT", "1")])
}

/// A request whose client gives up after `after`.
async fn hang_up(server: &Server, path: &str, after: Duration) {
    let sent = client().get(server.url(path)).timeout(after).send().await;
    assert!(sent.is_err(), "{path} should have been cut off");
}

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

#[tokio::test]
async fn a_hang_up_cancels_the_running_statement() {
    let server = one_connection("pgrest_cancel");
    hang_up(
        &server,
        "/rpc/df_sleep?seconds=30",
        Duration::from_millis(500),
    )
    .await;
    let db = superuser().await;
    assert!(
        stops_running(&db, "pgrest_cancel").await,
        "the backend still runs the abandoned call"
    );
    // The one pooled connection is free again.
    let r = send(client().get(server.url("/rpc/df_sleep?seconds=0"))).await;
    assert_eq!((r.status, r.body), (200, json!(1)));
}

#[tokio::test]
async fn hang_ups_leave_no_unknown_prepared_statements() {
    let server = one_connection("pgrest_leak");
    let prepared = || async {
        let r = send(client().get(server.url("/rpc/df_prepared"))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body.as_i64().expect("a count")
    };
    let sleep = "/rpc/df_sleep?seconds=1";
    // The connection is open before the first hang-up, so that its call
    // is parsed.
    prepared().await;
    hang_up(&server, sleep, Duration::from_millis(300)).await;
    let once = prepared().await;
    for _ in 0..3 {
        hang_up(&server, sleep, Duration::from_millis(300)).await;
    }
    // The abandoned calls' statements were remembered and reused, not
    // parsed anew under names nobody closes.
    assert_eq!(prepared().await, once);
}
