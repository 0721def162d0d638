//! Statements behind one Sync: one implicit transaction, one answer; an
//! error skips the statements after it, and ROLLBACK recovers the session.

use pgrest_pg::{Error, Lease, RowUse, Step, TxStatus, Value};

use crate::common::{connect, query, unix};

fn rows<'a>(sql: &'a str, params: &'a [Value<'a>]) -> Step<'a> {
    Step {
        sql,
        params,
        rows: RowUse::Text,
    }
}

async fn lease() -> Lease {
    connect(&unix()).await.expect("connection")
}

#[tokio::test]
async fn statements_behind_one_sync_run_as_one_implicit_transaction() {
    let mut lease = lease().await;
    let conn = lease.conn();
    let params = [Value::Text(b"41"), Value::Null, Value::Binary(&[0, 1, 255])];
    let steps = [
        rows("SELECT txid_current()::text", &[]),
        rows("SELECT ($1::int + 1)::text, $2::text IS NULL", &params[..2]),
        Step::control("SELECT 'skipped rows'"),
        Step {
            sql: "SELECT $1::bytea, 'tail'",
            params: &params[2..],
            rows: RowUse::Body,
        },
        rows("SELECT txid_current()::text", &[]),
    ];
    for prepare in [false, true, true] {
        let executed = conn.pipeline(&steps, prepare).await.expect("pipeline");
        let text = |i: usize| executed.results[i][0].clone();
        assert_eq!(executed.results.len(), 4, "{:?}", executed.results);
        // Without BEGIN, the statements up to the Sync share a transaction.
        assert_eq!(text(0), text(3));
        assert_eq!(text(1), vec![Some("42".to_string()), Some("t".to_string())]);
        assert_eq!(executed.results[2], vec![vec![Some("tail".to_string())]]);
        assert_eq!(executed.body.as_deref(), Some(&[0u8, 1, 255][..]));
        assert_eq!(conn.status(), TxStatus::Idle);
        assert!(conn.is_reusable());
    }

    // A failure rolls back what the statements before it did, as one
    // transaction does (a Sync per statement would have committed them).
    query(&mut lease, "CREATE TABLE implicit (n int)").await;
    let steps = [
        Step::control("INSERT INTO implicit VALUES (1)"),
        Step::control("SELECT 1/0"),
    ];
    let failed = lease.conn().pipeline(&steps, false).await;
    assert!(
        matches!(&failed, Err(Error::Db(e)) if e.code == "22012"),
        "{failed:?}"
    );
    assert_eq!(
        query(&mut lease, "SELECT count(*) FROM implicit")
            .await
            .as_deref(),
        Some("0")
    );
    lease.release(true);
}

#[tokio::test]
async fn an_error_mid_pipeline_skips_the_rest_until_rollback() {
    let mut lease = lease().await;
    query(&mut lease, "CREATE SEQUENCE mid_pipeline").await;
    let next = "SELECT nextval('mid_pipeline')::text";
    let steps = [
        Step::control("BEGIN"),
        rows(next, &[]),
        rows("SELECT 1/0", &[]),
        // Never parsed: the prepared statement cache must not count on it.
        rows("SELECT 'after the error', nextval('mid_pipeline')", &[]),
    ];
    let failed = lease.conn().pipeline(&steps, true).await;
    match &failed {
        Err(Error::Db(e)) => {
            assert_eq!(
                (e.code.as_str(), e.message.as_str()),
                ("22012", "division by zero")
            );
        }
        other => panic!("{other:?}"),
    }
    let conn = lease.conn();
    assert_eq!(conn.status(), TxStatus::Failed);
    assert!(conn.is_settled() && !conn.is_reusable());
    // Inside the failed transaction, everything is refused until it ends.
    let refused = conn.pipeline(&[rows("SELECT 1", &[])], true).await;
    assert!(
        matches!(&refused, Err(Error::Db(e)) if e.code == "25P02"),
        "{refused:?}"
    );

    conn.pipeline(&[Step::control("ROLLBACK")], true)
        .await
        .expect("ROLLBACK");
    assert_eq!(conn.status(), TxStatus::Idle);
    assert!(conn.is_reusable());
    // The statement after the error never ran (a sequence is not rolled
    // back), and it runs now, prepared afresh.
    let executed = conn
        .pipeline(&steps[3..], true)
        .await
        .expect("usable again");
    assert_eq!(
        executed.results,
        vec![vec![vec![
            Some("after the error".to_string()),
            Some("2".to_string())
        ]]]
    );
    lease.release(true);
}

#[tokio::test]
async fn a_parameter_the_server_refuses_fails_that_pipeline_alone() {
    let mut lease = lease().await;
    let pid = query(&mut lease, "SELECT pg_backend_pid()").await;
    let nul = [Value::Text(b"a\0b")];
    let failed = lease
        .conn()
        .pipeline(&[rows("SELECT $1::text", &nul)], true)
        .await;
    // The server refuses a NUL byte in text with the same error.
    assert!(
        matches!(&failed, Err(Error::Db(e)) if e.code == "22021"),
        "{failed:?}"
    );
    assert!(lease.conn().is_reusable());
    assert_eq!(query(&mut lease, "SELECT pg_backend_pid()").await, pid);
    lease.release(true);
}
