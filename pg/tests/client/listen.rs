//! A `Listening` connection receives the notifications of its channel only,
//! and says so when its connection is lost.

use std::time::Duration;

use pgrest_pg::Listening;

use crate::common::{WAIT, connect, connector, query, tcp};

#[tokio::test]
async fn notifications_of_the_channel_arrive() {
    let conninfo = tcp("scram_user", "password=secret sslmode=require");
    let (config, connect_with) = connector(&conninfo);
    // A channel name that needs quoting.
    let channel = "pg \"test\"";
    let mut listening = Listening::open(&config, &connect_with, channel)
        .await
        .expect("listening");

    let mut lease = connect(&conninfo).await.expect("connection");
    query(&mut lease, "NOTIFY other, 'not for us'").await;
    query(&mut lease, "SELECT pg_notify('pg \"test\"', 'first')").await;
    query(&mut lease, "NOTIFY \"pg \"\"test\"\"\", 'second'").await;
    for payload in ["first", "second"] {
        let next = tokio::time::timeout(WAIT, listening.next()).await;
        let (on, got) = next.expect("a notification in time").expect("notification");
        assert_eq!((on.as_str(), got.as_str()), (channel, payload));
    }

    // The listener's session ends: `next` says so instead of waiting on.
    let ended = query(
        &mut lease,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()",
    )
    .await;
    assert_eq!(ended.as_deref(), Some("1"));
    lease.release(true);
    let next = tokio::time::timeout(Duration::from_secs(20), listening.next()).await;
    assert!(matches!(next, Ok(Err(_))), "{next:?}");
}
