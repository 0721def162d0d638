//! A lease dropped mid-exchange cancels the statement it runs (over TLS when
//! the session uses TLS) and its connection goes back to the pool, out of
//! its transaction.

use std::time::Duration;

use pgrest_pg::{RowUse, Step, TxStatus};

use crate::common::{pool, query, tcp, unix, uses_tls};

#[tokio::test]
async fn a_dropped_lease_cancels_its_running_statement() {
    for (conninfo, tls) in [(unix(), false), (tcp("postgres", "sslmode=require"), true)] {
        // One connection: the next lease is the same session, once it is back.
        let pool = pool(&conninfo);
        let mut lease = pool.get().await.expect("connection");
        assert_eq!(uses_tls(&mut lease).await, tls);
        let pid = query(&mut lease, "SELECT pg_backend_pid()").await;
        let steps = [
            Step::control("BEGIN"),
            Step {
                sql: "SELECT pg_sleep(600)",
                params: &[],
                rows: RowUse::Text,
            },
        ];
        let sleeping = tokio::time::timeout(Duration::from_millis(500), async move {
            let mut lease = lease;
            lease.conn().pipeline(&steps, true).await
        })
        .await;
        assert!(sleeping.is_err(), "pg_sleep(600) answered: {sleeping:?}");

        // Uncancelled, the session would sleep on past the pool's wait.
        let mut lease = pool.get().await.expect("the session came back");
        assert_eq!(query(&mut lease, "SELECT pg_backend_pid()").await, pid);
        assert_eq!(lease.conn().status(), TxStatus::Idle);
        let sleepers = "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)' \
                        AND state = 'active'";
        assert_eq!(query(&mut lease, sleepers).await.as_deref(), Some("0"));
        lease.release(true);
    }
}
